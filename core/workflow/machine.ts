/**
 * The provider's workflow as data (docs/domain.md#statuses): the statuses, the actions,
 * which role may take each action in which status, where it leads, and the
 * service steps (with their time limits) an application passes through.
 *
 *   received --assign (head)--> received, responsible set
 *   received --accept (responsible executor)--> in_processing
 *   in_processing: save, decide (positive | negative + refusal reason and text),
 *                  refer (to the commission / council), commission (its protocol)
 *   in_processing --send (responsible executor, decision made)--> on_signing
 *   on_signing --return (head, comment)--> in_processing
 *   on_signing --sign (head, with a signature)--> completed
 *
 * Who signs is the service's: where its steps end with the executor issuing
 * the result (seed 001's industrial infrastructure: no head signing step),
 * the responsible executor signs and returns instead of the head (`actorFor`).
 * A decision must agree with the findings recorded in the form (`decisionConflict`).
 *
 * `external_processing` and `completed_with_error` are set by other systems
 * (integration, sync); no action of this workstation leaves them.
 */
import type { FormField, ServiceDefinition, ServiceStep } from '../catalogue/schema.js';
import type { CardAction, Channel, Decision, Role, Status, WorkflowAction } from '../vocabulary.js';

/** The application columns a workflow transition may change besides its status (the workstation's and the server's alike). */
export type TransitionColumn =
  | 'decision'
  | 'responsibleUserId'
  | 'currentStep'
  | 'dueAt'
  | 'formData'
  | 'refusalReasonCode'
  | 'refusalText'
  | 'reworkComment';

/** Actions whose event records the decision (the workstation and the server write it the same way). */
export const DECISION_ACTIONS: ReadonlySet<WorkflowAction> = new Set(['decide', 'send', 'return', 'sign']);

export interface Transition {
  /** The role the actor must hold for the application's provider. */
  role: Extract<Role, 'head' | 'executor'>;
  /** Only the application's responsible executor may take it. */
  responsibleOnly: boolean;
  /** Statuses the action may start from. */
  from: readonly Status[];
  /** The status after it; null: unchanged. */
  to: Status | null;
  /** The system message shown after it (docs/domain.md#system-messages). */
  messageKey: string;
}

export const TRANSITIONS: Readonly<Record<WorkflowAction, Transition>> = {
  assign: {
    role: 'head',
    responsibleOnly: false,
    from: ['received', 'in_processing'],
    to: null,
    messageKey: 'messages.responsibleAssigned',
  },
  accept: {
    role: 'executor',
    responsibleOnly: true,
    from: ['received'],
    to: 'in_processing',
    messageKey: 'messages.applicationAccepted',
  },
  save: {
    role: 'executor',
    responsibleOnly: true,
    from: ['in_processing'],
    to: null,
    messageKey: 'messages.dataSaved',
  },
  decide: {
    role: 'executor',
    responsibleOnly: true,
    from: ['in_processing'],
    to: null,
    messageKey: 'messages.dataSaved',
  },
  refer: {
    role: 'executor',
    responsibleOnly: true,
    from: ['in_processing'],
    to: null,
    messageKey: 'messages.referredToCommission',
  },
  commission: {
    role: 'executor',
    responsibleOnly: true,
    from: ['in_processing'],
    to: null,
    messageKey: 'messages.protocolSaved',
  },
  send: {
    role: 'executor',
    responsibleOnly: true,
    from: ['in_processing'],
    to: 'on_signing',
    messageKey: 'messages.applicationSent',
  },
  return: {
    role: 'head',
    responsibleOnly: false,
    from: ['on_signing'],
    to: 'in_processing',
    messageKey: 'messages.applicationReturnedForRework',
  },
  sign: {
    role: 'head',
    responsibleOnly: false,
    from: ['on_signing'],
    to: 'completed',
    messageKey: 'messages.applicationSigned',
  },
};

/**
 * The steps of a service for applications that came by one channel, and
 * which of them each workflow position stands for. The demo places its
 * applications by it too, so their `current_step` is found here.
 */
export interface StepPlan {
  /** The steps that apply to this channel, in order. */
  steps: readonly ServiceStep[];
  /** `received`, no responsible yet: the head reviews and assigns. */
  assign: ServiceStep;
  /** The executor's first step: after assignment and acceptance. */
  accept: ServiceStep;
  /** All executor steps. */
  process: readonly ServiceStep[];
  /** The collegial step (commission, council), if the service has one for this channel. */
  collegial: ServiceStep | null;
  /** The executor step after the collegial one, where the result is prepared; null without a collegial step. */
  afterCollegial: ServiceStep | null;
  /** Back to the executor after the head returned it. */
  rework: ServiceStep;
  /** `on_signing`: the head signs. */
  sign: ServiceStep;
}

export function planSteps(def: ServiceDefinition, channel: Channel): StepPlan | null {
  const steps = def.steps.filter((s) => !s.channels || s.channels.includes(channel));
  const first = steps[0];
  if (!first) return null;
  const firstExecutor = steps.findIndex((s) => s.role === 'executor');
  const lastExecutor = steps.findLastIndex((s) => s.role === 'executor');
  const heads = steps.map((s, i) => ({ s, i })).filter(({ s }) => s.role === 'head');

  const assign =
    (firstExecutor >= 0 ? heads.filter(({ i }) => i < firstExecutor).at(-1)?.s : undefined) ?? heads[0]?.s ?? first;
  const executors = steps.filter((s) => s.role === 'executor');
  const process = executors.length > 0 ? executors : [assign];
  const lastExecutorStep = steps[lastExecutor];
  const sign =
    steps.find((s) => s.code === 'head-sign') ??
    heads.find(({ i }) => i > lastExecutor)?.s ??
    lastExecutorStep ??
    assign;
  const signIndex = steps.indexOf(sign);
  const rework = steps.filter((s, i) => s.role === 'executor' && i <= signIndex).at(-1) ?? lastExecutorStep ?? assign;

  const collegialIndex = steps.findIndex((s) => s.collegial === true || s.role === 'commission');
  const collegial = collegialIndex >= 0 ? (steps[collegialIndex] ?? null) : null;
  const afterCollegial =
    collegialIndex >= 0 ? (steps.find((s, i) => i > collegialIndex && s.role === 'executor') ?? null) : null;

  return { steps, assign, accept: process[0] ?? assign, process, collegial, afterCollegial, rework, sign };
}

/** Index of a step code in the plan; -1 when unknown or null. */
export function stepIndex(plan: StepPlan, code: string | null): number {
  return code === null ? -1 : plan.steps.findIndex((s) => s.code === code);
}

/** Whether the application has not yet passed the collegial step (referral still possible). */
export function beforeCollegial(plan: StepPlan, currentStep: string | null): boolean {
  if (!plan.collegial) return false;
  const at = stepIndex(plan, currentStep);
  return at < 0 || at < stepIndex(plan, plan.collegial.code);
}

/** What decides which buttons a user sees on an application. */
export interface ActionContext {
  status: Status;
  decision: Decision;
  responsibleUserId: string | null;
  currentStep: string | null;
  userId: string;
  /** The user's roles for the application's provider. */
  roles: ReadonlySet<Role>;
  plan: StepPlan | null;
}

/** Who may take an action: the role, and whether only the responsible executor. */
export interface ActionActor {
  role: Transition['role'];
  responsibleOnly: boolean;
}

/**
 * Who may take an action on an application of this plan: the transition's
 * role, except that signing and returning from signing belong to whoever the
 * plan's signing step names — the responsible executor when the service's
 * executor issues the result itself.
 */
export function actorFor(action: WorkflowAction, plan: StepPlan | null): ActionActor {
  const t = TRANSITIONS[action];
  if ((action === 'sign' || action === 'return') && plan?.sign.role === 'executor') {
    return { role: 'executor', responsibleOnly: true };
  }
  return { role: t.role, responsibleOnly: t.responsibleOnly };
}

/** Whether the role and the status allow an action (the preconditions on data are checked when it is taken). */
export function allows(action: WorkflowAction, ctx: ActionContext): boolean {
  const t = TRANSITIONS[action];
  const who = actorFor(action, ctx.plan);
  if (!ctx.roles.has(who.role)) return false;
  if (who.responsibleOnly && ctx.responsibleUserId !== ctx.userId) return false;
  return t.from.includes(ctx.status);
}

/** A recorded finding a decision contradicts. */
export interface DecisionConflict {
  /** `documentsMismatch`: the executor's check; `collegialRefused` / `collegialApproved`: the commission's or council's protocol. */
  code: 'documentsMismatch' | 'collegialRefused' | 'collegialApproved';
  messageKey: string;
  /** The field and the chosen value that rule the decision out. */
  field: string;
  value: string;
}

const CONFLICT_KEYS: Record<DecisionConflict['code'], string> = {
  documentsMismatch: 'errors.workflow.positiveAfterMismatch',
  collegialRefused: 'errors.workflow.positiveAfterCollegialRefusal',
  collegialApproved: 'errors.workflow.negativeAfterCollegialApproval',
};

/**
 * Whether a decision contradicts what the form records (seed 001): a
 * positive result is refused once the documents check found a mismatch, the
 * commission refused or the council found financing impossible (a select
 * value marked `outcome: negative` in the catalogue); a negative one once the
 * collegial body approved (`outcome: positive`; the result is prepared on the
 * basis of its protocol) — unless a negative finding is recorded as well.
 * The workstation and the server both ask this, each over its own row.
 */
export function decisionConflict(
  def: ServiceDefinition,
  plan: StepPlan | null,
  formData: Readonly<Record<string, unknown>>,
  decision: Decision,
): DecisionConflict | null {
  if (decision === 'none') return null;
  const protocol = (plan?.steps ?? def.steps).flatMap((s) => s.protocol?.fields ?? []);
  const collegial = new Set(protocol.map((f) => f.code));
  const fields: FormField[] = [
    ...def.sections.filter((s) => s.stage !== 'intake').flatMap((s) => s.fields),
    ...protocol,
  ];
  const findings: { field: string; value: string; outcome: 'positive' | 'negative' }[] = [];
  for (const f of fields) {
    const value = formData[f.code];
    if (typeof value !== 'string') continue;
    const outcome = f.options?.find((o) => o.value === value)?.outcome;
    if (outcome) findings.push({ field: f.code, value, outcome });
  }
  const negative = findings.find((x) => x.outcome === 'negative');
  const conflict = (code: DecisionConflict['code'], x: { field: string; value: string }): DecisionConflict => ({
    code,
    messageKey: CONFLICT_KEYS[code],
    field: x.field,
    value: x.value,
  });
  if (decision === 'positive' && negative) {
    return conflict(collegial.has(negative.field) ? 'collegialRefused' : 'documentsMismatch', negative);
  }
  const positive = findings.find((x) => x.outcome === 'positive');
  if (decision === 'negative' && positive && !negative) return conflict('collegialApproved', positive);
  return null;
}

/** The card's buttons for this user now. */
export function availableActions(ctx: ActionContext): CardAction[] {
  const out: CardAction[] = [];
  if (allows('assign', ctx)) out.push('assign');
  if (allows('accept', ctx)) out.push('accept');
  if (allows('save', ctx)) out.push('save');
  if (allows('decide', ctx)) out.push('decidePositive', 'decideNegative');
  if (allows('refer', ctx) && ctx.plan && beforeCollegial(ctx.plan, ctx.currentStep)) out.push('refer');
  if (allows('commission', ctx) && ctx.plan?.collegial) out.push('commission');
  if (allows('send', ctx) && ctx.decision !== 'none') out.push('send');
  if (allows('return', ctx)) out.push('return');
  if (allows('sign', ctx)) out.push('sign');
  return out;
}
