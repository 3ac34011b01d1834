/**
 * Login by password, online and offline, through dispatch and the gate as the
 * renderer reaches them: the same answer for an unknown login and a wrong
 * password, the growing wait after failures, blocked users, the offline
 * window, a user blocked while offline, changing a password, the idle lock.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuthSession } from '#preload/contract/auth.js';
import { DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD, setDemoPasswords } from './demo.js';
import { OnlineUnreachable, type OnlineAuth, type OnlineCheck, type OnlineVerdict } from './online.js';
import { verifyPassword } from '#core/auth/passwords.js';
import { POLICY_SETTING } from './policy.js';
import { THROTTLE_SETTING } from './throttle.js';
import { addUser, DAY, harness, TEST_PASSWORD, testDatabase, testIin, type TestDb } from './testing.js';

let db: TestDb;
let n = 0;

beforeAll(async () => {
  db = await testDatabase(40);
});
afterAll(() => db?.close());
beforeEach(() => {
  db.sqlite.prepare('DELETE FROM settings WHERE key IN (?, ?)').run(THROTTLE_SETTING, POLICY_SETTING);
});

/** A new executor of the first provider; returns its login. */
function newUser(extra: Partial<Parameters<typeof addUser>[1]> = {}): { id: string; login: string } {
  n += 1;
  const id = `user-auth-${n}`;
  const login = `auth.user${n}`;
  addUser(db, {
    id,
    login,
    iin: testIin(n),
    roles: [{ role: 'executor', providerId: db.providers[0]!.id }],
    ...extra,
  });
  return { id, login };
}

const login = (h: ReturnType<typeof harness>, name: string, password: string) =>
  h.dispatch('auth.loginPassword', { login: name, password });

describe('login by password', () => {
  it('logs in with the right password; the session is offline without the central server', async () => {
    const u = newUser();
    const h = harness(db);
    const s = await h.call('auth.loginPassword', { login: u.login.toUpperCase(), password: TEST_PASSWORD });
    expect(s).toMatchObject({
      user: { id: u.id, login: u.login },
      method: 'password',
      offline: true,
      locked: false,
      mustChangePassword: false,
    });
    expect(s.permissions).toContain('journal.list');
    expect((await h.call('session.current')).user?.id).toBe(u.id);
  });

  it('answers an unknown login and a wrong password the same way', async () => {
    const u = newUser();
    const h = harness(db);
    const wrong = await h.fail('auth.loginPassword', { login: u.login, password: 'Wrong2026x' });
    const unknown = await h.fail('auth.loginPassword', { login: 'nobody.here', password: 'Wrong2026x' });
    expect(wrong).toEqual({ code: 'wrongLoginOrPassword', messageKey: 'messages.wrongLoginOrPassword' });
    expect(unknown).toEqual(wrong);
    expect((await h.call('auth.session')).user).toBeNull();
  });

  it('makes a login wait longer after each failure, without looking at the password meanwhile', async () => {
    const u = newUser();
    const h = harness(db);
    for (let i = 0; i < 3; i++)
      expect((await h.fail('auth.loginPassword', { login: u.login, password: 'bad' })).code).toBe(
        'wrongLoginOrPassword',
      );
    // Even the right password waits now.
    expect(await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).toEqual({
      code: 'accountWaiting',
      messageKey: 'errors.auth.accountWaiting',
      details: { seconds: '5' },
    });
    db.clock.advance(5_000);
    expect((await login(h, u.login, 'bad')).ok).toBe(false);
    expect((await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).details).toEqual({
      seconds: '10',
    });
    // Another instance (the app restarted) still makes it wait.
    const again = harness(db);
    expect((await again.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).code).toBe(
      'accountWaiting',
    );
    db.clock.advance(10_000);
    expect((await login(again, u.login, TEST_PASSWORD)).ok).toBe(true);
    // A success clears the count: one failure does not wait.
    await again.call('auth.logout');
    expect((await again.fail('auth.loginPassword', { login: u.login, password: 'bad' })).code).toBe(
      'wrongLoginOrPassword',
    );
    expect((await login(again, u.login, TEST_PASSWORD)).ok).toBe(true);
  });

  it('makes every login wait after many failures on this workstation', async () => {
    const u = newUser();
    const h = harness(db);
    for (let i = 0; i < 10; i++) await login(h, `guess${i}`, 'bad');
    expect((await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).code).toBe(
      'accountWaiting',
    );
  });

  it('tells a blocked user so only after the right password', async () => {
    const u = newUser({ blocked: true });
    const h = harness(db);
    expect((await h.fail('auth.loginPassword', { login: u.login, password: 'bad' })).code).toBe('wrongLoginOrPassword');
    expect(await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).toEqual({
      code: 'userBlocked',
      messageKey: 'errors.auth.userBlocked',
    });
  });

  it('refuses an offline login once the offline window has passed, and follows the policy setting', async () => {
    const recent = newUser({ lastOnlineLoginAt: db.clock.now() - 13 * DAY });
    const old = newUser({ lastOnlineLoginAt: db.clock.now() - 15 * DAY });
    const never = newUser({ lastOnlineLoginAt: null });
    const h = harness(db);
    expect((await login(h, recent.login, TEST_PASSWORD)).ok).toBe(true);
    expect(await h.fail('auth.loginPassword', { login: old.login, password: TEST_PASSWORD })).toEqual({
      code: 'offlineWindowPassed',
      messageKey: 'errors.auth.offlineWindowPassed',
      details: { days: '14' },
    });
    expect((await h.fail('auth.loginPassword', { login: never.login, password: TEST_PASSWORD })).code).toBe(
      'offlineWindowPassed',
    );
    db.sqlite
      .prepare('INSERT INTO settings (key, value, updated_at) VALUES (?, ?, 0)')
      .run(POLICY_SETTING, JSON.stringify({ offlineWindowDays: 30 }));
    expect((await login(harness(db), old.login, TEST_PASSWORD)).ok).toBe(true);
  });

  it('keeps no password in the log or the database', async () => {
    const u = newUser();
    const h = harness(db);
    await login(h, u.login, 'Typo-Secret-1');
    await login(h, u.login, TEST_PASSWORD);
    await h.call('auth.changePassword', { current: TEST_PASSWORD, next: 'Brand-New-42', repeat: 'Brand-New-42' });
    const everything = [
      ...h.log,
      ...(db.sqlite.prepare('SELECT value FROM settings').all() as { value: string }[]).map((r) => r.value),
      ...(db.sqlite.prepare('SELECT payload FROM outbox').all() as { payload: string }[]).map((r) => r.payload),
      ...(
        db.sqlite.prepare('SELECT password_hash AS h FROM users WHERE password_hash IS NOT NULL').all() as {
          h: string;
        }[]
      ).map((r) => r.h),
    ].join('\n');
    for (const secret of ['Typo-Secret-1', TEST_PASSWORD, 'Brand-New-42']) expect(everything).not.toContain(secret);
  });
});

/** A central server that answers as the test says, and records what it was asked. */
function fakeServer(
  answer: (req: OnlineCheck) => OnlineVerdict | 'unreachable',
): OnlineAuth & { asked: OnlineCheck[] } {
  const asked: OnlineCheck[] = [];
  return {
    asked,
    challenge: () =>
      Promise.resolve({ nonce: 'c2VydmVy', issuedAt: db.clock.now(), expiresAt: db.clock.now() + 60_000 }),
    check: (req) => {
      asked.push(req.kind === 'password' ? { ...req, password: new Uint8Array(req.password) } : req);
      const a = answer(req);
      return a === 'unreachable' ? Promise.reject(new OnlineUnreachable()) : Promise.resolve(a);
    },
  };
}

describe('login through the central server (OnlineAuth)', () => {
  it('online: the server decides, the session is online, the local hash follows the accepted password', async () => {
    const u = newUser({ lastOnlineLoginAt: null });
    const server = fakeServer(() => ({
      ok: true,
      user: {
        id: u.id,
        login: u.login,
        fullName: 'Renamed On Server',
        iin: testIin(999),
        blocked: false,
        mustChangePassword: false,
        roles: [{ role: 'head', providerId: db.providers[0]!.id }],
      },
    }));
    const h = harness(db, { online: server, isOnline: () => true });
    const s = await h.call('auth.loginPassword', { login: u.login, password: 'Server-Side-77' });
    expect(s).toMatchObject({ offline: false, user: { fullName: 'Renamed On Server', roles: [{ role: 'head' }] } });
    expect(server.asked[0]).toMatchObject({ kind: 'password', login: u.login, deviceId: h.auth.deviceId });
    const row = db.sqlite
      .prepare('SELECT password_hash AS h, last_online_login_at AS at FROM users WHERE id = ?')
      .get(u.id) as {
      h: string;
      at: number;
    };
    expect(row.at).toBe(db.clock.now());
    expect(await verifyPassword('Server-Side-77', row.h)).toBe(true);
    // Offline later, the refreshed hash and the fresh online login let the user in.
    await h.call('auth.logout');
    expect(await harness(db).call('auth.loginPassword', { login: u.login, password: 'Server-Side-77' })).toMatchObject({
      offline: true,
    });
  });

  it('online: the user key the login brings is handed to sync for that user, and never logged', async () => {
    const u = newUser();
    const key = {
      id: 'k'.repeat(24),
      secret: Buffer.alloc(32, 7).toString('base64'),
      issuedAt: db.clock.now(),
      expiresAt: db.clock.now() + 86_400_000,
    };
    const user = {
      id: u.id,
      login: u.login,
      fullName: 'Keyed',
      iin: testIin(998),
      blocked: false,
      mustChangePassword: false,
      roles: [{ role: 'executor' as const, providerId: db.providers[0]!.id }],
    };
    const kept: [string, string][] = [];
    const h = harness(db, {
      online: fakeServer(() => ({ ok: true, user, key })),
      isOnline: () => true,
      keepUserKey: (userId, k) => kept.push([userId, k.id]),
    });
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    expect(kept).toEqual([[u.id, key.id]]);
    expect(h.log.join('\n')).not.toContain(key.secret);
    // An offline login brings none.
    await h.call('auth.logout');
    const offline = harness(db, { keepUserKey: (userId, k) => kept.push([userId, k.id]) });
    await offline.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    expect(kept).toHaveLength(1);
  });

  it('online: the server refusing wins over a local hash that still matches', async () => {
    const u = newUser();
    const h = harness(db, {
      online: fakeServer(() => ({ ok: false, reason: 'wrongLoginOrPassword' })),
      isOnline: () => true,
    });
    expect((await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).code).toBe(
      'wrongLoginOrPassword',
    );
    const blocked = newUser();
    const b = harness(db, { online: fakeServer(() => ({ ok: false, reason: 'userBlocked' })), isOnline: () => true });
    expect((await b.fail('auth.loginPassword', { login: blocked.login, password: TEST_PASSWORD })).code).toBe(
      'userBlocked',
    );
    expect(b.auth.directory.byId(blocked.id)?.blocked).toBe(true);
  });

  it('the server unreachable: the offline rules apply and the session is marked offline', async () => {
    const u = newUser();
    const server = fakeServer(() => 'unreachable');
    const h = harness(db, { online: server, isOnline: () => true });
    expect(await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).toMatchObject({
      offline: true,
    });
    expect(server.asked).toHaveLength(1);
  });

  it('a user blocked while offline is logged out when the connection returns; their queued changes stay', async () => {
    const u = newUser();
    let online = false;
    const server = fakeServer((req) => (req.kind === 'recheck' ? { ok: false, reason: 'userBlocked' } : 'unreachable'));
    const h = harness(db, { online: server, isOnline: () => online });
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    db.sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('application.save', 'application', 'x', '{}', 1, 1, 0)`,
      )
      .run();
    const queued = (
      db.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }
    ).n;
    online = true;
    expect(await h.auth.recheck()).toBe('loggedOut');
    const s: AuthSession = await h.call('auth.session');
    expect(s).toMatchObject({ user: null, notice: 'blocked' });
    expect((await h.fail('journal.list', { page: 0, pageSize: 10 })).code).toBe('noSession');
    expect(h.auth.directory.byId(u.id)?.blocked).toBe(true);
    expect(
      (db.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE state = 'pending'").get() as { n: number }).n,
    ).toBe(queued);
    // The next login clears the notice.
    const other = newUser();
    expect((await h.call('auth.loginPassword', { login: other.login, password: TEST_PASSWORD })).notice).toBeNull();
  });

  it('a user still allowed: the session becomes online', async () => {
    const u = newUser();
    let online = false;
    const server = fakeServer((req) =>
      req.kind === 'recheck'
        ? {
            ok: true,
            user: {
              id: u.id,
              login: u.login,
              fullName: 'X',
              iin: testIin(n),
              blocked: false,
              mustChangePassword: false,
              roles: [{ role: 'executor', providerId: db.providers[0]!.id }],
            },
          }
        : 'unreachable',
    );
    const h = harness(db, { online: server, isOnline: () => online });
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    online = true;
    expect(await h.auth.recheck()).toBe('online');
    expect((await h.call('auth.session')).offline).toBe(false);
  });
});

describe('changing a password', () => {
  it('names every rule the new password breaks, and a wrong current password', async () => {
    const u = newUser();
    const h = harness(db);
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    expect(await h.fail('auth.changePassword', { current: TEST_PASSWORD, next: 'short', repeat: 'shorter' })).toEqual({
      code: 'passwordPolicy',
      messageKey: 'errors.auth.password.tooShort',
      details: { rules: 'tooShort,noDigit,repeatMismatch', min: '8' },
    });
    expect(
      (await h.fail('auth.changePassword', { current: TEST_PASSWORD, next: u.login, repeat: u.login })).details?.rules,
    ).toContain('sameAsLogin');
    expect(
      (await h.fail('auth.changePassword', { current: TEST_PASSWORD, next: TEST_PASSWORD, repeat: TEST_PASSWORD }))
        .details?.rules,
    ).toBe('sameAsCurrent');
    expect(
      await h.fail('auth.changePassword', { current: 'Not-It-123', next: 'Good-Pass-9', repeat: 'Good-Pass-9' }),
    ).toEqual({
      code: 'currentPasswordWrong',
      messageKey: 'errors.auth.currentPasswordWrong',
    });
  });

  it('changes it: the old one stops working, the new one works, the server gets the hash by the outbox', async () => {
    const u = newUser();
    const h = harness(db);
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    await h.call('auth.changePassword', { current: TEST_PASSWORD, next: 'Good-Pass-9', repeat: 'Good-Pass-9' });
    const row = db.sqlite
      .prepare("SELECT payload FROM outbox WHERE op = 'user.passwordChange' AND entity_id = ?")
      .get(u.id) as { payload: string };
    expect(JSON.parse(row.payload)).toMatchObject({ userId: u.id, passwordHash: expect.stringMatching(/^\$scrypt\$/) });
    await h.call('auth.logout');
    expect((await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).code).toBe(
      'wrongLoginOrPassword',
    );
    expect((await login(h, u.login, 'Good-Pass-9')).ok).toBe(true);
  });
});

describe('an administrator resets a password', () => {
  it('the user logs in with the temporary password and may do nothing but change it', async () => {
    const u = newUser();
    const adminUser = newUser({ roles: [{ role: 'admin', providerId: db.providers[0]!.id }] });
    const h = harness(db);
    await h.call('auth.loginPassword', { login: adminUser.login, password: TEST_PASSWORD });
    const { temporaryPassword, user } = await h.call('admin.resetPassword', { userId: u.id });
    expect(user).toMatchObject({ id: u.id, mustChangePassword: true });
    await h.call('auth.logout');

    expect((await h.fail('auth.loginPassword', { login: u.login, password: TEST_PASSWORD })).code).toBe(
      'wrongLoginOrPassword',
    );
    const s = await h.call('auth.loginPassword', { login: u.login, password: temporaryPassword });
    expect(s.mustChangePassword).toBe(true);
    expect(s.permissions).toContain('auth.changePassword');
    expect(s.permissions).not.toContain('journal.list');
    expect(await h.fail('journal.list', { page: 0, pageSize: 10 })).toEqual({
      code: 'mustChangePassword',
      messageKey: 'errors.auth.mustChangePassword',
    });
    const after = await h.call('auth.changePassword', {
      current: temporaryPassword,
      next: 'Mine-Now-2026',
      repeat: 'Mine-Now-2026',
    });
    expect(after.mustChangePassword).toBe(false);
    expect(after.permissions).toContain('journal.list');
    await h.dispatch('journal.list', { page: 0, pageSize: 10 });
    expect(h.reached).toContain('journal.list');
  });
});

describe('lock and logout', () => {
  it('locks after the idle time; only unlock and logout work; the right password unlocks', async () => {
    const u = newUser();
    const h = harness(db);
    const ended: string[] = [];
    h.auth.onEnd((e) => ended.push(e));
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    db.clock.advance(14 * 60_000);
    await h.dispatch('catalogue.list');
    expect(h.reached).toEqual(['catalogue.list']);
    // Polls do not count as activity; the idle time runs from the last real call.
    db.clock.advance(10 * 60_000);
    await h.dispatch('sync.status');
    db.clock.advance(5 * 60_000 + 1);
    const s = await h.call('auth.session');
    expect(s).toMatchObject({ locked: true, user: { id: u.id } });
    expect(ended).toEqual(['lock']);
    expect(s.permissions).toEqual(expect.arrayContaining(['auth.unlock', 'auth.logout']));
    expect(s.permissions).not.toContain('catalogue.list');
    expect(await h.fail('catalogue.list')).toEqual({ code: 'locked', messageKey: 'errors.auth.locked' });
    expect(await h.fail('auth.unlock', { password: 'nope' })).toEqual({
      code: 'unlockFailed',
      messageKey: 'errors.auth.unlockFailed',
    });
    expect((await h.call('auth.unlock', { password: TEST_PASSWORD })).locked).toBe(false);
    await h.dispatch('catalogue.list');
    expect(h.reached).toEqual(['catalogue.list', 'sync.status', 'catalogue.list']);
  });

  it('activity reported by the renderer keeps the session open', async () => {
    const u = newUser();
    const h = harness(db);
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    for (let i = 0; i < 4; i++) {
      db.clock.advance(10 * 60_000);
      expect((await h.call('auth.session', { activity: true })).locked).toBe(false);
    }
  });

  it('ends the session after too many wrong tries on the lock screen', async () => {
    const u = newUser();
    const h = harness(db);
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    await h.call('auth.lock');
    for (let i = 0; i < 4; i++) expect((await h.fail('auth.unlock', { password: 'nope' })).code).toBe('unlockFailed');
    expect((await h.fail('auth.unlock', { password: 'nope' })).code).toBe('unlockFailures');
    expect(await h.call('auth.session')).toMatchObject({ user: null, notice: 'unlockFailures' });
    expect((await h.fail('auth.unlock', { password: TEST_PASSWORD })).code).toBe('noSession');
  });

  it('logout ends the session and tells the listeners (signing keys are closed there)', async () => {
    const u = newUser();
    const h = harness(db);
    const ended: string[] = [];
    h.auth.onEnd((e) => ended.push(e));
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    expect(await h.call('auth.logout')).toMatchObject({ user: null, notice: null });
    expect(ended).toEqual(['logout']);
    expect((await h.call('session.current')).user).toBeNull();
    expect((await h.fail('auth.logout')).code).toBe('noSession');
  });

  it('a user blocked in the local directory meanwhile loses the session at the next call', async () => {
    const u = newUser();
    const h = harness(db);
    await h.call('auth.loginPassword', { login: u.login, password: TEST_PASSWORD });
    h.auth.directory.setBlocked(u.id, true);
    expect((await h.fail('catalogue.list')).code).toBe('noSession');
    expect((await h.call('auth.session')).notice).toBe('blocked');
  });
});

describe('the demo start', () => {
  it('gives each demo user the demo password, once', async () => {
    expect(setDemoPasswords(db.sqlite, db.clock.now())).toBe(Object.keys(DEMO_USERS).length);
    expect(setDemoPasswords(db.sqlite, db.clock.now())).toBe(0);
    const hashes = db.sqlite
      .prepare(
        `SELECT password_hash AS h FROM users WHERE id IN (${Object.values(DEMO_USERS)
          .map(() => '?')
          .join(',')})`,
      )
      .all(...Object.values(DEMO_USERS).map((u) => u.id)) as { h: string }[];
    expect(new Set(hashes.map((r) => r.h)).size).toBe(hashes.length);
    const h = harness(db);
    expect(await h.call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD })).toMatchObject(
      {
        user: {
          id: DEMO_USERS.head.id,
          roles: expect.arrayContaining([{ role: 'head', providerId: expect.any(String) }]),
        },
      },
    );
  });
});
