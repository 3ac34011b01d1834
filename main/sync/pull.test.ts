/**
 * The snapshot path against a small node:http server that streams exactly
 * what a test needs (lines one by one, a connection cut after some of them):
 * what a cut snapshot leaves behind, and the journal's triggers around a
 * bulk snapshot.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import type { FeedRow, SnapshotLine } from '#core/protocol.js';
import { openWorkstation, type Workstation } from './testing.js';
import { resumeJournalIndexing, resumeJournalIndexingInSteps, suspendJournalIndexing } from './pull.js';

interface Fake {
  url: string;
  snapshots: number;
  /** Lines of the snapshot; `cutAfter` rows on the first request, then the connection is dropped. */
  lines: SnapshotLine[];
  cutAfter: number | null;
  /** Pulls answered 409 conflict (a cursor ahead of a server restored from a backup). */
  conflicts: number;
}

let server: Server;
let fake: Fake;
let w: Workstation;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

function stream(res: ServerResponse, lines: SnapshotLine[], cutAfterRows: number | null): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  let i = 0;
  let rows = 0;
  const next = () => {
    if (i >= lines.length) return res.end();
    const line = lines[i++]!;
    if (line.kind === 'row') rows += 1;
    res.write(JSON.stringify(line) + '\n');
    if (cutAfterRows !== null && rows >= cutAfterRows) {
      setTimeout(() => res.socket?.destroy(), 50);
      return;
    }
    setTimeout(next, 2);
  };
  next();
}

beforeEach(async () => {
  fake = { url: '', snapshots: 0, lines: [], cutAfter: null, conflicts: 0 };
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const now = Date.now();
    if (path === '/v1/devices/enrol') {
      void body(req).then((b) =>
        json(res, 200, {
          deviceId: b.deviceId,
          deviceSecret: 's'.repeat(43),
          partitions: ['global'],
          providerId: b.providerId,
          serverTime: now,
        }),
      );
    } else if (path === '/v1/devices/token') {
      json(res, 200, { accessToken: 't'.repeat(32), expiresAt: now + 600_000, serverTime: now });
    } else if (path === '/v1/push') {
      json(res, 200, { results: [], lastSeq: 0, serverTime: now });
    } else if (path === '/v1/snapshot') {
      fake.snapshots += 1;
      stream(res, fake.lines, fake.snapshots === 1 ? fake.cutAfter : null);
    } else if (path === '/v1/pull' && fake.conflicts > 0) {
      fake.conflicts -= 1;
      json(res, 409, { error: 'conflict', message: 'the cursor is ahead of this server', serverTime: now });
    } else if (path === '/v1/pull') {
      const end = fake.lines.at(-1);
      const version = end?.kind === 'end' ? end.version : 0;
      json(res, 200, {
        partition: 'global',
        rows: [],
        cursor: `c${version}`,
        version,
        hasMore: false,
        serverTime: now,
      });
    } else json(res, 404, { error: 'not_found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  w = await openWorkstation({ serverUrl: fake.url, snapshotBatchRows: 10 });
  await w.engine.enrol({ providerId: 'prov-x', login: 'admin.demo', password: DEMO_PASSWORD });
});

afterEach(async () => {
  await w.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function snapshotOf(rows: FeedRow[]): SnapshotLine[] {
  const version = rows.at(-1)?.version ?? 0;
  return [
    { kind: 'header', partition: 'global', rows: rows.length, serverTime: Date.now() },
    ...rows.map((row) => ({ kind: 'row' as const, row })),
    { kind: 'end', cursor: `c${version}`, version, count: rows.length },
  ];
}

const region = (n: number): FeedRow => ({
  version: n,
  entity: 'region',
  id: `r${n}`,
  op: 'upsert',
  data: { kato: `r${n}`, nameKk: `Аймақ ${n}`, nameRu: `Регион ${n}`, nameEn: `Region ${n}` },
});

const count = (sql: string) => w.sqlite.prepare(sql).pluck().get() as number;
/** The indexes of `applications` (not the primary key's), by name. */
const indexes = () =>
  w.sqlite
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'applications' AND sql IS NOT NULL ORDER BY name",
    )
    .pluck()
    .all() as string[];
const journalTriggers = () =>
  count("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'applications_journal_%'");
const cursor = () => w.sqlite.prepare("SELECT cursor FROM sync_state WHERE partition = 'global'").pluck().get();

describe('snapshot', () => {
  it('keeps the batches of a cut snapshot but not its cursor, and takes it again whole', async () => {
    fake.lines = snapshotOf(Array.from({ length: 25 }, (_, i) => region(i + 1)));
    fake.cutAfter = 22;
    await w.engine.runOnce();
    expect(w.engine.lastFailure()?.message).toMatch(/cut/);
    // Two whole batches of ten were written; the two rows after them were not; no cursor.
    expect(count('SELECT count(*) FROM regions')).toBe(20);
    expect(cursor()).toBeNull();

    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeNull();
    expect(fake.snapshots).toBe(2);
    expect(count('SELECT count(*) FROM regions')).toBe(25);
    expect(cursor()).toBe('c25');
    expect(w.engine.details().partitions).toEqual([
      { partition: 'global', lastPullAt: expect.any(Number), version: 25 },
    ]);
  });

  it('takes the snapshot again when the server refuses the cursor as ahead of it (restored from a backup)', async () => {
    fake.lines = snapshotOf([region(1), region(2), region(3)]);
    await w.engine.runOnce();
    expect(cursor()).toBe('c3');
    // The server went back to version 2; what it has now differs from what we took.
    fake.lines = snapshotOf([
      region(1),
      { ...region(2), data: { kato: 'r2', nameKk: 'Жаңа', nameRu: 'Новый', nameEn: 'New' } },
    ]);
    fake.conflicts = 1;
    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeNull();
    expect(fake.snapshots).toBe(2);
    expect(cursor()).toBe('c2');
    expect(w.sqlite.prepare("SELECT name_en FROM regions WHERE kato = 'r2'").pluck().get()).toBe('New');
  });

  it('refuses a snapshot whose trailer counts other rows than came', async () => {
    const lines = snapshotOf([region(1), region(2)]);
    const end = lines.at(-1)!;
    if (end.kind === 'end') end.count = 3;
    fake.lines = lines;
    await w.engine.runOnce();
    expect(w.engine.lastFailure()?.message).toMatch(/counts 3 rows, 2 came/);
    expect(cursor()).toBeNull();
  });

  it('loads a large snapshot with the journal triggers off and puts them back with the index rebuilt', async () => {
    const triggers = journalTriggers;
    expect(triggers()).toBe(3);
    const rows: FeedRow[] = [
      region(1),
      {
        version: 2,
        entity: 'provider',
        id: 'prov-x',
        op: 'upsert',
        data: {
          id: 'prov-x',
          bin: '000000000000',
          nameKk: 'X',
          nameRu: 'X',
          nameEn: 'X',
          regionKato: 'r1',
          localityKk: 'Астана',
          localityRu: 'Астана',
          localityEn: 'Astana',
        },
      },
      ...Array.from({ length: 30 }, (_, i): FeedRow => ({
        version: 3 + i,
        entity: 'application',
        id: `app-${i}`,
        op: 'upsert',
        data: {
          id: `app-${i}`,
          number: `${i}-01-01-26`,
          portalNumber: null,
          providerId: 'prov-x',
          serviceCode: 'unemployed-certificate',
          channel: 'office',
          applicantIin: '900512400123',
          applicantBin: null,
          applicantName: i % 2 ? 'Сапарова Әсел' : 'Иванов Пётр',
          regionKato: 'r1',
          locality: 'Астана',
          status: i % 3 ? 'received' : 'completed',
          decision: 'none',
          responsibleUserId: null,
          currentStep: null,
          submittedAt: 1_700_000_000_000 + i,
          statusChangedAt: 1_700_000_000_000 + i,
          dueAt: null,
          formData: {},
          refusalReasonCode: null,
          refusalText: null,
          reworkComment: null,
        },
      })),
    ];
    await w.close();
    w = await openWorkstation({ serverUrl: fake.url, snapshotBatchRows: 10, bulkThreshold: 20 });
    await w.engine.enrol({ providerId: 'prov-x', login: 'admin.demo', password: DEMO_PASSWORD });
    fake.lines = snapshotOf(rows);
    fake.cutAfter = 25;
    await w.engine.runOnce();
    // Cut: the triggers are back all the same, the index holds what was written.
    expect(triggers()).toBe(3);
    expect(count("SELECT count(*) FROM settings WHERE key = 'sync.suspendedJournalTriggers'")).toBe(0);
    expect(count('SELECT count(*) FROM applications')).toBe(18);
    expect(count('SELECT sum(n) FROM journal_counts')).toBe(18);

    await w.engine.runOnce();
    expect(w.engine.lastFailure()).toBeNull();
    expect(triggers()).toBe(3);
    expect(count('SELECT count(*) FROM applications')).toBe(30);
    expect(count('SELECT sum(n) FROM journal_counts')).toBe(30);
    expect(count('SELECT count(*) FROM applications_search WHERE applications_search MATCH \'"сапарова"\'')).toBe(15);
    // The triggers work again: a change updates the counts.
    w.sqlite.prepare("UPDATE applications SET status = 'completed' WHERE id = 'app-1'").run();
    expect(count("SELECT n FROM journal_counts WHERE status = 'completed'")).toBe(11);
  });

  it('gets the journal triggers and indexes back at the next start after a process died in a bulk snapshot', () => {
    const before = indexes();
    expect(before).toContain('applications_journal_name_idx');
    suspendJournalIndexing(w.sqlite);
    expect(journalTriggers()).toBe(0);
    // Only the unique indexes stay while the rows load: they keep the rows right.
    expect(indexes()).toEqual(['applications_number_uq']);
    expect(count("SELECT count(*) FROM settings WHERE key = 'sync.suspendedJournalTriggers'")).toBe(1);
    expect(resumeJournalIndexing(w.sqlite)).toBe(true);
    expect(journalTriggers()).toBe(3);
    expect(indexes()).toEqual(before);
    expect(resumeJournalIndexing(w.sqlite)).toBe(false);
  });

  it('puts the journal back in steps: one index per step, then the triggers with their rebuild', async () => {
    const recorded = () =>
      (
        JSON.parse(
          w.sqlite
            .prepare("SELECT value FROM settings WHERE key = 'sync.suspendedJournalTriggers'")
            .pluck()
            .get() as string,
        ) as { type: string }[]
      ).map((o) => o.type);
    const before = indexes();
    suspendJournalIndexing(w.sqlite);
    const suspended = before.length - indexes().length;
    expect(suspended).toBeGreaterThan(5);

    // The process dies at the third pause: two indexes built and struck off the record, the rest recorded.
    let pauses = 0;
    const seen: { triggers: number; indexes: number }[] = [];
    await expect(
      resumeJournalIndexingInSteps(w.sqlite, () => {
        pauses += 1;
        seen.push({ triggers: journalTriggers(), indexes: indexes().length });
        return pauses === 3 ? Promise.reject(new Error('killed')) : Promise.resolve();
      }),
    ).rejects.toThrow('killed');
    const base = before.length - suspended;
    expect(seen).toEqual([
      { triggers: 0, indexes: base },
      { triggers: 0, indexes: base + 1 },
      { triggers: 0, indexes: base + 2 },
    ]);
    expect(recorded().sort()).toEqual([...Array(suspended - 2).fill('index'), ...Array(3).fill('trigger')].sort());

    // The next start does the rest.
    expect(resumeJournalIndexing(w.sqlite)).toBe(true);
    expect(indexes()).toEqual(before);
    expect(journalTriggers()).toBe(3);
    expect(count("SELECT count(*) FROM settings WHERE key = 'sync.suspendedJournalTriggers'")).toBe(0);

    // Uncut: a pause before each index and before the triggers, which come back last.
    suspendJournalIndexing(w.sqlite);
    seen.length = 0;
    expect(
      await resumeJournalIndexingInSteps(w.sqlite, () => {
        seen.push({ triggers: journalTriggers(), indexes: indexes().length });
        return Promise.resolve();
      }),
    ).toBe(true);
    expect(seen).toHaveLength(suspended + 1);
    expect(seen.at(-1)).toEqual({ triggers: 0, indexes: before.length });
    expect(indexes()).toEqual(before);
    expect(journalTriggers()).toBe(3);
    expect(await resumeJournalIndexingInSteps(w.sqlite, () => Promise.resolve())).toBe(false);
  });

  it('reads the record of suspended triggers an older version left (triggers alone, no types)', () => {
    const triggers = w.sqlite
      .prepare(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'applications_journal_%' ORDER BY name",
      )
      .all() as { name: string; sql: string }[];
    w.sqlite
      .prepare("INSERT INTO settings (key, value, updated_at) VALUES ('sync.suspendedJournalTriggers', ?, 0)")
      .run(JSON.stringify(triggers));
    for (const t of triggers) w.sqlite.exec(`DROP TRIGGER "${t.name}"`);
    expect(resumeJournalIndexing(w.sqlite)).toBe(true);
    expect(journalTriggers()).toBe(3);
  });
});
