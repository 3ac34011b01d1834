/**
 * Opening the local database: pragmas, integrity check, an online backup
 * before pending migrations (and once a day), then the migrations that
 * drizzle-kit generated in db/migrations.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle, type BetterSQLite3Database } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import * as schema from './schema.js';

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
  now?: () => number;
}

export interface OpenedDatabase {
  sqlite: Database.Database;
  db: Db;
  path: string;
  /** Names of the migrations applied by this start. */
  applied: string[];
  /** The backup this start took, if it took one. */
  backupPath: string | null;
  /** Which integrity check this start ran. */
  integrity: IntegrityMode;
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

export type IntegrityMode = 'full' | 'quick';

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

function integrityProblems(sqlite: Database.Database, mode: IntegrityMode): string[] {
  const pragma = mode === 'full' ? 'integrity_check' : 'quick_check';
  const rows = sqlite.prepare(`PRAGMA ${pragma}`).all() as Record<string, string>[];
  const problems = rows.map((r) => r[pragma] ?? '').filter((r) => r !== 'ok');
  const fk = sqlite.prepare('PRAGMA foreign_key_check').all() as { table: string }[];
  if (fk.length > 0) problems.push(`${fk.length} rows break foreign keys (first in ${fk[0]?.table})`);
  return problems;
}

export async function openDatabase(path: string, options: OpenOptions = {}): Promise<OpenedDatabase> {
  const now = options.now ?? Date.now;
  const migrationsFolder = options.migrationsFolder ?? defaultMigrationsFolder();
  const backupDir = options.backupDir ?? join(dirname(path), 'backups');
  const keep = options.keepBackups ?? 5;
  const backupEveryMs = options.backupEveryMs ?? 24 * 3600 * 1000;
  mkdirSync(dirname(path), { recursive: true });
  const isNew = !existsSync(path) || statSync(path).size === 0;

  const fullCheckEveryMs = options.fullCheckEveryMs ?? 7 * 24 * 3600 * 1000;
  let sqlite: Database.Database;
  let problems: string[];
  let integrity: IntegrityMode;
  try {
    sqlite = new Database(path);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    integrity = options.integrity ?? chooseIntegrityCheck(readHealth(sqlite), now(), fullCheckEveryMs);
    problems = isNew ? [] : integrityProblems(sqlite, integrity);
    if (problems.length === 0)
      writeHealth(sqlite, {
        lastFullCheckAt: integrity === 'full' ? now() : (readHealth(sqlite)?.lastFullCheckAt ?? 0),
        open: true,
      });
  } catch (err) {
    // "file is not a database", "database disk image is malformed", ...
    throw new DatabaseIntegrityError(
      path,
      [err instanceof Error ? err.message : String(err)],
      backupsOf(path, backupDir).at(-1) ?? null,
    );
  }
  if (problems.length > 0) {
    sqlite.close();
    throw new DatabaseIntegrityError(path, problems, backupsOf(path, backupDir).at(-1) ?? null);
  }

  const pending = pendingMigrations(sqlite, migrationsFolder);
  let backupPath: string | null = null;
  if (!isNew) {
    const newest = backupsOf(path, backupDir).at(-1);
    const takenAt = newest ? backupTakenAt(newest) : null;
    const due = backupEveryMs > 0 && (takenAt === null || now() - takenAt > backupEveryMs);
    if (pending.length > 0 || due) {
      mkdirSync(backupDir, { recursive: true });
      const reason = pending.length > 0 ? `before-${pending[0]}` : 'daily';
      backupPath = join(backupDir, `${basename(path).replace(/\.[^.]+$/, '')}-${stamp(now())}-${reason}.backup.db`);
      await sqlite.backup(backupPath);
      for (const old of backupsOf(path, backupDir).slice(0, -keep)) rmSync(old, { force: true });
    }
  }

  const db = drizzle(sqlite, { schema });
  if (pending.length > 0) migrate(db, { migrationsFolder });

  return {
    sqlite,
    db,
    path,
    applied: pending,
    backupPath,
    integrity,
    close: () => {
      if (!sqlite.open) return;
      const health = readHealth(sqlite);
      writeHealth(sqlite, { lastFullCheckAt: health?.lastFullCheckAt ?? 0, open: false });
      sqlite.close();
    },
  };
}
