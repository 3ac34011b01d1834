/**
 * What the app does while and after the local database's integrity check
 * runs in the background (db/connection.ts, check 'background'): `app.info`
 * tells the renderer where the check stands, and once it has failed every
 * call that would change local data is refused in main with the message the
 * start used to stop with (the damaged file and the latest backup, in the
 * user's language). The connection itself is read-only by then (`query_only`),
 * so a write that some other call attempts fails too, and is reported with
 * the same message instead of vanishing.
 */
import type { DatabaseIntegrityError, IntegrityCheck } from '#db/connection.js';
import { callKind, CHANNELS, isReadOnly, type Channel } from '#preload/api.js';
import { ServiceError, type Handler, type Handlers } from './rpc.js';

/**
 * Calls that change no local data (their contract entry's kind is not 'write'): they keep working on a
 * damaged database, so the user can still look up what is there. Every other call is refused.
 */
export const READ_ONLY_CALLS: ReadonlySet<Channel> = new Set(CHANNELS.filter((c) => isReadOnly(callKind(c))));

/** The refusal a call gets once the check has failed: the message of DatabaseIntegrityError, by key. */
export function damagedDatabaseError(error: DatabaseIntegrityError): ServiceError {
  return error.backupPath
    ? new ServiceError('databaseDamaged', 'errors.database.damaged', { path: error.path, backup: error.backupPath })
    : new ServiceError('databaseDamaged', 'errors.database.damagedNoBackup', { path: error.path });
}

/** A write the read-only connection refused (PRAGMA query_only). */
function isReadOnlyRefusal(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_READONLY' || (err instanceof Error && /readonly database/i.test(err.message));
}

/** The handlers, each refusing to change local data once `check` has failed. */
export function refuseWritesWhenDamaged(handlers: Handlers, check: IntegrityCheck): Handlers {
  const wrapped: Partial<Record<Channel, Handler<Channel>>> = {};
  for (const channel of CHANNELS) {
    const handler = handlers[channel] as Handler<Channel>;
    const readOnly = READ_ONLY_CALLS.has(channel);
    wrapped[channel] = async (input, ctx) => {
      const before = check.current();
      if (before.state === 'failed' && !readOnly) throw damagedDatabaseError(before.error);
      try {
        return await handler(input, ctx);
      } catch (err) {
        const now = check.current();
        if (now.state === 'failed' && isReadOnlyRefusal(err)) throw damagedDatabaseError(now.error);
        throw err;
      }
    };
  }
  return wrapped as Handlers;
}

/** Where the check stands, for `app.info`. */
export function databaseCheckInfo(check: IntegrityCheck): {
  check: 'running' | 'ok' | 'failed';
  backupPath: string | null;
} {
  const s = check.current();
  return { check: s.state, backupPath: s.state === 'failed' ? s.error.backupPath : null };
}
