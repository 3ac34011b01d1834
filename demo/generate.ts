/**
 * Demo data: regions, providers, staff with roles, and any number of
 * applications spread over the last ~18 months, deterministic for a seed
 * (and a fixed `now`).
 *
 * Fast on purpose (benchmarks and the journal need 10^5–10^6 rows): plain
 * prepared statements, one transaction per batch, no drizzle in the loop.
 * PRAGMAs (synchronous, journal_mode) are the caller's business.
 *
 * Services, their channels, step codes, step limits and refusal reasons come
 * from the service catalogue (`options.services`, resources/services/*.json),
 * so the workflow finds every `current_step` and `refusal_reason_code` there.
 * What the catalogue does not say (how popular a service is, how long it
 * usually takes, who applies, the form data) is demo knowledge kept here.
 *
 * Expects the schema of db/schema.ts and empty providers/users/applications.
 */
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { makeBin, makeIin, type BinType, type BinUnit, type Sex } from '#core/identity/iin.js';
import { foldForSearch } from '#core/identity/text.js';
import { WorkingCalendar } from '#core/calendar/workdays.js';
import type { ServiceDefinition, ServiceStep, StepLimit } from '#core/catalogue/schema.js';
import { STATUSES, type Channel, type Decision, type Role, type Status } from '#db/schema.js';
import { fillForm, type FormFacts } from './form.js';
import {
  EDUCATION_DOCUMENTS,
  EDUCATION_LEVELS,
  feminineSurname,
  GRANT_PROJECTS,
  INFRASTRUCTURE_PROJECTS,
  INSTITUTIONS,
  kazakhPatronymic,
  KAZAKH_FEMALE_NAMES,
  KAZAKH_MALE_NAMES,
  KAZAKH_RU_PATRONYMICS,
  KAZAKH_SURNAMES,
  ORG_WORDS_1,
  ORG_WORDS_2,
  PHONE_CODES,
  POSITIONS,
  PROVIDERS,
  REGIONS,
  REWORK_COMMENTS,
  RUSSIAN_FEMALE_NAMES,
  RUSSIAN_MALE_NAMES,
  RUSSIAN_PATRONYMICS,
  RUSSIAN_SURNAMES,
  SCHOOLS,
  SERVICE_CODES,
  SERVICES_BY_KIND,
  STREETS,
  transliterate,
  type DemoServiceCode,
  type Position,
  type ProviderSeed,
} from './names.js';

export interface GenerateDemoOptions {
  /** How many applications to write. */
  applications: number;
  /**
   * The service catalogue (`loadCatalogue(...).services`): channels, steps with
   * their limits and refusal reasons. Services the demo has no profile for
   * (form data, volumes) are left out; at least one must have one.
   */
  services: readonly ServiceDefinition[];
  /** PRNG seed; the same seed, `now` and `services` give the same rows. Default 1. */
  seed?: number;
  /** "Now" in ms; applications are submitted before it. Default Date.now() (pass it for determinism). */
  now?: number;
  /** Write one `received` event per application (slower; the real hash chain belongs to the journal). Default false. */
  events?: boolean;
  /** Applications per transaction. Default 10,000. */
  batchSize?: number;
  /** Called after each batch. */
  onProgress?: (done: number, total: number) => void;
  /** Working days for the deadlines (resources/calendars); default weekends only, UTC+5. */
  calendar?: WorkingCalendar;
}

export interface GenerateDemoResult {
  regions: number;
  providers: number;
  users: number;
  userRoles: number;
  providerStaff: number;
  applications: number;
  events: number;
  byStatus: Record<Status, number>;
  ms: number;
}

/** Well-known demo users (ids and logins), so the app and tests have someone to log in as. */
export const DEMO_USERS = {
  head: { id: 'user-head-demo', login: 'head.demo' },
  clerk: { id: 'user-clerk-demo', login: 'clerk.demo' },
  executor: { id: 'user-executor-demo', login: 'executor.demo' },
  operator: { id: 'user-operator-demo', login: 'operator.demo' },
  monitoring: { id: 'user-monitoring-demo', login: 'monitoring.demo' },
  admin: { id: 'user-admin-demo', login: 'admin.demo' },
} as const;

/** The demo head's identity: fixed, so that tests can issue a certificate in her name. */
export const DEMO_HEAD = {
  fullName: 'Сәрсенбаева Әйгерім Қанатқызы',
  iin: makeIin(new Date(Date.UTC(1984, 2, 12)), 'female', 4521),
} as const;

// ------------------------------------------------------------------ PRNG ---

/** mulberry32: a tiny, fast 32-bit PRNG, good enough for demo data. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  /** Integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.next() * items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  /** Index chosen with the given (not necessarily normalised) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let r = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return i;
    }
    return weights.length - 1;
  }
}

// ------------------------------------------------------------------ time ---

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const YEAR = 365.2425 * DAY;
/** Kazakhstan keeps one time zone, UTC+5, since 1 March 2024; good enough for demo dates. */
const LOCAL_OFFSET = 5 * HOUR;
const HISTORY_DAYS = 548; // ~18 months

function localDate(t: number): Date {
  return new Date(t + LOCAL_OFFSET);
}

/** Local day of the week, 0 = Sunday (1 January 1970 was a Thursday). */
function localDayOfWeek(t: number): number {
  return (((Math.floor((t + LOCAL_OFFSET) / DAY) + 4) % 7) + 7) % 7;
}

function isWeekend(t: number): boolean {
  const dow = localDayOfWeek(t);
  return dow === 0 || dow === 6;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

// -------------------------------------------------------------- services ---

/** What the demo knows about a service beyond its catalogue definition. */
interface ServiceProfile {
  code: DemoServiceCode;
  /** Share of all applications. */
  weight: number;
  /** Typical calendar days from submission to the result. */
  durationDays: number;
  positiveRate: number;
  /** Mix of channels in office hours, among the ones the catalogue lets the service take. */
  channelMix: Readonly<Record<Channel, number>>;
  /** Applicant's age at submission, years. */
  age: readonly [number, number];
  /** Probability that the applicant acts for a legal entity (has a BIN). */
  legalEntityRate: number;
}

const SERVICE_PROFILES: Readonly<Record<DemoServiceCode, ServiceProfile>> = {
  'grant-small-business': {
    code: 'grant-small-business',
    weight: 14,
    durationDays: 42,
    positiveRate: 0.38,
    channelMix: { office: 0.55, centre: 0, portal: 0.45 },
    age: [21, 62],
    legalEntityRate: 0.45,
  },
  'industrial-infrastructure': {
    code: 'industrial-infrastructure',
    weight: 6,
    durationDays: 16,
    positiveRate: 0.62,
    channelMix: { office: 0.7, centre: 0, portal: 0.3 },
    age: [28, 66],
    legalEntityRate: 0.85,
  },
  'unemployed-certificate': {
    code: 'unemployed-certificate',
    weight: 38,
    durationDays: 2,
    positiveRate: 0.9,
    channelMix: { office: 0.25, centre: 0.35, portal: 0.4 },
    age: [18, 62],
    legalEntityRate: 0,
  },
  'home-schooling-compensation': {
    code: 'home-schooling-compensation',
    weight: 14,
    durationDays: 12,
    positiveRate: 0.88,
    channelMix: { office: 0.3, centre: 0.4, portal: 0.3 },
    age: [24, 56],
    legalEntityRate: 0,
  },
  'education-document-duplicate': {
    code: 'education-document-duplicate',
    weight: 28,
    durationDays: 20,
    positiveRate: 0.94,
    channelMix: { office: 0.3, centre: 0.2, portal: 0.5 },
    age: [18, 64],
    legalEntityRate: 0,
  },
};

function isDemoServiceCode(code: string): code is DemoServiceCode {
  return (SERVICE_CODES as readonly string[]).includes(code);
}

/** A catalogue step as an application's current step: its code and limit. */
interface PlannedStep {
  code: string;
  limit: StepLimit;
}

/**
 * The current step for each open status of an application that came by one
 * channel, taken from the service's steps that apply to that channel.
 * `external_processing` has none: no catalogue step stands for waiting on
 * another information system (the centre operator's "send" steps happen
 * before the provider receives the application), so it keeps a null step and
 * no deadline.
 */
interface ChannelPlan {
  /** `received`, no responsible yet: the head reviews the documents and assigns the executor. */
  assign: PlannedStep;
  /** `received` with a responsible: the executor's first step. */
  accept: PlannedStep;
  /** `in_processing`: the executor's steps. */
  process: readonly PlannedStep[];
  /** `in_processing` after the head returned it for rework: the executor step whose result the head signs. */
  rework: PlannedStep;
  /** `in_processing` at a collegial body (commission, council); empty when the service has none. */
  collegial: readonly PlannedStep[];
  /** `on_signing`. */
  sign: PlannedStep;
}

/** Everything the generator needs per service, computed once so the row loop only indexes. */
interface ServicePlan {
  profile: ServiceProfile;
  /** The catalogue's definition: the form's sections and fields. */
  definition: ServiceDefinition;
  /** Channels offered in office hours (accepted by the catalogue, with a step plan) and their weights. */
  officeChannels: readonly Channel[];
  officeWeights: readonly number[];
  /** The channel of applications filed outside office hours: the portal, when the service takes it. */
  afterHours: Channel;
  byChannel: Readonly<Partial<Record<Channel, ChannelPlan>>>;
  refusalReasons: readonly { code: string; kk: string; ru: string }[];
}

function planned(step: ServiceStep): PlannedStep {
  return { code: step.code, limit: step.limit };
}

/** The step plan for applications that came by `channel`, or null when no step of the service applies to it. */
function planChannel(def: ServiceDefinition, channel: Channel): ChannelPlan | null {
  const steps = def.steps.filter((s) => !s.channels || s.channels.includes(channel));
  const first = steps[0];
  if (!first) return null;
  const firstExecutor = steps.findIndex((s) => s.role === 'executor');
  const lastExecutor = steps.findLastIndex((s) => s.role === 'executor');
  const heads = steps.map((s, i) => ({ s, i })).filter(({ s }) => s.role === 'head');

  // The head's step just before the executor's (head-assign, head-review). With
  // no head step before it, the nearest is the first head step anywhere; with
  // no head step at all, the first step (the registration that hands it on).
  const assignStep =
    (firstExecutor >= 0 ? heads.filter(({ i }) => i < firstExecutor).at(-1)?.s : undefined) ?? heads[0]?.s ?? first;
  const assign = planned(assignStep);

  // A service without an executor step: the nearest is the head's assigning
  // step, the head then works the application himself.
  const executors = steps.filter((s) => s.role === 'executor').map(planned);
  const process = executors.length > 0 ? executors : [assign];

  // Signing: `head-sign`, else the first head step after the executor's. Where
  // the catalogue has no head step after the executor (industrial
  // infrastructure: the executor prepares and issues the council's protocol
  // extract himself), the nearest is the executor's last step.
  const lastExecutorStep = steps[lastExecutor];
  const signStep =
    steps.find((s) => s.code === 'head-sign') ??
    heads.find(({ i }) => i > lastExecutor)?.s ??
    lastExecutorStep ??
    assignStep;
  const signIndex = steps.indexOf(signStep);
  // Rework goes back to the executor step that produced what the head signs.
  const reworkStep = steps.filter((s, i) => s.role === 'executor' && i <= signIndex).at(-1) ?? lastExecutorStep;

  return {
    assign,
    accept: process[0] ?? assign,
    process,
    rework: reworkStep ? planned(reworkStep) : assign,
    collegial: steps.filter((s) => s.role === 'commission').map(planned),
    sign: planned(signStep),
  };
}

/** The plan of one service, or null when the demo cannot file applications for it. */
function planService(def: ServiceDefinition): ServicePlan | null {
  if (!isDemoServiceCode(def.code)) return null;
  const profile = SERVICE_PROFILES[def.code];
  const byChannel: Partial<Record<Channel, ChannelPlan>> = {};
  const channels: Channel[] = [];
  for (const channel of def.channels) {
    const plan = planChannel(def, channel);
    if (!plan) continue;
    byChannel[channel] = plan;
    channels.push(channel);
  }
  const fallback = channels[0];
  if (fallback === undefined) return null;
  let officeChannels = channels.filter((c) => profile.channelMix[c] > 0);
  if (officeChannels.length === 0) officeChannels = channels;
  const officeWeights = officeChannels.map((c) => profile.channelMix[c] || 1);
  return {
    profile,
    definition: def,
    officeChannels,
    officeWeights,
    afterHours: channels.includes('portal') ? 'portal' : fallback,
    byChannel,
    refusalReasons: def.refusalReasons.map((r) => ({ code: r.code, kk: r.text.kk, ru: r.text.ru })),
  };
}

/**
 * Status mix by how far an application is into its typical duration:
 * fresh ones are mostly open, old ones mostly completed with a small stuck tail.
 * Order as in STATUSES: received, in_processing, on_signing, completed,
 * external_processing, completed_with_error.
 */
function statusWeights(progress: number): number[] {
  if (progress >= 1.5) return [0.002, 0.006, 0.003, 0.945, 0.012, 0.032];
  const p = progress / 1.5;
  return [0.45 * (1 - p) + 0.02, 0.35, 0.08 + 0.12 * p, 0.6 * p, 0.03, 0.005 + 0.01 * p];
}

/** The catalogue's education document types (the select's option values) for the demo's documents. */
const EDUCATION_DOCUMENT_OPTIONS: Readonly<Record<string, string>> = {
  'аттестат об общем среднем образовании': 'general-secondary-attestat',
  'диплом о высшем образовании': 'post-secondary-diploma',
  'диплом о техническом и профессиональном образовании': 'tvet-diploma',
  'свидетельство об основном среднем образовании': 'basic-secondary-certificate',
};

// ---------------------------------------------------------------- people ---

interface Person {
  name: string;
  /** The male-form surname in Cyrillic, for relatives. */
  surname: string;
  iin: string;
  sex: Sex;
  birth: number;
  kazakh: boolean;
}

function makePersonName(
  rng: Rng,
  sex: Sex,
  latinRate: number,
): { name: string; surname: string; given: string; kazakh: boolean } {
  const female = sex === 'female';
  if (rng.chance(0.66)) {
    const maleSurname = rng.pick(KAZAKH_SURNAMES);
    const surname = female ? feminineSurname(maleSurname) : maleSurname;
    const given = rng.pick(female ? KAZAKH_FEMALE_NAMES : KAZAKH_MALE_NAMES);
    const p = rng.float();
    let patronymic = '';
    if (p < 0.5 && !maleSurname.endsWith('ұлы')) {
      patronymic = kazakhPatronymic(rng.pick(KAZAKH_MALE_NAMES), female);
    } else if (p < 0.9) {
      const pair = rng.pick(KAZAKH_RU_PATRONYMICS);
      patronymic = female ? pair[1] : pair[0];
    }
    const name = patronymic ? `${surname} ${given} ${patronymic}` : `${surname} ${given}`;
    // A few names arrive in Latin transliteration (foreign documents, typed by the applicant).
    if (rng.chance(latinRate)) {
      return { name: transliterate(name), surname: maleSurname, given, kazakh: true };
    }
    return { name, surname: maleSurname, given, kazakh: true };
  }
  const maleSurname = rng.pick(RUSSIAN_SURNAMES);
  const surname = female ? feminineSurname(maleSurname) : maleSurname;
  const given = rng.pick(female ? RUSSIAN_FEMALE_NAMES : RUSSIAN_MALE_NAMES);
  const pair = rng.pick(RUSSIAN_PATRONYMICS);
  return { name: `${surname} ${given} ${female ? pair[1] : pair[0]}`, surname: maleSurname, given, kazakh: false };
}

/** A person aged within [minAge, maxAge] years at time `at`, with an IIN that matches birth date and sex. */
function makePerson(rng: Rng, sex: Sex, minAge: number, maxAge: number, at: number): Person {
  const { name, surname, kazakh } = makePersonName(rng, sex, 0.05);
  const birth = Math.floor(at - (minAge + rng.float() * (maxAge - minAge)) * YEAR);
  const iin = makeIin(localDate(birth), sex, rng.int(0, 9999));
  return { name, surname, iin, sex, birth, kazakh };
}

function phone(rng: Rng): string {
  return `+7 ${rng.pick(PHONE_CODES)} ${rng.int(100, 999)} ${two(rng.int(0, 99))} ${two(rng.int(0, 99))}`;
}

// -------------------------------------------------------------- statements ---

const INSERT_APPLICATION = `INSERT INTO applications (
  id, number, portal_number, provider_id, service_code, channel, applicant_iin, applicant_bin,
  applicant_name, applicant_name_norm, region_kato, locality, status, decision, responsible_user_id,
  current_step, submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text,
  rework_comment, version, server_version, created_at, updated_at
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?, ?)`;

const INSERT_EVENT = `INSERT INTO application_events (
  application_id, seq, at, actor_user_id, action, from_status, to_status, decision, comment, payload, prev_hash, hash
) VALUES (?, 1, ?, ?, 'received', NULL, 'received', NULL, NULL, NULL, '', ?)`;

// ------------------------------------------------------------ base data ---

interface StaffMember {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  position: Position;
  roles: { role: Role; providerId: string }[];
  /** Provider whose staff list holds this user, if any. */
  providerId: string | null;
  active: boolean;
}

interface ProviderRuntime {
  seed: ProviderSeed;
  bin: string;
  clerkId: string;
  /** Active executors, the ones a head assigns. */
  executorIds: string[];
  /** Next sequence number of the provider's application numbers. */
  seq: number;
  localities: readonly string[];
}

function loginFor(given: string, surname: string, taken: Set<string>): string {
  const base = `${transliterate(given).charAt(0)}.${transliterate(surname)}`.toLowerCase().replace(/[^a-z.]/g, '');
  let login = base;
  for (let n = 2; taken.has(login); n++) login = `${base}${n}`;
  taken.add(login);
  return login;
}

function buildStaff(rng: Rng, now: number): { staff: StaffMember[]; runtimes: ProviderRuntime[] } {
  const staff: StaffMember[] = [];
  const taken = new Set<string>(Object.values(DEMO_USERS).map((u) => u.login));
  const usedBins = new Set<string>();

  const person = (fixed?: { id: string; login: string }) => {
    const sex: Sex = rng.chance(0.55) ? 'female' : 'male';
    const { name, given } = makePersonName(rng, sex, 0);
    const surname = name.split(' ')[0] ?? name;
    const birth = Math.floor(now - (24 + rng.float() * 36) * YEAR);
    const iin = makeIin(localDate(birth), sex, rng.int(0, 9999));
    const login = fixed?.login ?? loginFor(given, surname, taken);
    return { fullName: name, iin, login };
  };

  const runtimes: ProviderRuntime[] = [];
  PROVIDERS.forEach((p, index) => {
    const short = p.id.replace(/^prov-/, '');
    const first = index === 0;
    let bin = makeBin(p.registered, 4, 0, rng.int(0, 99999));
    while (usedBins.has(bin)) bin = makeBin(p.registered, 4, 0, rng.int(0, 99999));
    usedBins.add(bin);

    // Head (the first provider's head is head.demo, also its administrator).
    const headPosition = p.level === 'district' ? POSITIONS.headDistrict : POSITIONS.headDepartment;
    if (first) {
      staff.push({
        id: DEMO_USERS.head.id,
        login: DEMO_USERS.head.login,
        fullName: DEMO_HEAD.fullName,
        iin: DEMO_HEAD.iin,
        position: headPosition,
        roles: [
          { role: 'head', providerId: p.id },
          { role: 'admin', providerId: p.id },
        ],
        providerId: p.id,
        active: true,
      });
    } else {
      const h = person();
      staff.push({
        id: `user-${short}-head`,
        login: h.login,
        fullName: h.fullName,
        iin: h.iin,
        position: headPosition,
        roles: [{ role: 'head', providerId: p.id }],
        providerId: p.id,
        active: true,
      });
    }

    const clerkId = first ? DEMO_USERS.clerk.id : `user-${short}-clerk`;
    const c = person(first ? DEMO_USERS.clerk : undefined);
    staff.push({
      id: clerkId,
      login: c.login,
      fullName: c.fullName,
      iin: c.iin,
      position: POSITIONS.clerk,
      roles: [{ role: 'clerk', providerId: p.id }],
      providerId: p.id,
      active: true,
    });

    const executorIds: string[] = [];
    const executors = p.weight >= 8 ? 3 : rng.int(2, 3);
    for (let i = 1; i <= executors; i++) {
      const id = first && i === 1 ? DEMO_USERS.executor.id : `user-${short}-executor-${i}`;
      const e = person(first && i === 1 ? DEMO_USERS.executor : undefined);
      staff.push({
        id,
        login: e.login,
        fullName: e.fullName,
        iin: e.iin,
        position: i === 1 ? POSITIONS.chiefSpecialist : POSITIONS.leadingSpecialist,
        roles: [{ role: 'executor', providerId: p.id }],
        providerId: p.id,
        active: true,
      });
      executorIds.push(id);
    }
    if (first) {
      // A former executor: blocked, inactive in the staff list, never assigned.
      const f = person();
      staff.push({
        id: `user-${short}-executor-former`,
        login: f.login,
        fullName: f.fullName,
        iin: f.iin,
        position: POSITIONS.leadingSpecialist,
        roles: [{ role: 'executor', providerId: p.id }],
        providerId: p.id,
        active: false,
      });
    }

    const region = REGIONS.find((r) => r.kato === p.regionKato);
    runtimes.push({
      seed: p,
      bin,
      clerkId,
      executorIds,
      seq: rng.int(1, 2500),
      // City providers serve their city; regional ones the region's settlements, mostly the centre.
      localities: region && region.localities.includes(p.localityRu) ? region.localities : [p.localityRu],
    });
  });

  // Centre operators, the monitoring officer and the system administrator: not bound to a provider.
  for (let i = 1; i <= 3; i++) {
    const fixed = i === 1 ? DEMO_USERS.operator : undefined;
    const o = person(fixed);
    staff.push({
      id: fixed?.id ?? `user-operator-${i}`,
      login: o.login,
      fullName: o.fullName,
      iin: o.iin,
      position: POSITIONS.operator,
      roles: [{ role: 'operator', providerId: '' }],
      providerId: null,
      active: true,
    });
  }
  const m = person(DEMO_USERS.monitoring);
  staff.push({
    id: DEMO_USERS.monitoring.id,
    login: m.login,
    fullName: m.fullName,
    iin: m.iin,
    position: POSITIONS.monitoring,
    roles: [{ role: 'monitoring', providerId: '' }],
    providerId: null,
    active: true,
  });
  const a = person(DEMO_USERS.admin);
  staff.push({
    id: DEMO_USERS.admin.id,
    login: a.login,
    fullName: a.fullName,
    iin: a.iin,
    position: POSITIONS.admin,
    roles: [{ role: 'admin', providerId: '' }],
    providerId: null,
    active: true,
  });
  return { staff, runtimes };
}

// ------------------------------------------------------------- generator ---

function count(sqlite: BetterSqlite3.Database, table: string): number {
  const row = sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number };
  return row.n;
}

function uuidV7(t: number, rng: Rng): string {
  const ts = t.toString(16).padStart(12, '0');
  const r1 = rng.int(0, 0xfff).toString(16).padStart(3, '0');
  const r2 = (0x8000 | rng.int(0, 0x3fff)).toString(16);
  const r3 = rng.int(0, 0xffffff).toString(16).padStart(6, '0');
  const r4 = rng.int(0, 0xffffff).toString(16).padStart(6, '0');
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r1}-${r2}-${r3}${r4}`;
}

/** The event's canonical JSON: keys sorted, no spaces. */
function canonicalJson(value: Record<string, unknown>): string {
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(value[k] ?? null)}`).join(',')}}`;
}

export function generateDemo(sqlite: BetterSqlite3.Database, options: GenerateDemoOptions): GenerateDemoResult {
  const started = performance.now();
  const total = Math.max(0, Math.floor(options.applications));
  const seed = options.seed ?? 1;
  const now = options.now ?? Date.now();
  const batchSize = Math.max(1, options.batchSize ?? 10_000);
  const withEvents = options.events ?? false;
  const calendar = options.calendar ?? new WorkingCalendar();

  for (const table of ['providers', 'users', 'applications']) {
    const n = count(sqlite, table);
    if (n > 0) {
      throw new Error(`generateDemo needs an empty database, but table ${table} already has ${n} rows`);
    }
  }

  // Per service, once: channels, the step of each status with its limit, refusal reasons.
  // Sorted by code, so the order the catalogue was loaded in does not matter.
  const plans = [...options.services]
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map(planService)
    .filter((p): p is ServicePlan => p !== null);
  if (plans.length === 0) {
    throw new Error(
      `generateDemo needs at least one of the services ${SERVICE_CODES.join(', ')} in options.services, ` +
        `got ${options.services.map((s) => s.code).join(', ') || 'none'}`,
    );
  }

  const rng = new Rng(seed);
  // The form data's own stream: filling the catalogue's fields does not shift the other columns of a seed.
  const formRng = new Rng((seed ^ 0x5f3759df) >>> 0);
  const regionNames = new Map(REGIONS.map((r) => [r.kato, r.nameRu]));

  // ---- base data, one transaction
  const { staff, runtimes } = buildStaff(rng, now);
  const baseTime = now - 400 * DAY;
  let userRoles = 0;
  let providerStaff = 0;
  sqlite.transaction(() => {
    const insRegion = sqlite.prepare(
      'INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?) ON CONFLICT (kato) DO NOTHING',
    );
    for (const r of REGIONS) insRegion.run(r.kato, r.nameKk, r.nameRu, r.nameEn);

    const insProvider = sqlite.prepare(
      `INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const p of runtimes) {
      const s = p.seed;
      insProvider.run(
        s.id,
        p.bin,
        s.nameKk,
        s.nameRu,
        s.nameEn,
        s.regionKato,
        s.localityKk,
        s.localityRu,
        s.localityEn,
        baseTime,
      );
    }

    const insUser = sqlite.prepare(
      `INSERT INTO users (id, login, full_name, iin, email, phone, position_kk, position_ru, password_hash,
         must_change_password, blocked, last_online_login_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, 0, ?, NULL, ?, ?)`,
    );
    const insRole = sqlite.prepare('INSERT INTO user_roles (user_id, role, provider_id) VALUES (?, ?, ?)');
    const insStaff = sqlite.prepare(
      'INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active) VALUES (?, ?, ?, ?, ?)',
    );
    for (const u of staff) {
      insUser.run(
        u.id,
        u.login,
        u.fullName,
        u.iin,
        `${u.login}@example.com`,
        phone(rng),
        u.position.kk,
        u.position.ru,
        u.active ? 0 : 1,
        baseTime,
        baseTime,
      );
      for (const r of u.roles) {
        insRole.run(u.id, r.role, r.providerId);
        userRoles++;
      }
      if (u.providerId !== null) {
        insStaff.run(u.providerId, u.id, u.position.kk, u.position.ru, u.active ? 1 : 0);
        providerStaff++;
      }
    }
  })();

  const operatorIds = staff.filter((u) => u.roles.some((r) => r.role === 'operator')).map((u) => u.id);
  const providersByService = new Map<DemoServiceCode, { runtimes: ProviderRuntime[]; weights: number[] }>();
  for (const { profile } of plans) {
    const matching = runtimes.filter((p) => SERVICES_BY_KIND[p.seed.kind].includes(profile.code));
    if (matching.length === 0) throw new Error(`no demo provider offers ${profile.code}`);
    providersByService.set(profile.code, { runtimes: matching, weights: matching.map((p) => p.seed.weight) });
  }
  const serviceWeights = plans.map((p) => p.profile.weight);

  // ---- submission times: sorted, weekdays and office hours favoured, slowly growing volume
  const start = now - HISTORY_DAYS * DAY;
  const firstLocalMidnight = Math.floor((start + LOCAL_OFFSET) / DAY) * DAY - LOCAL_OFFSET;
  const times = new Float64Array(total);
  for (let i = 0; i < total; i++) {
    for (;;) {
      const day = Math.floor(rng.float() * (HISTORY_DAYS + 1));
      const dayStart = firstLocalMidnight + day * DAY;
      const dow = localDate(dayStart).getUTCDay();
      const weekday = dow !== 0 && dow !== 6;
      const keep = (0.7 + (0.3 * day) / HISTORY_DAYS) * (weekday ? 1 : dow === 6 ? 0.15 : 0.1);
      if (rng.float() >= keep) continue;
      const t =
        weekday && rng.chance(0.85)
          ? dayStart + 9 * HOUR + Math.floor(rng.float() * 9.5 * HOUR)
          : dayStart + Math.floor(rng.float() * DAY);
      if (t < start || t >= now - MINUTE) continue;
      times[i] = t;
      break;
    }
  }
  times.sort();

  // ---- applications
  const insApp = sqlite.prepare(INSERT_APPLICATION);
  const insEvent = withEvents ? sqlite.prepare(INSERT_EVENT) : null;
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<Status, number>;
  const pool: Person[] = [];
  const POOL_SIZE = 4096;
  let portalCounter = 10109000000000 + rng.int(0, 999_999);
  let events = 0;

  const writeOne = (i: number): void => {
    const submitted = times[i] ?? now - MINUTE;
    const plan = plans[rng.weighted(serviceWeights)];
    if (!plan) throw new Error('no service plan');
    const { profile } = plan;
    const candidates = providersByService.get(profile.code);
    if (!candidates || candidates.runtimes.length === 0) throw new Error(`no provider for ${profile.code}`);
    const provider = candidates.runtimes[rng.weighted(candidates.weights)];
    if (!provider) throw new Error('no provider');

    // Channel: centres and offices work weekdays 9:00–18:30; the rest came through the portal.
    const local = localDate(submitted);
    const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
    const officeHours = !isWeekend(submitted) && hour >= 9 && hour < 18.5;
    const channel: Channel = officeHours
      ? (plan.officeChannels[rng.weighted(plan.officeWeights)] ?? plan.afterHours)
      : plan.afterHours;
    const steps = plan.byChannel[channel];
    if (!steps) throw new Error(`no step plan for ${profile.code} by ${channel}`);
    let portalNumber: string | null = null;
    if (channel !== 'office') {
      portalCounter += 1 + rng.int(0, 40);
      portalNumber = String(portalCounter);
    }

    // Applicant: sometimes a returning one.
    const [minAge, maxAge] = profile.age;
    let applicant: Person | undefined;
    if (pool.length > 0 && rng.chance(0.07)) {
      const p = rng.pick(pool);
      const age = (submitted - p.birth) / YEAR;
      if (age >= minAge && age <= maxAge) applicant = p;
    }
    if (!applicant) {
      const femaleRate = profile.code === 'home-schooling-compensation' ? 0.75 : 0.5;
      applicant = makePerson(rng, rng.chance(femaleRate) ? 'female' : 'male', minAge, maxAge, submitted);
      if (pool.length < POOL_SIZE) pool.push(applicant);
      else pool[i % POOL_SIZE] = applicant;
    }

    // Legal entity (grants and infrastructure).
    let applicantBin: string | null = null;
    let organization: string | null = null;
    let legalForm: string | null = null;
    if (profile.legalEntityRate > 0) {
      if (rng.chance(profile.legalEntityRate)) {
        const year = local.getUTCFullYear() - rng.int(0, 12);
        const month = year === local.getUTCFullYear() ? rng.int(1, local.getUTCMonth() + 1) : rng.int(1, 12);
        const farm = profile.code === 'grant-small-business' && rng.chance(0.12);
        const joint = !farm && rng.chance(0.04);
        const type: BinType = joint ? 6 : 4;
        const unit: BinUnit = farm ? 3 : 0;
        applicantBin = makeBin({ year, month }, type, unit, rng.int(0, 99999));
        legalForm = farm ? 'КХ' : joint ? 'ИП (совместное)' : 'ТОО';
        organization = `${legalForm} «${rng.pick(ORG_WORDS_1)}${farm ? '' : ` ${rng.pick(ORG_WORDS_2)}`}»`;
      } else {
        legalForm = 'ИП';
        organization = `ИП «${applicant.name.split(' ')[0] ?? applicant.name}»`;
      }
    }

    const locality =
      provider.localities.length > 1 && rng.chance(0.35) ? rng.pick(provider.localities) : provider.seed.localityRu;
    // The facts the form is filled from (demo/form.ts), drawn from `rng` in the order the demo always drew them.
    const applicantPhone = phone(rng);
    const street = rng.pick(STREETS);
    const house = String(rng.int(1, 180));
    const flat = rng.chance(0.7) ? String(rng.int(1, 240)) : null;
    const email = rng.chance(0.4)
      ? `${transliterate(applicant.name.split(' ')[0] ?? 'user').toLowerCase()}${rng.int(1, 999)}@example.com`
      : null;
    let project: string | null = null;
    let amountKzt: number | null = null;
    let child: FormFacts['child'] = null;
    let school: string | null = null;
    let educationDoc: FormFacts['educationDoc'] = null;
    switch (profile.code) {
      case 'grant-small-business':
        project = rng.pick(GRANT_PROJECTS);
        amountKzt = rng.int(50, 500) * 10_000;
        break;
      case 'industrial-infrastructure':
        project = rng.pick(INFRASTRUCTURE_PROJECTS);
        amountKzt = rng.int(20, 600) * 1_000_000;
        break;
      case 'unemployed-certificate':
        rng.pick(EDUCATION_LEVELS);
        if (rng.chance(0.7)) rng.int(20, 700);
        break;
      case 'home-schooling-compensation': {
        const childSex: Sex = rng.chance(0.5) ? 'female' : 'male';
        const childBirth = Math.floor(submitted - (6 + rng.float() * 11.5) * YEAR);
        const childGiven = applicant.kazakh
          ? rng.pick(childSex === 'female' ? KAZAKH_FEMALE_NAMES : KAZAKH_MALE_NAMES)
          : rng.pick(childSex === 'female' ? RUSSIAN_FEMALE_NAMES : RUSSIAN_MALE_NAMES);
        const childSurname = childSex === 'female' ? feminineSurname(applicant.surname) : applicant.surname;
        const childIin = makeIin(localDate(childBirth), childSex, rng.int(0, 9999));
        child = { iin: childIin, lastName: childSurname, firstName: childGiven, birth: childBirth };
        school = rng.pick(SCHOOLS);
        break;
      }
      case 'education-document-duplicate': {
        const doc = rng.pick(EDUCATION_DOCUMENTS);
        const institution = rng.pick(INSTITUTIONS);
        const birthYear = localDate(applicant.birth).getUTCFullYear();
        const graduationYear = Math.min(local.getUTCFullYear(), birthYear + rng.int(16, 24));
        const reason = rng.chance(0.8) ? 'lost' : 'damaged';
        educationDoc = {
          type: EDUCATION_DOCUMENT_OPTIONS[doc.ru] ?? 'general-secondary-attestat',
          institution,
          graduationYear,
          reason,
        };
        break;
      }
    }

    // Status, decision, responsible, step and deadline.
    const age = now - submitted;
    const durationMs = profile.durationDays * DAY;
    const status = STATUSES[rng.weighted(statusWeights(age / durationMs))] ?? 'completed';
    let decision: Decision = 'none';
    if (status === 'on_signing' || status === 'completed') {
      decision = rng.chance(profile.positiveRate) ? 'positive' : 'negative';
    } else if (status === 'completed_with_error' && rng.chance(0.2)) {
      decision = rng.chance(profile.positiveRate) ? 'positive' : 'negative';
    }

    let statusChanged: number;
    if (status === 'received') {
      statusChanged = submitted + Math.min(5_000 + Math.floor(rng.float() * 10 * MINUTE), Math.floor(age / 2));
    } else if (status === 'completed' || status === 'completed_with_error') {
      statusChanged = submitted + Math.min(Math.floor(durationMs * (0.3 + rng.float() * 0.9)), age - 30_000);
    } else {
      statusChanged =
        submitted +
        Math.min(Math.floor(durationMs * (0.05 + rng.float() * 0.8)), Math.floor(age * (0.2 + rng.float() * 0.75)));
    }
    statusChanged = Math.min(now, Math.max(submitted + 1_000, statusChanged));

    const executor = rng.pick(provider.executorIds);
    let responsible: string | null = executor;
    let current: PlannedStep | null = null;
    let reworkComment: string | null = null;
    switch (status) {
      case 'received':
        if (rng.chance(0.25)) {
          current = steps.accept;
        } else {
          responsible = null;
          current = steps.assign;
        }
        break;
      case 'in_processing':
        if (steps.collegial.length > 0 && rng.chance(0.4)) {
          current = rng.pick(steps.collegial);
        } else if (rng.chance(0.12)) {
          current = steps.rework;
          reworkComment = rng.pick(REWORK_COMMENTS);
        } else {
          current = rng.pick(steps.process);
        }
        break;
      case 'on_signing':
        current = steps.sign;
        break;
      case 'external_processing': // no catalogue step: see ChannelPlan
      case 'completed':
      case 'completed_with_error':
        break;
    }
    const step = current?.code ?? null;
    const due = current ? calendar.dueAt(statusChanged, current.limit) : null;

    let refusalCode: string | null = null;
    let refusalText: string | null = null;
    if (decision === 'negative') {
      const reason = rng.pick(plan.refusalReasons);
      refusalCode = reason.code;
      refusalText = applicant.kazakh && rng.chance(0.5) ? reason.kk : reason.ru;
    }

    const number = `${provider.seq++}-${two(local.getUTCDate())}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCFullYear() % 100)}`;
    const id = uuidV7(submitted, rng);
    const form = fillForm(
      plan.definition,
      {
        status,
        decision,
        submittedAt: submitted,
        decidedAt: statusChanged,
        number,
        applicant,
        phone: applicantPhone,
        email,
        region: regionNames.get(provider.seed.regionKato) ?? provider.seed.localityRu,
        locality,
        street,
        house,
        flat,
        bin: applicantBin,
        organisation: organization,
        legalForm,
        project,
        amountKzt,
        child,
        school,
        educationDoc,
      },
      formRng,
    );
    // Also under the names the central server's look-ups read (server/src/lookups/seed.ts).
    form.address = `${locality}, ${street}, д. ${house}${flat ? `, кв. ${flat}` : ''}`;
    if (organization) form.organization = organization;
    if (child) form.childName = `${child.lastName} ${child.firstName}`;
    insApp.run(
      id,
      number,
      portalNumber,
      provider.seed.id,
      profile.code,
      channel,
      applicant.iin,
      applicantBin,
      applicant.name,
      foldForSearch(applicant.name),
      provider.seed.regionKato,
      locality,
      status,
      decision,
      responsible,
      step,
      submitted,
      statusChanged,
      due,
      JSON.stringify(form),
      refusalCode,
      refusalText,
      reworkComment,
      submitted,
      statusChanged,
    );
    byStatus[status]++;

    if (insEvent) {
      const actor = channel === 'office' ? provider.clerkId : channel === 'centre' ? rng.pick(operatorIds) : null;
      const hash = createHash('sha256')
        .update(
          canonicalJson({
            applicationId: id,
            seq: 1,
            at: submitted,
            actorUserId: actor,
            action: 'received',
            fromStatus: null,
            toStatus: 'received',
            decision: null,
            comment: null,
            payload: null,
            prevHash: '',
          }),
        )
        .digest('hex');
      insEvent.run(id, submitted, actor, hash);
      events++;
    }
  };

  const writeBatch = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) writeOne(i);
  });
  for (let from = 0; from < total; from += batchSize) {
    const to = Math.min(total, from + batchSize);
    writeBatch(from, to);
    options.onProgress?.(to, total);
  }

  return {
    regions: REGIONS.length,
    providers: runtimes.length,
    users: staff.length,
    userRoles,
    providerStaff,
    applications: total,
    events,
    byStatus,
    ms: Math.round(performance.now() - started),
  };
}
