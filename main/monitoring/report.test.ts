/**
 * The monitoring report over a small hand-made database: exact counts per
 * column per region, the totals row, the period's bounds (both days
 * included, days of UTC+5), the service filter, the overdue steps and the
 * scope (a head sees their provider's figures only). Each case runs on the
 * count table of migration 0008 and on the plain query, which must agree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { loadRegions } from '#core/node/region-loader.js';
import { LocalMonitoring } from './report.js';
import type { DataScope } from '../auth/permissions.js';

const H = 3_600_000;
/** Midnight of a day at UTC+5, as an instant. */
const kzDay = (date: string) => Date.parse(`${date}T00:00:00+05:00`);
const NOW = kzDay('2026-03-31') + 12 * H;
const ALL: DataScope = { all: true, providerIds: [], regionKatos: [] };
const regions = loadRegions(join(import.meta.dirname, '..', '..', 'resources', 'regions')).regions;

let dir: string;
let db: OpenedDatabase;
let rowNo = 0;

function add(a: {
  provider: string;
  region: string;
  service?: string;
  status: string;
  decision?: string;
  at: number;
  dueAt?: number | null;
  step?: string | null;
}): void {
  rowNo++;
  db.sqlite
    .prepare(
      `INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name,
         applicant_name_norm, region_kato, locality, status, decision, current_step, submitted_at,
         status_changed_at, due_at, form_data, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'office', '900101300123', 'Test', 'test', ?, 'X', ?, ?, ?, ?, ?, ?, '{}', ?, ?)`,
    )
    .run(
      `app-${rowNo}`,
      `${rowNo}-01-01-26`,
      a.provider,
      a.service ?? 'svc-a',
      a.region,
      a.status,
      a.decision ?? 'none',
      a.step ?? null,
      a.at,
      a.at,
      a.dueAt ?? null,
      a.at,
      a.at,
    );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-monitoring-'));
  db = await openDatabase(join(dir, 'local.db'), { backupEveryMs: 0 });
  const s = db.sqlite;
  for (const [kato, name] of [
    ['110000000', 'Akmola'],
    ['710000000', 'Astana'],
  ] as const)
    s.prepare('INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?)').run(kato, name, name, name);
  const provider = s.prepare(
    `INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'X', 'X', 'X', 0)`,
  );
  provider.run('p-akmola', '000000000011', 'A', 'A', 'A', '110000000');
  provider.run('p-astana', '000000000022', 'B', 'B', 'B', '710000000');

  const mid = kzDay('2026-03-10') + 10 * H;
  // Akmola's provider: one of each column, two positives, one of another service.
  add({ provider: 'p-akmola', region: '110000000', status: 'received', at: mid, dueAt: NOW - H, step: 'assign' });
  add({ provider: 'p-akmola', region: '110000000', status: 'in_processing', at: mid, dueAt: NOW - H, step: 'review' });
  add({ provider: 'p-akmola', region: '110000000', status: 'in_processing', at: mid, dueAt: NOW + H, step: 'review' });
  add({ provider: 'p-akmola', region: '110000000', status: 'on_signing', at: mid, dueAt: NOW + H, step: 'sign' });
  add({ provider: 'p-akmola', region: '110000000', status: 'completed', decision: 'positive', at: mid });
  add({ provider: 'p-akmola', region: '110000000', status: 'completed', decision: 'positive', at: mid });
  add({ provider: 'p-akmola', region: '110000000', status: 'completed', decision: 'negative', at: mid });
  add({ provider: 'p-akmola', region: '110000000', status: 'completed_with_error', at: mid });
  add({ provider: 'p-akmola', region: '110000000', status: 'external_processing', at: mid });
  add({ provider: 'p-akmola', region: '110000000', service: 'svc-b', status: 'received', at: mid });
  // Astana's provider: an applicant from Akmola region counts in Akmola's row.
  add({ provider: 'p-astana', region: '710000000', status: 'completed', decision: 'negative', at: mid });
  add({ provider: 'p-astana', region: '110000000', status: 'received', at: mid, dueAt: NOW - H, step: 'assign' });
  // The period's edges (2026-03-01 .. 2026-03-31 at UTC+5): first and last instants in, the next ones out.
  add({ provider: 'p-astana', region: '710000000', status: 'received', at: kzDay('2026-03-01') });
  add({ provider: 'p-astana', region: '710000000', status: 'received', at: kzDay('2026-04-01') - 1 });
  add({ provider: 'p-astana', region: '710000000', status: 'received', at: kzDay('2026-03-01') - 1 });
  add({ provider: 'p-astana', region: '710000000', status: 'received', at: kzDay('2026-04-01') });
  // Moved later (the count table follows updates): from received to completed positive.
  add({ provider: 'p-astana', region: '710000000', status: 'received', at: mid });
  s.prepare("UPDATE applications SET status = 'completed', decision = 'positive' WHERE id = ?").run(`app-${rowNo}`);
});

afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const MARCH = { from: '2026-03-01', to: '2026-03-31' };

describe.each([
  ['counts (migration 0008)', false],
  ['plain query', true],
])('monitoring report: %s', (_label, plain) => {
  const monitoring = () => new LocalMonitoring(db.sqlite, { regions, utcOffsetMinutes: 300, now: () => NOW, plain });

  it('counts each application in its column by status and decision, per region, with totals', () => {
    const r = monitoring().report(MARCH, ALL);
    expect(r.reach).toBe('country');
    // Every region of the classifier has a row country-wide: 20 of them.
    expect(r.rows).toHaveLength(20);
    const akmola = r.rows.find((x) => x.kato === '110000000')!;
    expect(akmola.name?.ru).toBe('Акмолинская область');
    expect(akmola.counts).toEqual({
      received: 3,
      inProcessing: 2,
      onSigning: 1,
      positive: 2,
      negative: 2,
      transferred: 1,
    });
    expect(akmola.total).toBe(11);
    const astana = r.rows.find((x) => x.kato === '710000000')!;
    expect(astana.counts).toEqual({
      received: 2,
      inProcessing: 0,
      onSigning: 0,
      positive: 1,
      negative: 1,
      transferred: 0,
    });
    expect(r.totals).toEqual({
      counts: { received: 5, inProcessing: 2, onSigning: 1, positive: 3, negative: 3, transferred: 1 },
      total: 15,
    });
    expect(r.rows.find((x) => x.kato === '620000000')!.total).toBe(0);
  });

  it('takes both days of the period whole (days of UTC+5) and nothing outside', () => {
    const firstDay = monitoring().report({ from: '2026-03-01', to: '2026-03-01' }, ALL);
    expect(firstDay.totals.total).toBe(1);
    const lastDay = monitoring().report({ from: '2026-03-31', to: '2026-03-31' }, ALL);
    expect(lastDay.totals.total).toBe(1);
    const around = monitoring().report({ from: '2026-02-28', to: '2026-04-01' }, ALL);
    expect(around.totals.total).toBe(17);
  });

  it('filters by service', () => {
    const r = monitoring().report({ ...MARCH, serviceCode: 'svc-b' }, ALL);
    expect(r.totals.total).toBe(1);
    expect(r.totals.counts.received).toBe(1);
    expect(r.serviceCode).toBe('svc-b');
  });

  it('counts overdue open applications per step', () => {
    const r = monitoring().report(MARCH, ALL);
    expect(r.overdue).toEqual([
      { serviceCode: 'svc-a', step: 'assign', count: 2 },
      { serviceCode: 'svc-a', step: 'review', count: 1 },
    ]);
  });

  it("attack: a head asks for the country's figures — only their provider's applications are counted", () => {
    const r = monitoring().report(MARCH, { all: false, providerIds: ['p-astana'], regionKatos: [] });
    expect(r.reach).toBe('provider');
    // Only regions with the provider's applications: Akmola (one applicant) and Astana.
    expect(r.rows.map((x) => [x.kato, x.total])).toEqual([
      ['110000000', 1],
      ['710000000', 4],
    ]);
    expect(r.totals.total).toBe(5);
    expect(r.overdue).toEqual([{ serviceCode: 'svc-a', step: 'assign', count: 1 }]);
  });

  it("a regional monitoring officer sees the applications of their region's applicants", () => {
    const r = monitoring().report(MARCH, { all: false, providerIds: [], regionKatos: ['110000000'] });
    expect(r.reach).toBe('region');
    expect(r.rows.map((x) => [x.kato, x.total])).toEqual([['110000000', 11]]);
  });
});

it('the report states when its data was current: the last pull (null before any sync)', () => {
  const m = new LocalMonitoring(db.sqlite, { regions, utcOffsetMinutes: 300, now: () => NOW });
  expect(m.report(MARCH, ALL).dataAt).toBeNull();
  db.sqlite.prepare("INSERT INTO sync_state (partition, last_pull_at) VALUES ('provider:p-akmola', ?)").run(NOW - H);
  expect(m.report(MARCH, ALL).dataAt).toBe(NOW - H);
  db.sqlite.prepare('DELETE FROM sync_state').run();
});

describe('a figure opens the journal filtered to it', () => {
  it('lists exactly the applications a figure counts (region, column, period), within the scope', async () => {
    const { Journal } = await import('../journal/journal.js');
    const { journalHandlers } = await import('../journal/handlers.js');
    const journal = new Journal(db.sqlite, (code) => ({ kk: code, ru: code, en: code }), { now: () => NOW });
    const report = new LocalMonitoring(db.sqlite, { regions, utcOffsetMinutes: 300, now: () => NOW }).report(
      MARCH,
      ALL,
    );
    const list = (scope: DataScope, q: Record<string, unknown>) =>
      journalHandlers(journal, () => scope)['journal.list'](
        {
          page: 0,
          pageSize: 100,
          sort: 'submittedAt',
          direction: 'desc',
          dateFrom: MARCH.from,
          dateTo: MARCH.to,
          ...q,
        },
        {} as never,
      ) as { total: number; rows: { status: string; decision: string }[] };
    const akmola = report.rows.find((r) => r.kato === '110000000')!;
    const negative = list(ALL, { regionKato: '110000000', reportColumn: 'negative' });
    expect(negative.total).toBe(akmola.counts.negative);
    expect(negative.rows.map((r) => r.status).sort()).toEqual(['completed', 'completed_with_error']);
    expect(list(ALL, { regionKato: '110000000', reportColumn: 'received' }).total).toBe(akmola.counts.received);
    // A head of Astana's provider: the Akmola applicant theirs, none of Akmola's provider.
    const head: DataScope = { all: false, providerIds: ['p-astana'], regionKatos: [] };
    expect(list(head, { regionKato: '110000000', reportColumn: 'received' }).total).toBe(1);
  });
});
