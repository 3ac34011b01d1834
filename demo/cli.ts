/**
 * Fill a local database with demo data:
 *
 *   tsx demo/cli.ts <file.db> [--applications N] [--seed S] [--now ISO-date] [--events]
 *
 * The file is created and migrated by openDatabase; it must not hold
 * providers, users or applications yet. Services (channels, steps, limits,
 * refusal reasons) come from the catalogue in resources/services. Writes with synchronous=OFF (demo data
 * can be regenerated) and restores the connection's setting afterwards.
 */
import { fileURLToPath } from 'node:url';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { openDatabase } from '#db/connection.js';
import { generateDemo } from './generate.js';

/** The service catalogue, relative to the repository root (this file is demo/cli.ts). */
const CATALOGUE_DIR = fileURLToPath(new URL('../resources/services', import.meta.url));

interface CliArgs {
  file: string;
  applications: number;
  seed: number;
  now: number | undefined;
  events: boolean;
}

const USAGE = 'usage: tsx demo/cli.ts <file.db> [--applications N] [--seed S] [--now ISO-date] [--events]';

function parseArgs(argv: readonly string[]): CliArgs {
  let file: string | undefined;
  let applications = 10_000;
  let seed = 1;
  let now: number | undefined;
  let events = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value\n${USAGE}`);
      return v;
    };
    const integer = (v: string): number => {
      const n = Number(v.replace(/_/g, ''));
      if (!Number.isInteger(n) || n < 0) throw new Error(`${arg}: not a non-negative integer: ${v}`);
      return n;
    };
    if (arg === '--applications' || arg === '-n') applications = integer(value());
    else if (arg === '--seed') seed = integer(value());
    else if (arg === '--now') {
      const v = value();
      now = Date.parse(v);
      if (Number.isNaN(now)) throw new Error(`--now: not a date: ${v}`);
    } else if (arg === '--events') events = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else if (file === undefined) file = arg;
    else throw new Error(`unexpected argument ${arg}\n${USAGE}`);
  }
  if (file === undefined) throw new Error(USAGE);
  return { file, applications, seed, now, events };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const catalogue = loadCatalogue(CATALOGUE_DIR);
  for (const p of catalogue.problems) console.error(`catalogue: ${p.file}: ${p.field}: ${p.message}`);
  if (catalogue.services.length === 0) throw new Error(`no valid service definitions in ${CATALOGUE_DIR}`);
  const opened = await openDatabase(args.file);
  try {
    const previous = opened.sqlite.pragma('synchronous', { simple: true }) as number;
    opened.sqlite.pragma('synchronous = OFF');
    let lastReport = 0;
    const result = generateDemo(opened.sqlite, {
      applications: args.applications,
      services: catalogue.services,
      seed: args.seed,
      now: args.now,
      events: args.events,
      onProgress: (done, total) => {
        if (done === total || done - lastReport >= 100_000) {
          lastReport = done;
          process.stderr.write(`  ${done.toLocaleString('en')} / ${total.toLocaleString('en')} applications\n`);
        }
      },
    });
    opened.sqlite.pragma(`synchronous = ${previous}`);
    opened.sqlite.pragma('optimize');
    console.log(
      `${args.file}: ${result.regions} regions, ${result.providers} providers, ${result.users} users, ` +
        `${result.applications} applications, ${result.events} events in ${(result.ms / 1000).toFixed(1)} s`,
    );
    console.log(`by status: ${JSON.stringify(result.byStatus)}`);
    console.log(
      'demo logins: head.demo, clerk.demo, executor.demo, operator.demo, monitoring.demo, admin.demo (no passwords set)',
    );
  } finally {
    opened.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
