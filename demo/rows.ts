/**
 * The demo as plain rows: regions, providers, staff with roles, and any
 * number of applications (with their `received` events when asked) spread
 * over the last ~18 months, deterministic for a seed and a `now`. No
 * database here: the workstation writes the rows into its SQLite database
 * (generate.ts), the central server into PostgreSQL (server/src/seed.ts),
 * and both hold the same data for the same options.
 *
 * Services, their channels, steps, step limits and refusal reasons come from
 * the service catalogue (`options.services`); the step of each status from
 * the workflow's step plan.
 */
import { WorkingDayCalendar } from '#core/calendar/workdays.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { ApplicationMaker, type DemoApplication } from './applications.js';
import { Rng } from './random.js';
import { planServices } from './services.js';
import { makeDirectory, type DemoDirectory } from './staff.js';
import { DAY, MINUTE, submissionTimes } from './time.js';

export type { DemoApplication } from './applications.js';
export type { DemoDirectory, ProviderRow, RegionRow, StaffRow, UserRow } from './staff.js';

export interface DemoOptions {
  /** How many applications to make. */
  applications: number;
  /**
   * The service catalogue (`loadCatalogue(...).services`): channels, steps with
   * their limits and refusal reasons. Services the demo has no profile for
   * (form data, volumes) are left out; at least one must have one.
   */
  services: readonly ServiceDefinition[];
  /** PRNG seed; the same seed, `now` and `services` give the same rows. Default 1. */
  seed?: number;
  /** "Now" in ms; applications are submitted before it. Default Date.now() (pass it for determinism). */
  now?: number;
  /**
   * One `received` event per application (slower; the real hash chain belongs to
   * the journal). Default false. The event's actor is drawn from the same
   * stream, so the other rows differ with and without events.
   */
  events?: boolean;
  /** Working days for the deadlines (resources/calendars); default weekends only, UTC+5. */
  calendar?: WorkingDayCalendar;
}

export interface DemoRows {
  now: number;
  /** When the directory was set up: its rows' creation time where a table keeps one. */
  directorySince: number;
  directory: DemoDirectory;
  /** How many applications `applications` yields. */
  count: number;
  /** The applications in submission order, each made when it is read; read once. */
  applications: Iterable<DemoApplication>;
}

/** The demo's rows; throws when the catalogue has no service the demo knows. */
export function demoRows(options: DemoOptions): DemoRows {
  const count = Math.max(0, Math.floor(options.applications));
  const seed = options.seed ?? 1;
  const now = options.now ?? Date.now();
  const plans = planServices(options.services);

  // One stream for everything but the form data, drawn in this order: directory, submission times, applications.
  const rng = new Rng(seed);
  const formRng = new Rng((seed ^ 0x5f3759df) >>> 0);
  const { directory, providers, operatorIds } = makeDirectory(rng, now);
  const times = submissionTimes(rng, count, now);
  const maker = new ApplicationMaker({
    rng,
    formRng,
    now,
    calendar: options.calendar ?? new WorkingDayCalendar(),
    plans,
    providers,
    operatorIds,
    events: options.events ?? false,
  });
  function* applications(): Generator<DemoApplication> {
    for (let i = 0; i < count; i++) yield maker.make(i, times[i] ?? now - MINUTE);
  }
  return { now, directorySince: now - 400 * DAY, directory, count, applications: applications() };
}
