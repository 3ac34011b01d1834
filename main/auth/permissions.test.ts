/**
 * Every call of the contract, made through dispatch without a session, with
 * each role, locked, and before a reset password is changed: the refusals
 * and the permits, against the expected table below (written out by hand,
 * not derived from PERMISSIONS: it is the specification the table must meet).
 * Then the data scope: applications and providers outside the user's reach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, type Channel } from '#preload/api.js';
import type { Role } from '#core/vocabulary.js';
import { AuthGate } from './gate.js';
import { PERMISSIONS, scopeOf, scopeSql, inScope, type Access } from './permissions.js';
import { dispatch, guard, ServiceError, type Handlers } from '../rpc.js';
import { THROTTLE_SETTING } from './throttle.js';
import { exportLabels } from '../export/testing.js';
import {
  addUser,
  applicationOf,
  harness,
  TEST_PASSWORD,
  testDatabase,
  testIin,
  type Harness,
  type TestDb,
} from './testing.js';

type Who = 'anyone' | 'user' | readonly Role[];
const ALL: readonly Role[] = ['operator', 'clerk', 'executor', 'head', 'monitoring', 'admin'];
const READERS: readonly Role[] = ['clerk', 'executor', 'head', 'monitoring'];
const SIGNERS: readonly Role[] = ['head', 'executor', 'operator'];

/** Who may call each channel. Lock-screen and must-change exceptions are listed below it. */
const EXPECTED: Record<string, Who> = {
  'app.info': 'anyone',
  'session.current': 'anyone',
  'preferences.get': 'anyone',
  'preferences.set': 'anyone',
  'sync.status': 'anyone',
  'sync.enrol': 'anyone',
  'sync.details': 'user',
  'sync.now': 'user',
  'sync.retry': 'user',
  'sync.discard': 'user',
  'auth.session': 'anyone',
  'auth.loginPassword': 'anyone',
  'auth.edsTokens': 'anyone',
  'auth.edsOpen': 'anyone',
  'auth.edsCancel': 'anyone',
  'auth.loginEds': 'anyone',
  'auth.logout': 'user',
  'auth.lock': 'user',
  'auth.unlock': 'user',
  'auth.changePassword': 'user',
  'catalogue.list': 'user',
  'profile.get': 'user',
  'profile.update': 'user',
  'journal.list': READERS,
  'journal.export': READERS,
  'export.progress': READERS,
  'export.cancel': READERS,
  'application.card': READERS,
  'application.preview': READERS,
  'documents.pdf': READERS,
  'documents.check': 'user',
  'application.verifyChain': READERS,
  'application.assign': ['head'],
  'application.accept': ['executor'],
  'application.save': ['executor'],
  'application.decide': ['executor'],
  'application.refer': ['executor'],
  'application.commission': ['executor'],
  'application.send': ['executor'],
  'application.return': ['head', 'executor'],
  'application.sign': ['head', 'executor'],
  'staff.list': ['head', 'admin'],
  'monitoring.report': ['monitoring', 'head'],
  'signing.tokens': SIGNERS,
  'signing.open': SIGNERS,
  'signing.start': ['head', 'executor'],
  'signing.progress': SIGNERS,
  'signing.cancel': SIGNERS,
  'signing.close': SIGNERS,
  'admin.users': ['admin'],
  'admin.setRoles': ['admin'],
  'admin.resetPassword': ['admin'],
  'admin.blockUser': ['admin'],
};
const WHILE_LOCKED = ['auth.logout', 'auth.lock', 'auth.unlock', 'signing.close'];
const WHILE_MUST_CHANGE = ['auth.logout', 'auth.lock', 'auth.unlock', 'auth.changePassword'];

const REFUSALS = new Set(['noSession', 'forbidden', 'locked', 'mustChangePassword', 'outOfScope']);

let db: TestDb;
let appInScope: string;
let appElsewhere: string;

/** A valid input per channel (what a permitted caller sends reaches the handler). */
function samples(): Partial<Record<Channel, unknown>> {
  const p0 = db.providers[0]!.id;
  return {
    'preferences.set': { theme: 'dark' },
    'sync.enrol': { providerId: p0, login: 'admin', password: 'x' },
    'sync.retry': { seq: 1 },
    'sync.discard': { seq: 1 },
    'auth.loginPassword': { login: 'nobody', password: 'x' },
    'auth.edsOpen': { source: { kind: 'token', tokenId: 'x', keyId: '', pin: '' } },
    'auth.edsCancel': { handle: 'x' },
    'auth.loginEds': { handle: 'x' },
    'auth.unlock': { password: 'x' },
    'auth.changePassword': { current: 'x', next: 'y', repeat: 'y' },
    'journal.list': { page: 0, pageSize: 10 },
    'journal.export': { query: {}, language: 'en', labels: exportLabels('en'), path: '/nonexistent/x.xlsx' },
    'export.progress': { exportId: 'x' },
    'export.cancel': { exportId: 'x' },
    'application.card': { id: appInScope },
    'application.preview': { id: appInScope },
    'documents.pdf': { id: appInScope },
    'documents.check': { file: 'iVBORw0KGgo=' },
    'application.verifyChain': { id: appInScope },
    'application.assign': { applications: [{ id: appInScope }], responsibleUserId: 'u' },
    'application.accept': { id: appInScope, version: 1 },
    'application.save': { id: appInScope, version: 1, data: {} },
    'application.decide': { id: appInScope, version: 1, decision: 'positive' },
    'application.refer': { id: appInScope, version: 1 },
    'application.commission': { id: appInScope, version: 1, protocol: {} },
    'application.send': { id: appInScope, version: 1 },
    'application.return': { id: appInScope, version: 1, comment: 'c' },
    'application.sign': { id: appInScope, version: 1 },
    'staff.list': { providerId: p0 },
    'monitoring.report': { from: '2026-01-01', to: '2026-12-31' },
    'signing.open': { source: { kind: 'token', tokenId: 'x', keyId: '', pin: '' } },
    'signing.start': { handle: 'h', applicationIds: [appInScope] },
    'signing.progress': { batchId: 'b' },
    'signing.cancel': { batchId: 'b' },
    'signing.close': { handle: 'h' },
    'admin.setRoles': { userId: 'nobody', roles: [] },
    'admin.resetPassword': { userId: 'nobody' },
    'admin.blockUser': { userId: 'nobody', blocked: true },
    'profile.update': { fullName: 'Тестов Тест', email: '', phone: '', positionKk: '', positionRu: '' },
  };
}

/** Logs `role`'s test user in on a fresh harness. */
async function as(role: Role | 'nobody'): Promise<Harness> {
  // The matrix makes failed logins on purpose: start each caller with no waiting.
  db.sqlite.prepare('DELETE FROM settings WHERE key = ?').run(THROTTLE_SETTING);
  const h = harness(db);
  if (role !== 'nobody') await h.call('auth.loginPassword', { login: `matrix.${role}`, password: TEST_PASSWORD });
  return h;
}

beforeAll(async () => {
  db = await testDatabase(60);
  const [p0, p1, p2] = db.providers;
  appInScope = applicationOf(db, p0!.id);
  appElsewhere = applicationOf(db, p2!.id);
  ALL.forEach((role, i) => {
    // Centre operators belong to no provider; the others to the first one (monitoring: its region).
    const providerId = role === 'operator' ? '' : p0!.id;
    addUser(db, {
      id: `matrix-${role}`,
      login: `matrix.${role}`,
      iin: testIin(100 + i),
      roles: [{ role, providerId }],
    });
  });
  addUser(db, {
    id: 'matrix-head-reset',
    login: 'matrix.head-reset',
    iin: testIin(120),
    roles: [{ role: 'head', providerId: p0!.id }],
    mustChangePassword: true,
  });
  addUser(db, {
    id: 'matrix-country',
    login: 'matrix.country',
    iin: testIin(121),
    roles: [{ role: 'monitoring', providerId: '' }],
  });
  addUser(db, {
    id: 'matrix-sysadmin',
    login: 'matrix.sysadmin',
    iin: testIin(122),
    roles: [{ role: 'admin', providerId: '' }],
  });
  expect(p1!.regionKato).toBe(p0!.regionKato);
  expect(p2!.regionKato).not.toBe(p0!.regionKato);
});
afterAll(() => db?.close());

function allowed(who: Who, role: Role | 'nobody'): boolean {
  if (who === 'anyone') return true;
  if (role === 'nobody') return false;
  return who === 'user' || who.includes(role);
}

describe('the permission table', () => {
  it('has an expected row for every channel of the contract (a new call needs a decision here)', () => {
    expect(CHANNELS.filter((c) => !(c in EXPECTED))).toEqual([]);
    expect(Object.keys(EXPECTED).filter((c) => !(CHANNELS as string[]).includes(c))).toEqual([]);
  });

  it.each(['nobody' as const, ...ALL])('every call as %s: refused or let through as expected', async (role) => {
    const h = await as(role);
    const sample = samples();
    const outcome: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const channel of CHANNELS) {
      const before = h.reached.length;
      const r = await h.dispatch(channel, sample[channel] ?? {});
      const refused = !r.ok && REFUSALS.has(r.error.code);
      outcome[channel] = refused ? (r.ok ? '' : r.error.code) : 'permitted';
      const want = allowed(EXPECTED[channel]!, role);
      expected[channel] = want
        ? 'permitted'
        : role === 'nobody' && EXPECTED[channel] !== 'anyone'
          ? 'noSession'
          : 'forbidden';
      // A permitted call with a valid input reaches its handler (stubs) or answers from the auth service.
      if (want && !channel.startsWith('auth.') && !channel.startsWith('admin.') && channel !== 'session.current') {
        expect(h.reached.length, `${channel} as ${role}`).toBe(before + 1);
      }
      // The login channels must not log this role out in the middle of the matrix.
      if (channel === 'auth.logout' || channel === 'auth.loginPassword' || channel === 'auth.loginEds') {
        if (role !== 'nobody') await h.call('auth.loginPassword', { login: `matrix.${role}`, password: TEST_PASSWORD });
      }
      if (channel === 'auth.lock' && role !== 'nobody') await h.call('auth.unlock', { password: TEST_PASSWORD });
    }
    expect(outcome).toEqual(expected);
  });

  it('locked: only the lock screen’s calls and the ones that need no session', async () => {
    const h = await as('head');
    await h.call('auth.lock');
    const sample = samples();
    for (const channel of CHANNELS) {
      if (channel === 'auth.unlock' || channel === 'auth.logout' || channel.startsWith('auth.login')) continue;
      const r = await h.dispatch(channel, sample[channel] ?? {});
      const open = EXPECTED[channel] === 'anyone' || WHILE_LOCKED.includes(channel);
      expect(!r.ok && r.error.code === 'locked', channel).toBe(!open);
    }
    expect((await h.call('auth.session')).locked).toBe(true);
  });

  it('a reset password not changed yet: only changing it, logging out, and what needs no session', async () => {
    const h = harness(db);
    const s = await h.call('auth.loginPassword', { login: 'matrix.head-reset', password: TEST_PASSWORD });
    expect(s.mustChangePassword).toBe(true);
    const sample = samples();
    for (const channel of CHANNELS) {
      if (['auth.logout', 'auth.lock', 'auth.changePassword'].includes(channel) || channel.startsWith('auth.login'))
        continue;
      const r = await h.dispatch(channel, sample[channel] ?? {});
      const open = EXPECTED[channel] === 'anyone' || WHILE_MUST_CHANGE.includes(channel);
      expect(!r.ok && r.error.code === 'mustChangePassword', channel).toBe(!open);
    }
    expect(s.permissions.sort()).toEqual(
      CHANNELS.filter((c) => EXPECTED[c] === 'anyone' || WHILE_MUST_CHANGE.includes(c)).sort(),
    );
  });

  it('the session tells the renderer exactly the calls it may make', async () => {
    for (const role of ALL) {
      const h = await as(role);
      const { permissions } = await h.call('auth.session');
      expect(permissions.sort(), role).toEqual(CHANNELS.filter((c) => allowed(EXPECTED[c]!, role)).sort());
    }
    const nobody = await (await as('nobody')).call('auth.session');
    expect(nobody.permissions.sort()).toEqual(CHANNELS.filter((c) => EXPECTED[c] === 'anyone').sort());
  });

  it('refuses a channel that is not in the table to everyone', async () => {
    const table: Partial<Record<Channel, Access>> = { ...PERMISSIONS };
    delete table['catalogue.list'];
    const h = await as('head');
    const stubs = Object.fromEntries(CHANNELS.map((c) => [c, () => ({})])) as unknown as Handlers;
    const handlers = guard(stubs, new AuthGate(h.auth, db.sqlite, table));
    const r = await dispatch(handlers, 'catalogue.list', {}, { transport: 'bridge' });
    expect(r).toEqual({ ok: false, error: { code: 'forbidden', messageKey: 'errors.auth.forbidden' } });
  });

  it('a gate that fails for its own reasons refuses (the call does not run)', async () => {
    let ran = false;
    const stubs = Object.fromEntries(CHANNELS.map((c) => [c, () => ((ran = true), {})])) as unknown as Handlers;
    const broken = guard(stubs, {
      admit: () => {
        throw new Error('database is locked');
      },
    });
    const r = await dispatch(broken, 'catalogue.list', {}, { transport: 'bridge' }, { error: () => {} });
    expect(r).toEqual({ ok: false, error: { code: 'internal', messageKey: 'errors.internal' } });
    expect(ran).toBe(false);
    const refusing = guard(stubs, {
      admit: () => {
        throw new ServiceError('forbidden', 'errors.auth.forbidden');
      },
    });
    expect((await dispatch(refusing, 'app.info', {}, { transport: 'ipc' })).ok).toBe(false);
    expect(ran).toBe(false);
  });
});

describe('data scope', () => {
  it('a head reaches the applications of their provider only', async () => {
    const h = await as('head');
    for (const [channel, input] of [
      ['signing.start', { handle: 'h', applicationIds: [appInScope, appElsewhere] }],
      ['application.card', { id: appElsewhere }],
      ['application.return', { id: appElsewhere, version: 1, comment: 'c' }],
      ['application.assign', { applications: [{ id: appInScope }, { id: appElsewhere }], responsibleUserId: 'u' }],
      ['staff.list', { providerId: db.providers[2]!.id }],
    ] as const) {
      expect(await h.fail(channel, input), channel).toEqual({
        code: 'outOfScope',
        messageKey: 'errors.auth.outOfScope',
      });
    }
    const before = h.reached.length;
    await h.dispatch('signing.start', { handle: 'h', applicationIds: [appInScope, 'no-such-application'] });
    expect(h.reached.length).toBe(before + 1);
  });

  it('monitoring bound to a provider reaches its region; bound to none, the country', async () => {
    const sameRegion = applicationOf(db, db.providers[1]!.id);
    const regional = await as('monitoring');
    await regional.dispatch('application.card', { id: sameRegion });
    expect(regional.reached).toEqual(['application.card']);
    expect((await regional.fail('application.card', { id: appElsewhere })).code).toBe('outOfScope');

    const country = harness(db);
    await country.call('auth.loginPassword', { login: 'matrix.country', password: TEST_PASSWORD });
    await country.dispatch('application.card', { id: appElsewhere });
    expect(country.reached).toEqual(['application.card']);
  });

  it('a system-wide administrator reaches every provider’s staff list; one bound to a provider, theirs', async () => {
    const sys = harness(db);
    await sys.call('auth.loginPassword', { login: 'matrix.sysadmin', password: TEST_PASSWORD });
    await sys.dispatch('staff.list', { providerId: db.providers[2]!.id });
    expect(sys.reached).toEqual(['staff.list']);
    const local = await as('admin');
    expect((await local.fail('staff.list', { providerId: db.providers[2]!.id })).code).toBe('outOfScope');
  });

  it('scopeSql selects exactly the applications inScope accepts (what journal.list will filter by)', () => {
    const regionOf = (id: string) => db.providers.find((p) => p.id === id)?.regionKato ?? null;
    const scopes = [
      scopeOf([{ role: 'head', providerId: db.providers[0]!.id }], regionOf),
      scopeOf([{ role: 'monitoring', providerId: db.providers[0]!.id }], regionOf),
      scopeOf([{ role: 'monitoring', providerId: '' }], regionOf),
      scopeOf([{ role: 'operator', providerId: '' }], regionOf),
      scopeOf(
        [
          { role: 'admin', providerId: '' },
          { role: 'executor', providerId: db.providers[2]!.id },
        ],
        regionOf,
        READERS,
      ),
    ];
    const apps = db.sqlite
      .prepare('SELECT id, provider_id AS providerId, region_kato AS regionKato FROM applications')
      .all() as {
      id: string;
      providerId: string;
      regionKato: string;
    }[];
    const counts = scopes.map((scope) => {
      const { sql, params } = scopeSql(scope);
      const got = (
        db.sqlite.prepare(`SELECT a.id FROM applications a WHERE ${sql} ORDER BY a.id`).all(params) as { id: string }[]
      ).map((r) => r.id);
      expect(got).toEqual(
        apps
          .filter((a) => inScope(scope, a))
          .map((a) => a.id)
          .sort(),
      );
      return got.length;
    });
    const [head, region, country, operator, executorElsewhere] = counts;
    expect(head).toBeGreaterThan(0);
    expect(region).toBeGreaterThan(head!);
    expect(country).toBe(apps.length);
    expect(operator).toBe(0);
    expect(executorElsewhere).toBe(apps.filter((a) => a.providerId === db.providers[2]!.id).length);
  });
});
