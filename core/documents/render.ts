/**
 * An output document from an application and its template: first the
 * document's canonical data (both languages resolved, what a signature would
 * be over: no clock, nothing of the signature itself), then its XML, then the
 * printable HTML page (A4, page numbers, both languages, an embedded font
 * with every Kazakh letter, the QR codes that carry the signed XML).
 *
 * Pure: the fonts come in as URLs and the QR codes as SVG markup made by the
 * caller (main/documents), so this runs anywhere core runs.
 */
import type { FormField, ServiceDefinition } from '../catalogue/schema.js';
import { escapeXml } from '../workflow/signed-document.js';
import { formatDate, formatDateTime } from '../workflow/document.js';
import type { DocumentKind, DocumentTemplate } from './template.js';

export type DocLanguage = 'kk' | 'ru';
export const DOC_LANGUAGES: readonly DocLanguage[] = ['kk', 'ru'];

export const OUTPUT_DOCUMENT_NAMESPACE = 'urn:qyzmet:output-document:1';

/** The note every document carries, whatever its template says. */
export const LEGAL_NOTE: Readonly<Record<DocLanguage, string>> = {
  kk: '«Электрондық құжат және электрондық цифрлық қолтаңба туралы» 2003 жылғы 7 қаңтардағы Қазақстан Республикасы Заңының 7-бабының 1-тармағына сәйкес осы құжат қағаз жеткізгіштегі құжатқа тең.',
  ru: 'Данный документ согласно пункту 1 статьи 7 Закона Республики Казахстан от 7 января 2003 года «Об электронном документе и электронной цифровой подписи» равнозначен документу на бумажном носителе.',
};

const WORDS = {
  kk: {
    yes: 'иә',
    no: 'жоқ',
    draft: 'ЖОБА',
    signedBy: 'ЭЦҚ-мен қол қойылды',
    codes: 'QR-кодтарда ЭЦҚ-мен қол қойылған құжат деректері бар',
    check: (number: string, where: string) =>
      `Құжаттың түпнұсқалығын ${where} сайтында № ${number} бойынша немесе QR-кодтарды Qyzmet бағдарламасында оқып тексеруге болады.`,
    bin: 'БСН',
  },
  ru: {
    yes: 'да',
    no: 'нет',
    draft: 'ПРОЕКТ',
    signedBy: 'Подписано ЭЦП',
    codes: 'QR-коды содержат данные документа, подписанные ЭЦП',
    check: (number: string, where: string) =>
      `Подлинность документа можно проверить на ${where} по № ${number} или прочитав QR-коды в программе Qyzmet.`,
    bin: 'БИН',
  },
} as const;

export interface RenderApplication {
  id: string;
  number: string;
  portalNumber: string | null;
  serviceCode: string;
  submittedAt: number;
  applicantIin: string;
  applicantBin: string | null;
  applicantName: string;
  refusalReasonCode: string | null;
  refusalText: string | null;
  formData: Readonly<Record<string, unknown>>;
}

export interface RenderInput {
  template: DocumentTemplate;
  application: RenderApplication;
  service: ServiceDefinition | null;
  provider: { bin: string; kk: string; ru: string };
  /** The responsible executor's name, for the specialist's line. */
  specialist: string | null;
}

export type DataBlock =
  | { type: 'heading'; text: string }
  | { type: 'paragraph'; text: string }
  | { type: 'lines'; lines: { label: string; value: string }[] }
  /** `name` null: the head's line, filled by whoever signs (shown from the signature, not signed over). */
  | { type: 'signatures'; lines: { label: string; name: string | null }[] };

/** The document's content, both languages resolved: what is printed and what a signature covers. */
export interface DocumentData {
  template: string;
  kind: DocumentKind;
  applicationId: string;
  applicationNumber: string;
  /** The result's own number when the executor gave one, else the application's. */
  documentNumber: string;
  serviceCode: string;
  provider: { bin: string; kk: string; ru: string };
  applicant: { name: string; iin: string; bin: string | null };
  submittedAt: number;
  kk: { title: string; blocks: DataBlock[]; legalNote: string };
  ru: { title: string; blocks: DataBlock[]; legalNote: string };
}

function isBlank(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

function printValue(field: FormField | undefined, value: unknown, lang: DocLanguage): string {
  if (isBlank(value)) return '';
  if (typeof value === 'boolean') return value ? WORDS[lang].yes : WORDS[lang].no;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return JSON.stringify(value);
  if (field?.type === 'select') return field.options?.find((o) => o.value === value)?.label[lang] ?? value;
  if (field?.type === 'date') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (m) return `${m[3]}.${m[2]}.${m[1]}`;
  }
  return value;
}

const PLACEHOLDER = /\{\{\s*([a-zA-Z][a-zA-Z0-9.]*)\s*\}\}/g;

/** The placeholder names a template may use (besides `field.<code>`). */
export const PLACEHOLDERS = [
  'number',
  'documentNumber',
  'portalNumber',
  'submittedDate',
  'applicantName',
  'applicantIin',
  'applicantBin',
  'serviceName',
  'resultName',
  'providerName',
  'providerBin',
  'refusalReason',
  'refusalText',
] as const;

/** Every placeholder of a template that names nothing known (for the templates' own test). */
export function unknownPlaceholders(template: DocumentTemplate, service: ServiceDefinition | null): string[] {
  const fields = new Set(service?.sections.flatMap((s) => s.fields.map((f) => f.code)) ?? []);
  const texts: string[] = [template.title.kk, template.title.ru];
  for (const b of template.blocks) {
    if (b.type === 'heading' || b.type === 'paragraph') texts.push(b.text.kk, b.text.ru);
    if (b.type === 'lines') texts.push(...b.lines.map((l) => l.value));
  }
  const bad = new Set<string>();
  for (const t of texts) {
    for (const m of t.matchAll(PLACEHOLDER)) {
      const name = m[1]!;
      if ((PLACEHOLDERS as readonly string[]).includes(name)) continue;
      if (name.startsWith('field.') && (service === null || fields.has(name.slice(6)))) continue;
      bad.add(name);
    }
  }
  return [...bad];
}

/** The document's canonical data. */
export function documentData(input: RenderInput): DocumentData {
  const { template, application: a, service, provider } = input;
  const fieldsByCode = new Map<string, FormField>();
  for (const s of service?.sections ?? []) for (const f of s.fields) fieldsByCode.set(f.code, f);
  const resultNumber = a.formData['resultNumber'];
  const documentNumber = typeof resultNumber === 'string' && resultNumber.trim() ? resultNumber.trim() : a.number;
  const kind = template.kind;
  const result = service?.results.find((r) => r.kind === (kind === 'refusal' ? 'negative' : 'positive')) ?? null;
  const reason = service?.refusalReasons.find((r) => r.code === a.refusalReasonCode) ?? null;

  const side = (lang: DocLanguage): DocumentData['kk'] => {
    const values: Record<string, string> = {
      number: a.number,
      documentNumber,
      portalNumber: a.portalNumber ?? '',
      submittedDate: formatDate(a.submittedAt),
      applicantName: a.applicantName,
      applicantIin: a.applicantIin,
      applicantBin: a.applicantBin ?? '',
      serviceName: service?.name[lang] ?? a.serviceCode,
      resultName: result?.name[lang] ?? service?.name[lang] ?? '',
      providerName: provider[lang],
      providerBin: provider.bin,
      refusalReason: reason?.text[lang] ?? a.refusalReasonCode ?? '',
      refusalText: a.refusalText ?? '',
    };
    const fill = (text: string): string =>
      text
        .replace(PLACEHOLDER, (_, name: string) =>
          name.startsWith('field.')
            ? printValue(fieldsByCode.get(name.slice(6)), a.formData[name.slice(6)], lang)
            : (values[name] ?? ''),
        )
        .replace(/\s+/g, ' ')
        .trim();

    const blocks: DataBlock[] = [];
    for (const b of template.blocks) {
      if (b.type === 'heading' || b.type === 'paragraph') {
        blocks.push(
          b.type === 'heading'
            ? { type: 'heading', text: fill(b.text[lang]) }
            : { type: 'paragraph', text: fill(b.text[lang]) },
        );
      } else if (b.type === 'lines') {
        const lines = b.lines
          .map((l) => ({ label: l.label[lang], value: fill(l.value), optional: l.optional === true }))
          .filter((l) => !(l.optional && l.value === ''))
          .map((l) => ({ label: l.label, value: l.value === '' ? '—' : l.value }));
        if (lines.length > 0) blocks.push({ type: 'lines', lines });
      } else if (b.type === 'fields') {
        const lines = (service?.sections ?? [])
          .filter((s) => s.stage === b.stage)
          .flatMap((s) => s.fields)
          .filter((f) => f.type !== 'file' && !isBlank(a.formData[f.code]))
          .map((f) => ({ label: f.label[lang], value: printValue(f, a.formData[f.code], lang) }));
        if (lines.length > 0) blocks.push({ type: 'lines', lines });
      } else {
        blocks.push({
          type: 'signatures',
          lines: b.lines.map((l) => ({
            label: l.label[lang],
            name:
              l.who === 'head'
                ? null
                : l.who === 'specialist'
                  ? (input.specialist ?? '')
                  : l.who === 'applicant'
                    ? a.applicantName
                    : '',
          })),
        });
      }
    }
    return { title: fill(template.title[lang]), blocks, legalNote: LEGAL_NOTE[lang] };
  };

  return {
    template: template.code,
    kind,
    applicationId: a.id,
    applicationNumber: a.number,
    documentNumber,
    serviceCode: a.serviceCode,
    provider: { ...provider },
    applicant: { name: a.applicantName, iin: a.applicantIin, bin: a.applicantBin },
    submittedAt: a.submittedAt,
    kk: side('kk'),
    ru: side('ru'),
  };
}

/** The canonical XML of a document's data: the same data gives the same bytes. */
export function documentXml(data: DocumentData): string {
  const e = escapeXml;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<OutputDocument xmlns="${OUTPUT_DOCUMENT_NAMESPACE}" template="${e(data.template)}" kind="${e(data.kind)}">`,
    `  <Number>${e(data.documentNumber)}</Number>`,
    `  <Application id="${e(data.applicationId)}" number="${e(data.applicationNumber)}" submittedAt="${new Date(data.submittedAt).toISOString()}"/>`,
    `  <Service code="${e(data.serviceCode)}"/>`,
    `  <Provider bin="${e(data.provider.bin)}"><Name lang="kk">${e(data.provider.kk)}</Name><Name lang="ru">${e(data.provider.ru)}</Name></Provider>`,
    `  <Applicant iin="${e(data.applicant.iin)}" bin="${e(data.applicant.bin ?? '')}">${e(data.applicant.name)}</Applicant>`,
  ];
  for (const lang of DOC_LANGUAGES) {
    const side = data[lang];
    out.push(`  <Content lang="${lang}">`, `    <Title>${e(side.title)}</Title>`);
    for (const b of side.blocks) {
      if (b.type === 'heading' || b.type === 'paragraph') {
        const tag = b.type === 'heading' ? 'Heading' : 'Paragraph';
        out.push(`    <${tag}>${e(b.text)}</${tag}>`);
      } else if (b.type === 'lines') {
        out.push('    <Lines>');
        for (const l of b.lines) out.push(`      <Line label="${e(l.label)}">${e(l.value)}</Line>`);
        out.push('    </Lines>');
      } else {
        out.push('    <Signatures>');
        for (const l of b.lines) {
          out.push(
            l.name === null
              ? `      <Signer label="${e(l.label)}" signs="true"/>`
              : `      <Signer label="${e(l.label)}">${e(l.name)}</Signer>`,
          );
        }
        out.push('    </Signatures>');
      }
    }
    out.push(`    <LegalNote>${e(side.legalNote)}</LegalNote>`, '  </Content>');
  }
  out.push('</OutputDocument>', '');
  return out.join('\n');
}

export interface HtmlOptions {
  /** URLs (data: or file:) of DejaVu Sans regular and bold. */
  fonts: { regular: string; bold: string };
  /** Who signed, when signed. */
  signer: { name: string; signedAt: number } | null;
  /** SVG markup of the QR codes carrying the signed XML, in order; empty when not signed. */
  codes: readonly string[];
  /** Where a paper is checked by its number (shown on signed documents). */
  checkAt: string;
}

function h(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const CSS = `
@page { size: A4; margin: 16mm 15mm 18mm 20mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-family: 'DejaVu Sans'; font-size: 8pt; color: #444; } }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; line-height: 1.35; color: #000; margin: 0; }
header { border-bottom: 1px solid #000; padding-bottom: 3mm; margin-bottom: 5mm; }
header .provider { font-weight: 700; }
header .ru { margin-top: 1mm; }
header .bin { font-size: 8.5pt; margin-top: 1mm; }
h1 { font-size: 12pt; text-align: center; margin: 4mm 0 1mm; }
h1.ru { margin-top: 0; margin-bottom: 4mm; }
p { margin: 0 0 2mm; text-align: justify; }
p.ru { margin-bottom: 4mm; }
table.lines { width: 100%; border-collapse: collapse; margin: 2mm 0 4mm; break-inside: auto; }
table.lines th { text-align: left; font-weight: 400; width: 55%; padding: 1.2mm 3mm 1.2mm 0; vertical-align: top; border-bottom: 0.3pt solid #999; }
table.lines th .ru { display: block; color: #333; }
table.lines td { font-weight: 700; padding: 1.2mm 0; vertical-align: top; border-bottom: 0.3pt solid #999; }
table.lines tr { break-inside: avoid; }
.signatures { margin: 6mm 0 4mm; }
.signatures .line { display: flex; gap: 4mm; margin-bottom: 4mm; break-inside: avoid; }
.signatures .label { width: 55%; }
.signatures .name { flex: 1; border-bottom: 0.5pt solid #000; font-weight: 700; min-height: 4mm; }
.legal { font-size: 8pt; border-top: 0.5pt solid #000; padding-top: 2mm; margin-top: 4mm; break-inside: avoid; }
.legal p { text-align: left; margin-bottom: 1.5mm; }
.signed { font-size: 8.5pt; margin-top: 2mm; break-inside: avoid; }
.codes { display: flex; flex-wrap: wrap; gap: 5mm; margin-top: 4mm; }
.codes figure { margin: 0; width: 50mm; break-inside: avoid; text-align: center; font-size: 7pt; }
.codes svg { width: 50mm; height: 50mm; display: block; }
.check { font-size: 8pt; margin-top: 2mm; break-inside: avoid; }
.check p { text-align: left; }
.draft { border: 1.5pt solid #b00; color: #b00; text-align: center; font-weight: 700; font-size: 12pt;
  padding: 1.5mm; margin-bottom: 4mm; letter-spacing: 0.1em; }
`;

/** The printable page of a document. */
export function documentHtml(data: DocumentData, options: HtmlOptions): string {
  for (const svg of options.codes) {
    if (!/^\s*(<\?xml[^>]*>\s*)?<svg[\s>]/.test(svg) || /<script|on\w+=/i.test(svg)) {
      throw new Error('a QR code is not plain SVG');
    }
  }
  const signerName = options.signer?.name ?? '';
  const body: string[] = [];
  // A text banner, not a watermark over the page: a rotated overlay would be read into the document's text.
  if (!options.signer) body.push(`<div class="draft">${h(WORDS.kk.draft)} · ${h(WORDS.ru.draft)}</div>`);
  body.push(
    '<header>',
    `<div class="provider">${h(data.provider.kk)}</div>`,
    `<div class="provider ru">${h(data.provider.ru)}</div>`,
    data.provider.bin ? `<div class="bin">${h(WORDS.kk.bin)} / ${h(WORDS.ru.bin)}: ${h(data.provider.bin)}</div>` : '',
    '</header>',
  );
  const count = Math.max(data.kk.blocks.length, data.ru.blocks.length);
  for (let i = 0; i < count; i++) {
    const kk = data.kk.blocks[i];
    const ru = data.ru.blocks[i];
    const type = kk?.type ?? ru?.type;
    if (type === 'heading' || type === 'paragraph') {
      const tag = type === 'heading' ? 'h1' : 'p';
      for (const [lang, b] of [
        ['kk', kk],
        ['ru', ru],
      ] as const) {
        if (b && 'text' in b) body.push(`<${tag} class="${lang}" lang="${lang}">${h(b.text)}</${tag}>`);
      }
    } else if (type === 'lines' && kk?.type === 'lines' && ru?.type === 'lines') {
      body.push('<table class="lines">');
      kk.lines.forEach((l, j) => {
        const r = ru.lines[j];
        const value = r && r.value !== l.value ? `${h(l.value)} / ${h(r.value)}` : h(l.value);
        body.push(
          `<tr><th><span lang="kk">${h(l.label)}</span>${r ? `<span class="ru" lang="ru">${h(r.label)}</span>` : ''}</th><td>${value}</td></tr>`,
        );
      });
      body.push('</table>');
    } else if (type === 'signatures' && kk?.type === 'signatures' && ru?.type === 'signatures') {
      body.push('<div class="signatures">');
      kk.lines.forEach((l, j) => {
        const name = l.name ?? signerName;
        body.push(
          `<div class="line"><div class="label">${h(l.label)} / ${h(ru.lines[j]?.label ?? '')}</div><div class="name">${h(name)}</div></div>`,
        );
      });
      body.push('</div>');
    }
  }
  if (options.signer) {
    const when = formatDateTime(options.signer.signedAt);
    body.push(
      `<div class="signed">${h(WORDS.kk.signedBy)} / ${h(WORDS.ru.signedBy)}: ${h(options.signer.name)}, ${h(when)}</div>`,
    );
  }
  body.push(
    '<div class="legal">',
    `<p lang="kk">${h(data.kk.legalNote)}</p>`,
    `<p lang="ru">${h(data.ru.legalNote)}</p>`,
    '</div>',
  );
  if (options.codes.length > 0) {
    const n = options.codes.length;
    body.push('<div class="codes">');
    options.codes.forEach((svg, i) => body.push(`<figure>${svg}<figcaption>${i + 1} / ${n}</figcaption></figure>`));
    body.push('</div>');
    body.push(
      `<div class="check"><p lang="kk">${h(WORDS.kk.codes)}. ${h(WORDS.kk.check(data.documentNumber, options.checkAt))}</p>`,
      `<p lang="ru">${h(WORDS.ru.codes)}. ${h(WORDS.ru.check(data.documentNumber, options.checkAt))}</p></div>`,
    );
  }
  const fontFace = (url: string, weight: number) =>
    `@font-face { font-family: 'DejaVu Sans'; src: url("${url.replace(/"/g, '%22')}") format('truetype'); font-weight: ${weight}; font-style: normal; }`;
  return [
    '<!DOCTYPE html>',
    '<html lang="kk">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${h(data.kk.title)} / ${h(data.ru.title)} — ${h(data.documentNumber)}</title>`,
    `<style>${fontFace(options.fonts.regular, 400)}\n${fontFace(options.fonts.bold, 700)}\n${CSS}</style>`,
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
  ].join('\n');
}
