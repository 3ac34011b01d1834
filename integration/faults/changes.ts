/**
 * Local changes for the fault suite, made the way a person makes them: the
 * office's head reassigns open applications through the WorkflowService
 * (application row, hash-chained event and outbox row in one SQLite
 * transaction). Each committed change is reported by its event hash.
 */
import type Database from 'better-sqlite3';
import { ServiceError } from '#main/rpc.js';
import type { WorkflowService } from '#main/workflow/service.js';

export interface ChangePlan {
  providerId: string;
  /** The head who reassigns. */
  actorId: string;
  count: number;
  random: () => number;
}

/** Executors the head may assign at the provider (active staff, executor role, not blocked). */
export function executorsOf(sqlite: Database.Database, providerId: string): string[] {
  return (
    sqlite
      .prepare(
        `SELECT s.user_id AS id FROM provider_staff s
           JOIN users u ON u.id = s.user_id AND u.blocked = 0
           JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
          WHERE s.provider_id = ? AND s.active = 1 ORDER BY s.user_id`,
      )
      .all(providerId) as { id: string }[]
  ).map((e) => e.id);
}

/**
 * Makes up to `count` reassignments; `say` hears `change <event hash>` after
 * each commit (and `refused <code>` when the workflow refused one). Returns
 * the hashes of the committed changes.
 */
export function makeChanges(
  sqlite: Database.Database,
  workflow: WorkflowService,
  plan: ChangePlan,
  say: (line: string) => void = () => undefined,
): string[] {
  if (plan.count === 0) return [];
  const apps = (
    sqlite
      .prepare(
        `SELECT id FROM applications WHERE provider_id = ? AND status IN ('received', 'in_processing') ORDER BY id`,
      )
      .all(plan.providerId) as { id: string }[]
  ).map((a) => a.id);
  const executors = executorsOf(sqlite, plan.providerId);
  if (apps.length === 0 || executors.length < 2) {
    say(`error nothing to change: ${apps.length} open applications, ${executors.length} executors`);
    return [];
  }
  const responsible = sqlite.prepare('SELECT responsible_user_id AS r FROM applications WHERE id = ?').pluck();
  const lastPayload = sqlite
    .prepare("SELECT payload FROM outbox WHERE op = 'application.transition' ORDER BY seq DESC LIMIT 1")
    .pluck();
  const hashes: string[] = [];
  for (let i = 0; i < plan.count; i++) {
    const id = apps[Math.floor(plan.random() * apps.length)]!;
    const current = responsible.get(id) as string | null;
    const choices = executors.filter((e) => e !== current);
    const executor = choices[Math.floor(plan.random() * choices.length)]!;
    try {
      workflow.assignOne(id, null, executor, { id: plan.actorId });
    } catch (e) {
      if (!(e instanceof ServiceError)) throw e;
      say(`refused ${e.code}`);
      continue;
    }
    const hash = (JSON.parse(lastPayload.get() as string) as { event: { hash: string } }).event.hash;
    hashes.push(hash);
    say(`change ${hash}`);
  }
  return hashes;
}
