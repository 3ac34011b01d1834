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
 * `external_processing` and `completed_with_error` are set by other systems
 * (integration, sync); no action of this workstation leaves them.
 */
import type { ServiceDefinition, ServiceStep } from '../catalogue/schema.js';
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

/** Whether the role and the status allow an action (the preconditions on data are checked when it is taken). */
export function allows(action: WorkflowAction, ctx: ActionContext): boolean {
  const t = TRANSITIONS[action];
  if (!ctx.roles.has(t.role)) return false;
  if (t.responsibleOnly && ctx.responsibleUserId !== ctx.userId) return false;
  return t.from.includes(ctx.status);
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
