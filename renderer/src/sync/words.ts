/**
 * Sync in the user's words: rejection reasons, the kinds of change, the
 * engine's phases and errors, partitions, ages ("3 h") and the clock offset.
 * Codes come from the server or the engine; a code this build has no words
 * for is shown in a generic sentence with the code, never dropped.
 */
import type { I18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';
import { CHANGE_OPS, GLOBAL_PARTITION, partitionProvider, REJECTION_REASONS } from '#core/vocabulary.js';

// Reasons the server gives for a business rejection, the kinds of change the workstation queues, the partitions.
export { CHANGE_OPS, GLOBAL_PARTITION, partitionProvider, REJECTION_REASONS };

/** What the engine may be doing (preload/contract/sync.ts syncActivity.phase). */
export const PHASES = ['idle', 'pushing', 'pulling', 'snapshot', 'waiting'] as const;
export type Phase = (typeof PHASES)[number];

/** Entities a change may concern, named in the list of rejected changes. */
export const ENTITIES = ['application', 'signature', 'user', 'attachment'] as const;

/** A clock further off the server's than this is shown as a warning (docs/architecture.md#sync). */
export const CLOCK_OFF_MS = 5 * 60_000;

/** The words of `sync.<group>.<code>`, or the generic sentence `fallback` with the code in it. */
function coded(i18n: I18n, group: string, code: string, fallback: 'sync.reasonOther' | 'sync.opOther'): string {
  const key = `sync.${group}.${code}`;
  return isMessageKey(key) ? i18n.t(key) : i18n.t(fallback, { code });
}

/** Why the server rejected a change. */
export function reasonText(i18n: I18n, reason: string): string {
  return coded(i18n, 'reason', reason, 'sync.reasonOther');
}

/** What the change was ("Workflow action on an application"). */
export function opText(i18n: I18n, op: string): string {
  return coded(i18n, 'op', op, 'sync.opOther');
}

/**
 * The engine's last error, "<kind>: <detail>" (main/sync/engine.ts) or a bare
 * code ("server_unreachable"), split into its code and the detail after it.
 */
export function splitSyncError(raw: string): { code: string; detail: string | null } {
  const m = /^([a-z][a-z_-]*):\s*([\s\S]*)$/.exec(raw);
  return m ? { code: m[1] ?? raw, detail: m[2]?.trim() || null } : { code: raw, detail: null };
}

/** The engine's last error in the user's words (by its code), or the whole of it in a generic sentence. */
export function syncErrorText(i18n: I18n, raw: string): string {
  const key = `sync.error.${splitSyncError(raw).code}`;
  return isMessageKey(key) ? i18n.t(key) : i18n.t('sync.errorCode', { code: raw });
}

export function phaseText(i18n: I18n, phase: Phase): string {
  return i18n.t(`sync.phase.${phase}`);
}

/** Pushing, pulling or taking the first snapshot: the engine is at work ("waiting" is a backoff, not work). */
export function isRunning(phase: Phase): boolean {
  return phase === 'pushing' || phase === 'pulling' || phase === 'snapshot';
}

/** "Reference data" for the global partition, "Applications of <office>" for an office's; else the name as is. */
export function partitionText(i18n: I18n, partition: string, officeName: (id: string) => string): string {
  if (partition === GLOBAL_PARTITION) return i18n.t('sync.partition.global');
  const provider = partitionProvider(partition);
  return provider === null ? partition : i18n.t('sync.partition.provider', { provider: officeName(provider) });
}

/** The entity a change concerns, with its id ("Signature 3f2a…"); an application by its number when known. */
export function subjectText(
  i18n: I18n,
  change: { entity: string; entityId: string; applicationNumber: string | null },
): string {
  if (change.applicationNumber) return i18n.t('sync.rejected.application', { number: change.applicationNumber });
  const key = `sync.entity.${change.entity}`;
  const entity = isMessageKey(key) ? i18n.t(key) : change.entity;
  return `${entity} ${change.entityId}`;
}

export type DurationUnit = 'seconds' | 'minutes' | 'hours' | 'days';

/** A duration in its largest whole unit, rounded down: 59 s, 3 min, 2 h, 4 d. */
export function durationParts(ms: number): { unit: DurationUnit; count: number } {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return { unit: 'seconds', count: s };
  const m = Math.floor(s / 60);
  if (m < 60) return { unit: 'minutes', count: m };
  const h = Math.floor(m / 60);
  if (h < 24) return { unit: 'hours', count: h };
  return { unit: 'days', count: Math.floor(h / 24) };
}

/** A duration in short words: "45 s", "3 min", "2 h", "4 d". */
export function durationText(i18n: I18n, ms: number): string {
  const { unit, count } = durationParts(ms);
  return i18n.t(`sync.duration.${unit}`, { count });
}

/** How long something has waited, for the top bar: minutes at least ("< 1 min"), then h and d. */
export function ageText(i18n: I18n, since: number, now: number): string {
  const ms = Math.max(0, now - since);
  return ms < 60_000 ? i18n.t('sync.duration.underMinute') : durationText(i18n, ms);
}

/** This workstation's clock against the server's: ahead or behind by how much, or in step. */
export function skewText(i18n: I18n, skewMs: number | null): string {
  if (skewMs === null) return i18n.t('sync.skew.unknown');
  if (Math.abs(skewMs) < 1000) return i18n.t('sync.skew.inStep');
  const duration = durationText(i18n, skewMs);
  return skewMs > 0 ? i18n.t('sync.skew.ahead', { duration }) : i18n.t('sync.skew.behind', { duration });
}
