/**
 * Least privilege of the server's directory and bodies: no demo unless
 * asked, people only in the partitions of the offices they work at (seeded,
 * moved by migration 0008, written by staff changes), a body too large
 * refused before it is read.
 */
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_PASSWORD } from '#core/auth/passwords.js';
import { enrolAnswer, PROTOCOL_VERSION, pullAnswer, tokenAnswer, type FeedRow } from '#core/protocol.js';
import { PROVIDERS } from '#demo/names.js';
import { DEMO_USERS } from '#demo/staff.js';
import { DEVICE_A, deviceToken, seedDirectory, TEST_ADMIN, testDatabases } from './auth/testing.js';
import { removeStaff, upsertStaff } from './directory.js';
import { migrate, readMigrations } from './postgres/migrate.js';
import { pgliteSql } from './postgres/sql.js';
import { startServer } from './server.js';

const A = PROVIDERS[0]!.id;
const B = PROVIDERS[1]!.id;

async function post(url: string, body: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return res.json();
}

/** A device enrolled at `providerId` by the demo's system administrator; its access token. */
async function enrol(url: string, providerId: string, deviceId: string): Promise<string> {
  const enrolled = enrolAnswer.parse(
    await post(`${url}/v1/devices/enrol`, {
      deviceId,
      name: 'Desk',
      providerId,
      login: DEMO_USERS.admin.login,
      password: DEMO_PASSWORD,
      protocolVersion: PROTOCOL_VERSION,
    }),
  );
  return tokenAnswer.parse(await post(`${url}/v1/devices/token`, { deviceId, deviceSecret: enrolled.deviceSecret }))
    .accessToken;
}

async function pullAll(url: string, token: string, partition: string): Promise<FeedRow[]> {
  const rows: FeedRow[] = [];
  let cursor: string | null = null;
  for (;;) {
    const q = new URLSearchParams({ partition, limit: '1000', ...(cursor ? { cursor } : {}) });
    const res = await fetch(`${url}/v1/pull?${q.toString()}`, { headers: { authorization: `Bearer ${token}` } });
    const page = pullAnswer.parse(await res.json());
    rows.push(...page.rows);
    cursor = page.cursor;
    if (!page.hasMore) return rows;
  }
}

describe('the embedded server', () => {
  it('attack: logs in as admin.demo with the published password on a server started without the demo flag — there is no such user', async () => {
    const server = await startServer({ log: () => undefined });
    try {
      const [user] = await server.sql.query('SELECT 1 FROM users WHERE login = $1', [DEMO_USERS.admin.login]);
      expect(user).toBeUndefined();
      expect(server.seeded).toBeNull();
      const res = await fetch(`${server.url}/v1/devices/enrol`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          deviceId: '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0aa',
          name: 'Desk',
          providerId: A,
          login: DEMO_USERS.admin.login,
          password: DEMO_PASSWORD,
          protocolVersion: PROTOCOL_VERSION,
        }),
      });
      expect(res.status).toBeGreaterThanOrEqual(400);
    } finally {
      await server.close();
    }
  });
});

describe.each(testDatabases())('the directory in the feed on $name', (db) => {
  afterAll(() => db.close());

  it('attack: a device of provider A pulls everything it may and finds no user of provider B', async () => {
    const sql = await db.open();
    const server = await startServer({ sql, seed: 'demo', demoApplications: 20, log: () => undefined });
    try {
      const token = await enrol(server.url, A, '0b0c1d6e-5d7a-4c53-9a43-6b1de0b6c0a1');
      const rows = [
        ...(await pullAll(server.url, token, 'global')),
        ...(await pullAll(server.url, token, `provider:${A}`)),
      ];
      const users = rows
        .filter((r) => r.entity === 'user')
        .map((r) => r.data as { id: string; roles: { providerId: string }[] });
      const staff = rows.filter((r) => r.entity === 'staff').map((r) => r.data as { providerId: string });
      expect(users.length).toBeGreaterThan(2);
      expect(users.every((u) => u.roles.some((g) => g.providerId === A))).toBe(true);
      expect(staff.every((s) => s.providerId === A)).toBe(true);
      const ofB = await sql.query<{ id: string }>(`SELECT user_id AS id FROM user_roles WHERE provider_id = $1`, [B]);
      expect(ofB.length).toBeGreaterThan(0);
      expect(users.filter((u) => ofB.some((b) => b.id === u.id))).toEqual([]);
      // The system administrator is in no partition: they log in online.
      expect(users.some((u) => u.id === DEMO_USERS.admin.id)).toBe(false);
      // Asking directly gives no more.
      const listed = (await (
        await fetch(`${server.url}/v1/reference/users`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { items: { id: string }[] };
      expect(listed.items.filter((u) => ofB.some((b) => b.id === u.id))).toEqual([]);
      expect(listed.items.length).toBe(users.length);

      // A position given at B puts the person in B's partition (before the position); taken away, B keeps them roleless.
      const clerkOfA = DEMO_USERS.clerk.id;
      const given = await upsertStaff(sql, {
        providerId: B,
        userId: clerkOfA,
        positionKk: 'x',
        positionRu: 'x',
        active: true,
      });
      const [inB] = await sql.query<{ version: number; op: string }>(
        `SELECT version, op FROM feed WHERE partition = $1 AND entity = 'user' AND id = $2`,
        [`provider:${B}`, clerkOfA],
      );
      expect(inB?.op).toBe('upsert');
      expect(Number(inB?.version)).toBe(given - 1);
      await removeStaff(sql, B, clerkOfA);
      // B keeps the former colleague (its rows may name them), without any role of theirs, here or elsewhere.
      const [left] = await sql.query<{ op: string; data: { roles: { providerId: string }[] } }>(
        `SELECT op, data FROM feed WHERE partition = $1 AND entity = 'user' AND id = $2`,
        [`provider:${B}`, clerkOfA],
      );
      expect(left?.op).toBe('upsert');
      expect(left?.data.roles).toEqual([]);
      const [stillA] = await sql.query<{ op: string }>(
        `SELECT op FROM feed WHERE partition = $1 AND entity = 'user' AND id = $2`,
        [`provider:${A}`, clerkOfA],
      );
      expect(stillA?.op).toBe('upsert');
    } finally {
      await server.close();
    }
  });

  it('attack: a 64 MiB push body — 413 before it is read whole', async () => {
    const sql = await db.open();
    await seedDirectory(sql, [TEST_ADMIN]);
    const server = await startServer({ sql, seed: 'none', log: () => undefined });
    try {
      const token = await deviceToken(server.url, DEVICE_A);
      const url = new URL(server.url);
      // Declares 64 MiB and sends 64 KiB of it: the answer comes without the rest.
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/v1/push',
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-length': String(64 * 1024 * 1024),
            },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.write(Buffer.alloc(64 * 1024, 0x20));
      });
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_large' });
    } finally {
      await server.close();
    }
  });
});

describe('migration 0008', () => {
  it('moves the users and staff already in the global feed to the partitions of their offices', async () => {
    const sql = await pgliteSql(null);
    try {
      const all = readMigrations();
      await migrate(
        sql,
        all.filter((m) => m.name < '0008'),
      );
      await sql.query(`INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES ('750000000', 'A', 'A', 'A')`);
      await sql.query(
        `INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru, locality_en)
         VALUES ('p1', '050140000011', 'a', 'a', 'a', '750000000', 'a', 'a', 'a')`,
      );
      await sql.query(`INSERT INTO users (id, login, full_name, iin, updated_at) VALUES
        ('u1', 'u1', 'U1', '920704300019', 0), ('u2', 'u2', 'U2', '920704300027', 0)`);
      await sql.query(
        `INSERT INTO user_roles (user_id, role, provider_id) VALUES ('u1', 'clerk', 'p1'), ('u2', 'admin', '')`,
      );
      await sql.query(
        `INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru) VALUES ('p1', 'u1', 'x', 'x')`,
      );
      await sql.query(`UPDATE partitions SET version = 3 WHERE partition = 'global'`);
      await sql.query(`INSERT INTO feed (partition, entity, id, version, op, data) VALUES
        ('global', 'user', 'u1', 1, 'upsert', '{"id":"u1"}'), ('global', 'user', 'u2', 2, 'upsert', '{"id":"u2"}'),
        ('global', 'staff', 'p1:u1', 3, 'upsert', '{"providerId":"p1"}')`);
      await migrate(sql);
      const rows = await sql.query<{ partition: string; entity: string; id: string; version: number }>(
        `SELECT partition, entity, id, version FROM feed ORDER BY partition, version`,
      );
      expect(rows.map((r) => [r.partition, r.entity, r.id, Number(r.version)])).toEqual([
        ['provider:p1', 'user', 'u1', 1],
        ['provider:p1', 'staff', 'p1:u1', 2],
      ]);
    } finally {
      await sql.close();
    }
  });
});
