/**
 * The fault suite's side of things: a workstation child process it can
 * SIGKILL at a chosen point (workstation.ts reports its progress line by
 * line), the local integrity check, and the proof of exactly-once: every
 * change in the local outbox is in the server's device_changes once, with
 * the same content and a matching outcome, at most one server event per
 * device change, and the local office's applications equal the server's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Sql } from '#server/src/postgres/sql.js';
import type { DeviceClient } from '#server/src/load/device-client.js';
import type { Directory } from '#server/src/load/offices.js';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { canonicalJson } from '#core/workflow/chain.js';
import type { WorkstationPlan } from './workstation.js';

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Logs the people of office `providerId` (clerk, head, executors) in online
 * at the device `client`, one after another: the changes it pushes for them
 * carry their proof (core/auth/change-key.ts).
 */
export async function loginOffice(client: DeviceClient, directory: Directory, providerId: string): Promise<void> {
  const office = directory.offices.find((o) => o.providerId === providerId);
  if (!office) throw new Error(`no office ${providerId}`);
  for (const userId of new Set([office.clerkId, office.headId, ...office.executorIds])) {
    const login = directory.logins.get(userId);
    if (!login) throw new Error(`no login for user ${userId}`);
    await client.login(login, DEMO_PASSWORD);
  }
}

// ------------------------------------------------------------------ child ---

export interface Workstation {
  /** Every line it wrote so far. */
  readonly lines: readonly string[];
  /** Calls `fn` for each line from now on (and returns a function that stops it). */
  onLine(fn: (line: string) => void): () => void;
  /** Resolves with the first line (seen already or to come) that `match` accepts. */
  waitFor(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  kill(): void;
  /** How it ended: an exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly stderr: () => string;
}

export function spawnWorkstation(plan: WorkstationPlan): Workstation {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'integration', 'faults', 'workstation.ts'), JSON.stringify(plan)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const listeners = new Set<(line: string) => void>();
  let partial = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    partial += text;
    const parts = partial.split('\n');
    partial = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      for (const fn of listeners) fn(line);
    }
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    stderr = (stderr + text).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    lines,
    onLine: (fn) => {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
    waitFor: (match, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const seen = lines.find(match);
        if (seen !== undefined) return resolve(seen);
        const timer = setTimeout(() => {
          listeners.delete(fn);
          reject(
            new Error(
              `workstation: no matching line in ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}\n${stderr}`,
            ),
          );
        }, timeoutMs);
        const fn = (line: string) => {
          if (!match(line)) return;
          clearTimeout(timer);
          listeners.delete(fn);
          resolve(line);
        };
        listeners.add(fn);
        void exited.then(() => {
          if (!listeners.has(fn)) return;
          clearTimeout(timer);
          listeners.delete(fn);
          reject(
            new Error(
              `workstation exited before a matching line; last lines:\n${lines.slice(-15).join('\n')}\n${stderr}`,
            ),
          );
        });
      }),
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    exited,
    stderr: () => stderr,
  };
}

// -------------------------------------------------------------- kill aims ---

/** Where a kill is aimed: the `nth` line that `trigger` matches, then `delayMs`. */
export interface Aim {
  phase: 'push' | 'pull';
  label: string;
  trigger: (line: string) => boolean;
  nth: number;
  delayMs: number;
}

/**
 * A random aim: at the first snapshot while it has not completed (it is
 * started again after a kill), else at a push (the request in flight, or its
 * results being written) or a pull (a page being read and applied).
 */
export function randomAim(random: () => number, snapshotDone: boolean): Aim {
  const nth = 1 + Math.floor(random() * 2);
  const delayMs = Math.floor(random() * 40);
  if (!snapshotDone && random() < 0.7) {
    const trigger = (l: string) => l.startsWith('net< /v1/snapshot ');
    return { phase: 'pull', label: 'snapshot being applied', trigger, nth: 1, delayMs: delayMs * 3 };
  }
  const kinds: Omit<Aim, 'nth' | 'delayMs'>[] = [
    { phase: 'push', label: 'push request in flight', trigger: (l) => l === 'net> POST /v1/push' },
    { phase: 'push', label: 'push answer being written', trigger: (l) => l === 'net. /v1/push' },
    { phase: 'pull', label: 'pull page being applied', trigger: (l) => l.startsWith('net< /v1/pull ') },
  ];
  return { ...kinds[Math.floor(random() * kinds.length)]!, nth, delayMs };
}

/** Whether the workstation finished its first snapshot of every partition (each has a cursor). */
export function snapshotDone(dbPath: string): boolean {
  if (!existsSync(dbPath)) return false;
  const db = new Database(dbPath, { readonly: true });
  try {
    const rows = db.prepare('SELECT cursor FROM sync_state').all() as { cursor: string | null }[];
    return rows.length >= 2 && rows.every((r) => r.cursor !== null);
  } catch {
    return false;
  } finally {
    db.close();
  }
}

/** What the workstation was doing when it died, read from its last lines. */
export function whereKilled(lines: readonly string[]): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!;
    const m = /^net([<>.!]) (?:(?:GET|POST|PUT) )?(\/\S+)/.exec(line);
    if (!m) {
      if (line.startsWith('change ')) return 'making local changes';
      if (line.startsWith('synced') || line.startsWith('done')) return 'idle';
      continue;
    }
    const path = m[2]!;
    const what = path.startsWith('/v1/push')
      ? 'push'
      : path.startsWith('/v1/snapshot')
        ? 'snapshot'
        : path.startsWith('/v1/pull')
          ? 'pull'
          : path;
    if (m[1] === '>') return `${what}: request in flight`;
    if (m[1] === '<') return `${what}: answer being read and applied`;
    if (m[1] === '.') return `${what}: answer read, being applied`;
    return `${what}: failed`;
  }
  return 'starting';
}

/** Runs the workstation and SIGKILLs it at `aim` (if it gets there); resolves when it is gone. */
export async function runAndKill(
  plan: WorkstationPlan,
  aim: Aim | null,
): Promise<{ killed: boolean; where: string; lines: readonly string[]; stderr: string; code: number | null }> {
  const ws = spawnWorkstation(plan);
  let seen = 0;
  let killed = false;
  if (aim) {
    ws.onLine((line) => {
      if (!aim.trigger(line) || ++seen !== aim.nth) return;
      setTimeout(() => {
        killed = true;
        ws.kill();
      }, aim.delayMs);
    });
  }
  const { code, signal } = await ws.exited;
  return {
    killed: killed && signal === 'SIGKILL',
    where: whereKilled(ws.lines),
    lines: ws.lines,
    stderr: ws.stderr(),
    code,
  };
}

// ------------------------------------------------------------- the proof ---

/** PRAGMA integrity_check of the local database: 'ok' when sound, else what it found (or why it could not look). */
export function integrityCheck(dbPath: string): string {
  let db: Database.Database | null = null;
  try {
    db = new Database(dbPath);
    const rows = db.pragma('integrity_check') as { integrity_check: string }[];
    return rows.map((r) => r.integrity_check).join('; ');
  } catch (e) {
    return `cannot check: ${(e as Error).message}`;
  } finally {
    db?.close();
  }
}

/**
 * The journal's derived index agrees with the applications (a snapshot killed
 * while it loaded with the triggers off must have put them back and rebuilt):
 * its triggers are there, the counts add up, every application is searchable.
 */
export function journalProblems(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    const problems: string[] = [];
    const triggers = db
      .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'applications_journal_%'")
      .pluck()
      .get() as number;
    if (triggers !== 3) problems.push(`${triggers} journal triggers on applications, expected 3`);
    const apps = db.prepare('SELECT count(*) FROM applications').pluck().get() as number;
    const counted = (db.prepare('SELECT coalesce(sum(n), 0) FROM journal_counts').pluck().get() as number) ?? 0;
    if (counted !== apps) problems.push(`journal_counts adds up to ${counted}, ${apps} applications`);
    const wrong = db
      .prepare(
        `SELECT count(*) FROM (SELECT service_code, status, decision, count(*) AS n FROM applications GROUP BY 1, 2, 3) a
           LEFT JOIN journal_counts c USING (service_code, status, decision) WHERE c.n IS NOT a.n`,
      )
      .pluck()
      .get() as number;
    if (wrong > 0) problems.push(`${wrong} journal_counts rows differ from the applications`);
    return problems;
  } finally {
    db.close();
  }
}

export interface OutboxRow {
  seq: number;
  op: string;
  entityId: string;
  payload: string;
  state: string;
  deviceSeq: number | null;
  serverVersion: number | null;
}

export function readOutbox(dbPath: string): { deviceId: string | null; providerId: string | null; rows: OutboxRow[] } {
  const db = new Database(dbPath, { readonly: true });
  try {
    const device = db
      .prepare('SELECT device_id AS deviceId, provider_id AS providerId FROM sync_device LIMIT 1')
      .get() as { deviceId: string; providerId: string } | undefined;
    const rows = db
      .prepare(
        `SELECT seq, op, entity_id AS entityId, payload, state, device_seq AS deviceSeq, server_version AS serverVersion
           FROM outbox ORDER BY seq`,
      )
      .all() as OutboxRow[];
    return { deviceId: device?.deviceId ?? null, providerId: device?.providerId ?? null, rows };
  } finally {
    db.close();
  }
}

/** Event hashes of the transitions in the local outbox. */
export function outboxHashes(rows: readonly OutboxRow[]): Set<string> {
  const hashes = new Set<string>();
  for (const r of rows) {
    const p = JSON.parse(r.payload) as { event?: { hash?: string } };
    if (p.event?.hash) hashes.add(p.event.hash);
  }
  return hashes;
}

export interface ExactlyOnce {
  problems: string[];
  local: number;
  onServer: number;
  applied: number;
  rejected: number;
  events: number;
}

/**
 * The local outbox against the server's record of the device: every local
 * change there once (same op, entity, payload), nothing there that is not
 * local, outcomes matching the local states, no change applied twice, and
 * every change the workstation reported committed (`reported` event hashes)
 * among them.
 */
export async function checkExactlyOnce(dbPath: string, sql: Sql, reported: ReadonlySet<string>): Promise<ExactlyOnce> {
  const { deviceId, rows } = readOutbox(dbPath);
  const problems: string[] = [];
  if (!deviceId)
    return {
      problems: ['the workstation is not enrolled'],
      local: rows.length,
      onServer: 0,
      applied: 0,
      rejected: 0,
      events: 0,
    };
  const server = await sql.query<{
    seq: string | number;
    op: string;
    entity_id: string;
    outcome: string;
    payload: unknown;
  }>('SELECT seq, op, entity_id, outcome, payload FROM device_changes WHERE device_id = $1 ORDER BY seq', [deviceId]);
  const bySeq = new Map(server.map((r) => [Number(r.seq), r]));
  const pending = rows.filter((r) => r.state === 'pending');
  if (pending.length > 0) problems.push(`${pending.length} local changes still pending`);
  const sent = rows.filter((r) => r.deviceSeq !== null);
  for (const r of sent) {
    const s = bySeq.get(r.deviceSeq!);
    if (!s) {
      problems.push(`local change ${r.seq} (device seq ${r.deviceSeq}, ${r.state}) is not on the server`);
      continue;
    }
    if (s.op !== r.op || s.entity_id !== r.entityId)
      problems.push(`device seq ${r.deviceSeq}: server has ${s.op} ${s.entity_id}, local ${r.op} ${r.entityId}`);
    const payload = typeof s.payload === 'string' ? (JSON.parse(s.payload) as unknown) : s.payload;
    if (canonicalJson(payload) !== canonicalJson(JSON.parse(r.payload)))
      problems.push(`device seq ${r.deviceSeq}: payloads differ`);
    const want = r.state === 'sent' ? 'applied' : r.state === 'pending' ? null : 'rejected';
    if (want && s.outcome !== want) problems.push(`device seq ${r.deviceSeq}: local ${r.state}, server ${s.outcome}`);
  }
  const localSeqs = new Set(sent.map((r) => r.deviceSeq));
  const extra = server.filter((s) => !localSeqs.has(Number(s.seq)));
  if (extra.length > 0)
    problems.push(
      `${extra.length} server changes of this device unknown locally (seqs ${extra
        .slice(0, 5)
        .map((s) => s.seq)
        .join(', ')})`,
    );

  const serverHashes = new Set<string>();
  for (const s of server) {
    const p = (typeof s.payload === 'string' ? JSON.parse(s.payload) : s.payload) as { event?: { hash?: string } };
    if (p.event?.hash) serverHashes.add(p.event.hash);
  }
  const localHashes = outboxHashes(rows);
  const lostLocally = [...reported].filter((h) => !localHashes.has(h));
  const lostOnServer = [...reported].filter((h) => !serverHashes.has(h));
  if (lostLocally.length > 0) problems.push(`${lostLocally.length} committed changes missing from the local outbox`);
  if (lostOnServer.length > 0) problems.push(`${lostOnServer.length} committed changes missing on the server`);

  const twice = await sql.query<{ device_seq: string | number; n: string | number }>(
    `SELECT device_seq, count(*) AS n FROM application_events WHERE device_id = $1
      GROUP BY device_seq HAVING count(*) > 1`,
    [deviceId],
  );
  if (twice.length > 0) problems.push(`${twice.length} device changes have more than one server event`);
  const events = Number(
    (
      await sql.query<{ n: string | number }>('SELECT count(*) AS n FROM application_events WHERE device_id = $1', [
        deviceId,
      ])
    )[0]?.n ?? 0,
  );
  const appliedTransitions = server.filter((s) => s.outcome === 'applied' && s.op === 'application.transition').length;
  if (events !== appliedTransitions)
    problems.push(`${events} server events from the device, ${appliedTransitions} transitions applied`);

  return {
    problems,
    local: rows.length,
    onServer: server.length,
    applied: server.filter((s) => s.outcome === 'applied').length,
    rejected: server.filter((s) => s.outcome === 'rejected').length,
    events,
  };
}

/** The office's applications locally and on the server: the ones that differ (status or responsible). */
export async function divergence(dbPath: string, sql: Sql, providerId: string): Promise<string[]> {
  const db = new Database(dbPath, { readonly: true });
  let local: { id: string; status: string; responsible: string | null }[];
  try {
    local = db
      .prepare(
        'SELECT id, status, responsible_user_id AS responsible FROM applications WHERE provider_id = ? ORDER BY id',
      )
      .all(providerId) as typeof local;
  } finally {
    db.close();
  }
  const server = await sql.query<{ id: string; status: string; responsible: string | null }>(
    'SELECT id, status, responsible_user_id AS responsible FROM applications WHERE provider_id = $1 ORDER BY id',
    [providerId],
  );
  const byId = new Map(server.map((s) => [s.id, s]));
  const out: string[] = [];
  if (server.length !== local.length) out.push(`${local.length} applications locally, ${server.length} on the server`);
  for (const l of local) {
    const s = byId.get(l.id);
    if (!s) out.push(`${l.id} only local`);
    else if (s.status !== l.status || s.responsible !== l.responsible)
      out.push(`${l.id}: local ${l.status}/${l.responsible}, server ${s.status}/${s.responsible}`);
  }
  return out;
}
