/**
 * monitoring.report_ms: the monitoring report (main/monitoring/report.ts)
 * over one year at 1,000,000 demo applications, country-wide (every
 * application of the database in scope), median of runs; the demo head's
 * office (one provider) is printed beside it. Baseline: the same report as
 * plain grouped statements over the applications, on the copy without the
 * project's indexes and without migration 0008's count table in use
 * (bench/journal.ts baselineCopy).
 *
 * The fixture is the journal's (bench/journal.ts journalFixture;
 * QYZMET_BENCH_JOURNAL_DB keeps it between runs).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { loadRegions } from '#core/node/region-loader.js';
import { LocalMonitoring } from '#main/monitoring/report.js';
import type { DataScope } from '#main/auth/permissions.js';
import { baselineCopy, journalFixture } from './journal.js';
import { median, type Report } from './report.js';

const NOW = Date.UTC(2026, 10, 1);
const YEAR = { from: '2025-11-01', to: '2026-10-31' };
const ROOT = join(import.meta.dirname, '..');
const ALL: DataScope = { all: true, providerIds: [], regionKatos: [] };

function time(monitoring: LocalMonitoring, scope: DataScope, runs: number): { ms: number; total: number } {
  let total = monitoring.report(YEAR, scope).totals.total; // warm-up
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    total = monitoring.report(YEAR, scope).totals.total;
    samples.push(performance.now() - t);
  }
  return { ms: median(samples), total };
}

export async function benchMonitoring(report: Report, dir: string, runs: number): Promise<void> {
  const path = process.env.QYZMET_BENCH_JOURNAL_DB ?? join(dir, 'journal-1m.db');
  await journalFixture(path, dir);
  const base = join(dir, 'journal-1m-baseline.db');
  if (!existsSync(base)) baselineCopy(path, base);
  const regions = loadRegions(join(ROOT, 'resources', 'regions')).regions;
  const options = { regions, utcOffsetMinutes: 300, now: () => NOW };

  const sqlite = new Database(path, { readonly: true });
  const provider = sqlite
    .prepare("SELECT provider_id FROM user_roles WHERE role = 'head' AND provider_id <> '' ORDER BY user_id LIMIT 1")
    .pluck()
    .get() as string;
  const head: DataScope = { all: false, providerIds: [provider], regionKatos: [] };
  const fast = new LocalMonitoring(sqlite, options);
  const country = time(fast, ALL, Math.max(runs, 5));
  const office = time(fast, head, Math.max(runs, 5));
  sqlite.close();

  const baseSqlite = new Database(base, { readonly: true });
  const plain = new LocalMonitoring(baseSqlite, { ...options, plain: true });
  const baseCountry = time(plain, ALL, Math.max(1, Math.min(runs, 3)));
  const baseOffice = time(plain, head, Math.max(1, Math.min(runs, 3)));
  baseSqlite.close();
  if (baseCountry.total !== country.total || baseOffice.total !== office.total) {
    throw new Error(
      `bench: the report's totals differ from the plain query's (${country.total} vs ${baseCountry.total})`,
    );
  }
  console.log(
    `# monitoring: one year, ${country.total} applications country-wide ${country.ms.toFixed(1)} ms (plain ${baseCountry.ms.toFixed(0)} ms); ` +
      `${provider}'s ${office.total}: ${office.ms.toFixed(1)} ms (plain ${baseOffice.ms.toFixed(0)} ms)`,
  );
  report.add('monitoring.report_ms', country.ms, 'ms', baseCountry.ms);
}
