/**
 * The demo applications' form data, field by field of the service's
 * definition (resources/services/*.json), so that a demo application's card
 * shows its sections filled the way a clerk, an applicant on the portal and
 * then the executor would have filled them:
 *
 *  - every `intake` section (applicant, address, identity document,
 *    representative, the service's own details, attachments, consent);
 *  - the `processing` section once the executor has worked on it (documents
 *    checked), the `result` section and the collegial step's protocol once a
 *    decision is made;
 *  - values of the field's type that the workflow's own check accepts
 *    (core/workflow/fields.ts checkValue): dates as YYYY-MM-DD, select values
 *    from the field's options, IINs and BINs with valid checksums, IBANs with
 *    valid check digits, texts in Russian or Kazakh within `maxLength`.
 *    File fields hold the attached file's name (the files themselves are not
 *    part of the demo).
 *
 * Deterministic: the values come from the random numbers passed in.
 */
import { makeIin, type Sex } from '#core/identity/iin.js';
import type { FormField, ServiceDefinition } from '#core/catalogue/schema.js';

export interface FormRandom {
  float(): number;
  int(min: number, max: number): number;
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
}

/** What the generator has decided about the application before its form is filled. */
export interface FormFacts {
  status: string;
  decision: 'none' | 'positive' | 'negative';
  /** Submitted, and last status change (ms). */
  submittedAt: number;
  decidedAt: number;
  number: string;
  applicant: { name: string; surname: string; iin: string; sex: Sex; birth: number; kazakh: boolean };
  phone: string;
  email: string | null;
  region: string;
  locality: string;
  street: string;
  house: string;
  flat: string | null;
  /** Legal entities (grants, infrastructure). */
  bin: string | null;
  organisation: string | null;
  legalForm: string | null;
  project: string | null;
  amountKzt: number | null;
  /** Home-schooling compensation: the child. */
  child: { iin: string; lastName: string; firstName: string; birth: number } | null;
  school: string | null;
  /** Education document duplicate. */
  educationDoc: { type: string; institution: string; graduationYear: number; reason: string } | null;
}

const DAY = 86_400_000;
const LOCAL_OFFSET = 5 * 3_600_000;

/** The local (UTC+5) calendar date of an instant, YYYY-MM-DD. */
export function localDay(ms: number): string {
  return new Date(ms + LOCAL_OFFSET).toISOString().slice(0, 10);
}

const ID_ISSUERS = ['МВД РК', 'ҚР ІІМ', 'Министерство юстиции РК'];
const BANKS: readonly { name: string; code: string }[] = [
  { name: 'АО «Народный Банк Казахстана»', code: '601' },
  { name: 'АО «Kaspi Bank»', code: '722' },
  { name: 'АО «Банк ЦентрКредит»', code: '826' },
  { name: 'АО «ForteBank»', code: '965' },
  { name: 'АО «Отбасы банк»', code: '310' },
];
const PRESENT_TO = [
  'По месту требования',
  'В отдел социальной защиты населения',
  'Талап ету орны бойынша',
  'В АО «Государственный фонд социального страхования»',
];
const INFRASTRUCTURE_OBJECTS = [
  'Линия электропередачи 10 кВ протяжённостью 2,4 км, трансформаторная подстанция',
  'Подъездная автомобильная дорога 1,2 км с освещением',
  'Газопровод среднего давления 3,1 км, ГРПШ',
  'Водопровод 1,8 км и канализационная насосная станция',
  'Кіреберіс жол 0,9 км және сыртқы жарықтандыру',
];
const PROJECT_DESCRIPTIONS = [
  'Запуск производства с созданием новых рабочих мест; помещение в аренде, оборудование по коммерческому предложению.',
  'Расширение действующего производства: закуп оборудования и сырья, обучение персонала.',
  'Жаңа өндіріс ашу: жабдық сатып алу, 4 жұмыс орнын құру.',
  'Оказание услуг населению района; бизнес-план и смета расходов прилагаются.',
];
const EXECUTOR_COMMENTS = [
  'Документы проверены, сведения подтверждены по ГБД ФЛ.',
  'Сведения о регистрации проверены в ГБД ЮЛ.',
  'Құжаттар тексерілді, ескерту жоқ.',
  'Запрошены сведения из ГЦВП, ответ получен.',
];
const COLLEGIAL_REASONS_POSITIVE = [
  'Проект соответствует условиям программы, бизнес-план реалистичен.',
  'Жоба бағдарлама талаптарына сәйкес келеді.',
];
const COLLEGIAL_REASONS_NEGATIVE = [
  'Бизнес-план не обоснован: не подтверждён рынок сбыта.',
  'Проект не соответствует приоритетным отраслям программы.',
];
const FILE_NAMES: Readonly<Record<string, string>> = {
  applicationFile: 'заявление.pdf',
  identityDocumentFile: 'удостоверение_личности.pdf',
  powerOfAttorneyFile: 'доверенность.pdf',
  pmpcConclusionFile: 'заключение_ПМПК.pdf',
  disabilityCertificateFile: 'справка_об_инвалидности.pdf',
  schoolCertificateFile: 'справка_из_школы.pdf',
  item9Files: 'документы_по_пункту_9.zip',
  damagedDocumentFile: 'повреждённый_документ.jpg',
  nameChangeDocumentFile: 'свидетельство_о_перемене_имени.pdf',
};

/** ISO 13616 check digits of a Kazakh IBAN: KZ, two check digits, a 3-digit bank code, 13 account characters. */
export function makeIban(bankCode: string, account: string): string {
  const bban = `${bankCode}${account}`;
  const digits = `${bban}KZ00`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of digits) rest = (rest * 10 + Number(d)) % 97;
  return `KZ${String(98 - rest).padStart(2, '0')}${bban}`;
}

/** An IBAN's check digits hold (mod 97 = 1). */
export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const moved = `${iban.slice(4)}${iban.slice(0, 4)}`.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let rest = 0;
  for (const d of moved) rest = (rest * 10 + Number(d)) % 97;
  return rest === 1;
}

function digits(r: FormRandom, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String(r.int(0, 9));
  return s;
}

/** Has the executor worked on it (processing section), decided it (result, protocol)? */
function stageOf(f: FormFacts): { processed: boolean; decided: boolean } {
  const decided = f.decision !== 'none' && (f.status === 'on_signing' || f.status.startsWith('completed'));
  return { processed: decided || f.status === 'in_processing', decided };
}

/**
 * The form data of one application: every field of `def` whose section the
 * application has reached, by field code; optional fields sometimes left
 * empty, as people leave them.
 */
export function fillForm(def: ServiceDefinition, f: FormFacts, r: FormRandom): Record<string, unknown> {
  const { processed, decided } = stageOf(f);
  const positive = f.decision === 'positive';
  const submitted = localDay(f.submittedAt);
  const decidedDay = localDay(f.decidedAt);
  const [lastName = f.applicant.name, firstName = '', ...rest] = f.applicant.name.split(' ');
  const middleName = rest.join(' ');
  const representative = r.chance(0.08);
  const repSex: Sex = r.chance(0.5) ? 'female' : 'male';
  const repBirth = f.submittedAt - r.int(25, 60) * 365 * DAY;
  const docType = r.chance(0.86) ? 'id-card' : r.chance(0.9) ? 'passport' : 'residence-permit';
  const docIssued = f.submittedAt - r.int(30, 3600) * DAY;
  const bank = r.pick(BANKS);
  const resultSeq = `${r.int(1, 9999)}`;

  // One value per field code; undefined leaves the field empty.
  const value = (field: FormField): unknown => {
    switch (field.code) {
      // applicant
      case 'applicantIin':
        return f.applicant.iin;
      case 'lastName':
        return lastName;
      case 'firstName':
        return firstName;
      case 'middleName':
        return middleName || undefined;
      case 'birthDate':
        return localDay(f.applicant.birth);
      case 'phone':
        return f.phone;
      case 'email':
        return f.email ?? undefined;
      case 'applicantKind':
        return f.legalForm === 'ИП' ? 'individual-entrepreneur' : 'legal-entity';
      case 'applicantBin':
        return f.bin ?? undefined;
      case 'organisationName':
        return f.organisation ?? f.applicant.name;
      case 'registrationInfo':
        return f.legalForm === 'ИП'
          ? `Уведомление о начале деятельности в качестве ИП № KZ${digits(r, 8)}UWQ от ${localDay(f.submittedAt - r.int(200, 3000) * DAY)}`
          : `Справка о государственной регистрации юридического лица, БИН ${f.bin ?? ''}`.trim();
      case 'headFullName':
        return f.applicant.name;
      // address
      case 'country':
        return 'Казахстан';
      case 'region':
        return f.region;
      case 'district':
        return undefined;
      case 'locality':
        return f.locality;
      case 'street':
        return f.street;
      case 'house':
        return f.house;
      case 'flat':
        return f.flat ?? undefined;
      // identity document
      case 'idDocType':
        return docType;
      case 'idDocNumber':
        return docType === 'passport' ? `N${digits(r, 8)}` : `0${digits(r, 8)}`;
      case 'idDocIssueDate':
        return localDay(docIssued);
      case 'idDocIssuer':
        return r.pick(ID_ISSUERS);
      // representative (a few applications come through one)
      case 'representativeIin':
        return representative ? makeIin(new Date(repBirth + LOCAL_OFFSET), repSex, r.int(0, 9999)) : undefined;
      case 'representativeName':
        return representative
          ? repSex === 'female'
            ? 'Ахметова Гүлназ Серікқызы'
            : 'Ким Виктор Андреевич'
          : undefined;
      case 'poaNotarised':
        return representative ? true : undefined;
      case 'poaNumber':
        return representative ? `${r.int(1, 9999)}` : undefined;
      case 'poaDate':
        return representative ? localDay(f.submittedAt - r.int(5, 300) * DAY) : undefined;
      case 'poaValidUntil':
        return representative ? localDay(f.submittedAt + r.int(60, 700) * DAY) : undefined;
      // unemployed certificate
      case 'periodFrom':
        return localDay(f.submittedAt - r.int(30, 400) * DAY);
      case 'periodTo':
        return submitted;
      case 'presentTo':
        return r.chance(0.7) ? r.pick(PRESENT_TO) : undefined;
      // home-schooling compensation: the child
      case 'childIin':
        return f.child?.iin;
      case 'childLastName':
        return f.child?.lastName;
      case 'childFirstName':
        return f.child?.firstName;
      case 'childMiddleName':
        return undefined;
      case 'childBirthDate':
        return f.child ? localDay(f.child.birth) : undefined;
      case 'kinship':
        return r.chance(0.92) ? 'parent' : r.chance(0.7) ? 'guardian' : 'other-legal-representative';
      case 'schoolName':
        return f.school ?? undefined;
      case 'homeSchoolingFrom': {
        const y = Number(submitted.slice(0, 4)) - (Number(submitted.slice(5, 7)) >= 9 ? 0 : 1);
        return `${y}-09-01`;
      }
      case 'homeSchoolingTo': {
        const y = Number(submitted.slice(0, 4)) + (Number(submitted.slice(5, 7)) >= 9 ? 1 : 0);
        return r.chance(0.7) ? `${y}-05-25` : undefined;
      }
      case 'bankName':
        return bank.name;
      case 'iban':
        return makeIban(bank.code, digits(r, 13));
      // grants, infrastructure
      case 'projectName':
        return f.project ?? undefined;
      case 'projectKind':
        return r.chance(0.85) ? 'new-business-idea' : 'industrial-innovative';
      case 'projectDescription':
        return r.pick(PROJECT_DESCRIPTIONS);
      case 'requestedAmount':
      case 'estimatedCost':
        return f.amountKzt ?? undefined;
      case 'worksKind':
        return r.chance(0.7) ? 'construction' : 'reconstruction';
      case 'infrastructureObjects':
        return r.pick(INFRASTRUCTURE_OBJECTS);
      case 'objectLocation':
        return `${f.region}, ${f.locality}`;
      // education document duplicate
      case 'ownerIsApplicant':
        return true;
      case 'educationDocType':
        return f.educationDoc?.type;
      case 'educationDocSeriesNumber':
        return r.chance(0.8) ? `${r.pick(['ЖОБ', 'ЖББ', 'ТКБ', 'KZ'])} ${digits(r, 7)}` : undefined;
      case 'educationOrganisation':
        return f.educationDoc?.institution;
      case 'graduationYear':
        return f.educationDoc?.graduationYear;
      case 'duplicateReason':
        return f.educationDoc?.reason;
      // consent
      case 'consentConfidential':
      case 'consentAccuracy':
        return true;
      // processing (the executor)
      case 'documentsCheck':
        if (!processed || (!decided && r.chance(0.5))) return undefined;
        return f.decision === 'negative' && r.chance(0.5) ? 'mismatch' : 'complete';
      case 'executorComment':
        return processed && r.chance(0.3) ? r.pick(EXECUTOR_COMMENTS) : undefined;
      case 'commissionSubmittedDate':
      case 'councilSubmittedDate':
        return decided ? localDay(Math.min(f.decidedAt, f.submittedAt + r.int(3, 6) * DAY)) : undefined;
      // the collegial step's protocol
      case 'commissionProtocolNumber':
      case 'councilProtocolNumber':
        return decided ? `${r.int(1, 60)}` : undefined;
      case 'commissionProtocolDate':
      case 'councilProtocolDate':
        return decided ? localDay(Math.max(f.submittedAt, f.decidedAt - r.int(1, 8) * DAY)) : undefined;
      case 'commissionDecision':
        return decided ? (positive ? 'award' : 'refuse') : undefined;
      case 'councilDecision':
        return decided ? (positive ? 'financing-possible' : 'financing-impossible') : undefined;
      case 'commissionReasons':
      case 'councilReasons':
        return decided ? r.pick(positive ? COLLEGIAL_REASONS_POSITIVE : COLLEGIAL_REASONS_NEGATIVE) : undefined;
      // result (the output document)
      case 'resultNumber':
        return decided ? `${f.number}/${resultSeq}` : undefined;
      case 'resultDate':
        return decided ? decidedDay : undefined;
      case 'unemployedRegistrationDate':
        return decided && positive ? submitted : undefined;
      case 'publicWorks':
      case 'training':
      case 'socialAssistance':
        return decided && positive ? r.chance(0.3) : undefined;
      case 'allowanceAmount':
        return decided && positive ? r.int(40, 90) * 1000 : undefined;
      case 'allowanceFrom':
        return decided && positive ? decidedDay : undefined;
      case 'allowanceTo':
        return decided && positive ? `${Number(decidedDay.slice(0, 4)) + 1}-05-31` : undefined;
      case 'councilExtractNumber':
      case 'grantAgreementNumber':
        return decided && positive ? `${r.int(100, 999)}-${r.int(1, 99)}` : undefined;
      case 'grantAgreementDate':
        return decided && positive ? decidedDay : undefined;
      case 'grantAmount':
        return decided && positive ? (f.amountKzt ?? undefined) : undefined;
      case 'duplicateSeriesNumber':
        return decided && positive ? `ДУБ ${digits(r, 7)}` : undefined;
      case 'duplicateRegistrationNumber':
        return decided && positive ? `${r.int(1, 9999)}` : undefined;
      default:
        break;
    }
    if (field.type === 'file') {
      const name = FILE_NAMES[field.code] ?? `${field.code}.pdf`;
      if (field.code === 'powerOfAttorneyFile') return representative ? name : undefined;
      return field.required || r.chance(0.6) ? name : undefined;
    }
    return undefined; // a field this demo knows nothing about stays empty
  };

  const form: Record<string, unknown> = {};
  const put = (field: FormField) => {
    const v = value(field);
    if (v !== undefined && v !== null && v !== '') form[field.code] = v;
  };
  for (const section of def.sections) {
    if (section.stage === 'processing' && !processed) continue;
    if (section.stage === 'result' && !decided) continue;
    for (const field of section.fields) put(field);
  }
  for (const step of def.steps) if (step.protocol && decided) for (const field of step.protocol.fields) put(field);
  return form;
}
