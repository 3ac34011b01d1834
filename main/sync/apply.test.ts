/**
 * The pull feed written into a real workstation database (the demo's data,
 * real migrations, real local changes through the WorkflowService): rows that
 * do not fit, rows waiting for their parents, tombstones, the local password
 * hash, and local changes the server has not acknowledged yet.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplicationData, FeedRow } from '#core/protocol.js';
import { EMPLOYMENT, insertApplication, openFixture, type Fixture } from '../workflow/testing.js';
import { FeedApplier } from './apply.js';

let f: Fixture;
let applier: FeedApplier;
const head = { id: EMPLOYMENT.head };

beforeEach(async () => {
  f = await openFixture({ applications: 20 });
  applier = new FeedApplier(f.sqlite, () => f.clock.now);
});
afterEach(() => f.close());

function apply(rows: FeedRow[], pageVersion: number | null = null, partition = 'global') {
  return f.sqlite.transaction(() => applier.applyRows(partition, rows, pageVersion))();
}

/** The local application in its wire shape, with changes. */
function wire(id: string, patch: Partial<ApplicationData> = {}): ApplicationData {
  const r = f.sqlite
    .prepare(
      `SELECT id, number, portal_number AS portalNumber, provider_id AS providerId, service_code AS serviceCode, channel,
         applicant_iin AS applicantIin, applicant_bin AS applicantBin, applicant_name AS applicantName,
         region_kato AS regionKato, locality, status, decision, responsible_user_id AS responsibleUserId,
         current_step AS currentStep, submitted_at AS submittedAt, status_changed_at AS statusChangedAt, due_at AS dueAt,
         form_data AS formData, refusal_reason_code AS refusalReasonCode, refusal_text AS refusalText,
         rework_comment AS reworkComment
       FROM applications WHERE id = ?`,
    )
    .get(id) as ApplicationData & { formData: string };
  return { ...r, formData: JSON.parse(r.formData) as Record<string, unknown>, ...patch };
}

function appRow(id: string, version: number, patch: Partial<ApplicationData> = {}): FeedRow {
  return { version, entity: 'application', id, op: 'upsert', data: wire(id, patch) };
}

function local(id: string): {
  status: string;
  responsible: string | null;
  serverVersion: number | null;
  version: number;
} {
  return f.sqlite
    .prepare(
      'SELECT status, responsible_user_id AS responsible, server_version AS serverVersion, version FROM applications WHERE id = ?',
    )
    .get(id) as { status: string; responsible: string | null; serverVersion: number | null; version: number };
}

function certificate(): string {
  return insertApplication(f.sqlite, {
    serviceCode: 'unemployed-certificate',
    providerId: EMPLOYMENT.provider,
    currentStep: 'head-assign',
  });
}

const user = (id: string, login: string, extra: Record<string, unknown> = {}) => ({
  id,
  login,
  fullName: 'Test User',
  iin: '900512400123',
  email: null,
  phone: null,
  positionKk: null,
  positionRu: null,
  blocked: false,
  mustChangePassword: false,
  roles: [{ role: 'executor', providerId: EMPLOYMENT.provider }],
  ...extra,
});

describe('FeedApplier', () => {
  it('records a row that does not fit and applies the rest of the page', () => {
    const stats = apply([
      {
        version: 1,
        entity: 'region',
        id: '990000000',
        op: 'upsert',
        data: { kato: '990000000', nameKk: 'A', nameRu: 'Б', nameEn: 'C' },
      },
      { version: 2, entity: 'provider', id: 'prov-broken', op: 'upsert', data: { id: 'prov-broken', bin: 42 } },
      { version: 3, entity: 'user', id: 'user-new', op: 'upsert', data: user('user-new', 'new.user') },
    ]);
    expect(stats).toMatchObject({ applied: 2, errors: 1 });
    expect(f.sqlite.prepare("SELECT name_en FROM regions WHERE kato = '990000000'").pluck().get()).toBe('C');
    expect(f.sqlite.prepare("SELECT login FROM users WHERE id = 'user-new'").pluck().get()).toBe('new.user');
    expect(f.sqlite.prepare("SELECT 1 FROM providers WHERE id = 'prov-broken'").get()).toBeUndefined();
    const err = f.sqlite.prepare('SELECT entity, entity_id AS id, version, error FROM sync_errors').all() as {
      entity: string;
      id: string;
      version: number;
      error: string;
    }[];
    expect(err).toHaveLength(1);
    expect(err[0]).toMatchObject({ entity: 'provider', id: 'prov-broken', version: 2 });
    expect(err[0]!.error).toContain('bin');
  });

  it('keeps a row whose parent has not come yet and applies it when it does', () => {
    const staff = {
      version: 5,
      entity: 'staff' as const,
      id: `${EMPLOYMENT.provider}:user-later`,
      op: 'upsert' as const,
      data: {
        providerId: EMPLOYMENT.provider,
        userId: 'user-later',
        positionKk: 'Маман',
        positionRu: 'Специалист',
        active: true,
      },
    };
    expect(apply([staff])).toMatchObject({ applied: 0, deferred: 1 });
    expect(f.sqlite.prepare('SELECT reason FROM sync_deferred WHERE id = ?').pluck().get(staff.id)).toBe('parent');
    expect(f.sqlite.prepare("SELECT 1 FROM provider_staff WHERE user_id = 'user-later'").get()).toBeUndefined();

    apply([{ version: 9, entity: 'user', id: 'user-later', op: 'upsert', data: user('user-later', 'later.user') }]);
    const released = f.sqlite.transaction(() => applier.releaseDeferred())();
    expect(released.applied).toBe(1);
    expect(f.sqlite.prepare("SELECT active FROM provider_staff WHERE user_id = 'user-later'").pluck().get()).toBe(1);
    expect(f.sqlite.prepare('SELECT count(*) FROM sync_deferred').pluck().get()).toBe(0);
  });

  it('never overwrites the local password hash; replaces the roles', () => {
    f.sqlite
      .prepare("UPDATE users SET password_hash = 'scrypt$local', last_online_login_at = 123 WHERE id = ?")
      .run(EMPLOYMENT.executor);
    const login = f.sqlite.prepare('SELECT login FROM users WHERE id = ?').pluck().get(EMPLOYMENT.executor) as string;
    apply([
      {
        version: 7,
        entity: 'user',
        id: EMPLOYMENT.executor,
        op: 'upsert',
        data: user(EMPLOYMENT.executor, login, {
          fullName: 'Renamed',
          roles: [{ role: 'clerk', providerId: EMPLOYMENT.provider }],
        }),
      },
    ]);
    const row = f.sqlite
      .prepare('SELECT full_name AS name, password_hash AS hash, last_online_login_at AS at FROM users WHERE id = ?')
      .get(EMPLOYMENT.executor);
    expect(row).toEqual({ name: 'Renamed', hash: 'scrypt$local', at: 123 });
    expect(f.sqlite.prepare('SELECT role FROM user_roles WHERE user_id = ?').pluck().all(EMPLOYMENT.executor)).toEqual([
      'clerk',
    ]);
  });

  it('applies tombstones; a user other rows still name is blocked and loses roles instead', () => {
    apply([{ version: 1, entity: 'user', id: 'user-gone', op: 'upsert', data: user('user-gone', 'gone.user') }]);
    apply([
      { version: 4, entity: 'user', id: 'user-gone', op: 'delete', data: null },
      { version: 5, entity: 'user', id: EMPLOYMENT.executor, op: 'delete', data: null },
      { version: 6, entity: 'staff', id: `${EMPLOYMENT.provider}:${EMPLOYMENT.executor2}`, op: 'delete', data: null },
    ]);
    expect(f.sqlite.prepare("SELECT 1 FROM users WHERE id = 'user-gone'").get()).toBeUndefined();
    // The demo's executor is responsible for applications: kept, blocked, without roles.
    expect(f.sqlite.prepare('SELECT blocked FROM users WHERE id = ?').pluck().get(EMPLOYMENT.executor)).toBe(1);
    expect(f.sqlite.prepare('SELECT count(*) FROM user_roles WHERE user_id = ?').pluck().get(EMPLOYMENT.executor)).toBe(
      0,
    );
    expect(
      f.sqlite
        .prepare('SELECT 1 FROM provider_staff WHERE provider_id = ? AND user_id = ?')
        .get(EMPLOYMENT.provider, EMPLOYMENT.executor2),
    ).toBeUndefined();
  });

  it('does not take an older version of an application over a newer one', () => {
    const id = certificate();
    apply([appRow(id, 10, { status: 'in_processing', responsibleUserId: EMPLOYMENT.executor })], 10, 'provider:x');
    expect(local(id)).toMatchObject({ status: 'in_processing', serverVersion: 10 });
    const stats = apply([appRow(id, 6, { status: 'received', responsibleUserId: null })], 12, 'provider:x');
    expect(stats.stale).toBe(1);
    expect(local(id)).toMatchObject({ status: 'in_processing', serverVersion: 10 });
  });

  it('takes its own change coming back without moving the local version (an open card stays current)', () => {
    const id = certificate();
    apply(
      [appRow(id, 10, { formData: { lastName: 'Сапарова', firstName: 'Әсел', phone: '+7 701 123 45 67' } })],
      10,
      'provider:x',
    );
    const before = local(id);
    // The same content, form data keys in the order the server's jsonb keeps them.
    apply(
      [appRow(id, 11, { formData: { phone: '+7 701 123 45 67', firstName: 'Әсел', lastName: 'Сапарова' } })],
      11,
      'provider:x',
    );
    expect(local(id)).toMatchObject({ serverVersion: 11, version: before.version });
    // Different content does move it.
    apply([appRow(id, 12, { status: 'in_processing', responsibleUserId: EMPLOYMENT.executor })], 12, 'provider:x');
    expect(local(id)).toMatchObject({ status: 'in_processing', serverVersion: 12, version: before.version + 1 });
  });

  it('holds a row while a local change waits, and until the pull has passed the version that holds it', () => {
    const id = certificate();
    apply([appRow(id, 10)], 10, 'provider:x');
    f.sqlite.prepare("INSERT INTO sync_state (partition, version) VALUES ('provider:x', 10)").run();
    f.service.assignOne(id, local(id).version, EMPLOYMENT.executor, head);
    expect(local(id).responsible).toBe(EMPLOYMENT.executor);

    // Someone else's change on the server, older than ours: held, the local row keeps our change.
    expect(apply([appRow(id, 20, { responsibleUserId: EMPLOYMENT.executor2 })], 20, 'provider:x')).toMatchObject({
      deferred: 1,
    });
    expect(local(id)).toMatchObject({ responsible: EMPLOYMENT.executor, serverVersion: 10 });

    // Our change reached the server at version 30; the pull is at 25: still held.
    f.sqlite.prepare("UPDATE outbox SET state = 'sent', server_version = 30 WHERE entity_id = ?").run(id);
    f.sqlite.prepare("UPDATE sync_state SET version = 25 WHERE partition = 'provider:x'").run();
    f.sqlite.transaction(() => applier.releaseDeferred())();
    expect(local(id)).toMatchObject({ responsible: EMPLOYMENT.executor, serverVersion: 10 });
    expect(f.sqlite.prepare('SELECT version FROM sync_deferred WHERE id = ?').pluck().get(id)).toBe(20);

    // The page that holds version 30 brings the row with our change: applied, the held one gone.
    apply([appRow(id, 30, { responsibleUserId: EMPLOYMENT.executor, status: 'in_processing' })], 30, 'provider:x');
    expect(local(id)).toMatchObject({ responsible: EMPLOYMENT.executor, status: 'in_processing', serverVersion: 30 });
    expect(f.sqlite.prepare('SELECT count(*) FROM sync_deferred').pluck().get()).toBe(0);
    expect(f.sqlite.prepare('SELECT count(*) FROM sync_base').pluck().get()).toBe(0);
  });

  it("puts the server's state back when the server rejected the local change and nothing newer comes", () => {
    const id = certificate();
    apply([appRow(id, 10)], 10, 'provider:x');
    const before = local(id);
    f.service.assignOne(id, before.version, EMPLOYMENT.executor, head);
    expect(local(id).responsible).toBe(EMPLOYMENT.executor);
    expect(f.sqlite.prepare('SELECT server_version FROM sync_base WHERE application_id = ?').pluck().get(id)).toBe(10);

    // Not while the change still waits for the server.
    expect(f.sqlite.transaction(() => applier.restoreBases([id]))()).toBe(0);

    f.sqlite.prepare("UPDATE outbox SET state = 'rejected', reject_reason = 'reassigned' WHERE entity_id = ?").run(id);
    expect(f.sqlite.transaction(() => applier.restoreBases([id]))()).toBe(1);
    const after = local(id);
    expect(after).toMatchObject({ status: before.status, responsible: before.responsible, serverVersion: 10 });
    expect(after.version).toBeGreaterThan(before.version + 1);
    expect(f.sqlite.prepare('SELECT count(*) FROM sync_base').pluck().get()).toBe(0);
  });

  it('applies a held row once the local change was rejected (the server never had it)', () => {
    const id = certificate();
    apply([appRow(id, 10)], 10, 'provider:x');
    f.service.assignOne(id, local(id).version, EMPLOYMENT.executor, head);
    apply([appRow(id, 20, { responsibleUserId: EMPLOYMENT.executor2, status: 'in_processing' })], 20, 'provider:x');
    expect(local(id).responsible).toBe(EMPLOYMENT.executor);

    f.sqlite.prepare("UPDATE outbox SET state = 'rejected', reject_reason = 'reassigned' WHERE entity_id = ?").run(id);
    const released = f.sqlite.transaction(() => applier.releaseDeferred())();
    expect(released.applied).toBe(1);
    expect(local(id)).toMatchObject({ responsible: EMPLOYMENT.executor2, status: 'in_processing', serverVersion: 20 });
    expect(f.sqlite.transaction(() => applier.restoreBases([id]))()).toBe(0);
  });
});
