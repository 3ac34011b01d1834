/**
 * What the top bar shows of sync: whether the central server answers, how
 * many local changes wait in the outbox and since when, the last sync and the
 * last error. The push/pull engine itself comes with the sync issue.
 */
import type Database from 'better-sqlite3';
import type { SyncStatus } from '#preload/api.js';

export interface HealthProbe {
  (serverUrl: string, signal: AbortSignal): Promise<boolean>;
}

/** GET <server>/health answering {"status":"ok"} within the time limit. */
export const httpHealthProbe: HealthProbe = async (serverUrl, signal) => {
  try {
    const res = await fetch(new URL('/health', serverUrl), { signal });
    if (!res.ok) return false;
    const body = (await res.json()) as { status?: unknown };
    return body.status === 'ok';
  } catch {
    return false;
  }
};

export class SyncStatusService {
  private online = false;
  private lastError: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly serverUrl: string | null,
    private readonly probe: HealthProbe = httpHealthProbe,
  ) {}

  /** Probe the server now and then every `everyMs`; the timer does not keep the process alive. */
  start(everyMs = 15_000): void {
    void this.check();
    this.timer = setInterval(() => void this.check(), everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async check(timeoutMs = 3_000): Promise<boolean> {
    if (!this.serverUrl) {
      this.online = false;
      return false;
    }
    const ok = await this.probe(this.serverUrl, AbortSignal.timeout(timeoutMs));
    this.online = ok;
    this.lastError = ok ? null : 'server_unreachable';
    return ok;
  }

  status(): SyncStatus {
    const q = this.sqlite
      .prepare("SELECT count(*) AS n, min(created_at) AS oldest FROM outbox WHERE state = 'pending'")
      .get() as { n: number; oldest: number | null };
    const s = this.sqlite
      .prepare(
        'SELECT max(coalesce(last_push_at, 0), coalesce(last_pull_at, 0)) AS last, last_error AS err FROM sync_state ORDER BY last DESC LIMIT 1',
      )
      .get() as { last: number | null; err: string | null } | undefined;
    return {
      online: this.online,
      serverUrl: this.serverUrl,
      queueDepth: q.n,
      oldestPendingAt: q.oldest,
      lastSyncAt: s?.last ? s.last : null,
      lastError: this.lastError ?? s?.err ?? null,
      enrolled: false,
      phase: 'idle',
      rejectedCount: 0,
      clockOff: false,
    };
  }
}
