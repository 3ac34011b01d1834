/**
 * The demo start's logins: each well-known demo user (demo/generate.ts
 * DEMO_USERS) gets the demo password, hashed for them alone (one scrypt each,
 * well under a second for all six). Kept out of the generator, whose rows
 * stay the same for a seed; run after it, as often as the app starts (users
 * who already have a password keep it).
 */
import type Database from 'better-sqlite3';
import { DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD, demoPasswordHashes } from '#core/auth/passwords.js';

export { DEMO_PASSWORD };

/** Sets the demo password of the demo users that have none; returns how many got one. */
export function setDemoPasswords(sqlite: Database.Database, now: number, password = DEMO_PASSWORD): number {
  const ids = Object.values(DEMO_USERS)
    .map((u) => u.id)
    .filter((id) => {
      const row = sqlite.prepare('SELECT password_hash AS h FROM users WHERE id = ?').get(id) as
        { h: string | null } | undefined;
      return row !== undefined && row.h === null;
    });
  if (ids.length === 0) return 0;
  const hashes = demoPasswordHashes(ids, password);
  const update = sqlite.prepare(
    `UPDATE users SET password_hash = ?, must_change_password = 0,
       last_online_login_at = coalesce(last_online_login_at, ?), updated_at = ? WHERE id = ?`,
  );
  sqlite.transaction(() => {
    for (const [id, hash] of hashes) update.run(hash, now, now, id);
  })();
  return ids.length;
}

/** The office a demo workstation enrols in (the demo head's), with the demo administrator's credentials. */
export const DEMO_ENROLMENT = {
  providerId: 'prov-astana-employment',
  login: DEMO_USERS.admin.login,
  password: DEMO_PASSWORD,
} as const;
