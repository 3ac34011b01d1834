/**
 * The app on a database whose integrity check fails after the start: it
 * opens, says so (app.info), keeps reading, and refuses every change with the
 * message naming the damaged file and the backup.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { READ_ONLY_CALLS } from './database-check.js';
import { dispatch } from './rpc.js';
import { CHANNELS } from '#preload/api.js';
import { damageDatabase } from '#db/testing/damage.js';

const ROOT = join(import.meta.dirname, '..');
/** The English catalogue, the words the renderer shows (read as data: main does not import the renderer). */
const en = JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', 'en.json'), 'utf8')) as Record<string, string>;

async function start(dataDir: string) {
  return createApp({
    dataDir,
    resourcesDir: join(ROOT, 'resources'),
    serverUrl: null,
    version: '0.1.0',
    transport: 'bridge',
    healthEveryMs: 0,
    databaseCheckDelayMs: 0,
    log: () => {},
  });
}

describe('the app when the background integrity check fails', () => {
  it('opens a sound database and reports the check passed', async () => {
    const app = await start(mkdtempSync(join(tmpdir(), 'qyzmet-check-ok-')));
    expect((await app.database.check.done).state).toBe('ok');
    const info = await dispatch(app.handlers, 'app.info', {}, { transport: 'bridge' });
    expect(info).toMatchObject({ ok: true, value: { database: { check: 'ok', backupPath: null } } });
    const set = await dispatch(app.handlers, 'preferences.set', { theme: 'dark' }, { transport: 'bridge' });
    expect(set).toMatchObject({ ok: true, value: { theme: 'dark' } });
    await app.close();
  });

  it('opens a damaged database, reports it, and refuses writes with the message naming the backup', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'qyzmet-check-damaged-'));
    const path = join(dataDir, 'qyzmet.db');
    // A database with a backup, then damage in the settings table's leaf pages.
    const { backup } = await damageDatabase(path, {
      now: () => Date.UTC(2026, 0, 1),
      later: () => Date.UTC(2026, 0, 3),
    });

    const app = await start(dataDir);
    const checked = await app.database.check.done;
    expect(checked.state).toBe('failed');

    const info = await dispatch(app.handlers, 'app.info', {}, { transport: 'bridge' });
    expect(info).toMatchObject({
      ok: true,
      value: { databasePath: path, database: { check: 'failed', backupPath: backup } },
    });
    // A change is refused, with the key of the message and the file and backup it names.
    const set = await dispatch(app.handlers, 'preferences.set', { theme: 'dark' }, { transport: 'bridge' });
    expect(set).toEqual({
      ok: false,
      error: { code: 'databaseDamaged', messageKey: 'errors.database.damaged', details: { path, backup } },
    });
    expect(en['errors.database.damaged']).toContain('{backup}');
    // Reading goes on.
    const get = await dispatch(app.handlers, 'preferences.get', {}, { transport: 'bridge' });
    expect(get.ok).toBe(true);
    // Nothing else reached the file: the connection is read-only.
    expect(() => app.database.sqlite.exec("INSERT INTO regions VALUES ('1', 'a', 'a', 'a')")).toThrow(/readonly/i);
    await app.close();
  });

  it('lists only calls that exist as read-only', () => {
    for (const c of READ_ONLY_CALLS) expect(CHANNELS).toContain(c);
    for (const c of ['preferences.set', 'profile.update', 'application.save', 'signing.start', 'sync.now'] as const)
      expect(READ_ONLY_CALLS.has(c)).toBe(false);
  });
});
