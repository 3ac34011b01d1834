/**
 * Who may make a pushed change (push.ts, core/auth/change-key.ts): a change
 * applies only for the user whose key, issued to THIS device at an online
 * login, MACs it; user management only for an administrator online there
 * within 15 minutes; applications only of the device's office; a discard
 * only by the discarded change's author or the office's head. Each attack
 * is made the way someone holding a device token (or its outbox) could.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ONLINE_MS, USER_KEY_GRACE_MS, USER_KEY_TTL_MS } from '#core/auth/change-key.js';
import { serviceDefinition } from '#core/catalogue/schema.js';
import { planSteps } from '#core/workflow/machine.js';
import {
  enrolAnswer,
  PROTOCOL_VERSION,
  pushAnswer,
  SCHEMA_VERSION,
  tokenAnswer,
  type Change,
  type PushResult,
  type UserKey,
} from '#core/protocol.js';
import {
  OTHER_PROVIDER_ID,
  PROVIDER_ID,
  seedDirectory,
  startTestServer,
  TEST_ADMIN,
  testDatabases,
  type TestUser,
} from './auth/testing.js';
import type { Sql } from './postgres/sql.js';
import type { RunningServer } from './server.js';
import { call, ok } from './testing/client.js';
import { KeyRing, loginOnline } from './testing/keys.js';

const NOW = Date.UTC(2026, 4, 20, 7, 30);
const PASSWORD = TEST_ADMIN.password!;

const user = (id: string, roles: TestUser['roles']): TestUser => ({
  id,
  login: id,
  fullName: id.toUpperCase(),
  iin: String(900000000000 + id.length * 7919 + id.charCodeAt(2)).padStart(12, '0'),
  password: PASSWORD,
  roles,
});

const CLERK = user('u-clerk', [
  { role: 'clerk', providerId: PROVIDER_ID },
  // A clerk at both offices: only the device's office stops a change for the other.
  { role: 'clerk', providerId: OTHER_PROVIDER_ID },
]);
const HEAD = user('u-head', [
  { role: 'head', providerId: PROVIDER_ID },
  { role: 'head', providerId: OTHER_PROVIDER_ID },
]);
const OTHER_HEAD = user('u-other-head', [{ role: 'head', providerId: OTHER_PROVIDER_ID }]);
const LOCAL_ADMIN = user('u-local-admin', [{ role: 'admin', providerId: PROVIDER_ID }]);
const EXECUTOR = user('u-executor', [{ role: 'executor', providerId: PROVIDER_ID }]);
const USERS = [TEST_ADMIN, CLERK, HEAD, OTHER_HEAD, LOCAL_ADMIN, EXECUTOR];

/** A device as a test drives it: its token, its keys, its next seq. */
interface Device {
  id: string;
  token: string;
  ring: KeyRing;
  seq: number;
}

describe.each(testDatabases())('push: who made a change, on $name', (backend) => {
  let sql: Sql;
  let server: RunningServer;
  let clock = NOW;
  let serviceCode = '';
  let a: Device; // office PROVIDER_ID
  let b: Device; // office PROVIDER_ID, another desk
  let other: Device; // office OTHER_PROVIDER_ID

  async function enrol(providerId: string): Promise<Device> {
    const id = randomUUID();
    const e = ok(
      await call(server.url, 'POST', '/v1/devices/enrol', enrolAnswer, {
        body: {
          deviceId: id,
          name: `desk ${id.slice(0, 4)}`,
          providerId,
          login: TEST_ADMIN.login,
          password: PASSWORD,
          protocolVersion: PROTOCOL_VERSION,
        },
      }),
    );
    const t = ok(
      await call(server.url, 'POST', '/v1/devices/token', tokenAnswer, {
        body: { deviceId: id, deviceSecret: e.deviceSecret },
      }),
    );
    return { id, token: t.accessToken, ring: new KeyRing(id), seq: 0 };
  }

  /** `who` logs in online at `d` now: their key goes on the device's ring. */
  async function login(d: Device, who: TestUser): Promise<UserKey> {
    const { key } = await loginOnline(server.url, d.token, who.login, PASSWORD);
    d.ring.add(who.id, key);
    return key;
  }

  /** A change of `d` (its next seq), without proof. */
  function change(d: Device, op: string, entity: string, entityId: string, payload: unknown): Change {
    return {
      seq: ++d.seq,
      op,
      entity,
      entityId,
      payload,
      protocolVersion: PROTOCOL_VERSION,
      schemaVersion: SCHEMA_VERSION,
      createdAt: clock,
      signature: null,
    };
  }

  async function push(d: Device, changes: Change[], protocolVersion = PROTOCOL_VERSION) {
    return call(server.url, 'POST', '/v1/push', pushAnswer, {
      token: d.token,
      body: { deviceId: d.id, protocolVersion, changes },
    });
  }

  /** Pushes one change (as is) and answers its result. */
  async function pushOne(d: Device, c: Change): Promise<PushResult> {
    return ok(await push(d, [c])).results[0]!;
  }

  function newApplication(providerId: string, actorUserId: string) {
    const id = randomUUID();
    return {
      id,
      number: `T-${id.slice(0, 8)}`,
      portalNumber: null,
      providerId,
      serviceCode,
      channel: 'office',
      applicantIin: '900101300017',
      applicantBin: null,
      applicantName: 'Тестов Тест',
      regionKato: '750000000',
      locality: 'Алматы',
      status: 'received',
      decision: 'none',
      responsibleUserId: null,
      currentStep: null,
      submittedAt: clock,
      statusChangedAt: clock,
      dueAt: null,
      formData: {},
      refusalReasonCode: null,
      refusalText: null,
      reworkComment: null,
      actorUserId,
    };
  }

  const createChange = (d: Device, providerId: string, actor: string) => {
    const app = newApplication(providerId, actor);
    return change(d, 'application.create', 'application', app.id, app);
  };

  const roles = async (userId: string) =>
    (
      await sql.query<{ role: string; provider_id: string }>(
        'SELECT role, provider_id FROM user_roles WHERE user_id = $1 ORDER BY role, provider_id',
        [userId],
      )
    ).map((r) => `${r.role}@${r.provider_id}`);

  beforeAll(async () => {
    sql = await backend.open();
    await seedDirectory(sql, USERS, NOW);
    server = await startTestServer(sql, { now: () => clock });
    const services = await sql.query<{ code: string; definition: unknown }>('SELECT code, definition FROM services');
    serviceCode = services.find((s) => {
      const def = serviceDefinition.safeParse(s.definition);
      return def.success && planSteps(def.data, 'office') !== null;
    })!.code;
    a = await enrol(PROVIDER_ID);
    b = await enrol(PROVIDER_ID);
    other = await enrol(OTHER_PROVIDER_ID);
    for (const who of [CLERK, HEAD, LOCAL_ADMIN, EXECUTOR]) await login(a, who);
    await login(b, CLERK);
    await login(other, CLERK);
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await backend.close();
  });

  it("the right user's change applies (a clerk takes in an application of the device's office)", async () => {
    const r = await pushOne(a, a.ring.authorize(createChange(a, PROVIDER_ID, CLERK.id)));
    expect(r).toMatchObject({ outcome: 'applied', reason: null });
  });

  it('an administrator online at the device applies a role change', async () => {
    await login(a, TEST_ADMIN);
    const c = change(a, 'user.setRoles', 'user', EXECUTOR.id, {
      userId: EXECUTOR.id,
      roles: [
        { role: 'executor', providerId: PROVIDER_ID },
        { role: 'monitoring', providerId: PROVIDER_ID },
      ],
      by: TEST_ADMIN.id,
    });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'applied' });
    expect(await roles(EXECUTOR.id)).toEqual([`executor@${PROVIDER_ID}`, `monitoring@${PROVIDER_ID}`]);
  });

  it('attack: a workstation of protocol 1 (changes without proof) pushes — 426, its queue kept', async () => {
    const c = createChange(a, PROVIDER_ID, CLERK.id);
    const answer = await push(a, [c], 1);
    a.seq--;
    expect(answer.status).toBe(426);
    expect(answer.ok ? null : answer.body.error).toBe('protocol_unsupported');
  });

  it('attack: a device holding only its token pushes a change with no proof — unauthenticated', async () => {
    const r = await pushOne(a, createChange(a, PROVIDER_ID, CLERK.id));
    expect(r).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
  });

  it("attack: a change naming one user is MACed with another user's key — unauthenticated", async () => {
    const c = change(a, 'user.profile', 'user', HEAD.id, {
      id: HEAD.id,
      fullName: 'Renamed',
      email: null,
      phone: null,
      positionKk: null,
      positionRu: null,
    });
    const r = await pushOne(a, a.ring.authorize(c, a.ring.get(CLERK.id)));
    expect(r).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
    const [head] = await sql.query<{ full_name: string }>('SELECT full_name FROM users WHERE id = $1', [HEAD.id]);
    expect(head!.full_name).toBe(HEAD.fullName);
  });

  it('attack: a MAC made over different content (payload changed after) — unauthenticated', async () => {
    const signed = a.ring.authorize(createChange(a, PROVIDER_ID, CLERK.id));
    const tampered = { ...signed, payload: { ...(signed.payload as object), applicantName: 'Someone Else' } };
    expect(await pushOne(a, tampered)).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
  });

  it("attack: a clerk's key makes the clerk system administrator (setRoles naming the admin as `by`) — refused", async () => {
    const c = change(a, 'user.setRoles', 'user', CLERK.id, {
      userId: CLERK.id,
      roles: [{ role: 'admin', providerId: '' }],
      by: TEST_ADMIN.id,
    });
    expect(await pushOne(a, a.ring.authorize(c, a.ring.get(CLERK.id)))).toMatchObject({
      outcome: 'rejected',
      reason: 'unauthenticated',
    });
    // Naming the clerk as `by` with the clerk's own key: authenticated, and no administrator.
    const own = change(a, 'user.setRoles', 'user', CLERK.id, {
      userId: CLERK.id,
      roles: [{ role: 'admin', providerId: '' }],
      by: CLERK.id,
    });
    expect(await pushOne(a, a.ring.authorize(own))).toMatchObject({ outcome: 'rejected' });
    expect(await roles(CLERK.id)).toEqual([`clerk@${OTHER_PROVIDER_ID}`, `clerk@${PROVIDER_ID}`].sort());
  });

  it("attack: the system administrator's password changed from a device where they never logged in — refused, and no hash kept in the log", async () => {
    const [before] = await sql.query<{ h: string }>('SELECT password_hash AS h FROM users WHERE id = $1', [
      TEST_ADMIN.id,
    ]);
    const payload = { userId: TEST_ADMIN.id, passwordHash: before!.h, changedAt: clock };
    const c = change(b, 'user.passwordChange', 'user', TEST_ADMIN.id, payload);
    expect(await pushOne(b, b.ring.authorize(c, b.ring.get(CLERK.id)))).toMatchObject({
      outcome: 'rejected',
      reason: 'unauthenticated',
    });
    const [logged] = await sql.query<{ payload: { passwordHash: string } }>(
      'SELECT payload FROM device_changes WHERE device_id = $1 AND seq = $2',
      [b.id, c.seq],
    );
    expect(logged!.payload.passwordHash).toBe('[redacted]');
  });

  it("attack: an office's administrator blocks another office's head — refused", async () => {
    const c = change(a, 'user.block', 'user', OTHER_HEAD.id, { userId: OTHER_HEAD.id, by: LOCAL_ADMIN.id });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'forbidden' });
    // …nor by naming the system administrator with their own key.
    const named = change(a, 'user.block', 'user', OTHER_HEAD.id, { userId: OTHER_HEAD.id, by: TEST_ADMIN.id });
    expect(await pushOne(a, a.ring.authorize(named, a.ring.get(LOCAL_ADMIN.id)))).toMatchObject({
      outcome: 'rejected',
      reason: 'unauthenticated',
    });
    const [u] = await sql.query<{ blocked: boolean }>('SELECT blocked FROM users WHERE id = $1', [OTHER_HEAD.id]);
    expect(u!.blocked).toBe(false);
  });

  it("attack: an office's administrator, online, grants a clerk monitoring (which reaches the whole region) — forbidden", async () => {
    const c = change(a, 'user.setRoles', 'user', CLERK.id, {
      userId: CLERK.id,
      roles: [...CLERK.roles, { role: 'monitoring', providerId: PROVIDER_ID }],
      by: LOCAL_ADMIN.id,
    });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'forbidden' });
    expect(await roles(CLERK.id)).not.toContain(`monitoring@${PROVIDER_ID}`);
  });

  it("attack: an application created for another office from this office's device — forbidden", async () => {
    const c = createChange(a, OTHER_PROVIDER_ID, CLERK.id);
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'forbidden' });
    expect(await sql.query('SELECT 1 FROM applications WHERE id = $1', [c.entityId])).toHaveLength(0);
  });

  it("attack: another office's application transitioned from this office's device — forbidden", async () => {
    const created = createChange(other, OTHER_PROVIDER_ID, CLERK.id);
    expect(await pushOne(other, other.ring.authorize(created))).toMatchObject({ outcome: 'applied' });
    const id = created.entityId;
    const c = change(a, 'application.transition', 'application', id, {
      event: {
        applicationId: id,
        seq: 2,
        at: clock,
        actorUserId: HEAD.id,
        action: 'return',
        fromStatus: 'received',
        toStatus: 'received',
        decision: null,
        comment: 'x',
        payload: null,
        prevHash: 'x',
        hash: 'y',
      },
      application: {
        id,
        version: 1,
        status: 'received',
        decision: 'none',
        responsibleUserId: null,
        currentStep: null,
        dueAt: null,
        statusChangedAt: clock,
        refusalReasonCode: null,
        refusalText: null,
        reworkComment: 'x',
      },
    });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'forbidden' });
  });

  it("attack: a change replayed from device A to device B with A's key — unauthenticated", async () => {
    const onA = a.ring.authorize(createChange(a, PROVIDER_ID, CLERK.id));
    a.seq--;
    const replayed = { ...onA, seq: ++b.seq };
    expect(await pushOne(b, replayed)).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
    // Even MACed again for B's id with A's key: the key is not B's.
    const remade = new KeyRing(b.id).authorize({ ...onA, seq: ++b.seq }, a.ring.get(CLERK.id));
    expect(await pushOne(b, remade)).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
  });

  it('attack: a discard by someone neither the author of the discarded change nor a head — forbidden', async () => {
    const refused = a.ring.authorize(createChange(a, OTHER_PROVIDER_ID, CLERK.id));
    expect(await pushOne(a, refused)).toMatchObject({ outcome: 'rejected' });
    const discard = (actor: string) =>
      change(a, 'change.discard', 'change', String(refused.seq), {
        seq: refused.seq,
        op: refused.op,
        reason: 'forbidden',
        comment: null,
        actorUserId: actor,
        discardedAt: clock,
      });
    expect(await pushOne(a, a.ring.authorize(discard(EXECUTOR.id)))).toMatchObject({
      outcome: 'rejected',
      reason: 'forbidden',
    });
    expect(await pushOne(a, a.ring.authorize(discard(HEAD.id)))).toMatchObject({ outcome: 'applied' });
    expect(await pushOne(a, a.ring.authorize(discard(CLERK.id)))).toMatchObject({ outcome: 'applied' });
  });

  it("attack: a blocked user's key (revoked at the block) still used — unauthenticated", async () => {
    await login(a, TEST_ADMIN);
    const blocking = change(a, 'user.block', 'user', EXECUTOR.id, { userId: EXECUTOR.id, by: TEST_ADMIN.id });
    expect(await pushOne(a, a.ring.authorize(blocking))).toMatchObject({ outcome: 'applied' });
    const unblocking = change(a, 'user.unblock', 'user', EXECUTOR.id, { userId: EXECUTOR.id, by: TEST_ADMIN.id });
    expect(await pushOne(a, a.ring.authorize(unblocking))).toMatchObject({ outcome: 'applied' });
    const c = change(a, 'user.profile', 'user', EXECUTOR.id, {
      id: EXECUTOR.id,
      fullName: 'Still Me',
      email: null,
      phone: null,
      positionKk: null,
      positionRu: null,
    });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'unauthenticated' });
  });

  it('attack: an admin op with an administrator key but no online proof within 15 minutes — adminOffline', async () => {
    await login(a, TEST_ADMIN);
    clock += ADMIN_ONLINE_MS + 60_000;
    const c = change(a, 'user.block', 'user', HEAD.id, { userId: HEAD.id, by: TEST_ADMIN.id });
    expect(await pushOne(a, a.ring.authorize(c))).toMatchObject({ outcome: 'rejected', reason: 'adminOffline' });
    const [u] = await sql.query<{ blocked: boolean }>('SELECT blocked FROM users WHERE id = $1', [HEAD.id]);
    expect(u!.blocked).toBe(false);
  });

  it('attack: a key used past its life and grace — unauthenticated (within the grace it still works)', async () => {
    await login(a, CLERK);
    clock += USER_KEY_TTL_MS + USER_KEY_GRACE_MS - 60_000;
    expect(await pushOne(a, a.ring.authorize(createChange(a, PROVIDER_ID, CLERK.id)))).toMatchObject({
      outcome: 'applied',
    });
    clock += 2 * 60_000;
    expect(await pushOne(a, a.ring.authorize(createChange(a, PROVIDER_ID, CLERK.id)))).toMatchObject({
      outcome: 'rejected',
      reason: 'unauthenticated',
    });
  });
});
