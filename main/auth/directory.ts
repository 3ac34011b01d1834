/**
 * The local user directory as login and the admin screens use it: users,
 * their roles per provider, the providers' regions, and the outbox rows that
 * carry a change of a user to the central server.
 */
import type Database from 'better-sqlite3';
import type { RoleGrant } from '#core/auth/grants.js';
import type { DirectoryUser } from './online.js';

export type { RoleGrant };

export interface UserRow {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  positionKk: string | null;
  positionRu: string | null;
  passwordHash: string | null;
  mustChangePassword: boolean;
  blocked: boolean;
  lastOnlineLoginAt: number | null;
}

interface RawUser {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  positionKk: string | null;
  positionRu: string | null;
  passwordHash: string | null;
  mustChangePassword: number;
  blocked: number;
  lastOnlineLoginAt: number | null;
}

const USER_COLUMNS = `id, login, full_name AS fullName, iin, position_kk AS positionKk, position_ru AS positionRu,
  password_hash AS passwordHash, must_change_password AS mustChangePassword, blocked,
  last_online_login_at AS lastOnlineLoginAt`;

function toUser(r: RawUser | undefined): UserRow | null {
  if (!r) return null;
  return { ...r, mustChangePassword: r.mustChangePassword === 1, blocked: r.blocked === 1 };
}

export class UserDirectory {
  constructor(
    readonly sqlite: Database.Database,
    private readonly now: () => number,
    private readonly versions: { protocol: number; schema: number } = { protocol: 1, schema: 1 },
  ) {}

  byId(id: string): UserRow | null {
    return toUser(this.sqlite.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id) as RawUser);
  }

  /** Logins compare without regard to case. */
  byLogin(login: string): UserRow | null {
    return toUser(
      this.sqlite.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE login = ? COLLATE NOCASE`).get(login.trim()) as
        RawUser | undefined,
    );
  }

  byIin(iin: string): UserRow[] {
    return (this.sqlite.prepare(`SELECT ${USER_COLUMNS} FROM users WHERE iin = ? ORDER BY id`).all(iin) as RawUser[])
      .map(toUser)
      .filter((u): u is UserRow => u !== null);
  }

  all(): UserRow[] {
    return (this.sqlite.prepare(`SELECT ${USER_COLUMNS} FROM users ORDER BY full_name, id`).all() as RawUser[])
      .map(toUser)
      .filter((u): u is UserRow => u !== null);
  }

  roles(userId: string): RoleGrant[] {
    return this.sqlite
      .prepare('SELECT role, provider_id AS providerId FROM user_roles WHERE user_id = ? ORDER BY role, provider_id')
      .all(userId) as RoleGrant[];
  }

  /** Whether the user holds a role at a provider with this BIN. */
  worksFor(userId: string, bin: string): boolean {
    return (
      this.sqlite
        .prepare(
          `SELECT 1 FROM user_roles r JOIN providers p ON p.id = r.provider_id
            WHERE r.user_id = ? AND p.bin = ? LIMIT 1`,
        )
        .get(userId, bin) !== undefined
    );
  }

  regionOf(providerId: string): string | null {
    const row = this.sqlite.prepare('SELECT region_kato AS kato FROM providers WHERE id = ?').get(providerId) as
      { kato: string } | undefined;
    return row?.kato ?? null;
  }

  providers(): { id: string; bin: string; name: { kk: string; ru: string; en: string }; regionKato: string }[] {
    return (
      this.sqlite
        .prepare(
          `SELECT id, bin, name_kk AS kk, name_ru AS ru, name_en AS en, region_kato AS regionKato
             FROM providers ORDER BY name_ru, id`,
        )
        .all() as { id: string; bin: string; kk: string; ru: string; en: string; regionKato: string }[]
    ).map((p) => ({ id: p.id, bin: p.bin, name: { kk: p.kk, ru: p.ru, en: p.en }, regionKato: p.regionKato }));
  }

  /** Sets the hash (a rehash at login keeps the flag; a change clears it; a reset sets it). */
  setPasswordHash(userId: string, hash: string, mustChange?: boolean): void {
    if (mustChange === undefined) {
      this.sqlite
        .prepare('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?')
        .run(hash, this.now(), userId);
    } else {
      this.sqlite
        .prepare('UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?')
        .run(hash, mustChange ? 1 : 0, this.now(), userId);
    }
  }

  setBlocked(userId: string, blocked: boolean): void {
    this.sqlite
      .prepare('UPDATE users SET blocked = ?, updated_at = ? WHERE id = ?')
      .run(blocked ? 1 : 0, this.now(), userId);
  }

  setRoles(userId: string, roles: readonly RoleGrant[]): void {
    this.sqlite.prepare('DELETE FROM user_roles WHERE user_id = ?').run(userId);
    const ins = this.sqlite.prepare('INSERT OR IGNORE INTO user_roles (user_id, role, provider_id) VALUES (?, ?, ?)');
    for (const r of roles) ins.run(userId, r.role, r.providerId);
  }

  markOnlineLogin(userId: string, at: number): void {
    this.sqlite.prepare('UPDATE users SET last_online_login_at = ? WHERE id = ?').run(at, userId);
  }

  /** What the central server said about a user, written over the local row (inserted when new here). */
  applyDirectoryUser(user: DirectoryUser): void {
    const now = this.now();
    this.sqlite.transaction(() => {
      this.sqlite
        .prepare(
          `INSERT INTO users (id, login, full_name, iin, must_change_password, blocked, created_at, updated_at)
           VALUES (@id, @login, @fullName, @iin, @mustChange, @blocked, @now, @now)
           ON CONFLICT (id) DO UPDATE SET login = excluded.login, full_name = excluded.full_name,
             iin = excluded.iin, must_change_password = excluded.must_change_password,
             blocked = excluded.blocked, updated_at = excluded.updated_at`,
        )
        .run({
          id: user.id,
          login: user.login,
          fullName: user.fullName,
          iin: user.iin,
          mustChange: user.mustChangePassword ? 1 : 0,
          blocked: user.blocked ? 1 : 0,
          now,
        });
      this.setRoles(user.id, user.roles);
    })();
  }

  /** An outbox row for the central server, in the caller's transaction. */
  queue(op: string, userId: string, payload: Record<string, unknown>): void {
    this.sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES (?, 'user', ?, ?, ?, ?, ?)`,
      )
      .run(op, userId, JSON.stringify(payload), this.versions.protocol, this.versions.schema, this.now());
  }
}
