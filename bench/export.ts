/**
 * The Excel figures of `npm run bench` (alone: `npm run bench -- --only export`):
 *  - export.xlsx_100k_s: the journal export (main/export) of every application
 *    of the 100,000-application fixture to .xlsx, median of the runs; baseline:
 *    the same rows written as CSV by a plain stream. Goal ≤ 3 s.
 *  - export.xlsx_100k_peak_rss_mb: the peak RSS of the process doing that
 *    export; baseline: the same for the CSV. Goal ≤ 200 MB.
 * Each export runs in a child process (bench/export-child.ts, bundled by
 * esbuild as scripts/build.mjs bundles main, under plain Node), so its RSS is
 * its own and neither the fixture's build nor the TypeScript loader counts.
 */
import { spawn } from 'node:child_process';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForNode } from './bundle.js';
import { median, type Report } from './report.js';

interface Figures {
  seconds: number;
  rows: number;
  peakRssMb: number;
}

const ROOT = join(import.meta.dirname, '..');

function bundleChild(): Promise<string> {
  return bundleForNode('bench/export-child.ts', 'export-child', ['better-sqlite3']);
}

function runChild(bundle: string, db: string, mode: 'xlsx' | 'csv', out: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, db, mode, out], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let text = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => (text += chunk));
    child.once('exit', (code) => {
      const m = /^figures (.*)$/m.exec(text);
      if (code === 0 && m) resolve(JSON.parse(m[1]!) as Figures);
      else reject(new Error(`bench export (${mode}) failed (${code}):\n${text}`));
    });
  });
}

/** `fixture`: the bench's database (scripts/bench.ts builds it); `dir`: where the files go. */
export async function benchExport(report: Report, fixture: string, dir: string, runs: number): Promise<void> {
  const times = Math.max(1, Math.min(runs, 3));
  const bundle = await bundleChild();
  const xlsx: Figures[] = [];
  const csv: Figures[] = [];
  for (let i = 0; i < times; i++) {
    const x = join(dir, `export-${i}.xlsx`);
    const c = join(dir, `export-${i}.csv`);
    xlsx.push(await runChild(bundle, fixture, 'xlsx', x));
    csv.push(await runChild(bundle, fixture, 'csv', c));
    if (i === 0) {
      console.log(
        `# export: ${xlsx[0]!.rows} rows, xlsx ${(statSync(x).size / 1e6).toFixed(1)} MB, csv ${(statSync(c).size / 1e6).toFixed(1)} MB`,
      );
    }
    rmSync(x, { force: true });
    rmSync(c, { force: true });
  }
  if (xlsx.some((f) => f.rows !== csv[0]!.rows)) throw new Error('bench export: the xlsx and csv row counts differ');
  report.add('export.xlsx_100k_s', median(xlsx.map((f) => f.seconds)), 's', median(csv.map((f) => f.seconds)));
  report.add(
    'export.xlsx_100k_peak_rss_mb',
    Math.max(...xlsx.map((f) => f.peakRssMb)),
    'MB',
    Math.max(...csv.map((f) => f.peakRssMb)),
  );
}
