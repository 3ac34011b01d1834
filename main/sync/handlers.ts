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
      mayResolve(sqlite, input.seq, ctx.principal, engine.providerId());
      return engine.retry(input.seq);
    },
    'sync.discard': (input, ctx) => {
      mayResolve(sqlite, input.seq, ctx.principal, engine.providerId());
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
 * Who may retry or discard a rejected change: its author (the user the
 * change names, by the server's rule), or a head of the office this
 * workstation is enrolled in. An administrator as such may not: a retry or
 * discard goes to the server as its own change, made by whoever does it.
 */
export function mayResolve(
  sqlite: Database.Database,
  seq: number,
  principal: Principal | null | undefined,
  providerId: string | null,
): void {
  if (!principal) throw new ServiceError('forbidden', 'errors.auth.forbidden');
  const author = changeAuthor(sqlite, seq);
  if (author === undefined) throw new ServiceError('notFound', 'errors.sync.notFound');
  if (author === principal.userId) return;
  if (providerId !== null && principal.roles.some((r) => r.role === 'head' && r.providerId === providerId)) return;
  throw new ServiceError('forbidden', 'errors.sync.notYourChange');
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
  // The server counts failed administrator passwords (server/src/auth/failures.ts).
  if (code === 'locked') return new ServiceError('accountLocked', 'errors.auth.accountLocked');
  if (code === 'too_many_attempts') return new ServiceError('accountWaiting', 'errors.sync.enrolTooManyAttempts');
  if (code === 'not_found') return new ServiceError('notFound', 'errors.sync.enrolUnknownOffice');
  // The address or the server's certificate refused (main/net/transport.ts): nothing was sent.
  if (kind === 'insecure-url') return new ServiceError('unreachable', 'errors.sync.insecureUrl');
  if (kind === 'tls-untrusted') return new ServiceError('unreachable', 'errors.sync.tlsUntrusted');
  if (kind === 'tls-expired') return new ServiceError('unreachable', 'errors.sync.tlsExpired');
  if (kind === 'tls-hostname') return new ServiceError('unreachable', 'errors.sync.tlsHostname');
  return new ServiceError('unreachable', 'errors.sync.unreachable');
}
