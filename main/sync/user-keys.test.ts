/**
 * The user keys a workstation keeps: sealed at rest by the device secret's
 * SecretBox, several per user (the newest used), dropped past expiry and
 * grace, bound to their row and device.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { macMatches, USER_KEY_GRACE_MS, USER_KEY_TTL_MS, type MacFields } from '#core/auth/change-key.js';
import { fileSecretBox } from './credentials.js';
import { testUserKey } from './testing.js';
import { UserKeys } from './user-keys.js';

const DEVICE = 'device-1';
const FIELDS: MacFields = {
  seq: 1,
  op: 'user.profile',
  entity: 'user',
  entityId: 'u-1',
  payload: { id: 'u-1', fullName: 'A' },
  protocolVersion: 2,
  schemaVersion: 1,
  createdAt: 1,
  signature: null,
};

let dir: string;
let database: OpenedDatabase;
const clock = { now: 1_800_000_000_000 };
let keys: UserKeys;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-user-keys-'));
  database = await openDatabase(join(dir, 'qyzmet.db'));
  keys = new UserKeys(database.sqlite, fileSecretBox(dir), () => clock.now);
});
afterEach(() => {
  database.close();
  rmSync(dir, { recursive: true, force: true });
});

const stored = () =>
  database.sqlite.prepare('SELECT key_id AS keyId, user_id AS userId, secret FROM sync_user_keys').all() as {
    keyId: string;
    userId: string;
    secret: Buffer;
  }[];

describe('user keys at rest', () => {
  it('attack: the database file is copied — the stored bytes hold no user key secret, raw or base64', () => {
    const key = testUserKey(clock.now);
    keys.keep('u-1', DEVICE, key);
    const raw = Buffer.from(key.secret, 'base64');
    const [row] = stored();
    expect(row!.secret.includes(raw)).toBe(false);
    expect(row!.secret.includes(Buffer.from(key.secret, 'utf8'))).toBe(false);
    const file = database.sqlite.serialize();
    expect(file.includes(raw)).toBe(false);
    expect(file.includes(Buffer.from(key.secret, 'utf8'))).toBe(false);
    // And it still opens here: the change is MAC'd with that very key.
    const auth = keys.authenticate('u-1', DEVICE, FIELDS)!;
    expect(auth.keyId).toBe(key.id);
    expect(macMatches(raw, DEVICE, FIELDS, auth.mac)).toBe(true);
  });

  it("attack: a sealed secret of one user's key is moved into another user's row — it does not open there", () => {
    const mine = testUserKey(clock.now);
    const theirs = testUserKey(clock.now);
    keys.keep('u-1', DEVICE, mine);
    keys.keep('u-2', DEVICE, theirs);
    const sealedOfU1 = stored().find((r) => r.userId === 'u-1')!.secret;
    database.sqlite.prepare("UPDATE sync_user_keys SET secret = ? WHERE user_id = 'u-2'").run(sealedOfU1);
    expect(keys.authenticate('u-2', DEVICE, FIELDS)).toBeNull();
    expect(keys.has('u-2', DEVICE)).toBe(false);
  });

  it('keeps several keys per user and uses the newest; none for another user or device', () => {
    const old = testUserKey(clock.now - 60_000);
    const fresh = testUserKey(clock.now);
    keys.keep('u-1', DEVICE, fresh);
    keys.keep('u-1', DEVICE, old);
    expect(stored()).toHaveLength(2);
    expect(keys.authenticate('u-1', DEVICE, FIELDS)?.keyId).toBe(fresh.id);
    expect(keys.authenticate('u-2', DEVICE, FIELDS)).toBeNull();
    expect(keys.authenticate('u-1', 'device-2', FIELDS)).toBeNull();
  });

  it('uses a key until its expiry plus the grace, and drops it after', () => {
    const key = testUserKey(clock.now);
    keys.keep('u-1', DEVICE, key);
    clock.now += USER_KEY_TTL_MS + USER_KEY_GRACE_MS - 1;
    expect(keys.has('u-1', DEVICE)).toBe(true);
    clock.now += 1;
    expect(keys.has('u-1', DEVICE)).toBe(false);
    keys.keep('u-2', DEVICE, testUserKey(clock.now));
    expect(stored().map((r) => r.userId)).toEqual(['u-2']);
  });
});
