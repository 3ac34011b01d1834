/**
 * This workstation's credentials with the central server: its device id
 * (the one EDS login binds challenges to), enrolment in an office with an
 * administrator's login and password (passed through to the server, never
 * kept), the device secret the server gives once (kept sealed by a
 * `SecretBox`), and short-lived access tokens made from it, cached until
 * shortly before they expire.
 *
 * A 401 on a device call means "get a new token": `authorized` refreshes it
 * and tries once more. A 401 from the token endpoint itself, or
 * `device_revoked` anywhere, means the server revoked this device: it is
 * marked not enrolled and nothing syncs until an administrator enrols it
 * again. The outbox is never touched here.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { deviceIdOf } from '../auth/device.js';
import { SyncError, type SyncClient } from './client.js';

/** Seals small secrets at rest; the Electron shell passes one over safeStorage (the OS keychain). */
export interface SecretBox {
  encrypt(plain: Buffer): Buffer;
  decrypt(sealed: Buffer): Buffer;
}

const KEY_FILE = 'sync-secret.key';
const SEAL_VERSION = 1;
const AAD = Buffer.from('qyzmet device secret', 'utf8');

/**
 * The Node default: AES-256-GCM under a random key kept in `dataDir` in a
 * file only this OS user may read (mode 0600). It keeps the device secret
 * out of the database file, so a copied database, a backup or a support
 * bundle does not give it away, and a tampered sealed value is refused (GCM).
 * It does not protect against someone who can read this user's files (they
 * read the key file too) or against root; the OS keychain does better, which
 * is why the shell passes a safeStorage box instead.
 */
export function fileSecretBox(dataDir: string): SecretBox {
  const path = join(dataDir, KEY_FILE);
  let key: Buffer | null = null;
  const load = (): Buffer => {
    if (key) return key;
    if (!existsSync(path)) {
      mkdirSync(dataDir, { recursive: true });
      try {
        writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
      } catch (e) {
        // Another process made it first: read theirs.
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
    chmodSync(path, 0o600);
    const bytes = readFileSync(path);
    if (bytes.length !== 32) throw new Error(`${path} is not a 32-byte key`);
    key = bytes;
    return key;
  };
  return {
    encrypt(plain) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', load(), iv);
      cipher.setAAD(AAD);
      const body = Buffer.concat([cipher.update(plain), cipher.final()]);
      return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, cipher.getAuthTag(), body]);
    },
    decrypt(sealed) {
      if (sealed.length < 29 || sealed[0] !== SEAL_VERSION) throw new Error('not a sealed secret');
      const decipher = createDecipheriv('aes-256-gcm', load(), sealed.subarray(1, 13));
      decipher.setAAD(AAD);
      decipher.setAuthTag(sealed.subarray(13, 29));
      return Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
    },
  };
}

/** This device's enrolment as sync_device keeps it. */
export interface Enrolment {
  deviceId: string;
  name: string;
  providerId: string;
  partitions: string[];
  /** Numbering epoch of outbox.device_seq and the seq before its first row. */
  epoch: number;
  seqBase: number;
  enrolledAt: number;
  revokedAt: number | null;
}

export interface EnrolInput {
  providerId: string;
  login: string;
  /** The administrator's password: sent to the server once, never stored or logged. */
  password: string;
  /** How the office calls this workstation; default: the host name. */
  name?: string;
}

export interface CredentialsOptions {
  sqlite: Database.Database;
  client: SyncClient;
  secretBox: SecretBox;
  now?: () => number;
  /** A token is renewed this long before it expires (default 60 s, at most half its life). */
  tokenMarginMs?: number;
  /** Called once when the server revokes this device. */
  onRevoked?: (reason: string) => void;
}

interface DeviceRow {
  deviceId: string;
  name: string;
  providerId: string;
  partitions: string;
  secret: Buffer | null;
  epoch: number;
  seqBase: number;
  enrolledAt: number;
  revokedAt: number | null;
}

const SELECT_DEVICE = `SELECT device_id AS deviceId, name, provider_id AS providerId, partitions, secret, epoch,
    seq_base AS seqBase, enrolled_at AS enrolledAt, revoked_at AS revokedAt
  FROM sync_device WHERE id = 1`;

export class DeviceCredentials {
  private readonly now: () => number;
  private token: { value: string; renewAt: number } | null = null;
  private inflight: Promise<string> | null = null;

  constructor(private readonly o: CredentialsOptions) {
    this.now = o.now ?? Date.now;
  }

  deviceId(): string {
    return deviceIdOf(this.o.sqlite, this.now);
  }

  enrolment(): Enrolment | null {
    const row = this.o.sqlite.prepare(SELECT_DEVICE).get() as DeviceRow | undefined;
    if (!row) return null;
    const { secret: _secret, partitions, ...rest } = row;
    return { ...rest, partitions: JSON.parse(partitions) as string[] };
  }

  /** Enrolled, not revoked, with a secret to get tokens with. */
  enrolled(): boolean {
    const row = this.o.sqlite
      .prepare('SELECT secret IS NOT NULL AND revoked_at IS NULL AS ok FROM sync_device WHERE id = 1')
      .get() as { ok: number } | undefined;
    return row?.ok === 1;
  }

  /**
   * POST /v1/devices/enrol, then in one transaction: the sealed secret and a
   * sync_state row per partition (kept cursors stay: they are the server's
   * and hold for any device of the office). The outbox numbering goes on
   * where it was: the server keeps a device's last seq across enrolments.
   */
  async enrol(input: EnrolInput): Promise<Enrolment> {
    const deviceId = this.deviceId();
    const name = input.name?.trim() || hostname() || 'workstation';
    const answer = await this.o.client.enrol({
      deviceId,
      name,
      providerId: input.providerId,
      login: input.login,
      password: input.password,
      protocolVersion: PROTOCOL_VERSION,
    });
    if (answer.deviceId !== deviceId) throw new SyncError('malformed', 'the enrolment answer is for another device');
    const sealed = this.o.secretBox.encrypt(Buffer.from(answer.deviceSecret, 'utf8'));
    const now = this.now();
    const db = this.o.sqlite;
    db.transaction(() => {
      const prev = db.prepare('SELECT epoch, seq_base AS seqBase FROM sync_device WHERE id = 1').get() as
        { epoch: number; seqBase: number } | undefined;
      db.prepare(
        `INSERT INTO sync_device (id, device_id, name, provider_id, partitions, secret, epoch, seq_base, enrolled_at, revoked_at)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (id) DO UPDATE SET device_id = excluded.device_id, name = excluded.name,
           provider_id = excluded.provider_id, partitions = excluded.partitions, secret = excluded.secret,
           enrolled_at = excluded.enrolled_at, revoked_at = NULL`,
      ).run(
        deviceId,
        name,
        answer.providerId,
        JSON.stringify(answer.partitions),
        sealed,
        prev?.epoch ?? 1,
        prev?.seqBase ?? 0,
        now,
      );
      const keep = JSON.stringify(answer.partitions);
      db.prepare('DELETE FROM sync_state WHERE partition NOT IN (SELECT value FROM json_each(?))').run(keep);
      const add = db.prepare('INSERT OR IGNORE INTO sync_state (partition) VALUES (?)');
      for (const p of answer.partitions) add.run(p);
      db.prepare('UPDATE sync_state SET last_error = NULL, last_error_at = NULL').run();
    })();
    this.token = null;
    const enrolment = this.enrolment();
    if (!enrolment) throw new Error('enrolment not recorded');
    return enrolment;
  }

  /** A valid access token: the cached one, or a new one. */
  accessToken(): Promise<string> {
    if (this.token && this.now() < this.token.renewAt) return Promise.resolve(this.token.value);
    return this.refreshToken();
  }

  /** A new access token from the device secret (one request at a time, shared by concurrent callers). */
  refreshToken(): Promise<string> {
    this.inflight ??= this.fetchToken().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  /**
   * Runs a device call with a token; on 401 gets a new token and runs it once
   * more. `device_revoked` marks the device revoked and is thrown on.
   */
  async authorized<T>(call: (token: string) => Promise<T>): Promise<T> {
    try {
      try {
        return await call(await this.accessToken());
      } catch (e) {
        if (!(e instanceof SyncError) || e.kind !== 'unauthorized') throw e;
        this.token = null;
        return await call(await this.refreshToken());
      }
    } catch (e) {
      if (e instanceof SyncError && e.kind === 'revoked') this.markRevoked(e.message);
      throw e;
    }
  }

  /** The server revoked this device: forget the secret, keep everything else (the outbox above all). */
  markRevoked(reason: string): void {
    this.token = null;
    const changed = this.o.sqlite
      .prepare('UPDATE sync_device SET revoked_at = ?, secret = NULL WHERE id = 1 AND revoked_at IS NULL')
      .run(this.now()).changes;
    if (changed > 0) this.o.onRevoked?.(reason);
  }

  private async fetchToken(): Promise<string> {
    const row = this.o.sqlite.prepare(SELECT_DEVICE).get() as DeviceRow | undefined;
    if (!row || row.revokedAt !== null || !row.secret) {
      throw new SyncError(row?.revokedAt ? 'revoked' : 'unauthorized', 'this workstation is not enrolled');
    }
    let secret: string;
    try {
      secret = this.o.secretBox.decrypt(row.secret).toString('utf8');
    } catch {
      throw new SyncError('unauthorized', 'the device secret cannot be unsealed here: enrol this workstation again');
    }
    const asked = this.now();
    let answer;
    try {
      answer = await this.o.client.token(row.deviceId, secret);
    } catch (e) {
      // A 401 from the token endpoint: the secret is no longer good, the device was revoked.
      if (e instanceof SyncError && (e.kind === 'unauthorized' || e.kind === 'revoked')) {
        const revoked = new SyncError(
          'revoked',
          `this workstation was revoked by the server (${e.message})`,
          e.details,
        );
        this.markRevoked(revoked.message);
        throw revoked;
      }
      throw e;
    }
    // The token's life by the server's clock, counted on ours from when we asked: skew does not matter.
    const life = Math.max(0, answer.expiresAt - answer.serverTime);
    const margin = Math.min(this.o.tokenMarginMs ?? 60_000, life / 2);
    this.token = { value: answer.accessToken, renewAt: asked + life - margin };
    return answer.accessToken;
  }
}
