/**
 * The load run: many workstations, each enrolled as its own device with a
 * queue of changes made offline, pushing at once against one server; then
 * the proof that every change was applied exactly once, read from the
 * server's database (device_changes, devices.last_seq, applications and
 * their events).
 *
 * Bounded: the queues are fixed, at most `concurrency` requests are in flight
 * (so at most that many connections are busy), and past `deadlineMs` the run
 * stops by itself and says so.
 */
import { mulberry32 } from '#demo/random.js';
import { PROVIDERS } from '#demo/names.js';
import type { Sql } from '../postgres/sql.js';
import type { Change, PushResult } from '#core/protocol.js';
import { DeviceClient } from './device-client.js';
import { discoverOffices, type Directory } from './offices.js';
import { buildQueue, type Office } from './workload.js';

export interface LoadOptions {
  serverUrl: string;
  workstations: number;
  changesPerWorkstation: number;
  /** Requests in flight at most. */
  concurrency: number;
  /** Changes per push request. */
  batch: number;
  deadlineMs: number;
  /** Limit of one request, counted from when it gets its slot. Default 60 s. */
  requestTimeoutMs?: number;
  /** An administrator who may enrol devices in every office (the system administrator). */
  admin: { login: string; password: string };
  /** The password of the offices' users, who log in online at each workstation for their keys (default: the administrator's). */
  usersPassword?: string;
  seed: number;
  log?: (line: string) => void;
}

export interface LoadDevice {
  deviceId: string;
  providerId: string;
  changes: number;
  /** Ids of the applications its queue creates, with the status its queue leaves each in. */
  created: Map<string, 'received' | 'in_processing'>;
  transitions: number;
}

export interface LoadResult {
  devices: LoadDevice[];
  changes: number;
  pushes: number;
  /** Push requests that failed (network, 5xx) and were sent again. */
  retries: number;
  outcomes: Record<PushResult['outcome'], number>;
  /** The first few rejections, for the report. */
  rejections: PushResult[];
  enrolMs: number;
  pushWallMs: number;
  wallMs: number;
  changesPerSecond: number;
  pushLatencyMs: { p50: number; p95: number; p99: number; max: number };
  timedOut: boolean;
}

/** Runs `fn` with at most `limit` at a time, first come first served. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Unique per run: the numbers of the applications it creates start with it. */
function runTag(seed: number): string {
  return Math.floor(mulberry32(seed)() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const log = o.log ?? (() => undefined);
  const started = performance.now();
  const stop = new AbortController();
  const deadline = setTimeout(
    () => stop.abort(new Error(`load run past its ${o.deadlineMs} ms deadline`)),
    o.deadlineMs,
  );
  deadline.unref();
  const limiter = new Limiter(o.concurrency);
  const latencies: number[] = [];

  // One slot per request, held until its answer has been read whole; its time limit starts with the slot.
  const limitedFetch: typeof fetch = (input, init) =>
    limiter.run(async () => {
      stop.signal.throwIfAborted();
      const t = performance.now();
      const signal = AbortSignal.any([stop.signal, AbortSignal.timeout(o.requestTimeoutMs ?? 60_000)]);
      const res = await fetch(input, { ...init, signal });
      const body = await res.arrayBuffer();
      if (String(input instanceof Request ? input.url : input).includes('/v1/push'))
        latencies.push(performance.now() - t);
      return new Response(res.status === 204 ? null : body, { status: res.status, headers: res.headers });
    });

  try {
    const admin = o.admin;
    const health = await fetch(new URL('/health', o.serverUrl));
    if (!health.ok) throw new Error(`server at ${o.serverUrl} is not healthy: ${health.status}`);
    const tag = runTag(o.seed);
    const enrolStart = performance.now();
    // One after another: the server checks one password try of a login at a time, and these share the administrator's.
    const enrol = async (providerId: string, i: number) => {
      const client = new DeviceClient({ serverUrl: o.serverUrl, fetch: limitedFetch, timeoutMs: 0 });
      await client.enrol({ providerId, login: admin.login, password: admin.password, name: `load ${tag} ${i}` });
      await client.accessToken();
      return client;
    };
    // The first workstation of each office reads who works there (its partition) and the services (the global one).
    const offices: Office[] = [];
    const logins = new Map<string, string>();
    let services: Directory['services'] = new Map();
    const enrolled: { client: DeviceClient; office: Office; i: number }[] = [];
    for (const p of PROVIDERS) {
      if (enrolled.length >= o.workstations) break;
      const client = await enrol(p.id, enrolled.length);
      const found = await discoverOffices(client);
      const office = found.offices.find((of) => of.providerId === p.id);
      if (!office) continue;
      if (services.size === 0) services = found.services;
      for (const [id, login] of found.logins) logins.set(id, login);
      // One executor an office: each user of a queue logs in at its workstation (one scrypt each).
      offices.push({ ...office, executorIds: office.executorIds.slice(0, 1) });
      enrolled.push({ client, office: offices.at(-1)!, i: enrolled.length });
    }
    if (offices.length === 0) throw new Error('no office with a clerk, a head and executors to load');
    log(`# ${offices.length} offices; enrolling ${o.workstations} workstations`);
    for (let i = enrolled.length; i < o.workstations; i++) {
      const office = offices[i % offices.length]!;
      enrolled.push({ client: await enrol(office.providerId, i), office, i });
    }
    const directory = { offices, services, logins };
    // The users log in online at each workstation of their office (for their keys): offices at once, an office's
    // workstations one after another (one try of a login at a time).
    const byOffice = new Map<string, typeof enrolled>();
    for (const e of enrolled) byOffice.set(e.office.providerId, [...(byOffice.get(e.office.providerId) ?? []), e]);
    await Promise.all(
      [...byOffice.values()].map(async (group) => {
        for (const { client, office } of group) {
          for (const userId of [office.clerkId, office.headId, ...office.executorIds]) {
            const login = directory.logins.get(userId);
            if (!login) throw new Error(`no login for user ${userId}`);
            await client.login(login, o.usersPassword ?? admin.password);
          }
        }
      }),
    );
    const stations = enrolled.map(({ client, office, i }) => ({
      client,
      office,
      queue: buildQueue({
        office,
        services: directory.services,
        count: o.changesPerWorkstation,
        tag: `${tag}-${i}`,
        seed: o.seed * 1000 + i,
        start: Date.now() - 7 * 86_400_000,
      }),
    }));
    const enrolMs = performance.now() - enrolStart;
    log(`# enrolled in ${(enrolMs / 1000).toFixed(1)} s; pushing ${o.workstations * o.changesPerWorkstation} changes`);

    const outcomes: LoadResult['outcomes'] = { applied: 0, duplicate: 0, rejected: 0, deferred: 0 };
    const rejections: PushResult[] = [];
    let pushes = 0;
    const pushStart = performance.now();
    let timedOut = false;
    let retries = 0;
    await Promise.all(
      stations.map(async ({ client, queue }) => {
        const results = await client.pushAll(queue, {
          batch: o.batch,
          signal: stop.signal,
          onBatch: () => {
            pushes++;
          },
          onRetry: () => {
            retries++;
          },
        });
        for (const r of results) {
          outcomes[r.outcome]++;
          if (r.outcome === 'rejected' && rejections.length < 10) rejections.push(r);
        }
      }),
    ).catch((e: unknown) => {
      if (stop.signal.aborted) timedOut = true;
      else throw e;
    });
    const pushWallMs = performance.now() - pushStart;
    const sorted = [...latencies].sort((a, b) => a - b);
    const changes = o.workstations * o.changesPerWorkstation;
    return {
      devices: stations.map(({ client, queue }) => describeDevice(client, queue)),
      changes,
      pushes,
      retries,
      outcomes,
      rejections,
      enrolMs,
      pushWallMs,
      wallMs: performance.now() - started,
      changesPerSecond: changes / (pushWallMs / 1000),
      pushLatencyMs: {
        p50: percentile(sorted, 50),
        p95: percentile(sorted, 95),
        p99: percentile(sorted, 99),
        max: sorted.at(-1) ?? 0,
      },
      timedOut,
    };
  } finally {
    clearTimeout(deadline);
  }
}

function describeDevice(client: DeviceClient, queue: readonly Change[]): LoadDevice {
  const created = new Map<string, 'received' | 'in_processing'>();
  let transitions = 0;
  for (const c of queue) {
    if (c.op === 'application.create') created.set(c.entityId, 'received');
    else {
      transitions++;
      const status = (c.payload as { application: { status: 'received' | 'in_processing' } }).application.status;
      created.set(c.entityId, status);
    }
  }
  return { deviceId: client.deviceId, providerId: client.providerId, changes: queue.length, created, transitions };
}

export interface LoadCheck {
  ok: boolean;
  problems: string[];
  counts: {
    deviceChanges: number;
    applied: number;
    devicesAtLastSeq: number;
    applications: number;
    events: number;
    distinctEvents: number;
  };
}

/** Every change of the run on the server exactly once, read from its database. */
export async function checkLoad(sql: Sql, result: LoadResult): Promise<LoadCheck> {
  const ids = result.devices.map((d) => d.deviceId);
  const problems: string[] = [];
  const one = async (text: string, params: unknown[]) =>
    Number(Object.values((await sql.query(text, params))[0] ?? {})[0] ?? 0);

  const deviceChanges = await one('SELECT count(*) FROM device_changes WHERE device_id = ANY($1::uuid[])', [ids]);
  const applied = await one(
    "SELECT count(*) FROM device_changes WHERE device_id = ANY($1::uuid[]) AND outcome = 'applied'",
    [ids],
  );
  if (deviceChanges !== result.changes)
    problems.push(`device_changes holds ${deviceChanges} changes of the run, expected ${result.changes}`);
  if (applied !== result.changes) problems.push(`${applied} changes applied, expected all ${result.changes}`);

  const atLastSeq = await sql.query<{ id: string; last_seq: string | number }>(
    'SELECT id::text AS id, last_seq FROM devices WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const expected = new Map(result.devices.map((d) => [d.deviceId, d.changes]));
  const devicesAtLastSeq = atLastSeq.filter((d) => Number(d.last_seq) === expected.get(d.id)).length;
  if (devicesAtLastSeq !== ids.length)
    problems.push(`${ids.length - devicesAtLastSeq} devices short of their last seq`);

  const created = result.devices.flatMap((d) => [...d.created.entries()]);
  const statuses = await sql.query<{ id: string; status: string }>(
    'SELECT id, status FROM applications WHERE id = ANY($1::text[])',
    [created.map(([id]) => id)],
  );
  if (statuses.length !== created.length)
    problems.push(`${statuses.length} applications created, expected ${created.length}`);
  const want = new Map(created);
  const wrong = statuses.filter((s) => want.get(s.id) !== s.status);
  if (wrong.length > 0) problems.push(`${wrong.length} applications not in the status their queue left them in`);

  const events = await sql.query<{ n: string | number; distinct: string | number; seqs: string | number }>(
    `SELECT count(*) AS n, count(DISTINCT (device_id, device_seq)) AS distinct, count(device_seq) AS seqs
       FROM application_events WHERE device_id = ANY($1::uuid[])`,
    [ids],
  );
  const n = Number(events[0]?.n ?? 0);
  const distinct = Number(events[0]?.distinct ?? 0);
  const transitions = result.devices.reduce((s, d) => s + d.transitions, 0);
  if (distinct !== n) problems.push(`${n - distinct} events recorded twice for one device change`);
  if (n < transitions)
    problems.push(`${n} events from the run's devices, expected at least ${transitions} transitions`);

  return {
    ok: problems.length === 0,
    problems,
    counts: {
      deviceChanges,
      applied,
      devicesAtLastSeq,
      applications: statuses.length,
      events: n,
      distinctEvents: distinct,
    },
  };
}
