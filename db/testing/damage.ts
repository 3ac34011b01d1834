/**
 * A damaged local database for the tests of the integrity check: 3,000 rows
 * in the settings table (a table the start and the login do not read), a
 * backup taken, then every other leaf page of that table overwritten (not
 * its root, not the schema or the health record). The file still opens; the
 * check finds the damage.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { openDatabase } from '../connection.js';

export interface Damaged {
  /** The backup taken before the damage. */
  backup: string;
  /** Leaf pages of the settings table (half of them overwritten). */
  leaves: number;
}

/** Damages the database at `path` (created when absent); `now` is its clock, `later` the backup's. */
export async function damageDatabase(
  path: string,
  o: { now?: () => number; later?: () => number } = {},
): Promise<Damaged> {
  const opened = await openDatabase(path, { now: o.now ?? Date.now, backupEveryMs: 0 });
  const insert = opened.sqlite.prepare(
    'INSERT INTO settings VALUES (?, \'"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\', 1)',
  );
  opened.sqlite.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`damage-${i}`);
  })();
  opened.sqlite.pragma('wal_checkpoint(TRUNCATE)');
  const leaves = opened.sqlite
    .prepare("SELECT pgoffset FROM dbstat WHERE name = 'settings' AND pagetype = 'leaf' AND path != '/'")
    .pluck()
    .all() as number[];
  opened.close();
  const withBackup = await openDatabase(path, { now: o.later ?? Date.now, backupEveryMs: 1 });
  const backup = withBackup.backupPath;
  withBackup.close();
  if (!backup) throw new Error('damageDatabase: no backup was taken');
  if (leaves.length <= 10) throw new Error(`damageDatabase: only ${leaves.length} leaf pages`);
  const fd = openSync(path, 'r+');
  leaves.forEach((offset, i) => {
    if (i % 2 === 0) writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, offset + 1024);
  });
  closeSync(fd);
  return { backup, leaves: leaves.length };
}
