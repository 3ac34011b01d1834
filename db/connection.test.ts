import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backupsOf, DatabaseIntegrityError, openDatabase, pendingMigrations } from './connection.js';

const MIGRATIONS = join(import.meta.dirname, 'migrations');
const tmp = () => mkdtempSync(join(tmpdir(), 'qyzmet-db-'));

function tags(): string[] {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string }[];
  };
  return journal.entries.map((e) => e.tag);
}

describe('openDatabase', () => {
  it('creates the schema by migrations, with WAL, synchronous=FULL and foreign keys', async () => {
    const dir = tmp();
    const opened = await openDatabase(join(dir, 'q.db'));
    expect(opened.applied).toEqual(tags());
    expect(opened.backupPath).toBeNull(); // nothing to back up in a new file
    expect(opened.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(opened.sqlite.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(opened.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (
      opened.sqlite.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as { name: string }[]
    ).map((t) => t.name);
    for (const t of [
      'users',
      'user_roles',
      'providers',
      'provider_staff',
      'services',
      'applications',
      'application_events',
      'attachments',
      'outbox',
      'sync_state',
      'settings',
    ]) {
      expect(tables).toContain(t);
    }
    expect(() =>
      opened.sqlite
        .prepare(
          "INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name, applicant_name_norm, region_kato, locality, status, submitted_at, status_changed_at, form_data, created_at, updated_at) VALUES ('a', '1', 'no-such-provider', 's', 'office', '1', 'n', 'n', 'r', 'l', 'received', 0, 0, '{}', 0, 0)",
        )
        .run(),
    ).toThrow(/FOREIGN KEY/);
    opened.close();
  });

  it('keeps the application journal append-only', async () => {
    const opened = await openDatabase(join(tmp(), 'q.db'));
    const s = opened.sqlite;
    s.exec(`INSERT INTO regions VALUES ('710000000', 'Астана', 'Астана', 'Astana');
      INSERT INTO providers VALUES ('p1', '000000000000', 'kk', 'ru', 'en', '710000000', 'l', 'l', 'l', 0);
      INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name, applicant_name_norm, region_kato, locality, status, submitted_at, status_changed_at, form_data, created_at, updated_at)
        VALUES ('a1', '1-01-01-26', 'p1', 'x', 'office', '1', 'n', 'n', '710000000', 'l', 'received', 0, 0, '{}', 0, 0);
      INSERT INTO application_events (application_id, seq, at, action, prev_hash, hash) VALUES ('a1', 1, 0, 'received', '', 'h1');`);
    expect(() => s.prepare("UPDATE application_events SET comment = 'x'").run()).toThrow(/append-only/);
    expect(() => s.prepare('DELETE FROM application_events').run()).toThrow(/append-only/);
    opened.close();
  });

  it('backs up online before pending migrations, then applies them', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    // A database one migration behind: made with a copy of the migrations without the newest.
    const last = tags().at(-1)!;
    const older = join(dir, 'older-migrations');
    cpSync(MIGRATIONS, older, { recursive: true });
    const journalPath = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    journal.entries = journal.entries.filter((e) => e.tag !== last);
    writeFileSync(journalPath, JSON.stringify(journal));
    rmSync(join(older, `${last}.sql`));
    const first = await openDatabase(path, { migrationsFolder: older });
    first.sqlite.exec("INSERT INTO settings VALUES ('k', '\"v\"', 1)");
    expect(pendingMigrations(first.sqlite, MIGRATIONS)).toEqual([last]);
    first.close();

    const second = await openDatabase(path);
    expect(second.applied).toEqual([last]);
    expect(second.backupPath).toMatch(new RegExp(`-before-${last}\\.backup\\.db$`));
    expect(existsSync(second.backupPath!)).toBe(true);
    expect(pendingMigrations(second.sqlite, MIGRATIONS)).toEqual([]);
    second.close();
    // The backup is a whole database with the data as it was.
    const fromBackup = await openDatabase(second.backupPath!, { backupEveryMs: 0, backupDir: join(dir, 'b2') });
    expect(fromBackup.sqlite.prepare("SELECT value FROM settings WHERE key = 'k'").get()).toEqual({ value: '"v"' });
    fromBackup.close();
  });

  it('keeps only the newest backups', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    (await openDatabase(path)).close();
    let t = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 7; i++) {
      t += 2 * 24 * 3600 * 1000;
      const o = await openDatabase(path, { now: () => t, keepBackups: 3 });
      expect(o.backupPath).toMatch(/-daily\.backup\.db$/);
      o.close();
    }
    expect(backupsOf(path, join(dir, 'backups'))).toHaveLength(3);
  });

  it('refuses a damaged database with a message naming the backup, and changes nothing', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    const o = await openDatabase(path, { now: () => Date.UTC(2026, 0, 1) });
    const ins = o.sqlite.prepare(
      'INSERT INTO settings VALUES (?, \'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\', 1)',
    );
    o.sqlite.transaction(() => {
      for (let i = 0; i < 3000; i++) ins.run(`key-${i}`);
    })();
    o.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    o.close();
    const backup = (await openDatabase(path, { now: () => Date.UTC(2026, 0, 3) })).backupPath;
    expect(backup).not.toBeNull();

    // Damage pages in the middle of the file (the settings table's b-tree).
    const size = statSync(path).size;
    const fd = openSync(path, 'r+');
    for (let offset = 8192; offset < size - 4096; offset += 16384)
      writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, offset);
    closeSync(fd);
    const damaged = readFileSync(path);

    const err = await openDatabase(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseIntegrityError);
    expect((err as DatabaseIntegrityError).backupPath).toBe(backup);
    expect((err as Error).message).toContain(backup!);
    expect((err as Error).message).toContain(path);
    expect(readFileSync(path).equals(damaged)).toBe(true);
  });

  it('refuses a file that is not a database at all', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    copyFileSync(join(MIGRATIONS, '0000_initial.sql'), path);
    const err = await openDatabase(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseIntegrityError);
    expect((err as Error).message).toMatch(/not a database/);
    expect((err as Error).message).toContain('No backup');
  });
});

describe('backupTakenAt', () => {
  it('reads the time from daily and migration backups', async () => {
    const { backupTakenAt } = await import('./connection.js');
    expect(backupTakenAt('/d/q-20261123-151847-daily.backup.db')).toBe(Date.UTC(2026, 10, 23, 15, 18, 47));
    expect(backupTakenAt('/d/q-20260101-000000-before-0001_events_append_only.backup.db')).toBe(Date.UTC(2026, 0, 1));
    expect(backupTakenAt('/d/q.db')).toBeNull();
  });
});

describe('which integrity check a start runs', () => {
  it('runs the full check after a session that did not close cleanly, the quick one after a clean close', async () => {
    const path = join(tmp(), 'q.db');
    let t = Date.UTC(2026, 0, 1);
    const now = () => t;
    (await openDatabase(path, { now })).close();
    const clean = await openDatabase(path, { now });
    expect(clean.integrity).toBe('quick');
    // Killed: the process ends without close().
    clean.sqlite.close();
    const afterCrash = await openDatabase(path, { now });
    expect(afterCrash.integrity).toBe('full');
    afterCrash.close();
    expect((await openDatabase(path, { now })).integrity).toBe('quick');
    t += 8 * 24 * 3600 * 1000;
    const weekLater = await openDatabase(path, { now });
    expect(weekLater.integrity).toBe('full');
    weekLater.close();
  });

  it('chooses by the health record', async () => {
    const { chooseIntegrityCheck } = await import('./connection.js');
    const week = 7 * 24 * 3600 * 1000;
    expect(chooseIntegrityCheck(null, 0, week)).toBe('full');
    expect(chooseIntegrityCheck({ lastFullCheckAt: 0, open: true }, 1, week)).toBe('full');
    expect(chooseIntegrityCheck({ lastFullCheckAt: 0, open: false }, 1, week)).toBe('quick');
    expect(chooseIntegrityCheck({ lastFullCheckAt: 0, open: false }, week + 1, week)).toBe('full');
  });
});
