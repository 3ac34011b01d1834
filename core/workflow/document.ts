/**
 * The output document of an application as structured data, in Kazakh and
 * Russian side by side (docs/domain.md#output-document; seed 002 figures 30
 * and 34, seed 003 output forms): the provider, the result's name, the applicant and the
 * application, the result data the executor filled in, the decision with the
 * refusal reason, the signature, and the note that an electronic document
 * equals a paper one. The renderer lays it out and prints it.
 *
 * These texts are the document's content, always in kk and ru whatever the
 * interface language, so they live here and not in the UI catalogues.
 */
import type { FormField, ServiceDefinition } from '../catalogue/schema.js';
import type { OutputDocument } from './output-document.js';
import type { Decision, Status } from '../vocabulary.js';
import { isEmpty, protocolFields } from './fields.js';
import type { StepPlan } from './machine.js';

type DocLanguage = 'kk' | 'ru';
type Side = OutputDocument['kk'];

export interface DocumentInput {
  id: string;
  number: string;
  portalNumber: string | null;
  status: Status;
  decision: Decision;
  submittedAt: number;
  applicantIin: string;
  applicantBin: string | null;
  applicantName: string;
  provider: { kk: string; ru: string };
  refusalReasonCode: string | null;
  refusalText: string | null;
  formData: Readonly<Record<string, unknown>>;
  /** The latest signature, when signed. */
  signature: { signerName: string; signedAt: number } | null;
}

const WORDS: Record<
  DocLanguage,
  {
    number: string;
    applicant: string;
    iin: string;
    bin: string;
    submitted: string;
    portalNumber: string;
    refusalReason: string;
    refusalText: string;
    yes: string;
    no: string;
    positive: (service: string) => string;
    negative: (service: string) => string;
    signed: (name: string, date: string) => string;
    legalNote: string;
  }
> = {
  kk: {
    number: 'Өтінім нөмірі',
    applicant: 'Өтініш беруші',
    iin: 'ЖСН',
    bin: 'БСН',
    submitted: 'Өтініш берілген күні',
    portalNumber: 'ЭҮП өтінімінің нөмірі',
    refusalReason: 'Бас тарту себебі',
    refusalText: 'Бас тартудың негіздемесі',
    yes: 'иә',
    no: 'жоқ',
    positive: (s) => `«${s}» мемлекеттік көрсетілетін қызметі бойынша өтінішіңіз қаралып, оң шешім қабылданды.`,
    negative: (s) => `Сізге «${s}» мемлекеттік қызметін көрсетуден бас тартылғанын хабарлаймыз.`,
    signed: (name, date) => `ЭЦҚ-мен қол қойылды: ${name}, ${date}`,
    legalNote:
      '«Электрондық құжат және электрондық цифрлық қолтаңба туралы» 2003 жылғы 7 қаңтардағы Қазақстан Республикасы Заңының 7-бабының 1-тармағына сәйкес осы құжат қағаз жеткізгіштегі құжатқа тең.',
  },
  ru: {
    number: 'Номер заявки',
    applicant: 'Заявитель',
    iin: 'ИИН',
    bin: 'БИН',
    submitted: 'Дата обращения',
    portalNumber: 'Номер заявки ПЭП',
    refusalReason: 'Причина отказа',
    refusalText: 'Обоснование отказа',
    yes: 'да',
    no: 'нет',
    positive: (s) => `Ваше заявление по государственной услуге «${s}» рассмотрено, принято положительное решение.`,
    negative: (s) => `Доводим до Вашего сведения, что Вам отказано в оказании государственной услуги «${s}».`,
    signed: (name, date) => `Подписано ЭЦП: ${name}, ${date}`,
    legalNote:
      'Данный документ согласно пункту 1 статьи 7 Закона Республики Казахстан от 7 января 2003 года «Об электронном документе и электронной цифровой подписи» равнозначен документу на бумажном носителе.',
  },
};

/** Kazakhstan keeps one time zone, UTC+5. */
const LOCAL_OFFSET = 5 * 3_600_000;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatDate(ms: number): string {
  const d = new Date(ms + LOCAL_OFFSET);
  return `${two(d.getUTCDate())}.${two(d.getUTCMonth() + 1)}.${d.getUTCFullYear()}`;
}

export function formatDateTime(ms: number): string {
  const d = new Date(ms + LOCAL_OFFSET);
  return `${formatDate(ms)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** A form value as the document prints it in one language. */
function printValue(field: FormField, value: unknown, lang: DocLanguage): string {
  if (typeof value === 'boolean') return value ? WORDS[lang].yes : WORDS[lang].no;
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return JSON.stringify(value);
  if (field.type === 'select') return field.options?.find((o) => o.value === value)?.label[lang] ?? value;
  if (field.type === 'date') {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
    if (m) return `${m[3]}.${m[2]}.${m[1]}`;
  }
  return value;
}

function filledLines(fields: readonly FormField[], form: Readonly<Record<string, unknown>>, lang: DocLanguage) {
  return fields
    .filter((f) => f.type !== 'file' && !isEmpty(form[f.code]))
    .map((f) => ({ label: f.label[lang], value: printValue(f, form[f.code], lang) }));
}

export function buildDocument(
  input: DocumentInput,
  def: ServiceDefinition | null,
  plan: StepPlan | null,
): OutputDocument {
  const result = input.decision === 'none' ? null : (def?.results.find((r) => r.kind === input.decision) ?? null);
  const resultFields = def?.sections.filter((s) => s.stage === 'result').flatMap((s) => s.fields) ?? [];
  const protocol = protocolFields(plan?.collegial ?? null);
  const reason = def?.refusalReasons.find((r) => r.code === input.refusalReasonCode) ?? null;

  const side = (lang: DocLanguage): Side => {
    const w = WORDS[lang];
    const serviceName = def?.name[lang] ?? '';
    const lines = [
      { label: w.number, value: input.number },
      { label: w.applicant, value: input.applicantName },
      { label: w.iin, value: input.applicantIin },
      ...(input.applicantBin ? [{ label: w.bin, value: input.applicantBin }] : []),
      { label: w.submitted, value: formatDate(input.submittedAt) },
      ...(input.portalNumber ? [{ label: w.portalNumber, value: input.portalNumber }] : []),
      ...filledLines(protocol, input.formData, lang),
      ...filledLines(resultFields, input.formData, lang),
    ];
    const decisionLines: Side['decisionLines'] = [];
    if (input.decision === 'negative') {
      if (reason) decisionLines.push({ label: w.refusalReason, value: reason.text[lang] });
      else if (input.refusalReasonCode) decisionLines.push({ label: w.refusalReason, value: input.refusalReasonCode });
      if (input.refusalText) decisionLines.push({ label: w.refusalText, value: input.refusalText });
    }
    return {
      language: lang,
      provider: input.provider[lang],
      title: result?.name[lang] ?? def?.shortName?.[lang] ?? serviceName,
      serviceName,
      lines,
      decisionText:
        input.decision === 'positive'
          ? w.positive(serviceName)
          : input.decision === 'negative'
            ? w.negative(serviceName)
            : null,
      decisionLines,
      signature: input.signature
        ? w.signed(input.signature.signerName, formatDateTime(input.signature.signedAt))
        : null,
      legalNote: w.legalNote,
    };
  };

  return {
    applicationId: input.id,
    number: input.number,
    status: input.status,
    decision: input.decision,
    draft: input.status !== 'completed',
    resultCode: result?.code ?? null,
    kk: side('kk'),
    ru: side('ru'),
  };
}
