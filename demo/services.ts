/**
 * The services the demo files applications for. Channels, steps, limits and
 * refusal reasons come from the service catalogue, the step of each status
 * from the workflow's step plan (core/workflow/machine.ts `planSteps`), so the
 * workflow finds every demo `current_step` and `refusal_reason_code`. What
 * the catalogue does not say (how popular a service is, how long it usually
 * takes, who applies) is demo knowledge kept here.
 */
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { planSteps, type StepPlan } from '#core/workflow/machine.js';
import type { Channel } from '#core/vocabulary.js';
import { SERVICE_CODES, type DemoServiceCode } from './names.js';

/** What the demo knows about a service beyond its catalogue definition. */
export interface ServiceProfile {
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

/** Everything the generator needs per service, computed once so the row loop only indexes. */
export interface ServicePlan {
  profile: ServiceProfile;
  /** The catalogue's definition: the form's sections and fields. */
  definition: ServiceDefinition;
  /** Channels offered in office hours (accepted by the catalogue, with a step plan) and their weights. */
  officeChannels: readonly Channel[];
  officeWeights: readonly number[];
  /** The channel of applications filed outside office hours: the portal, when the service takes it. */
  afterHours: Channel;
  /** The workflow's step plan of each channel the service takes. */
  byChannel: Readonly<Partial<Record<Channel, StepPlan>>>;
  refusalReasons: readonly { code: string; kk: string; ru: string }[];
}

/** The plan of one service, or null when the demo cannot file applications for it. */
function planService(def: ServiceDefinition): ServicePlan | null {
  if (!isDemoServiceCode(def.code)) return null;
  const profile = SERVICE_PROFILES[def.code];
  const byChannel: Partial<Record<Channel, StepPlan>> = {};
  const channels: Channel[] = [];
  for (const channel of def.channels) {
    const plan = planSteps(def, channel);
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
 * The plans of the catalogue's services the demo knows, sorted by code (the
 * order the catalogue was loaded in does not matter); throws when none is left.
 */
export function planServices(services: readonly ServiceDefinition[]): ServicePlan[] {
  const plans = [...services]
    .sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0))
    .map(planService)
    .filter((p): p is ServicePlan => p !== null);
  if (plans.length === 0) {
    throw new Error(
      `generateDemo needs at least one of the services ${SERVICE_CODES.join(', ')} in options.services, ` +
        `got ${services.map((s) => s.code).join(', ') || 'none'}`,
    );
  }
  return plans;
}
