/**
 * The administrator's user calls through dispatch: who they see, which roles
 * they may give where, reset and block, never themselves, and the outbox rows
 * that carry each change to the central server; with a central server,
 * only while the administrator is online there.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DirectoryUser } from '#core/protocol.js';
import { OnlineUnreachable, type OnlineAuth, type OnlineCheck, type OnlineVerdict } from './online.js';
import { addUser, harness, TEST_PASSWORD, testDatabase, testIin, type TestDb } from './testing.js';

let db: TestDb;

beforeAll(async () => {
  db = await testDatabase(20);
  const [p0, p1] = db.providers;
  addUser(db, {
    id: 'adm-local',
    login: 'adm.local',
    iin: testIin(301),
    roles: [{ role: 'admin', providerId: p0!.id }],
  });
  addUser(db, { id: 'adm-system', login: 'adm.system', iin: testIin(302), roles: [{ role: 'admin', providerId: '' }] });
  addUser(db, {
    id: 'adm-target',
    login: 'adm.target',
    iin: testIin(303),
    roles: [
      { role: 'executor', providerId: p0!.id },
      { role: 'clerk', providerId: p1!.id },
    ],
  });
  addUser(db, {
    id: 'adm-foreign',
    login: 'adm.foreign',
    iin: testIin(304),
    roles: [{ role: 'head', providerId: p1!.id }],
  });
});
afterAll(() => db?.close());

async function admin(login: string) {
  const h = harness(db);
  await h.call('auth.loginPassword', { login, password: TEST_PASSWORD });
  return h;
}

const outbox = (op: string, userId: string) =>
  (
    db.sqlite.prepare('SELECT payload FROM outbox WHERE op = ? AND entity_id = ? ORDER BY seq').all(op, userId) as {
      payload: string;
    }[]
  ).map((r) => JSON.parse(r.payload) as Record<string, unknown>);

describe('admin.users', () => {
  it('an administrator of a provider sees that provider’s people; a system-wide one sees everyone', async () => {
    const local = await admin('adm.local');
    const mine = await local.call('admin.users', {});
    const ids = mine.users.map((u) => u.id);
    expect(ids).toEqual(expect.arrayContaining(['adm-local', 'adm-target']));
    expect(ids).not.toContain('adm-foreign');
    expect(mine).toMatchObject({ systemWide: false, providers: [{ id: db.providers[0]!.id }] });
    expect(mine.users.find((u) => u.id === 'adm-target')).toMatchObject({ hasPassword: true, blocked: false });
    expect(JSON.stringify(mine)).not.toContain('$scrypt$');

    const all = await (await admin('adm.system')).call('admin.users', { search: 'adm.' });
    expect(all.users.map((u) => u.id).sort()).toEqual(['adm-foreign', 'adm-local', 'adm-system', 'adm-target']);
    expect(all.systemWide).toBe(true);
  });
});

describe('admin.setRoles', () => {
  it('changes roles at the administrator’s providers and leaves the others as they are', async () => {
    const local = await admin('adm.local');
    const [p0, p1] = db.providers;
    const { user } = await local.call('admin.setRoles', {
      userId: 'adm-target',
      roles: [
        { role: 'head', providerId: p0!.id },
        { role: 'executor', providerId: p0!.id },
      ],
    });
    expect(user.roles).toEqual(
      expect.arrayContaining([
        { role: 'head', providerId: p0!.id },
        { role: 'executor', providerId: p0!.id },
        { role: 'clerk', providerId: p1!.id },
      ]),
    );
    expect(user.roles).toHaveLength(3);
    expect(outbox('user.setRoles', 'adm-target').at(-1)).toMatchObject({ userId: 'adm-target', by: 'adm-local' });
  });

  it('refuses roles elsewhere, unbound roles, invalid pairs, people outside, and the administrator’s own', async () => {
    const local = await admin('adm.local');
    const [p0, p1] = db.providers;
    expect(
      await local.fail('admin.setRoles', { userId: 'adm-target', roles: [{ role: 'head', providerId: p1!.id }] }),
    ).toEqual({
      code: 'roleOutOfScope',
      messageKey: 'errors.auth.admin.roleOutOfScope',
      details: { role: 'head' },
    });
    expect(
      (await local.fail('admin.setRoles', { userId: 'adm-target', roles: [{ role: 'monitoring', providerId: '' }] }))
        .code,
    ).toBe('roleOutOfScope');
    expect(
      (await local.fail('admin.setRoles', { userId: 'adm-target', roles: [{ role: 'executor', providerId: '' }] }))
        .code,
    ).toBe('invalidRole');
    expect(
      (await local.fail('admin.setRoles', { userId: 'adm-target', roles: [{ role: 'operator', providerId: p0!.id }] }))
        .code,
    ).toBe('invalidRole');
    expect(
      (await local.fail('admin.setRoles', { userId: 'adm-target', roles: [{ role: 'head', providerId: 'prov-none' }] }))
        .code,
    ).toBe('invalidRole');
    expect(await local.fail('admin.setRoles', { userId: 'adm-foreign', roles: [] })).toEqual({
      code: 'userNotFound',
      messageKey: 'messages.userNotFound',
    });
    expect(await local.fail('admin.setRoles', { userId: 'adm-local', roles: [] })).toEqual({
      code: 'selfChange',
      messageKey: 'errors.auth.admin.self',
    });
  });

  it('a system-wide administrator gives the centre’s roles too', async () => {
    const sys = await admin('adm.system');
    const { user } = await sys.call('admin.setRoles', {
      userId: 'adm-foreign',
      roles: [{ role: 'operator', providerId: '' }],
    });
    expect(user.roles).toEqual([{ role: 'operator', providerId: '' }]);
  });
});

describe('admin.blockUser and admin.resetPassword', () => {
  it('blocks: the user can no longer log in; unblocks: they can again', async () => {
    const local = await admin('adm.local');
    expect((await local.call('admin.blockUser', { userId: 'adm-target', blocked: true })).user.blocked).toBe(true);
    expect((await harness(db).fail('auth.loginPassword', { login: 'adm.target', password: TEST_PASSWORD })).code).toBe(
      'userBlocked',
    );
    await local.call('admin.blockUser', { userId: 'adm-target', blocked: false });
    expect(
      (await harness(db).dispatch('auth.loginPassword', { login: 'adm.target', password: TEST_PASSWORD })).ok,
    ).toBe(true);
    expect(outbox('user.block', 'adm-target')).toHaveLength(1);
    expect(outbox('user.unblock', 'adm-target')).toHaveLength(1);
    expect((await local.fail('admin.blockUser', { userId: 'adm-local', blocked: true })).code).toBe('selfChange');
  });

  it('resets: a temporary password shown once, the old one gone, the hash (never the password) queued', async () => {
    const local = await admin('adm.local');
    const { temporaryPassword, user } = await local.call('admin.resetPassword', { userId: 'adm-target' });
    expect(user.mustChangePassword).toBe(true);
    expect(temporaryPassword).toMatch(/^[A-Za-z2-9]{12}$/);
    const queued = outbox('user.passwordReset', 'adm-target').at(-1)!;
    expect(queued).toMatchObject({ mustChangePassword: true, passwordHash: expect.stringMatching(/^\$scrypt\$/) });
    expect(JSON.stringify(queued)).not.toContain(temporaryPassword);
    expect((await harness(db).fail('auth.loginPassword', { login: 'adm.target', password: TEST_PASSWORD })).code).toBe(
      'wrongLoginOrPassword',
    );
    const s = await harness(db).call('auth.loginPassword', { login: 'adm.target', password: temporaryPassword });
    expect(s.mustChangePassword).toBe(true);
  });

  it('is refused to users who are not administrators', async () => {
    const h = await admin('adm.foreign');
    expect((await h.fail('admin.users', {})).code).toBe('forbidden');
    expect((await h.fail('admin.resetPassword', { userId: 'adm-target' })).code).toBe('forbidden');
  });
});

describe('user management needs the administrator online at the central server', () => {
  /** A central server that knows the administrators as the local directory does; `reachable` says whether it answers. */
  function server(state: { reachable: boolean }, asked: string[]): OnlineAuth {
    return {
      challenge: () => Promise.reject(new OnlineUnreachable()),
      check: (req: OnlineCheck): Promise<OnlineVerdict> => {
        asked.push(req.kind);
        if (!state.reachable) return Promise.reject(new OnlineUnreachable());
        const userId = req.kind === 'recheck' ? req.userId : req.kind === 'password' ? `adm-${req.login.slice(4)}` : '';
        const user = db.sqlite
          .prepare('SELECT id, login, full_name AS fullName, iin FROM users WHERE id = ?')
          .get(userId) as { id: string; login: string; fullName: string; iin: string };
        const roles = db.sqlite
          .prepare('SELECT role, provider_id AS providerId FROM user_roles WHERE user_id = ?')
          .all(userId) as DirectoryUser['roles'];
        return Promise.resolve({ ok: true, user: { ...user, blocked: false, mustChangePassword: false, roles } });
      },
    };
  }

  async function connected(state: { reachable: boolean }, asked: string[], pushed: string[]) {
    const h = harness(db, { online: server(state, asked), isOnline: () => state.reachable }, (auth) => ({
      presence: (ms) => auth.provePresence(ms),
      pushNow: () => pushed.push('push'),
    }));
    await h.call('auth.loginPassword', { login: 'adm.local', password: TEST_PASSWORD });
    return h;
  }

  it('attack: an administrator logged in offline sets roles, resets a password, blocks — refused here, nothing queued', async () => {
    const state = { reachable: false };
    const asked: string[] = [];
    const pushed: string[] = [];
    const h = await connected(state, asked, pushed);
    expect((await h.call('auth.session', {})).offline).toBe(true);
    const queued = () => (db.sqlite.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    const before = queued();
    for (const [channel, input] of [
      ['admin.setRoles', { userId: 'adm-target', roles: [] }],
      ['admin.resetPassword', { userId: 'adm-target' }],
      ['admin.blockUser', { userId: 'adm-target', blocked: true }],
      ['admin.blockUser', { userId: 'adm-target', blocked: false }],
    ] as const) {
      expect(await h.fail(channel, input)).toMatchObject({
        code: 'adminOffline',
        messageKey: 'errors.auth.admin.offline',
      });
    }
    expect(queued()).toBe(before);
    expect(pushed).toEqual([]);
    expect(db.sqlite.prepare("SELECT blocked FROM users WHERE id = 'adm-target'").get()).toEqual({ blocked: 0 });
  });

  it('online: the change is made and pushed at once; a session whose proof is old is confirmed again first', async () => {
    const state = { reachable: true };
    const asked: string[] = [];
    const pushed: string[] = [];
    const h = await connected(state, asked, pushed);
    expect((await h.call('auth.session', {})).offline).toBe(false);
    await h.call('admin.blockUser', { userId: 'adm-target', blocked: true });
    expect(pushed).toEqual(['push']);
    expect(asked).toEqual(['password']);

    db.clock.advance(11 * 60_000);
    await h.call('admin.blockUser', { userId: 'adm-target', blocked: false });
    expect(asked).toEqual(['password', 'recheck']);
    expect(pushed).toEqual(['push', 'push']);

    // Confirmed long ago and the server gone meanwhile: refused.
    db.clock.advance(11 * 60_000);
    state.reachable = false;
    expect((await h.fail('admin.blockUser', { userId: 'adm-target', blocked: true })).code).toBe('adminOffline');
  });
});
