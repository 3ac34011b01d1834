/**
 * One export of bench/export.ts, in its own process so that its peak RSS is
 * its own, bundled by esbuild and run by plain Node as the app's main process
 * is: `node dist/bench/export-child.cjs <db> <xlsx|csv> <out file>` prints
 * `figures {"seconds":…,"rows":…,"peakRssMb":…}`.
 *  - xlsx: the app's journal export (JournalExporter → writeSheet) of every
 *    application, country-wide (all columns);
 *  - csv: the same rows from the same Journal written as CSV by a plain stream.
 */
import { createWriteStream } from 'node:fs';
import Database from 'better-sqlite3';
import { Journal } from '#main/journal/journal.js';
import { JournalExporter } from '#main/export/journal-export.js';
import { exportLabels } from '#main/export/testing.js';

const [dbPath, mode, outFile] = process.argv.slice(2) as [string, 'xlsx' | 'csv', string];
const sqlite = new Database(dbPath, { readonly: true });
const journal = new Journal(sqlite, (code) => ({ kk: code, ru: code, en: code }), {
  daysWaiting: (from, now) => Math.floor((now - from) / 86_400_000),
});
const query = { sort: 'submittedAt', direction: 'desc' } as const;

async function csv(): Promise<number> {
  const out = createWriteStream(outFile);
  let rows = 0;
  const cell = (v: unknown) => (v === null || v === undefined ? '' : `"${String(v).replace(/"/g, '""')}"`);
  for (const chunk of journal.exportRows(query, null).chunks) {
    let text = '';
    for (const r of chunk) {
      text +=
        [
          r.number,
          r.serviceName.ru,
          r.applicantIin,
          r.applicantName,
          new Date(r.submittedAt).toISOString(),
          r.status,
          r.decision,
          r.responsibleName,
          r.portalNumber,
          r.daysWaiting,
          r.dueAt === null ? null : new Date(r.dueAt).toISOString(),
          r.providerBin,
          r.locality,
        ]
          .map(cell)
          .join(',') + '\n';
      rows++;
    }
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return rows;
}

async function xlsx(): Promise<number> {
  const exporter = new JournalExporter({ journal });
  const started = await exporter.start({ query, language: 'ru', labels: exportLabels('ru'), path: outFile }, 'bench', {
    sql: { sql: '1 = 1', params: {} },
    wide: true,
  });
  const done = await exporter.settled(started.exportId);
  if (done?.state !== 'done') throw new Error(`export ${done?.state}: ${JSON.stringify(done?.error)}`);
  return done.rows;
}

async function main(): Promise<void> {
  const t = performance.now();
  const rows = mode === 'xlsx' ? await xlsx() : await csv();
  const seconds = (performance.now() - t) / 1000;
  sqlite.close();
  // maxRSS: the peak resident set of this process, in KiB.
  const peakRssMb = (process.resourceUsage().maxRSS * 1024) / 1e6;
  console.log(`figures ${JSON.stringify({ seconds, rows, peakRssMb })}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
