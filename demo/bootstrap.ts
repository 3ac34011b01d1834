/**
 * The demo start of a workstation: an empty database filled with demo
 * applications, the first sync from a central server that holds the demo, the
 * demo users' passwords, and the demo head's key file with a demo CA trusted
 * in this data folder only. Never run in a real install.
 *
 * What belongs to the workstation's own services (enrolling through its sync
 * engine, setting passwords by its login rules) the caller passes in as
 * callbacks: the demo does not depend on the main process.
 */
import type Database from 'better-sqlite3';
import { eq } from 'drizzle-orm';
import type { Db } from '#db/connection.js';
import { providers, userRoles } from '#db/schema.js';
import { DEMO_HEAD, DEMO_USERS, generateDemo, type GenerateDemoOptions } from './generate.js';
import { ensureDemoKit } from './kit.js';

type Log = (message: string) => void;

export interface DemoFill {
  /** How many demo applications an empty database gets (0: none). */
  applications: number;
  seed: number;
  now: number;
  services: GenerateDemoOptions['services'];
  calendar: GenerateDemoOptions['calendar'];
}

/** Fills an empty database with demo applications; one that holds any application is left as it is. */
export function fillDemoDatabase(sqlite: Database.Database, fill: DemoFill, log: Log): void {
  if (fill.applications <= 0) return;
  // One row looked at, not a count of them all (a million rows take a tenth of a second to count).
  const empty = sqlite.prepare('SELECT 1 FROM applications LIMIT 1').get() === undefined;
  if (!empty) return;
  const counts = generateDemo(sqlite, {
    applications: fill.applications,
    seed: fill.seed,
    now: fill.now,
    services: fill.services,
    ...(fill.calendar ? { calendar: fill.calendar } : {}),
  });
  log(`demo: ${counts.applications} applications`);
}

export interface DemoStart {
  db: Db;
  dataDir: string;
  now: () => number;
  log: Log;
  /** Enrol in this office and take the first sync (the workstation's sync engine); absent: not asked for. */
  enrolment?: { providerId: string; enrolAndSync: () => Promise<void> };
  /** The demo start proper: passwords and key file (false: only the enrolment was asked for). */
  demoMode: boolean;
  /** Whether the database may be written now (its integrity check has not failed). */
  writable: () => boolean;
  /** Gives the demo users that have no password the demo one (by the workstation's rules); returns how many. */
  setPasswords: (now: number) => number;
}

/** After the database is open and before the signer starts (it trusts the demo CA this writes). */
export async function startDemo(o: DemoStart): Promise<void> {
  if (o.enrolment) {
    try {
      await o.enrolment.enrolAndSync();
      o.log(`demo: enrolled in ${o.enrolment.providerId} and took the first sync`);
    } catch (err) {
      o.log(`demo: could not enrol with the central server: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (!o.demoMode) return;
  // The demo users log in with the demo password, offline too.
  if (o.writable() && o.setPasswords(o.now()) > 0) o.log('demo: the demo users log in with the demo password');

  // The demo start can sign too: a demo CA trusted in this data folder only, and the demo head's key file,
  // in the name of her provider when the data has come.
  const org = o.db
    .select({ bin: providers.bin, name: providers.nameRu })
    .from(userRoles)
    .innerJoin(providers, eq(providers.id, userRoles.providerId))
    .where(eq(userRoles.userId, DEMO_USERS.head.id))
    .limit(1)
    .get();
  const kit = await ensureDemoKit(o.dataDir, {
    ...DEMO_HEAD,
    ...(org ? { bin: org.bin, organisation: org.name } : {}),
  });
  if (kit.created)
    o.log(`demo: key file ${kit.keyFile} (password "${kit.password}"), trusted in this data folder only`);
}
