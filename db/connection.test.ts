import {
  closeSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
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
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backupsOf, DatabaseIntegrityError, openDatabase, pendingMigrations } from './connection.js';
import { damageDatabase } from './testing/damage.js';

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

  it('names the signer of signatures queued before changes named their author, from the signature row', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    // The database as the version before user keys left it.
    const older = join(dir, 'older-migrations');
    cpSync(MIGRATIONS, older, { recursive: true });
    const journalPath = join(older, 'meta', '_journal.json');
    const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
    const at = journal.entries.findIndex((e) => e.tag === '0007_user_keys');
    for (const e of journal.entries.slice(at)) rmSync(join(older, `${e.tag}.sql`));
    journal.entries = journal.entries.slice(0, at);
    writeFileSync(journalPath, JSON.stringify(journal));
    const first = await openDatabase(path, { migrationsFolder: older });
    first.sqlite.exec(`
      INSERT INTO regions VALUES ('710000000', 'А', 'А', 'A');
      INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en,
        updated_at) VALUES ('p-1', '050140000011', 'Б', 'Б', 'B', '710000000', 'А', 'А', 'A', 1);
      INSERT INTO users (id, login, full_name, iin, created_at, updated_at)
        VALUES ('user-head', 'head', 'Head', '850315400015', 1, 1);
      INSERT INTO applications (id, number, provider_id, service_code, channel, applicant_iin, applicant_name,
        applicant_name_norm, region_kato, locality, status, submitted_at, status_changed_at, form_data, created_at,
        updated_at)
        VALUES ('a-1', 'N-1', 'p-1', 's', 'office', '900101300017', 'X', 'x', '710000000', 'A', 'on_signing', 1, 1,
          '{}', 1, 1);`);
    first.sqlite
      .prepare(
        `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_name, certificate_sha256,
           key_source, user_id, signed_at) VALUES (?, 'a-1', 'cms', x'00', 'd', 'N', 'c', 'token', ?, 1)`,
      )
      .run('s-1', 'user-head');
    const queue = first.sqlite.prepare(
      `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at, state)
       VALUES ('signature.add', 'signature', ?, ?, 1, 1, 1, ?)`,
    );
    queue.run('s-1', JSON.stringify({ id: 's-1', applicationId: 'a-1' }), 'pending');
    queue.run('s-1', JSON.stringify({ id: 's-1', applicationId: 'a-1' }), 'discarded');
    queue.run('s-2', JSON.stringify({ id: 's-2', applicationId: 'a-1' }), 'pending');
    first.close();

    const second = await openDatabase(path);
    const payloads = second.sqlite.prepare('SELECT payload FROM outbox ORDER BY seq').all() as { payload: string }[];
    expect(payloads.map((p) => (JSON.parse(p.payload) as { userId?: string }).userId ?? null)).toEqual([
      'user-head',
      // A change given up stays as it was; a signature with no row here names nobody.
      null,
      null,
    ]);
    second.close();
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

/** A database with 3,000 settings rows and a backup, whose settings leaf pages are then overwritten. */
async function damagedDatabase(): Promise<{ dir: string; path: string; backup: string }> {
  const dir = tmp();
  const path = join(dir, 'q.db');
  const { backup } = await damageDatabase(path, { now: () => Date.UTC(2026, 0, 1), later: () => Date.UTC(2026, 0, 3) });
  return { dir, path, backup };
}

describe('the integrity check in the background', () => {
  it('opens a sound database at once and then reports it sound', async () => {
    const path = join(tmp(), 'q.db');
    let t = Date.UTC(2026, 0, 1);
    (await openDatabase(path, { now: () => t })).close();
    const o = await openDatabase(path, { now: () => t, check: 'background' });
    expect(o.check.when).toBe('background');
    expect(o.check.mode).toBe('quick');
    expect(o.check.current().state).toBe('running');
    // The database is usable while the check runs.
    o.sqlite.exec("INSERT INTO settings VALUES ('while-checking', '1', 1)");
    const result = await o.check.done;
    expect(result).toMatchObject({ state: 'ok', mode: 'quick' });
    expect(o.check.current()).toBe(result);
    o.sqlite.exec("INSERT INTO settings VALUES ('after', '1', 1)");
    o.close();
    // A clean close after the quick check: the next start runs the quick one again.
    t += 3600_000;
    const again = await openDatabase(path, { now: () => t });
    expect(again.integrity).toBe('quick');
    again.close();
  });

  it('begins a delayed check only after its delay, and not at all when the app closes first', async () => {
    const { path } = await damagedDatabase();
    const early = await openDatabase(path, { backupEveryMs: 0, check: 'background', checkDelayMs: 60_000 });
    await new Promise((r) => setTimeout(r, 300));
    // Still waiting: nothing has looked at the file, writes go on.
    expect(early.check.current().state).toBe('running');
    early.sqlite.exec("INSERT INTO settings VALUES ('before-the-check', '1', 1)");
    early.close();
    expect((await early.check.done).state).toBe('running');

    const later = await openDatabase(path, { backupEveryMs: 0, check: 'background', checkDelayMs: 200 });
    expect(later.check.current().state).toBe('running');
    expect((await later.check.done).state).toBe('failed');
    later.close();
  });

  it('reports a damaged database with the message naming the backup, and refuses writes from then on', async () => {
    const { dir, path, backup } = await damagedDatabase();
    // The start (check 'start') refuses it, as always.
    await expect(openDatabase(path, { backupEveryMs: 0 })).rejects.toBeInstanceOf(DatabaseIntegrityError);

    const o = await openDatabase(path, { backupEveryMs: 0, check: 'background' });
    const result = await o.check.done;
    expect(result.state).toBe('failed');
    if (result.state !== 'failed') return;
    expect(result.error).toBeInstanceOf(DatabaseIntegrityError);
    expect(result.error.backupPath).toBe(backup);
    expect(result.error.message).toContain(backup);
    expect(result.error.message).toContain(path);
    expect(() => o.sqlite.exec("INSERT INTO regions VALUES ('1', 'a', 'a', 'a')")).toThrow(/readonly/i);
    o.close();
    // Nothing recorded a clean close: the next start runs the full check.
    const next = await openDatabase(path, { backupEveryMs: 0, check: 'background' });
    expect(next.integrity).toBe('full');
    expect((await next.check.done).state).toBe('failed');
    next.close();
    expect(backupsOf(path, join(dir, 'backups'))).toEqual([backup]);
  });

  it('takes the daily backup after the check has passed, never of a damaged file', async () => {
    const dir = tmp();
    const path = join(dir, 'q.db');
    let t = Date.UTC(2026, 0, 1);
    (await openDatabase(path, { now: () => t })).close();
    t += 2 * 24 * 3600_000;
    const o = await openDatabase(path, { now: () => t, check: 'background' });
    expect(o.backupPath).toBeNull(); // not on the start path
    const result = await o.check.done;
    expect(result.state).toBe('ok');
    if (result.state !== 'ok') return;
    expect(result.backupPath).toMatch(/-daily\.backup\.db$/);
    expect(existsSync(result.backupPath!)).toBe(true);
    o.close();

    const damaged = await damagedDatabase();
    const before = backupsOf(damaged.path, join(damaged.dir, 'backups'));
    const d = await openDatabase(damaged.path, { now: () => Date.UTC(2026, 0, 10), check: 'background' });
    expect((await d.check.done).state).toBe('failed');
    d.close();
    expect(backupsOf(damaged.path, join(damaged.dir, 'backups'))).toEqual(before);
  });

  it('records a passing full check, and owes it again when the app closed before it finished', async () => {
    const path = join(tmp(), 'q.db');
    const t = Date.UTC(2026, 0, 1);
    const first = await openDatabase(path, { now: () => t });
    first.sqlite.close(); // killed: the next start runs the full check
    const o = await openDatabase(path, { now: () => t, check: 'background' });
    expect(o.check.mode).toBe('full');
    o.close(); // at once, before the worker answers
    const again = await openDatabase(path, { now: () => t, check: 'background' });
    expect(again.check.mode).toBe('full');
    expect((await again.check.done).state).toBe('ok');
    again.close();
    const third = await openDatabase(path, { now: () => t });
    expect(third.integrity).toBe('quick');
    third.close();
  });

  it('checks on the connection itself when the worker cannot start', async () => {
    const path = join(tmp(), 'q.db');
    (await openDatabase(path)).close();
    const o = await openDatabase(path, {
      check: 'background',
      checkWorker: new URL('file:///nonexistent/db-check-worker.cjs'),
    });
    expect(await o.check.done).toMatchObject({ state: 'ok' });
    o.close();
  });
});

describe('the bundled check worker (dist/main/db-check-worker.cjs)', () => {
  it('is found next to the main bundle and checks the database', async () => {
    const { build } = await import('esbuild');
    const { CHECK_WORKER_BUNDLE_NAME, defaultCheckWorkerScript } = await import('./check.js');
    const root = join(import.meta.dirname, '..');
    mkdirSync(join(root, 'node_modules', '.cache'), { recursive: true });
    // Under node_modules/.cache, so that it resolves better-sqlite3 as dist/main/ does.
    const out = mkdtempSync(join(root, 'node_modules', '.cache', 'qyzmet-check-bundle-'));
    try {
      await build({
        entryPoints: [join(import.meta.dirname, 'check-worker.ts')],
        outfile: join(out, CHECK_WORKER_BUNDLE_NAME),
        bundle: true,
        platform: 'node',
        target: 'node20',
        format: 'cjs',
        logLevel: 'warning',
        external: ['better-sqlite3'],
        banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
        define: { 'import.meta.url': '__bundleUrl' },
      });
      const script = defaultCheckWorkerScript(pathToFileURL(join(out, 'main.cjs')));
      expect(fileURLToPath(script)).toBe(join(out, CHECK_WORKER_BUNDLE_NAME));

      const { path } = await damagedDatabase();
      const o = await openDatabase(path, { backupEveryMs: 0, check: 'background', checkWorker: script });
      expect((await o.check.done).state).toBe('failed');
      o.close();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
