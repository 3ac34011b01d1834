/**
 * `npm run bench [-- --applications N --runs R]`: the project's measured
 * figures, each with a baseline measured in the same run. Prints
 * `name: value unit (baseline: value, ratio: r)` and writes bench-results.json.
 * `--only auth`: the login figure alone, printed only (no fixture, no file).
 * `--only export`: the Excel figures alone, on their own fixture, printed only.
 * `--only monitoring`: the monitoring report alone, on the journal's fixture, printed only.
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { Report, timeMedian } from '#bench/report.js';
import { benchJournal } from '#bench/journal.js';
import { benchAuth } from '#bench/auth.js';
import { benchMonitoring } from '#bench/monitoring.js';
import { benchSigning } from '#bench/signing.js';
import { benchExport } from '#bench/export.js';
import { benchSync } from './bench-sync.js';
import { openDatabase } from '#db/connection.js';
import { generateDemo } from '#demo/generate.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { ROOT } from './harness.js';

const { values } = parseArgs({
  options: {
    applications: { type: 'string', default: '100000' },
    runs: { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});
const applications = Number(values.applications);
const runs = Number(values.runs);
const report = new Report();
if (values.only === 'export') {
  // The Excel figures alone (bench/export.ts): their own fixture, printed only (no file).
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-bench-'));
  try {
    const path = join(dir, 'bench.db');
    const fixture = await openDatabase(path, { backupEveryMs: 0 });
    generateDemo(fixture.sqlite, {
      applications,
      seed: 42,
      now: Date.UTC(2026, 10, 1),
      services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
    });
    fixture.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    fixture.close();
    await benchExport(report, path, dir, runs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}
if (values.only !== undefined) {
  if (values.only === 'monitoring') {
    // The journal's fixture (QYZMET_BENCH_JOURNAL_DB keeps it) and the report over it; printed only.
    const only = mkdtempSync(join(tmpdir(), 'qyzmet-bench-'));
    try {
      await benchMonitoring(report, only, runs);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
    process.exit(0);
  }
  if (values.only !== 'auth') throw new Error(`--only: auth, export or monitoring run alone, not ${values.only}`);
  await benchAuth(report, runs);
  process.exit(0);
}
const dir = mkdtempSync(join(tmpdir(), 'qyzmet-bench-'));

try {
  // A database of `applications` applications at the current schema.
  const path = join(dir, 'bench.db');
  const t0 = performance.now();
  const fixture = await openDatabase(path, { backupEveryMs: 0 });
  generateDemo(fixture.sqlite, {
    applications,
    seed: 42,
    now: Date.UTC(2026, 10, 1),
    services: loadCatalogue(join(ROOT, 'resources', 'services')).services,
  });
  fixture.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  fixture.close();
  const mb = statSync(path).size / 1e6;
  console.log(
    `# fixture: ${applications} applications, ${mb.toFixed(1)} MB, built in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );

  // A copy two migrations behind: a start after an upgrade (backup + migrations).
  const behind = join(dir, 'behind.db');
  copyFileSync(path, behind);
  const b = new Database(behind);
  b.exec(
    'DELETE FROM __drizzle_migrations WHERE created_at IN (SELECT created_at FROM __drizzle_migrations ORDER BY created_at DESC LIMIT 2)',
  );
  // Undo what the two newest migrations changed: 0008's monitoring counts, their triggers and index; 0007's
  // user keys table.
  b.exec(`DROP TABLE monitoring_counts;
    DROP TRIGGER applications_monitoring_ai;
    DROP TRIGGER applications_monitoring_ad;
    DROP TRIGGER applications_monitoring_au;
    DROP INDEX applications_monitoring_due_idx;
    DROP TABLE sync_user_keys;`);
  b.close();

  const baseline = await timeMedian(runs, () => {
    const s = new Database(path);
    s.pragma('journal_mode = WAL');
    s.pragma('synchronous = FULL');
    s.pragma('foreign_keys = ON');
    s.prepare('SELECT count(*) FROM applications WHERE id = ?').get('x');
    s.close();
  });

  // A start after a clean close: quick integrity check, pending-migration check (none pending).
  const openAndMigrate = await timeMedian(runs, async () => {
    const o = await openDatabase(path, { backupEveryMs: 0 });
    if (o.integrity !== 'quick') throw new Error('expected the quick check after a clean close');
    o.close();
  });
  report.add('db.open_and_migrate_ms', openAndMigrate, 'ms', baseline);

  // A start after a crash (or the weekly one): the full integrity check.
  const fullCheck = await timeMedian(runs, async () => {
    const o = await openDatabase(path, { backupEveryMs: 0, integrity: 'full' });
    o.close();
  });
  report.add('db.open_full_check_ms', fullCheck, 'ms', baseline);

  // A start after an upgrade: integrity check, online backup, migration.
  const upgrade = await timeMedian(runs, async () => {
    const copy = join(dir, `up-${Math.random().toString(36).slice(2)}.db`);
    copyFileSync(behind, copy);
    const t = performance.now();
    const o = await openDatabase(copy, { backupDir: join(dir, 'backups') });
    const took = performance.now() - t;
    o.close();
    rmSync(copy);
    rmSync(join(dir, 'backups'), { recursive: true, force: true });
    return took;
  });
  report.add('db.open_backup_and_migrate_ms', upgrade, 'ms', baseline);

  await benchSigning(report, dir, runs);
  await benchJournal(report, dir, runs);
  await benchMonitoring(report, dir, runs);
  await benchExport(report, path, dir, runs);
  await benchSync(report, dir);
  await benchAuth(report, runs);

  report.write(join(ROOT, 'bench-results.json'));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
