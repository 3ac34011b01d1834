/**
 * The sync calls (the top bar's status, the sync panel: details, sync now,
 * retry or discard a rejected change, enrolment) over the sync engine and the
 * health probe, for the composition root (main/app.ts) to spread into its
 * handlers.
 */
import type Database from 'better-sqlite3';
import type { Channel, SyncStatus } from '#preload/api.js';
import { ServiceError, type Handlers, type Principal } from '../rpc.js';
import type { SyncEngine } from './engine.js';
import { changeAuthor } from './outbox.js';
import type { SyncStatusService } from './status.js';

export type SyncChannel = Extract<Channel, `sync.${string}`>;

/** The top bar's state: the engine's, online while either the engine's last request or the health probe got through. */
export function combinedSyncStatus(engine: SyncEngine, health: SyncStatusService): SyncStatus {
  const e = engine.status();
  const h = health.status();
  return { ...e, online: e.online || h.online, lastError: e.lastError ?? (e.enrolled ? null : h.lastError) };
}

export function syncHandlers(
  engine: SyncEngine,
  health: SyncStatusService,
  sqlite: Database.Database,
): Pick<Handlers, SyncChannel> {
  return {
    'sync.status': () => combinedSyncStatus(engine, health),
    'sync.details': () => engine.details(),
    'sync.now': async () => {
      await engine.runNow();
      return engine.details();
    },
    'sync.retry': (input, ctx) => {
      mayResolve(sqlite, input.seq, ctx.principal);
      return engine.retry(input.seq);
    },
    'sync.discard': (input, ctx) => {
      mayResolve(sqlite, input.seq, ctx.principal);
      return engine.discard(input.seq, input.comment, ctx.principal?.userId ?? null);
    },
    'sync.enrol': async (input) => {
      try {
        return await engine.enrol(input);
      } catch (err) {
        throw enrolmentError(err);
      }
    },
  };
}

/**
 * Who may retry or discard a rejected change: its author (the actor the
 * change names), or a head or administrator of this workstation's user.
 */
function mayResolve(sqlite: Database.Database, seq: number, principal: Principal | null | undefined): void {
  if (!principal) throw new ServiceError('forbidden', 'errors.auth.forbidden');
  const author = changeAuthor(sqlite, seq);
  if (author === undefined) throw new ServiceError('notFound', 'errors.sync.notFound');
  if (principal.roles.some((r) => r.role === 'head' || r.role === 'admin')) return;
  if (author !== principal.userId) throw new ServiceError('forbidden', 'errors.sync.notYourChange');
}

/** An enrolment failure in the user's words: wrong credentials, not an administrator, no server. */
function enrolmentError(err: unknown): unknown {
  if (err instanceof ServiceError) return err;
  const e = err as { kind?: unknown; details?: { code?: unknown } };
  const kind = e.kind;
  const code = e.details?.code;
  if (code === 'wrong_credentials' || kind === 'unauthorized')
    return new ServiceError('wrongCredentials', 'errors.sync.enrolWrongCredentials');
  if (code === 'forbidden') return new ServiceError('forbidden', 'errors.sync.enrolForbidden');
  if (code === 'not_found') return new ServiceError('notFound', 'errors.sync.enrolUnknownOffice');
  return new ServiceError('unreachable', 'errors.sync.unreachable');
}
