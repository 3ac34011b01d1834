/**
 * The device's credentials: the secret sealed at rest (never in clear in the
 * database, the admin password nowhere), the key file's mode, tokens kept
 * until shortly before they expire and shared by concurrent callers, and a
 * token endpoint that says 401 meaning the device was revoked.
 */
import { readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { SyncClient, SyncError } from './client.js';
import { DeviceCredentials, fileSecretBox } from './credentials.js';
import { openWorkstation, type Workstation } from './testing.js';

const SECRET = 'device-secret-' + 'q'.repeat(40);

let server: Server;
let url: string;
let clock: number;
let tokens: number;
let revoked: boolean;
let w: Workstation;

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}

beforeEach(async () => {
  clock = 1_800_000_000_000;
  tokens = 0;
  revoked = false;
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    void body(req).then((b) => {
      if (path === '/v1/devices/enrol') {
        json(res, 200, {
          deviceId: b.deviceId,
          deviceSecret: SECRET,
          partitions: ['global'],
          providerId: 'p',
          serverTime: clock,
        });
      } else if (path === '/v1/devices/token') {
        if (revoked || b.deviceSecret !== SECRET) return json(res, 401, { error: 'unauthorized' });
        tokens += 1;
        // A 15-minute token by the server's clock.
        json(res, 200, {
          accessToken: `token-${tokens}-`.padEnd(24, 'x'),
          expiresAt: clock + 900_000,
          serverTime: clock,
        });
      } else json(res, 404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  w = await openWorkstation({ serverUrl: url });
});

afterEach(async () => {
  await w.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function credentials(now: () => number, onRevoked?: (reason: string) => void): DeviceCredentials {
  return new DeviceCredentials({
    sqlite: w.sqlite,
    client: new SyncClient({ serverUrl: url }),
    secretBox: fileSecretBox(w.dir),
    now,
    onRevoked,
  });
}

describe('fileSecretBox', () => {
  it('seals with a key only this user may read; a changed seal is refused', () => {
    const box = fileSecretBox(w.dir);
    const sealed = box.encrypt(Buffer.from(SECRET));
    expect(sealed.includes(Buffer.from(SECRET))).toBe(false);
    expect(box.decrypt(sealed).toString()).toBe(SECRET);
    expect(statSync(join(w.dir, 'sync-secret.key')).mode & 0o777).toBe(0o600);
    // Another box over the same folder reads it (the key is kept, not made again).
    expect(fileSecretBox(w.dir).decrypt(sealed).toString()).toBe(SECRET);
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1]! ^= 1;
    expect(() => box.decrypt(tampered)).toThrow();
  });
});

describe('DeviceCredentials', () => {
  it('keeps the device secret sealed and the admin password nowhere', async () => {
    const c = credentials(() => clock);
    const enrolment = await c.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD, name: 'desk 3' });
    expect(enrolment).toMatchObject({
      providerId: 'p',
      partitions: ['global'],
      name: 'desk 3',
      epoch: 1,
      revokedAt: null,
    });
    expect(c.enrolled()).toBe(true);
    w.sqlite.pragma('wal_checkpoint(TRUNCATE)');
    const file = readFileSync(w.database.path);
    expect(file.includes(Buffer.from(SECRET))).toBe(false);
    expect(file.includes(Buffer.from(DEMO_PASSWORD))).toBe(false);
    expect(await c.accessToken()).toMatch(/^token-1-/);
  });

  it('keeps a token until shortly before it expires, by its life on the server clock', async () => {
    let local = clock + 86_400_000; // a day ahead of the server
    const c = credentials(() => local);
    await c.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
    const [t1, t2] = await Promise.all([c.accessToken(), c.accessToken()]);
    expect(t1).toBe(t2);
    expect(tokens).toBe(1);
    local += 800_000;
    expect(await c.accessToken()).toBe(t1);
    // Within the last minute of its 15: renewed.
    local += 50_000;
    expect(await c.accessToken()).not.toBe(t1);
    expect(tokens).toBe(2);
    expect(await c.refreshToken()).toMatch(/^token-3-/);
  });

  it('retries a call once with a new token after a 401', async () => {
    const c = credentials(() => clock);
    await c.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
    const seen: string[] = [];
    const answer = await c.authorized((token) => {
      seen.push(token);
      if (seen.length === 1) return Promise.reject(new SyncError('unauthorized', 'expired'));
      return Promise.resolve('done');
    });
    expect(answer).toBe('done');
    expect(seen).toHaveLength(2);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('takes a 401 from the token endpoint as revocation: not enrolled, secret forgotten', async () => {
    const reasons: string[] = [];
    const c = credentials(
      () => clock,
      (r) => reasons.push(r),
    );
    await c.enrol({ providerId: 'p', login: 'admin.demo', password: DEMO_PASSWORD });
    revoked = true;
    const e = await c.refreshToken().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(SyncError);
    expect((e as SyncError).kind).toBe('revoked');
    expect(c.enrolled()).toBe(false);
    expect(reasons).toHaveLength(1);
    expect(w.sqlite.prepare('SELECT secret IS NULL AND revoked_at IS NOT NULL FROM sync_device').pluck().get()).toBe(1);
    expect(((await c.accessToken().catch((err: unknown) => err)) as SyncError).kind).toBe('revoked');
  });
});
