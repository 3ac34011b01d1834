/**
 * Opening the local database: pragmas, integrity check, an online backup
 * before pending migrations (and once a day), then the migrations that
 * drizzle-kit generated in db/migrations.
 *
 * The check runs before openDatabase returns (`check: 'start'`, the default),
 * or, for the app's start (`check: 'background'`), in a worker thread on a
 * read-only connection of its own after the database has opened, so that a
 * large journal does not hold the start up: the pragmas, the backup before
 * pending migrations and the migrations come first, the check (and the daily
 * backup, taken only of a sound file) after. A failed background check makes
 * the connection read-only (`query_only`) and reports the same
 * DatabaseIntegrityError the start would have thrown; see `OpenedDatabase.check`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';
import { runCheckInWorker, type RunningCheck } from './check.js';
import { integrityProblems, type IntegrityMode } from './integrity.js';

export type { IntegrityMode } from './integrity.js';

export type Db = BetterSQLite3Database<typeof schema>;

/** db/migrations beside this file (source tree); a bundled build passes its own folder. */
export function defaultMigrationsFolder(): string {
  return join(dirname(fileURLToPath(import.meta.url)), 'migrations');
}

export interface OpenOptions {
  /** Folder of drizzle-kit's migrations (db/migrations; copied beside the bundle when packaged). */
  migrationsFolder?: string;
  /** Where backups go; default: a `backups` folder beside the database. */
  backupDir?: string;
  /** How many backups to keep (oldest removed first). */
  keepBackups?: number;
  /** Take a backup at start when the newest one is older than this (ms); 0 turns it off. */
  backupEveryMs?: number;
  /** Force the full or the quick integrity check; default: chooseIntegrityCheck. */
  integrity?: IntegrityMode;
  /** A full check at least this often (ms), even after clean shutdowns. */
  fullCheckEveryMs?: number;
  /**
   * When the integrity check runs: 'start' (default) before openDatabase
   * returns, a damaged file throwing DatabaseIntegrityError; 'background' in a
   * worker thread after the database has opened (see `OpenedDatabase.check`).
   */
  check?: CheckWhen;
  /** How long after the start a background check begins (ms; default 0). */
  checkDelayMs?: number;
  /** The background check's worker script (default: db/check.ts `defaultCheckWorkerScript()`). */
  checkWorker?: URL;
  now?: () => number;
}

export type CheckWhen = 'start' | 'background';

/** Where the integrity check stands. */
export type IntegrityState =
  | { state: 'running'; mode: IntegrityMode }
  | {
      state: 'ok';
      mode: IntegrityMode;
      /** How long the check took (ms; 0 for a new file, which is not checked). */
      ms: number;
      /** The daily backup taken after a background check passed, if one was due. */
      backupPath: string | null;
    }
  | { state: 'failed'; mode: IntegrityMode; error: DatabaseIntegrityError };

export interface IntegrityCheck {
  readonly mode: IntegrityMode;
  readonly when: CheckWhen;
  /** The state now. */
  current(): IntegrityState;
  /** Settles (never rejects) when the check has passed or failed. */
  readonly done: Promise<IntegrityState>;
}

export interface OpenedDatabase {
  sqlite: Database.Database;
  db: Db;
  path: string;
  /** Names of the migrations applied by this start. */
  applied: string[];
  /** The backup this start took, if it took one. */
  backupPath: string | null;
  /** Which integrity check this start runs (or ran). */
  integrity: IntegrityMode;
  /** The integrity check: already passed for `check: 'start'`, running in a worker for 'background'. */
  check: IntegrityCheck;
  close(): void;
}

/** The database failed its integrity check or is not a database at all; nothing was changed. */
export class DatabaseIntegrityError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
    readonly backupPath: string | null,
  ) {
    super(
      `The local database ${path} is damaged (${problems.slice(0, 3).join('; ')}). ` +
        (backupPath
          ? `The latest backup is ${backupPath}: close the app, move the damaged file away and copy the backup in its place.`
          : 'No backup of it exists yet.'),
    );
    this.name = 'DatabaseIntegrityError';
  }
}

interface JournalEntry {
  idx: number;
  when: number;
  tag: string;
}

function readJournal(folder: string): JournalEntry[] {
  const journal = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as {
    entries: JournalEntry[];
  };
  return journal.entries;
}

/** Migrations in the folder that this database has not applied yet (drizzle records `created_at` = the entry's `when`). */
export function pendingMigrations(sqlite: Database.Database, folder: string): string[] {
  const hasTable = sqlite
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '__drizzle_migrations'")
    .get();
  let last = -1;
  if (hasTable) {
    const row = sqlite.prepare('SELECT max(created_at) AS last FROM __drizzle_migrations').get() as {
      last: number | null;
    };
    last = row.last ?? -1;
  }
  return readJournal(folder)
    .filter((e) => e.when > last)
    .map((e) => e.tag);
}

export function backupsOf(dbPath: string, backupDir: string): string[] {
  if (!existsSync(backupDir)) return [];
  const prefix = basename(dbPath).replace(/\.[^.]+$/, '') + '-';
  return readdirSync(backupDir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.backup.db'))
    .sort()
    .map((f) => join(backupDir, f));
}

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

/** When a backup was taken, from its name (file times change when files are copied). */
export function backupTakenAt(file: string): number | null {
  const m = /-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-.+\.backup\.db$/.exec(file);
  if (!m) return null;
  const [, y, mo, d, h, mi, se] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, se!);
}

/**
 * The health record kept beside the data: when the last full integrity check
 * passed, and whether the last session closed the database cleanly. Kept in
 * its own table (created here, outside the migrations) so that it can be read
 * before migrations run.
 */
interface Health {
  lastFullCheckAt: number;
  open: boolean;
}

function readHealth(sqlite: Database.Database): Health | null {
  const exists = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'db_health'").get();
  if (!exists) return null;
  const row = sqlite.prepare('SELECT last_full_check_at AS lastFullCheckAt, open FROM db_health WHERE id = 1').get() as
    { lastFullCheckAt: number; open: number } | undefined;
  return row ? { lastFullCheckAt: row.lastFullCheckAt, open: row.open === 1 } : null;
}

function writeHealth(sqlite: Database.Database, health: Health): void {
  sqlite.exec(
    'CREATE TABLE IF NOT EXISTS db_health (id INTEGER PRIMARY KEY CHECK (id = 1), last_full_check_at INTEGER NOT NULL, open INTEGER NOT NULL)',
  );
  sqlite
    .prepare(
      'INSERT INTO db_health (id, last_full_check_at, open) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET last_full_check_at = excluded.last_full_check_at, open = excluded.open',
    )
    .run(health.lastFullCheckAt, health.open ? 1 : 0);
}

/**
 * Which check a start runs: the full `integrity_check` (every page, every
 * index entry) after a session that did not close cleanly (crash, power
 * loss, killed process), when the last full check is older than `fullEveryMs`,
 * or when there is no record; otherwise `quick_check` (every page and record,
 * without cross-checking index contents), which is several times faster on a
 * large journal.
 */
export function chooseIntegrityCheck(health: Health | null, now: number, fullEveryMs: number): IntegrityMode {
  if (!health || health.open || now - health.lastFullCheckAt > fullEveryMs) return 'full';
  return 'quick';
}

/** SQLite's codes for a file that is damaged or not a database at all. */
function isDamage(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

function backupFile(path: string, backupDir: string, at: number, reason: string): string {
  return join(backupDir, `${basename(path).replace(/\.[^.]+$/, '')}-${stamp(at)}-${reason}.backup.db`);
}

export async function openDatabase(path: string, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const now = options.now ?? Date.now;
  const when = options.check ?? 'start';
  const migrationsFolder = options.migrationsFolder ?? defaultMigrationsFolder();
  const backupDir = options.backupDir ?? join(dirname(path), 'backups');
  const keep = options.keepBackups ?? 5;
  const backupEveryMs = options.backupEveryMs ?? 24 * 3600 * 1000;
  mkdirSync(dirname(path), { recursive: true });
  const isNew = !existsSync(path) || statSync(path).size === 0;
  const latestBackup = (except: string | null = null) =>
    backupsOf(path, backupDir)
      .filter((b) => b !== except)
      .at(-1) ?? null;
  const damaged = (problems: string[], except: string | null = null) =>
    new DatabaseIntegrityError(path, problems, latestBackup(except));

  const fullCheckEveryMs = options.fullCheckEveryMs ?? 7 * 24 * 3600 * 1000;
  const openedAt = now();
  let sqlite: Database.Database;
  let problems: string[];
  let integrity: IntegrityMode;
  let lastFullCheckAt: number;
  let checkMs: number;
  try {
    sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    const health = readHealth(sqlite);
    integrity = options.integrity ?? chooseIntegrityCheck(health, openedAt, fullCheckEveryMs);
    lastFullCheckAt = health?.lastFullCheckAt ?? 0;
    const t = performance.now();
    problems = isNew || when === 'background' ? [] : integrityProblems(sqlite, integrity);
    checkMs = performance.now() - t;
    if (problems.length === 0) {
      // A background check records its full check when it has passed (below).
      if (integrity === 'full' && (when === 'start' || isNew)) lastFullCheckAt = openedAt;
      writeHealth(sqlite, { lastFullCheckAt, open: true });
    }
  } catch (err) {
    // "file is not a database", "database disk image is malformed", ...
    throw damaged([err instanceof Error ? err.message : String(err)]);
  }
  if (problems.length > 0) {
    sqlite.close();
    throw damaged(problems);
  }

  let backupPath: string | null = null;
  let dailyDue = false;
  let pending: string[];
  try {
    pending = pendingMigrations(sqlite, migrationsFolder);
    if (!isNew) {
      const newest = backupsOf(path, backupDir).at(-1);
      const takenAt = newest ? backupTakenAt(newest) : null;
      dailyDue = backupEveryMs > 0 && (takenAt === null || openedAt - takenAt > backupEveryMs);
      // The daily backup of a background check waits for the check: a copy of a damaged file is no backup.
      if (pending.length > 0 || (dailyDue && when === 'start')) {
        mkdirSync(backupDir, { recursive: true });
        backupPath = backupFile(path, backupDir, openedAt, pending.length > 0 ? `before-${pending[0]}` : 'daily');
        await sqlite.backup(backupPath);
        for (const old of backupsOf(path, backupDir).slice(0, -keep)) rmSync(old, { force: true });
        dailyDue = false;
      }
    }
    if (pending.length > 0) migrate(drizzle(sqlite, { schema }), { migrationsFolder });
  } catch (err) {
    if (!isDamage(err)) throw err;
    // Damage the background check has not looked at yet showed up on the way.
    sqlite.close();
    throw damaged([err instanceof Error ? err.message : String(err)], backupPath);
  }
  const db = drizzle(sqlite, { schema });

  // The check's state, and the worker running it in the background.
  let state: IntegrityState = { state: 'running', mode: integrity };
  let worker: RunningCheck | null = null;
  let closed = false;
  let done: Promise<IntegrityState>;
  if (isNew || when === 'start') {
    state = { state: 'ok', mode: integrity, ms: checkMs, backupPath: null };
    done = Promise.resolve(state);
  } else {
    let backupTo: string | null = null;
    if (dailyDue) {
      mkdirSync(backupDir, { recursive: true });
      // What an earlier start's background backup left when the app closed before it was whole.
      for (const f of readdirSync(backupDir))
        if (f.endsWith('.backup.db.partial')) rmSync(join(backupDir, f), { force: true });
      backupTo = backupFile(path, backupDir, openedAt, 'daily');
    }
    const running = runCheckInWorker({ path, mode: integrity, backupTo }, options.checkWorker, options.checkDelayMs);
    worker = running;
    done = running.reply
      .catch((err: unknown) => {
        if (closed) throw err;
        // The worker could not run (no script, a crash): check here instead, as the start used to.
        const t = performance.now();
        let found: string[];
        try {
          found = integrityProblems(sqlite, integrity);
        } catch (e) {
          found = [e instanceof Error ? e.message : String(e)];
        }
        return { problems: found, ms: performance.now() - t, backupPath: null, backupError: null };
      })
      .then((reply): IntegrityState => {
        if (reply.problems.length > 0) {
          // No further writes: every one fails with SQLITE_READONLY from here on.
          if (sqlite.open) sqlite.pragma('query_only = ON');
          state = { state: 'failed', mode: integrity, error: damaged(reply.problems, backupPath) };
          return state;
        }
        if (reply.backupPath)
          for (const old of backupsOf(path, backupDir).slice(0, -keep)) rmSync(old, { force: true });
        if (integrity === 'full' && sqlite.open) {
          lastFullCheckAt = openedAt;
          writeHealth(sqlite, { lastFullCheckAt, open: true });
        }
        state = { state: 'ok', mode: integrity, ms: reply.ms, backupPath: reply.backupPath };
        return state;
      })
      .catch(() => state); // stopped by close(): still running
  }

  return {
    sqlite,
    db,
    path,
    applied: pending,
    backupPath,
    integrity,
    check: { mode: integrity, when, current: () => state, done },
    close: () => {
      if (!sqlite.open) return;
      closed = true;
      void worker?.stop();
      // A failed check leaves the record as it was (the session stays "open": the next start runs the full
      // check); so does a full check that has not finished (it is still owed).
      const owed = state.state === 'failed' || (state.state === 'running' && integrity === 'full');
      if (!owed) writeHealth(sqlite, { lastFullCheckAt, open: false });
      sqlite.close();
    },
  };
}
