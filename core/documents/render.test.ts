import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDocumentTemplates } from '../node/document-loader.js';
import { NOW, ROOT, SERVICES } from '../testing.js';
import {
  documentData,
  documentHtml,
  documentXml,
  LEGAL_NOTE,
  unknownPlaceholders,
  type RenderApplication,
} from './render.js';
import { DOCUMENT_KINDS, pickTemplate, type DocumentKind } from './template.js';

const DIR = join(ROOT, 'resources', 'documents');
const loaded = loadDocumentTemplates(DIR);
const FONTS = { regular: 'data:font/ttf;base64,AA==', bold: 'data:font/ttf;base64,AA==' };
const PROVIDER = { bin: '050140000011', kk: 'Жұмыспен қамту орталығы', ru: 'Центр занятости населения' };
const byCode = new Map(SERVICES.map((s) => [s.code, s]));

function application(over: Partial<RenderApplication> = {}): RenderApplication {
  return {
    id: 'app-1',
    number: '001-20-05-26',
    portalNumber: null,
    serviceCode: 'unemployed-certificate',
    submittedAt: NOW,
    applicantIin: '900512400123',
    applicantBin: null,
    applicantName: 'Сапарова Әсел Қайратқызы',
    refusalReasonCode: null,
    refusalText: null,
    formData: {
      periodFrom: '2026-04-01',
      periodTo: '2026-04-30',
      presentTo: 'Әкімдікке',
      resultNumber: 'R-17',
      resultDate: '2026-05-20',
      unemployedRegistrationDate: '2026-03-10',
      publicWorks: true,
      training: false,
      socialAssistance: true,
    },
    ...over,
  };
}

function render(kind: DocumentKind, app = application()) {
  const service = byCode.get(app.serviceCode) ?? null;
  const template = pickTemplate(loaded.templates, app.serviceCode, kind)!;
  return documentData({ template, application: app, service, provider: PROVIDER, specialist: 'Сергеев Артём' });
}

describe('the document templates (resources/documents)', () => {
  it('load with no problems, and every service has a template of every kind', () => {
    expect(loaded.problems).toEqual([]);
    for (const s of SERVICES) {
      for (const kind of DOCUMENT_KINDS)
        expect(pickTemplate(loaded.templates, s.code, kind), `${s.code} ${kind}`).not.toBeNull();
    }
    expect(pickTemplate(loaded.templates, 'unemployed-certificate', 'result')!.code).toBe(
      'unemployed-certificate.result',
    );
  });

  it('use only placeholders the renderer knows, for every service they apply to', () => {
    for (const t of loaded.templates) {
      const services = t.services.includes('*') ? SERVICES : SERVICES.filter((s) => t.services.includes(s.code));
      for (const s of services) expect(unknownPlaceholders(t, s), `${t.code} for ${s.code}`).toEqual([]);
    }
  });

  it('a broken or duplicate template file is reported and skipped, the others load', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qyzmet-templates-'));
    try {
      const good = readFileSync(join(DIR, 'generic.refusal.json'), 'utf8');
      writeFileSync(join(dir, 'a.json'), good);
      writeFileSync(join(dir, 'b.json'), good);
      writeFileSync(join(dir, 'c.json'), JSON.stringify({ ...JSON.parse(good), kind: 'poem' }));
      const r = loadDocumentTemplates(dir);
      expect(r.templates.map((t) => t.code)).toEqual(['generic.refusal']);
      expect(r.problems.map((p) => [p.file, p.field]).sort()).toEqual([
        ['b.json', 'code'],
        ['c.json', 'kind'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('documentData and documentXml', () => {
  it('the unemployed certificate carries the Article 15 sentence, "Справка дана для предъявления" and the two signature lines', () => {
    const d = render('result');
    const ru = JSON.stringify(d.ru);
    const kk = JSON.stringify(d.kk);
    expect(ru).toContain('ст. 15 Закона Республики Казахстан «О занятости населения»');
    expect(kk).toContain('Заңының 15-бабына сәйкес');
    expect(ru).toContain('Справка дана для предъявления');
    expect(ru).toContain('10.03.2026');
    expect(kk).toContain('Әкімдікке');
    expect(d.documentNumber).toBe('R-17');
    const sigs = d.ru.blocks.find((b) => b.type === 'signatures');
    expect(sigs).toEqual({
      type: 'signatures',
      lines: [
        { label: 'Начальник отдела', name: null },
        { label: 'Специалист', name: 'Сергеев Артём' },
      ],
    });
    // Booleans are printed in each language.
    expect(ru).toContain('"value":"да"');
    expect(kk).toContain('"value":"иә"');
  });

  it('the refusal letter names the reason from the catalogue in both languages', () => {
    const d = render(
      'refusal',
      application({ refusalReasonCode: 'documents-mismatch', refusalText: 'Паспорт мерзімі өткен' }),
    );
    const reason = byCode.get('unemployed-certificate')!.refusalReasons.find((r) => r.code === 'documents-mismatch')!;
    expect(JSON.stringify(d.kk)).toContain(reason.text.kk);
    expect(JSON.stringify(d.ru)).toContain(reason.text.ru);
    expect(JSON.stringify(d.ru)).toContain('Паспорт мерзімі өткен');
  });

  it('every template of every service keeps the note that an EDS document equals a paper one', () => {
    for (const s of SERVICES) {
      for (const kind of DOCUMENT_KINDS) {
        const d = render(kind, application({ serviceCode: s.code }));
        expect(d.kk.legalNote).toBe(LEGAL_NOTE.kk);
        expect(d.ru.legalNote).toBe(LEGAL_NOTE.ru);
        const html = documentHtml(d, { fonts: FONTS, signer: null, codes: [], checkAt: 'x' });
        expect(html).toContain(LEGAL_NOTE.kk);
        expect(html).toContain(LEGAL_NOTE.ru);
        expect(documentXml(d)).toContain('<LegalNote>');
      }
    }
  });

  it('the XML is the same for the same data whatever the order the form was stored in', () => {
    const a = application();
    const reversed = Object.fromEntries(Object.entries(a.formData).reverse());
    expect(documentXml(render('result', { ...a, formData: reversed }))).toBe(documentXml(render('result', a)));
  });

  it('attack: an applicant name with markup stays text in the XML and the HTML', () => {
    const d = render('result', application({ applicantName: '<script>alert(1)</script> & "x"' }));
    const xml = documentXml(d);
    expect(xml).not.toContain('<script>');
    expect(xml).toContain('&lt;script&gt;');
    const html = documentHtml(d, { fonts: FONTS, signer: null, codes: [], checkAt: 'x' });
    expect(html).not.toContain('<script');
  });

  it('attack: a "code" that is not plain SVG is refused', () => {
    const d = render('result');
    for (const bad of [
      '<img src=x onerror=alert(1)>',
      '<svg onload="alert(1)"></svg>',
      '<svg><script>1</script></svg>',
    ]) {
      expect(() => documentHtml(d, { fonts: FONTS, signer: null, codes: [bad], checkAt: 'x' })).toThrow();
    }
  });
});

describe('documentHtml', () => {
  it('an A4 page with page numbers, the embedded font, both languages; a draft until signed', () => {
    const d = render('result');
    const draft = documentHtml(d, { fonts: FONTS, signer: null, codes: [], checkAt: 'qyzmet.kz/check' });
    expect(draft).toContain('size: A4');
    expect(draft).toContain('counter(page)');
    expect(draft).toContain('font-family: \'DejaVu Sans\'; src: url("data:font/ttf;base64,AA==")');
    expect(draft).toContain('ЖОБА · ПРОЕКТ');
    expect(draft).toContain('СПРАВКА О РЕГИСТРАЦИИ В КАЧЕСТВЕ БЕЗРАБОТНОГО');
    expect(draft).toContain('ЖҰМЫССЫЗ РЕТІНДЕ ТІРКЕУ ТУРАЛЫ АНЫҚТАМА');
    const signed = documentHtml(d, {
      fonts: FONTS,
      signer: { name: 'ӘБІЛҚАСЫМОВА ГҮЛНАР', signedAt: NOW },
      codes: ['<svg xmlns="http://www.w3.org/2000/svg"></svg>'],
      checkAt: 'qyzmet.kz/check',
    });
    expect(signed).not.toContain('ЖОБА · ПРОЕКТ');
    expect(signed).toContain('Подписано ЭЦП');
    expect(signed).toContain('1 / 1');
    expect(signed).toContain('qyzmet.kz/check по № R-17');
    // The head's line shows who signed.
    expect(signed).toMatch(/Начальник отдела<\/div><div class="name">ӘБІЛҚАСЫМОВА ГҮЛНАР/);
  });
});
