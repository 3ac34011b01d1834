/**
 * Output documents end to end in the harness: a demo application rendered
 * with its template, printed to PDF by Debian's Chromium, its text read back
 * with pdftotext (both languages), its pages rasterised at 300 dpi and its QR
 * codes read with zbarimg, and what they carry decoded and verified as the
 * head's XMLDSig over the document.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeDocumentCode } from '#core/documents/code.js';
import { LEGAL_NOTE } from '#core/documents/render.js';
import { signXml, softwareKey, verifyXml } from '#signing/index.js';
import { TestPki, standardPeople, type Person } from '#signing/testing/pki.js';
import { EMPLOYMENT, ENTREPRENEURSHIP, ROOT, SERVICES, openFixture, type Fixture } from '../workflow/testing.js';
import { loadDocumentAssets } from './assets.js';
import { documentsHandlers } from './handlers.js';
import { chromiumPrinter, type PdfPrinter } from './pdf.js';
import { DocumentsService } from './service.js';

const assets = loadDocumentAssets(join(ROOT, 'resources'));
let fx: Fixture;
let printer: PdfPrinter;
let service: DocumentsService;
let work: string;
let head: Person;

/** Collapses whitespace and drops hyphens: pdftotext breaks long lines where the page does, joining hyphenated words. */
function pdfText(pdf: Uint8Array): string {
  const file = join(work, `${randomUUID()}.pdf`);
  writeFileSync(file, pdf);
  return flat(execFileSync('pdftotext', ['-enc', 'UTF-8', file, '-'], { encoding: 'utf8' }));
}

function flat(text: string): string {
  return text.replace(/-/g, '').replace(/\s+/g, ' ');
}

/** The texts of every QR code on every page, read from a 300-dpi rendering as a scanner makes it. */
function readCodes(pdf: Uint8Array): string[] {
  const dir = mkdtempSync(join(work, 'scan-'));
  const file = join(dir, 'doc.pdf');
  writeFileSync(file, pdf);
  execFileSync('pdftoppm', ['-r', '300', '-png', file, join(dir, 'page')]);
  const pages = readdirSync(dir).filter((f) => f.endsWith('.png'));
  const texts: string[] = [];
  for (const page of pages) {
    try {
      const out = execFileSync('zbarimg', ['--raw', '-q', join(dir, page)], { encoding: 'utf8' });
      texts.push(...out.split('\n').filter((l) => l.trim() !== ''));
    } catch {
      // zbarimg exits 4 on a page with no code.
    }
  }
  return texts;
}

/** A demo application of the service, made to say what the test needs. */
function demoApplication(
  serviceCode: string,
  set: Record<string, unknown>,
  form: Record<string, unknown> = {},
): string {
  const row = fx.sqlite
    .prepare(
      `SELECT id, form_data AS formData FROM applications WHERE service_code = ?
        ORDER BY provider_id = ? DESC, id LIMIT 1`,
    )
    .get(serviceCode, EMPLOYMENT.provider) as { id: string; formData: string } | undefined;
  if (!row) throw new Error(`the demo has no ${serviceCode} application`);
  const formData = { ...(JSON.parse(row.formData) as Record<string, unknown>), ...form };
  const columns = Object.keys(set);
  fx.sqlite
    .prepare(`UPDATE applications SET form_data = ?${columns.map((c) => `, ${c} = ?`).join('')} WHERE id = ?`)
    .run(JSON.stringify(formData), ...Object.values(set), row.id);
  return row.id;
}

/** A head of the application's provider. */
function providerHead(id: string): string {
  const r = fx.sqlite
    .prepare(
      `SELECT r.user_id AS u FROM applications a JOIN user_roles r ON r.provider_id = a.provider_id AND r.role = 'head'
        WHERE a.id = ? ORDER BY r.user_id LIMIT 1`,
    )
    .get(id) as { u: string } | undefined;
  if (!r) throw new Error(`no head at the provider of ${id}`);
  return r.u;
}

const UNEMPLOYED_RESULT = {
  resultNumber: 'АН-2026/117',
  resultDate: '2026-05-20',
  unemployedRegistrationDate: '2026-03-10',
  publicWorks: true,
  training: false,
  socialAssistance: false,
  presentTo: 'Әкімдікке',
};

beforeAll(async () => {
  fx = await openFixture({ applications: 300, events: false });
  work = mkdtempSync(join(tmpdir(), 'qyzmet-documents-'));
  const pki = new TestPki(join(work, 'pki'));
  head = standardPeople(pki).head;
  printer = chromiumPrinter();
  service = new DocumentsService({ sqlite: fx.sqlite, services: SERVICES, assets, printer: () => printer });
}, 60_000);

afterAll(async () => {
  await service?.close();
  fx?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('output documents as PDF', () => {
  it('the signed unemployed certificate: both languages as text, DejaVu embedded, and QR codes that carry the head’s verifiable XMLDSig', async () => {
    const id = demoApplication(
      'unemployed-certificate',
      { status: 'completed', decision: 'positive' },
      UNEMPLOYED_RESULT,
    );
    const actor = { id: EMPLOYMENT.head };
    // The head signs the document's canonical XML (what the server will rebuild once it signs documents).
    const draft = await service.render(id, actor);
    const signed = await signXml(
      draft.xml,
      softwareKey({ key: head.keyPem, certificate: head.certDer, label: 'head' }),
    );
    fx.sqlite
      .prepare(
        `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin,
           signer_name, certificate_sha256, key_source, user_id, signed_at, timestamped_at)
         VALUES (?, ?, 'xmldsig', ?, ?, ?, ?, ?, ?, 'keyfile', ?, ?, NULL)`,
      )
      .run(
        randomUUID(),
        id,
        Buffer.from(signed, 'utf8'),
        'd'.repeat(64),
        '850315400015',
        '050140000011',
        'ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ',
        'c'.repeat(64),
        EMPLOYMENT.head,
        fx.clock.now,
      );

    const { pdf, fileName } = await service.pdf(id, actor);
    expect(fileName).toBe('АН-2026_117.pdf');
    expect(Buffer.from(pdf.subarray(0, 5)).toString('latin1')).toBe('%PDF-');
    const text = pdfText(pdf);
    for (const phrase of [
      'ЖҰМЫССЫЗ РЕТІНДЕ ТІРКЕУ ТУРАЛЫ АНЫҚТАМА',
      'СПРАВКА О РЕГИСТРАЦИИ В КАЧЕСТВЕ БЕЗРАБОТНОГО',
      'ст. 15 Закона Республики Казахстан «О занятости населения»',
      'Заңының 15-бабына сәйкес',
      'Справка дана для предъявления',
      'Әкімдікке',
      '10.03.2026',
      'Начальник отдела',
      'Маман / Специалист',
      'ӘБІЛҚАСЫМОВА ГҮЛНАР СЕРІКҚЫЗЫ',
      'АН-2026/117',
      LEGAL_NOTE.ru,
      LEGAL_NOTE.kk,
    ]) {
      expect(text, phrase).toContain(flat(phrase));
    }
    expect(text).not.toContain('ПРОЕКТ');
    const file = join(work, 'fonts.pdf');
    writeFileSync(file, pdf);
    // "page / pages" from the @page margin box ends the last page.
    const pages = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [file], { encoding: 'utf8' }))![1]);
    expect(text).toMatch(new RegExp(` ${pages} ?/ ?${pages} $`));
    expect(execFileSync('pdffonts', [file], { encoding: 'utf8' })).toMatch(
      /DejaVuSans\S*\s+CID TrueType\s+Identity-H\s+yes\s+yes/,
    );

    const codes = readCodes(pdf);
    expect(codes.length).toBeGreaterThan(0);
    const decoded = decodeDocumentCode(codes);
    expect(decoded).toBe(signed);
    const check = verifyXml(decoded, { document: draft.xml, allowSha1: false });
    expect(check.ok).toBe(true);
    if (check.ok) expect(new X509Certificate(Buffer.from(check.certificate)).subject).toContain('850315400015');
  }, 120_000);

  it('the reasoned refusal letter prints its reason in both languages', async () => {
    const id = demoApplication('unemployed-certificate', {
      status: 'completed',
      decision: 'negative',
      refusal_reason_code: 'documents-mismatch',
      refusal_text: 'Жеке куәліктің мерзімі өткен',
    });
    const reason = SERVICES.find((s) => s.code === 'unemployed-certificate')!.refusalReasons.find(
      (r) => r.code === 'documents-mismatch',
    )!;
    fx.sqlite.prepare('DELETE FROM signatures WHERE application_id = ?').run(id);
    const text = pdfText((await service.pdf(id, { id: EMPLOYMENT.head })).pdf);
    for (const phrase of [
      'Мотивированный ответ об отказе в оказании государственной услуги',
      'Мемлекеттік қызмет көрсетуден бас тарту туралы дәлелді жауап',
      reason.text.ru,
      reason.text.kk,
      'Жеке куәліктің мерзімі өткен',
      LEGAL_NOTE.ru,
    ]) {
      expect(text, phrase).toContain(flat(phrase));
    }
    // Not signed: a draft, and no codes.
    expect(text).toContain('ЖОБА · ПРОЕКТ');
    expect(readCodes((await service.pdf(id, { id: EMPLOYMENT.head })).pdf)).toEqual([]);
  }, 120_000);

  it('every service’s result and refusal, and the request and the receipts, print in both languages', async () => {
    for (const s of SERVICES) {
      const id = demoApplication(s.code, { status: 'completed', decision: 'positive' });
      const actor = { id: providerHead(id) };
      for (const kind of ['result', 'refusal', 'request', 'receipt', 'refusalReceipt'] as const) {
        const doc = await service.render(id, actor, kind);
        const text = pdfText(await printer.print(doc.html));
        const title = (t: string) => flat(t).slice(0, 40);
        for (const lang of ['kk', 'ru'] as const) {
          const heading = doc.data[lang].blocks.find((b) => b.type === 'heading');
          expect(heading, `${s.code} ${kind} ${lang}`).toBeDefined();
          if (heading?.type === 'heading') expect(text, `${s.code} ${kind} ${lang}`).toContain(title(heading.text));
        }
        expect(text, `${s.code} ${kind}`).toContain(flat(LEGAL_NOTE.kk).slice(0, 60));
      }
    }
  }, 240_000);

  it('attack: a user of another provider asks for an application’s PDF — refused', async () => {
    const id = demoApplication('unemployed-certificate', { status: 'completed', decision: 'positive' });
    expect(providerHead(id)).toBe(EMPLOYMENT.head);
    await expect(service.pdf(id, { id: ENTREPRENEURSHIP.head })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(service.pdf('no-such-application', { id: EMPLOYMENT.head })).rejects.toMatchObject({
      code: 'notFound',
    });
  });

  it('documents.pdf answers the PDF as base64 to the logged-in user, and nothing without a session', async () => {
    const id = demoApplication('unemployed-certificate', { status: 'completed', decision: 'positive' });
    const handlers = documentsHandlers(service, () => ({ id: EMPLOYMENT.head }));
    const out = await handlers['documents.pdf']({ id }, undefined as never);
    expect(Buffer.from(out.pdf, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const none = documentsHandlers(service, () => null);
    await expect(none['documents.pdf']({ id }, undefined as never)).rejects.toMatchObject({ code: 'noSession' });
  }, 60_000);
});
