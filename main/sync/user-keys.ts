/**
 * The user keys this workstation holds (core/auth/change-key.ts): one more
 * at each online login of a user here, kept in sync_user_keys with the
 * secret sealed by the same SecretBox as the device secret
 * (credentials.ts). The sealed bytes hold the key's id and user with the
 * secret, so a sealed secret moved to another row is refused. Keys past
 * expiry + grace are dropped: the server would refuse them anyway.
 *
 * Secrets never leave this module but as the MAC of a change.
 */
import type Database from 'better-sqlite3';
import { changeMac, USER_KEY_GRACE_MS, type MacFields } from '#core/auth/change-key.js';
import type { UserKey } from '#core/protocol.js';
import type { SecretBox } from './credentials.js';

export interface ChangeAuth {
  keyId: string;
  mac: string;
}

interface KeyRow {
  keyId: string;
  userId: string;
  secret: Buffer;
}

export class UserKeys {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {}

  /** Keeps a key the server gave `userId` at `deviceId`; drops the keys no longer usable. */
  keep(userId: string, deviceId: string, key: UserKey): void {
    const secret = Buffer.from(key.secret, 'base64');
    const plain = Buffer.from(JSON.stringify({ keyId: key.id, userId, secret: key.secret }), 'utf8');
    const sealed = this.box.encrypt(plain);
    plain.fill(0);
    secret.fill(0);
    this.sqlite.transaction(() => {
      this.sqlite
        .prepare(
          `INSERT OR REPLACE INTO sync_user_keys (key_id, user_id, device_id, secret, issued_at, expires_at, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(key.id, userId, deviceId, sealed, key.issuedAt, key.expiresAt, this.now());
      this.prune();
    })();
  }

  /** Drops keys past their expiry and grace. */
  prune(): void {
    this.sqlite.prepare('DELETE FROM sync_user_keys WHERE expires_at + ? <= ?').run(USER_KEY_GRACE_MS, this.now());
  }

  /** Whether `userId` holds a usable key at `deviceId`. */
  has(userId: string, deviceId: string): boolean {
    return this.row(userId, deviceId) !== null;
  }

  /**
   * The auth of a change by `userId` (its newest usable key at `deviceId`),
   * or null when the user holds none here (or its sealed secret does not
   * open: the key is dropped, the user logs in online again).
   */
  authenticate(userId: string, deviceId: string, fields: MacFields): ChangeAuth | null {
    const row = this.row(userId, deviceId);
    if (!row) return null;
    const secret = this.open(row);
    if (!secret) {
      this.sqlite.prepare('DELETE FROM sync_user_keys WHERE key_id = ?').run(row.keyId);
      return this.authenticate(userId, deviceId, fields);
    }
    try {
      return { keyId: row.keyId, mac: changeMac(secret, deviceId, fields) };
    } finally {
      secret.fill(0);
    }
  }

  private row(userId: string, deviceId: string): KeyRow | null {
    const row = this.sqlite
      .prepare(
        `SELECT key_id AS keyId, user_id AS userId, secret FROM sync_user_keys
          WHERE user_id = ? AND device_id = ? AND expires_at + ? > ?
          ORDER BY issued_at DESC, received_at DESC LIMIT 1`,
      )
      .get(userId, deviceId, USER_KEY_GRACE_MS, this.now()) as KeyRow | undefined;
    return row ?? null;
  }

  private open(row: KeyRow): Buffer | null {
    let plain: Buffer;
    try {
      plain = this.box.decrypt(row.secret);
    } catch {
      return null;
    }
    try {
      const v = JSON.parse(plain.toString('utf8')) as { keyId?: unknown; userId?: unknown; secret?: unknown };
      if (v.keyId !== row.keyId || v.userId !== row.userId || typeof v.secret !== 'string') return null;
      return Buffer.from(v.secret, 'base64');
    } catch {
      return null;
    } finally {
      plain.fill(0);
    }
  }
}
