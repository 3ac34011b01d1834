/**
 * The words of the domain, each list declared once: roles, application
 * statuses and decisions, intake channels, the buttons of the application
 * card, the kinds of change a workstation queues, the reasons the server
 * rejects one, sync partitions and signature formats.
 *
 * The workstation's database, the contract, the sync protocol, the central
 * server and the renderer all take their lists from here, so adding a word is
 * one edit the compiler follows everywhere. Plain constants only: this file
 * imports nothing, and the renderer may load it.
 */

/** The roles a user may hold (each for a provider, or for none: centre staff, system-wide ones). */
export const ROLES = ['operator', 'clerk', 'executor', 'head', 'monitoring', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who performs a step of a service: a role, or the collegial body (competition commission, coordination council). */
export const STEP_ROLES = [...ROLES, 'commission'] as const;
export type StepRole = (typeof STEP_ROLES)[number];

/**
 * Application statuses. `external_processing` and `completed_with_error` are
 * set by other systems (integration, sync); no action of a workstation leaves them.
 */
export const STATUSES = [
  'received',
  'in_processing',
  'on_signing',
  'completed',
  'external_processing',
  'completed_with_error',
] as const;
export type Status = (typeof STATUSES)[number];

/** Statuses in which an application is still being worked (it has a current step and a deadline). */
export const OPEN_STATUSES: readonly Status[] = ['received', 'in_processing', 'on_signing'];
/** Finished statuses: never overdue. */
export const FINISHED_STATUSES: readonly Status[] = ['completed', 'completed_with_error'];

/** The decision on an application: none until the executor decides. */
export const DECISIONS = ['none', 'positive', 'negative'] as const;
export type Decision = (typeof DECISIONS)[number];

/** How an application came in: at the provider's office, through a service centre, through the portal. */
export const CHANNELS = ['office', 'centre', 'portal'] as const;
export type Channel = (typeof CHANNELS)[number];

/** The actions of the provider's workflow, as its events name them. */
export const WORKFLOW_ACTIONS = [
  'assign',
  'accept',
  'save',
  'decide',
  'refer',
  'commission',
  'send',
  'return',
  'sign',
] as const;
export type WorkflowAction = (typeof WORKFLOW_ACTIONS)[number];

/** The buttons of the application card; the workflow's `decide` is two buttons, one per decision. */
export const CARD_ACTIONS = [
  'assign',
  'accept',
  'save',
  'decidePositive',
  'decideNegative',
  'refer',
  'commission',
  'send',
  'return',
  'sign',
] as const;
export type CardAction = (typeof CARD_ACTIONS)[number];

/**
 * The kinds of change a workstation queues and the server applies:
 * - application.create: a new application taken in (operator, clerk);
 * - application.transition: a workflow action, checked by the server against
 *   its own state, the actor's roles and the responsible executor;
 * - signature.add: a signature made on the workstation, for an application;
 * - user.profile, user.passwordChange: the user's own;
 * - user.setRoles, user.passwordReset, user.block, user.unblock: an administrator's;
 * - change.discard: a person discarded a change the server rejected (an audit record).
 */
export const CHANGE_OPS = [
  'application.create',
  'application.transition',
  'signature.add',
  'user.profile',
  'user.passwordChange',
  'user.setRoles',
  'user.passwordReset',
  'user.block',
  'user.unblock',
  'change.discard',
] as const;
export type ChangeOp = (typeof CHANGE_OPS)[number];

/** Why the server rejects a change for a business reason (the queue goes on; a person decides). */
export const REJECTION_REASONS = [
  'reassigned',
  'notAllowed',
  'notFound',
  'forbidden',
  'invalid',
  'stale',
  'unknownOp',
  'userBlocked',
  'schemaUnsupported',
  // The change carries no valid proof of its author (core/auth/change-key.ts).
  'unauthenticated',
  // A user-management change whose administrator was not online at the device when it arrived.
  'adminOffline',
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** The partition every device pulls: users and roles, providers and staff, regions, services, calendars, CRLs. */
export const GLOBAL_PARTITION = 'global';
/** The prefix of a provider's partition. */
export const PROVIDER_PARTITION_PREFIX = 'provider:';
/** A provider's partition: its applications (and their events, signatures, attachments). */
export const providerPartition = (providerId: string): string => `${PROVIDER_PARTITION_PREFIX}${providerId}`;
/** The provider a partition belongs to, or null for the global one (or any other). */
export function partitionProvider(partition: string): string | null {
  return partition.startsWith(PROVIDER_PARTITION_PREFIX) ? partition.slice(PROVIDER_PARTITION_PREFIX.length) : null;
}

/** The forms of an electronic signature: XMLDSig (enveloped, over the application's XML) and detached CMS. */
export const SIGNATURE_FORMATS = ['xmldsig', 'cms'] as const;
export type SignatureFormat = (typeof SIGNATURE_FORMATS)[number];
