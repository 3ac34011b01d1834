/**
 * Reference data on a real database: the directory (users without their
 * password hashes, staff), the catalogue and calendars as the server loads
 * them from resources/, the refusal reasons taken from the catalogue, and
 * CRLs: imported with their feed rows, served as DER, replaced by newer ones.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import { TestPki } from '#signing/testing/pki.js';
import { CrlRefused, importCrl } from '../auth/crls.js';
import {
  DEVICE_A,
  deviceToken,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
  type TestUser,
} from '../auth/testing.js';
import { RESOURCES_DIR } from '../catalogue.js';
import type { Sql } from '../postgres/sql.js';
import {
  crlData,
  errorBody,
  referenceAnswer,
  refusalReason,
  serviceData,
  staffData,
  userData,
} from '#core/protocol.js';
import type { RunningServer } from '../server.js';
import { refusalReasonsOf } from './reference.js';

const USERS: TestUser[] = [
  TEST_ADMIN,
  {
    id: 'u-exec',
    login: 'exec',
    fullName: 'Сергеев Артём',
    iin: '900101300017',
    password: 'Qyzmet2026',
    roles: [
      { role: 'head', providerId: PROVIDER_ID },
      { role: 'executor', providerId: PROVIDER_ID },
    ],
  },
];

let dir: string;
let pki: TestPki;
let other: TestPki;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-server-reference-'));
  pki = new TestPki(join(dir, 'pki'));
  other = new TestPki(join(dir, 'other'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('refusalReasonsOf', () => {
  it('takes code and text of each reason of a definition, skipping what does not fit', () => {
    const definition = {
      refusalReasons: [
        { code: 'late', text: { kk: 'Кеш', ru: 'Поздно', en: 'Late' } },
        { code: 'broken', text: { ru: 'только ru' } },
      ],
    };
    expect(refusalReasonsOf('svc', definition)).toEqual([
      { serviceCode: 'svc', code: 'late', name: { kk: 'Кеш', ru: 'Поздно', en: 'Late' } },
    ]);
    expect(refusalReasonsOf('svc', null)).toEqual([]);
    expect(refusalReasonsOf('svc', { refusalReasons: 'no' })).toEqual([]);
  });
});

describe.each(testDatabases())('reference data on $name', (db) => {
  let sql: Sql;
  let server: RunningServer;
  let token: string;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, USERS);
    await sql.query(
      `INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active)
       VALUES ($1, 'u-exec', 'Бас маман', 'Главный специалист', true)`,
      [PROVIDER_ID],
    );
    // The server loads the catalogue and calendars from resources/ as it starts.
    server = await startTestServer(sql);
    token = await deviceToken(server.url, DEVICE_A);
  });

  afterAll(async () => {
    await server?.close();
    await db.close();
  });

  async function get(path: string, anonymous = false) {
    const res = await fetch(server.url + path, { headers: anonymous ? {} : { authorization: `Bearer ${token}` } });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }

  async function items(kind: string): Promise<unknown[]> {
    const res = await get(`/v1/reference/${kind}`);
    expect(res.status).toBe(200);
    const answer = referenceAnswer.parse(JSON.parse(res.bytes.toString('utf8')));
    expect(answer.kind).toBe(kind);
    return answer.items;
  }

  it('lists the users of the device’s provider with their roles, never a password hash, never anyone else', async () => {
    const res = await get('/v1/reference/users');
    expect(res.bytes.toString('utf8')).not.toContain('$scrypt$');
    const users = (await items('users')).map((u) => userData.parse(u));
    // The system administrator works at no provider: not this device's to list.
    expect(users.map((u) => u.id)).toEqual(['u-exec']);
    expect(users[0]).toEqual({
      id: 'u-exec',
      login: 'exec',
      fullName: 'Сергеев Артём',
      iin: '900101300017',
      email: null,
      phone: null,
      positionKk: null,
      positionRu: null,
      blocked: false,
      mustChangePassword: false,
      roles: [
        { role: 'executor', providerId: PROVIDER_ID },
        { role: 'head', providerId: PROVIDER_ID },
      ],
    });
  });

  it('lists staff positions', async () => {
    expect((await items('staff')).map((s) => staffData.parse(s))).toEqual([
      {
        providerId: PROVIDER_ID,
        userId: 'u-exec',
        positionKk: 'Бас маман',
        positionRu: 'Главный специалист',
        active: true,
      },
    ]);
  });

  it('lists the catalogue, the calendars and the refusal reasons of every service', async () => {
    const catalogue = loadCatalogue(join(RESOURCES_DIR, 'services')).services;
    const services = (await items('services')).map((s) => serviceData.parse(s));
    expect(services.map((s) => s.code).sort()).toEqual(catalogue.map((s) => s.code).sort());
    const calendars = (await items('calendars')) as { year: number }[];
    expect(calendars.map((c) => c.year)).toEqual([2025, 2026, 2027]);

    const reasons = (await items('refusal-reasons')).map((r) => refusalReason.parse(r));
    expect(reasons).toHaveLength(catalogue.reduce((n, s) => n + s.refusalReasons.length, 0));
    for (const service of catalogue) {
      const first = service.refusalReasons[0]!;
      expect(reasons).toContainEqual({ serviceCode: service.code, code: first.code, name: first.text });
    }
  });

  it('imports CRLs with their feed rows, serves them as DER, keeps the newest per CA', async () => {
    const first = pki.crl(24);
    const imported = await importCrl(sql, first, { issuers: [pki.ca.certDer] });
    if (!imported.imported) throw new Error('not imported');
    expect(imported.crl).toMatchObject({
      issuer: expect.stringContaining('QYZMET TEST CA') as unknown,
      size: first.length,
    });
    expect(imported.crl.nextUpdate! - imported.crl.thisUpdate).toBe(24 * 3_600_000);
    const [feed] = await sql.query<{ op: string; data: unknown; version: number }>(
      `SELECT op, data, version FROM feed WHERE partition = 'global' AND entity = 'crl' AND id = $1`,
      [imported.crl.sha256],
    );
    expect(feed).toEqual({ op: 'upsert', data: imported.crl, version: imported.version });

    const listed = (await items('crls')).map((c) => crlData.parse(c));
    expect(listed).toEqual([imported.crl]);
    const der = await get(`/v1/reference/crls/${imported.crl.sha256}`);
    expect(der.status).toBe(200);
    expect(der.headers.get('content-type')).toBe('application/pkix-crl');
    expect(der.bytes.equals(first)).toBe(true);

    expect(await importCrl(sql, first)).toMatchObject({ imported: false, reason: 'exists' });
    const newer = pki.crl(48);
    const replaced = await importCrl(sql, newer);
    expect(replaced.imported && replaced.replaced).toEqual([imported.crl.sha256]);
    expect(replaced.imported && replaced.version).toBeGreaterThan(imported.version);
    const [tombstone] = await sql.query<{ op: string; data: unknown }>(
      `SELECT op, data FROM feed WHERE partition = 'global' AND entity = 'crl' AND id = $1`,
      [imported.crl.sha256],
    );
    expect(tombstone).toEqual({ op: 'delete', data: null });
    expect((await get(`/v1/reference/crls/${imported.crl.sha256}`)).status).toBe(404);
    expect(await importCrl(sql, first)).toMatchObject({ imported: false, reason: 'notNewer' });
    expect((await items('crls')).map((c) => crlData.parse(c).sha256)).toEqual([
      replaced.imported && replaced.crl.sha256,
    ]);
  });

  it('refuses a CRL it cannot read or that its CA did not sign', async () => {
    await expect(importCrl(sql, Buffer.from('not a CRL'))).rejects.toThrow(CrlRefused);
    const foreign = other.crl(24);
    await expect(importCrl(sql, foreign, { issuers: [pki.ca.certDer] })).rejects.toMatchObject({
      reason: 'signatureInvalid',
    });
  });

  it('answers 404 and 400 for CRLs it does not have or cannot name, 401 without a device', async () => {
    expect((await get(`/v1/reference/crls/${'0'.repeat(64)}`)).status).toBe(404);
    const bad = await get('/v1/reference/crls/XYZ');
    expect(bad.status).toBe(400);
    expect(errorBody.parse(JSON.parse(bad.bytes.toString('utf8'))).error).toBe('bad_request');
    expect((await get('/v1/reference/users', true)).status).toBe(401);
  });
});
