/**
 * The demo's applications, one at a time in submission order: who applied,
 * by which channel, to which provider, what the form says, and where the
 * workflow has got to (status, decision, responsible, the step of the
 * workflow's step plan and its deadline), with the `received` event of the
 * application's hash chain when asked.
 */
import type { WorkingDayCalendar } from '#core/calendar/workdays.js';
import { makeBin, makeIin, type BinType, type BinUnit, type Sex } from '#core/identity/iin.js';
import type { ApplicationData } from '#core/protocol.js';
import { eventHash, GENESIS_HASH, receivedEvent, type StoredEvent } from '#core/workflow/chain.js';
import type { StepPlan } from '#core/workflow/machine.js';
import { STATUSES, type Channel, type Decision, type Status } from '#core/vocabulary.js';
import type { ServiceDefinition, ServiceStep } from '#core/catalogue/schema.js';
import { fillForm, type FormFacts } from './form.js';
import {
  EDUCATION_DOCUMENTS,
  EDUCATION_LEVELS,
  feminineSurname,
  GRANT_PROJECTS,
  INFRASTRUCTURE_PROJECTS,
  INSTITUTIONS,
  KAZAKH_FEMALE_NAMES,
  KAZAKH_MALE_NAMES,
  ORG_WORDS_1,
  ORG_WORDS_2,
  REGIONS,
  REWORK_COMMENTS,
  RUSSIAN_FEMALE_NAMES,
  RUSSIAN_MALE_NAMES,
  SCHOOLS,
  SERVICES_BY_KIND,
  STREETS,
  transliterate,
  type DemoServiceCode,
} from './names.js';
import { makePerson, phone, type Person } from './people.js';
import type { Rng } from './random.js';
import type { ServicePlan, ServiceProfile } from './services.js';
import type { DemoProvider } from './staff.js';
import { DAY, isWeekend, localDate, MINUTE, two, YEAR } from './time.js';

/** An application with its events (the `received` one, or none). */
export interface DemoApplication {
  application: ApplicationData;
  events: StoredEvent[];
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

/** Returning applicants are drawn from the last this many new ones. */
const POOL_SIZE = 4096;

function uuidV7(t: number, rng: Rng): string {
  const ts = t.toString(16).padStart(12, '0');
  const r1 = rng.int(0, 0xfff).toString(16).padStart(3, '0');
  const r2 = (0x8000 | rng.int(0, 0x3fff)).toString(16);
  const r3 = rng.int(0, 0xffffff).toString(16).padStart(6, '0');
  const r4 = rng.int(0, 0xffffff).toString(16).padStart(6, '0');
  return `${ts.slice(0, 8)}-${ts.slice(8, 12)}-7${r1}-${r2}-${r3}${r4}`;
}

/** How the application came in. */
interface Intake {
  plan: ServicePlan;
  provider: DemoProvider;
  channel: Channel;
  steps: StepPlan;
  portalNumber: string | null;
}

/** The legal entity an applicant acts for (grants, infrastructure). */
interface LegalEntity {
  bin: string | null;
  organisation: string | null;
  legalForm: string | null;
}

/** The form's facts drawn before the workflow state: the applicant's contacts and the service's own details. */
type Details = Omit<FormFacts, 'status' | 'decision' | 'submittedAt' | 'decidedAt' | 'number' | 'applicant' | 'region'>;

/** Where the workflow has got to. */
interface WorkflowState {
  status: Status;
  decision: Decision;
  statusChangedAt: number;
  responsibleUserId: string | null;
  step: ServiceStep | null;
  reworkComment: string | null;
}

export interface ApplicationsOptions {
  /** The demo's random stream, shared with the directory made before. */
  rng: Rng;
  /** The form data's own stream: filling the catalogue's fields does not shift the other columns of a seed. */
  formRng: Rng;
  now: number;
  calendar: WorkingDayCalendar;
  plans: readonly ServicePlan[];
  providers: readonly DemoProvider[];
  operatorIds: readonly string[];
  /** Whether each application gets its `received` event. */
  events: boolean;
}

/**
 * Makes the applications one by one; every draw from the random streams
 * happens in a fixed order, so a seed gives the same rows.
 */
export class ApplicationMaker {
  private readonly rng: Rng;
  private readonly serviceWeights: readonly number[];
  private readonly providersByService = new Map<DemoServiceCode, { providers: DemoProvider[]; weights: number[] }>();
  private readonly regionNames = new Map(REGIONS.map((r) => [r.kato, r.nameRu]));
  private readonly pool: Person[] = [];
  private portalCounter: number;

  constructor(private readonly o: ApplicationsOptions) {
    this.rng = o.rng;
    for (const { profile } of o.plans) {
      const matching = o.providers.filter((p) => SERVICES_BY_KIND[p.seed.kind].includes(profile.code));
      if (matching.length === 0) throw new Error(`no demo provider offers ${profile.code}`);
      this.providersByService.set(profile.code, { providers: matching, weights: matching.map((p) => p.seed.weight) });
    }
    this.serviceWeights = o.plans.map((p) => p.profile.weight);
    this.portalCounter = 10109000000000 + this.rng.int(0, 999_999);
  }

  /** The `index`-th application, submitted at `submitted`. */
  make(index: number, submitted: number): DemoApplication {
    const rng = this.rng;
    const intake = this.intake(submitted);
    const { plan, provider } = intake;
    const applicant = this.applicant(plan.profile, submitted, index);
    const entity = this.legalEntity(plan.profile, applicant, submitted);
    const details = this.details(plan.profile, applicant, provider, entity, submitted);
    const state = this.workflowState(plan.profile, intake.steps, provider, submitted);

    const refusal = this.refusal(plan, applicant, state.decision);
    const local = localDate(submitted);
    const number = `${provider.seq++}-${two(local.getUTCDate())}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCFullYear() % 100)}`;
    const id = uuidV7(submitted, rng);
    // Every field named, not spread: fillForm reads these often, and a spread copy reads slower.
    const formData = this.formData(plan.definition, {
      status: state.status,
      decision: state.decision,
      submittedAt: submitted,
      decidedAt: state.statusChangedAt,
      number,
      applicant,
      phone: details.phone,
      email: details.email,
      region: this.regionNames.get(provider.seed.regionKato) ?? provider.seed.localityRu,
      locality: details.locality,
      street: details.street,
      house: details.house,
      flat: details.flat,
      bin: details.bin,
      organisation: details.organisation,
      legalForm: details.legalForm,
      project: details.project,
      amountKzt: details.amountKzt,
      child: details.child,
      school: details.school,
      educationDoc: details.educationDoc,
    });

    const application: ApplicationData = {
      id,
      number,
      portalNumber: intake.portalNumber,
      providerId: provider.seed.id,
      serviceCode: plan.profile.code,
      channel: intake.channel,
      applicantIin: applicant.iin,
      applicantBin: entity.bin,
      applicantName: applicant.name,
      regionKato: provider.seed.regionKato,
      locality: details.locality,
      status: state.status,
      decision: state.decision,
      responsibleUserId: state.responsibleUserId,
      currentStep: state.step?.code ?? null,
      submittedAt: submitted,
      statusChangedAt: state.statusChangedAt,
      dueAt: state.step ? this.o.calendar.dueAt(state.statusChangedAt, state.step.limit) : null,
      formData,
      refusalReasonCode: refusal.code,
      refusalText: refusal.text,
      reworkComment: state.reworkComment,
    };
    return { application, events: this.o.events ? [this.received(application, provider)] : [] };
  }

  /** The refusal reason of a negative decision, in the applicant's language now and then. */
  private refusal(
    plan: ServicePlan,
    applicant: Person,
    decision: Decision,
  ): { code: string | null; text: string | null } {
    if (decision !== 'negative') return { code: null, text: null };
    const reason = this.rng.pick(plan.refusalReasons);
    return { code: reason.code, text: applicant.kazakh && this.rng.chance(0.5) ? reason.kk : reason.ru };
  }

  /** The form, field by field of the service's definition (form.ts), from its own random stream. */
  private formData(definition: ServiceDefinition, facts: FormFacts): Record<string, unknown> {
    const form = fillForm(definition, facts, this.o.formRng);
    // Also under the names the central server's look-ups read (server/src/lookups/seed.ts).
    const { locality, street, house, flat, organisation, child } = facts;
    form.address = `${locality}, ${street}, д. ${house}${flat ? `, кв. ${flat}` : ''}`;
    if (organisation) form.organization = organisation;
    if (child) form.childName = `${child.lastName} ${child.firstName}`;
    return form;
  }

  /** Service, provider and channel: centres and offices work weekdays 9:00–18:30; the rest came through the portal. */
  private intake(submitted: number): Intake {
    const rng = this.rng;
    const plan = this.o.plans[rng.weighted(this.serviceWeights)];
    if (!plan) throw new Error('no service plan');
    const candidates = this.providersByService.get(plan.profile.code);
    if (!candidates || candidates.providers.length === 0) throw new Error(`no provider for ${plan.profile.code}`);
    const provider = candidates.providers[rng.weighted(candidates.weights)];
    if (!provider) throw new Error('no provider');

    const local = localDate(submitted);
    const hour = local.getUTCHours() + local.getUTCMinutes() / 60;
    const officeHours = !isWeekend(submitted) && hour >= 9 && hour < 18.5;
    const channel: Channel = officeHours
      ? (plan.officeChannels[rng.weighted(plan.officeWeights)] ?? plan.afterHours)
      : plan.afterHours;
    const steps = plan.byChannel[channel];
    if (!steps) throw new Error(`no step plan for ${plan.profile.code} by ${channel}`);
    let portalNumber: string | null = null;
    if (channel !== 'office') {
      this.portalCounter += 1 + rng.int(0, 40);
      portalNumber = String(this.portalCounter);
    }
    return { plan, provider, channel, steps, portalNumber };
  }

  /** The applicant: sometimes a returning one of the right age, else a new one kept for later. */
  private applicant(profile: ServiceProfile, submitted: number, index: number): Person {
    const rng = this.rng;
    const [minAge, maxAge] = profile.age;
    if (this.pool.length > 0 && rng.chance(0.07)) {
      const p = rng.pick(this.pool);
      const age = (submitted - p.birth) / YEAR;
      if (age >= minAge && age <= maxAge) return p;
    }
    const femaleRate = profile.code === 'home-schooling-compensation' ? 0.75 : 0.5;
    const applicant = makePerson(rng, rng.chance(femaleRate) ? 'female' : 'male', minAge, maxAge, submitted);
    if (this.pool.length < POOL_SIZE) this.pool.push(applicant);
    else this.pool[index % POOL_SIZE] = applicant;
    return applicant;
  }

  /** A registered legal entity (its BIN), or the applicant's sole proprietorship; none for services of individuals. */
  private legalEntity(profile: ServiceProfile, applicant: Person, submitted: number): LegalEntity {
    const rng = this.rng;
    if (profile.legalEntityRate <= 0) return { bin: null, organisation: null, legalForm: null };
    if (!rng.chance(profile.legalEntityRate)) {
      return { bin: null, organisation: `ИП «${applicant.name.split(' ')[0] ?? applicant.name}»`, legalForm: 'ИП' };
    }
    const local = localDate(submitted);
    const year = local.getUTCFullYear() - rng.int(0, 12);
    const month = year === local.getUTCFullYear() ? rng.int(1, local.getUTCMonth() + 1) : rng.int(1, 12);
    const farm = profile.code === 'grant-small-business' && rng.chance(0.12);
    const joint = !farm && rng.chance(0.04);
    const type: BinType = joint ? 6 : 4;
    const unit: BinUnit = farm ? 3 : 0;
    const bin = makeBin({ year, month }, type, unit, rng.int(0, 99999));
    const legalForm = farm ? 'КХ' : joint ? 'ИП (совместное)' : 'ТОО';
    const organisation = `${legalForm} «${rng.pick(ORG_WORDS_1)}${farm ? '' : ` ${rng.pick(ORG_WORDS_2)}`}»`;
    return { bin, organisation, legalForm };
  }

  /** The form's facts about the applicant's address and contacts and the service's own details. */
  private details(
    profile: ServiceProfile,
    applicant: Person,
    provider: DemoProvider,
    entity: LegalEntity,
    submitted: number,
  ): Details {
    const rng = this.rng;
    const locality =
      provider.localities.length > 1 && rng.chance(0.35) ? rng.pick(provider.localities) : provider.seed.localityRu;
    const details: Details = {
      locality,
      phone: phone(rng),
      street: rng.pick(STREETS),
      house: String(rng.int(1, 180)),
      flat: rng.chance(0.7) ? String(rng.int(1, 240)) : null,
      email: rng.chance(0.4)
        ? `${transliterate(applicant.name.split(' ')[0] ?? 'user').toLowerCase()}${rng.int(1, 999)}@example.com`
        : null,
      bin: entity.bin,
      organisation: entity.organisation,
      legalForm: entity.legalForm,
      project: null,
      amountKzt: null,
      child: null,
      school: null,
      educationDoc: null,
    };
    switch (profile.code) {
      case 'grant-small-business':
        details.project = rng.pick(GRANT_PROJECTS);
        details.amountKzt = rng.int(50, 500) * 10_000;
        break;
      case 'industrial-infrastructure':
        details.project = rng.pick(INFRASTRUCTURE_PROJECTS);
        details.amountKzt = rng.int(20, 600) * 1_000_000;
        break;
      case 'unemployed-certificate':
        // Two draws that no longer feed a field, kept so a seed keeps its rows.
        rng.pick(EDUCATION_LEVELS);
        if (rng.chance(0.7)) rng.int(20, 700);
        break;
      case 'home-schooling-compensation': {
        const childSex: Sex = rng.chance(0.5) ? 'female' : 'male';
        const childBirth = Math.floor(submitted - (6 + rng.float() * 11.5) * YEAR);
        const firstName = applicant.kazakh
          ? rng.pick(childSex === 'female' ? KAZAKH_FEMALE_NAMES : KAZAKH_MALE_NAMES)
          : rng.pick(childSex === 'female' ? RUSSIAN_FEMALE_NAMES : RUSSIAN_MALE_NAMES);
        const lastName = childSex === 'female' ? feminineSurname(applicant.surname) : applicant.surname;
        const iin = makeIin(localDate(childBirth), childSex, rng.int(0, 9999));
        details.child = { iin, lastName, firstName, birth: childBirth };
        details.school = rng.pick(SCHOOLS);
        break;
      }
      case 'education-document-duplicate': {
        const doc = rng.pick(EDUCATION_DOCUMENTS);
        const institution = rng.pick(INSTITUTIONS);
        const birthYear = localDate(applicant.birth).getUTCFullYear();
        const graduationYear = Math.min(localDate(submitted).getUTCFullYear(), birthYear + rng.int(16, 24));
        const reason = rng.chance(0.8) ? 'lost' : 'damaged';
        details.educationDoc = {
          type: EDUCATION_DOCUMENT_OPTIONS[doc.ru] ?? 'general-secondary-attestat',
          institution,
          graduationYear,
          reason,
        };
        break;
      }
    }
    return details;
  }

  /**
   * Status and decision by the application's age, when the status last
   * changed, who is responsible, and the step of the step plan it stands at.
   * `external_processing` has no step: no catalogue step stands for waiting
   * on another information system, so it keeps a null step and no deadline.
   */
  private workflowState(
    profile: ServiceProfile,
    steps: StepPlan,
    provider: DemoProvider,
    submitted: number,
  ): WorkflowState {
    const rng = this.rng;
    const age = this.o.now - submitted;
    const durationMs = profile.durationDays * DAY;
    const status = STATUSES[rng.weighted(statusWeights(age / durationMs))] ?? 'completed';
    let decision: Decision = 'none';
    if (status === 'on_signing' || status === 'completed') {
      decision = rng.chance(profile.positiveRate) ? 'positive' : 'negative';
    } else if (status === 'completed_with_error' && rng.chance(0.2)) {
      decision = rng.chance(profile.positiveRate) ? 'positive' : 'negative';
    }

    let changed: number;
    if (status === 'received') {
      changed = submitted + Math.min(5_000 + Math.floor(rng.float() * 10 * MINUTE), Math.floor(age / 2));
    } else if (status === 'completed' || status === 'completed_with_error') {
      changed = submitted + Math.min(Math.floor(durationMs * (0.3 + rng.float() * 0.9)), age - 30_000);
    } else {
      changed =
        submitted +
        Math.min(Math.floor(durationMs * (0.05 + rng.float() * 0.8)), Math.floor(age * (0.2 + rng.float() * 0.75)));
    }
    const statusChangedAt = Math.min(this.o.now, Math.max(submitted + 1_000, changed));

    let responsibleUserId: string | null = rng.pick(provider.executorIds);
    let step: ServiceStep | null = null;
    let reworkComment: string | null = null;
    switch (status) {
      case 'received':
        // Mostly waiting for the head to assign it; some assigned, waiting for the executor to accept.
        if (rng.chance(0.25)) {
          step = steps.accept;
        } else {
          responsibleUserId = null;
          step = steps.assign;
        }
        break;
      case 'in_processing':
        if (steps.collegial && rng.chance(0.4)) {
          // One draw kept from when the demo picked among collegial steps, so a seed keeps its rows.
          rng.float();
          step = steps.collegial;
        } else if (rng.chance(0.12)) {
          step = steps.rework;
          reworkComment = rng.pick(REWORK_COMMENTS);
        } else {
          step = rng.pick(steps.process);
        }
        break;
      case 'on_signing':
        step = steps.sign;
        break;
      case 'external_processing':
      case 'completed':
      case 'completed_with_error':
        break;
    }
    return { status, decision, statusChangedAt, responsibleUserId, step, reworkComment };
  }

  /** The first event of the application's chain: received by the office's clerk, a centre operator or the portal. */
  private received(application: ApplicationData, provider: DemoProvider): StoredEvent {
    const { channel } = application;
    const actor =
      channel === 'office' ? provider.clerkId : channel === 'centre' ? this.rng.pick(this.o.operatorIds) : null;
    const event: StoredEvent = {
      ...receivedEvent(application.id, application.submittedAt, actor),
      seq: 1,
      prevHash: GENESIS_HASH,
      hash: '',
    };
    event.hash = eventHash(event);
    return event;
  }
}
