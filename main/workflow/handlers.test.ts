/**
 * The workflow through the contract (dispatch: input and output schemas
 * checked), with the session user switching between roles, and the Sign
 * step fed by the real SigningService (its backend stubbed: no key needed
 * to show that the signature row it writes is the one Sign accepts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_HEAD } from '#demo/generate.js';
import type { Role } from '#core/vocabulary.js';
import type { CallError } from '#preload/api.js';
import { dispatch, type Channel, type Handlers } from '../rpc.js';
import { SigningService, type SignerBackend } from '../signing/service.js';
import type { CertificateFacts } from '#signing/index.js';
import { weekendOnlyCalendar } from '#core/workflow/deadlines.js';
import { createWorkflowHandlers, createWorkflowService, type WorkflowHandlers } from './handlers.js';
import type { WorkflowService } from './service.js';
import {
  EMPLOYMENT,
  ENTREPRENEURSHIP,
  insertApplication,
  insertSignature,
  openFixture,
  RESULT_DATA,
  SERVICES,
  type Fixture,
} from './testing.js';

let f: Fixture;
let handlers: WorkflowHandlers;
let workflow: WorkflowService;
let session: { id: string; roles: { role: Role; providerId: string }[] } | null = null;

function as(userId: string | null): void {
  if (userId === null) {
    session = null;
    return;
  }
  const roles = f.sqlite
    .prepare('SELECT role, provider_id AS providerId FROM user_roles WHERE user_id = ?')
    .all(userId) as {
    role: Role;
    providerId: string;
  }[];
  session = { id: userId, roles };
}

async function call<T>(channel: Channel, input: unknown): Promise<T> {
  const r = await dispatch(handlers as unknown as Handlers, channel, input, { transport: 'bridge' });
  if (!r.ok) throw new Error(`${channel}: ${r.error.code}`);
  return r.value as T;
}

async function failure(channel: Channel, input: unknown): Promise<CallError> {
  const r = await dispatch(handlers as unknown as Handlers, channel, input, { transport: 'bridge' });
  if (r.ok) throw new Error(`${channel} succeeded, a failure was expected`);
  return r.error;
}

beforeAll(async () => {
  f = await openFixture({ applications: 20 });
  const deps = {
    sqlite: f.sqlite,
    services: SERVICES,
    calendar: weekendOnlyCalendar(),
    currentUser: () => session,
    now: () => f.clock.now,
  };
  workflow = createWorkflowService(deps);
  handlers = createWorkflowHandlers(deps, workflow);
});
afterAll(() => f.close());

function newApplication(): string {
  return insertApplication(f.sqlite, {
    serviceCode: 'unemployed-certificate',
    providerId: EMPLOYMENT.provider,
    currentStep: 'head-assign',
  });
}

describe('workflow calls', () => {
  it('answers no session when nobody is logged in', async () => {
    as(null);
    const id = newApplication();
    expect(await failure('application.card', { id })).toEqual({
      code: 'noSession',
      messageKey: 'errors.sessionUnavailable',
    });
    expect((await failure('staff.list', { providerId: EMPLOYMENT.provider })).code).toBe('noSession');
  });

  it('refuses input outside the contract before any handler runs', async () => {
    as(EMPLOYMENT.head);
    const id = newApplication();
    expect((await failure('application.accept', { id })).code).toBe('invalid_input');
    expect((await failure('application.accept', { id, version: 0 })).code).toBe('invalid_input');
    expect((await failure('application.accept', { id, version: 1, extra: true })).code).toBe('invalid_input');
    expect((await failure('application.return', { id, version: 1, comment: 'x'.repeat(2001) })).code).toBe(
      'invalid_input',
    );
    expect((await failure('application.save', { id, version: 1, data: { 'bad key': 'x' } })).code).toBe(
      'invalid_input',
    );
    expect((await failure('application.assign', { applications: [], responsibleUserId: 'x' })).code).toBe(
      'invalid_input',
    );
  });

  it('answers forbidden to a role that may not act, with the message key', async () => {
    const id = newApplication();
    as(EMPLOYMENT.clerk);
    const r = await call<{ results: { ok: boolean; code: string | null }[]; messageKey: string }>(
      'application.assign',
      { applications: [{ id, version: 1 }], responsibleUserId: EMPLOYMENT.executor },
    );
    expect(r).toEqual({
      results: [expect.objectContaining({ ok: false, code: 'forbidden', messageKey: 'errors.forbidden' }) as unknown],
      messageKey: 'errors.forbidden',
    });
    expect(await failure('staff.list', { providerId: EMPLOYMENT.provider })).toEqual({
      code: 'forbidden',
      messageKey: 'errors.forbidden',
    });
  });

  it('walks one application to completed, signed through the signing service', async () => {
    const id = newApplication();
    as(EMPLOYMENT.head);
    const staff = await call<{ staff: { userId: string }[] }>('staff.list', { providerId: EMPLOYMENT.provider });
    expect(staff.staff.map((s) => s.userId)).toContain(EMPLOYMENT.executor);
    const assigned = await call<{ results: { ok: boolean; version: number }[]; messageKey: string }>(
      'application.assign',
      { applications: [{ id, version: 1 }], responsibleUserId: EMPLOYMENT.executor },
    );
    expect(assigned.messageKey).toBe('messages.responsibleAssigned');

    as(EMPLOYMENT.executor);
    const card = await call<{ version: number; actions: string[] }>('application.card', { id });
    expect(card.actions).toEqual(['accept']);
    let r = await call<{ version: number; messageKey: string }>('application.accept', { id, version: card.version });
    expect(r.messageKey).toBe('messages.applicationAccepted');
    r = await call('application.save', { id, version: r.version, data: RESULT_DATA });
    expect(r.messageKey).toBe('messages.dataSaved');
    const missing = await failure('application.decide', { id, version: r.version, decision: 'negative' });
    expect(missing).toEqual({ code: 'refusalReasonRequired', messageKey: 'errors.workflow.refusalReasonRequired' });
    r = await call('application.decide', { id, version: r.version, decision: 'positive' });
    r = await call('application.send', { id, version: r.version });
    expect(r.messageKey).toBe('messages.applicationSent');

    as(EMPLOYMENT.head);
    expect((await failure('application.sign', { id, version: r.version })).code).toBe('signatureRequired');
    // The head signs the application's document with the signer, as the Sign dialog does: the batch completes it.
    const signing = new SigningService({
      sqlite: f.sqlite,
      backend: stubBackend(),
      workflow: workflow.commands,
      currentUser: () => ({ id: EMPLOYMENT.head, iin: DEMO_HEAD.iin }),
      now: () => f.clock.now,
    });
    const opened = await signing.open({ kind: 'keyfile', fileName: 'RSA256_test.p12', data: 'AA==', password: 'x' });
    const batch = signing.start(opened.handle, [id], 'cms');
    const done = await signing.settle(batch.batchId);
    expect(done.results).toEqual([expect.objectContaining({ ok: true })]);
    await signing.closeAll();

    const completed = await call<{ version: number; actions: string[]; header: { status: string } }>(
      'application.card',
      { id },
    );
    expect(completed.header.status).toBe('completed');
    // Completed once: the card's separate Sign call has nothing left to do.
    expect((await failure('application.sign', { id, version: completed.version })).code).toBe('wrongState');
    expect(completed.actions).toEqual([]);
    expect(await call('application.verifyChain', { id })).toEqual({ ok: true });
    const doc = await call<{ draft: boolean; kk: { signature: string | null } }>('application.preview', { id });
    expect(doc.draft).toBe(false);
    expect(doc.kk.signature).toMatch(/^ЭЦҚ-мен қол қойылды: STUB HEAD/);
  });

  it('refuses a stale version over the contract too', async () => {
    const id = newApplication();
    as(EMPLOYMENT.head);
    await call('application.assign', { applications: [{ id, version: 1 }], responsibleUserId: EMPLOYMENT.executor });
    const again = await call<{ results: { ok: boolean; code: string | null; messageKey: string }[] }>(
      'application.assign',
      { applications: [{ id, version: 1 }], responsibleUserId: EMPLOYMENT.executor2 },
    );
    expect(again.results[0]).toMatchObject({
      ok: false,
      code: 'staleVersion',
      messageKey: 'errors.workflow.staleVersion',
    });
  });
});

describe("the journal's batch Sign (seed 002 steps 23-28)", () => {
  /** Runs one batch as `userId` over `ids` and answers its results by application. */
  async function batch(userId: string, ids: string[]) {
    const signing = new SigningService({
      sqlite: f.sqlite,
      backend: stubBackend(),
      workflow: workflow.commands,
      currentUser: () => ({ id: userId, iin: DEMO_HEAD.iin }),
      now: () => f.clock.now,
    });
    const opened = await signing.open({ kind: 'keyfile', fileName: 'k.p12', data: 'AA==', password: 'x' });
    const done = await signing.settle(signing.start(opened.handle, ids, 'xmldsig').batchId);
    await signing.closeAll();
    return { done, by: new Map(done.results.map((r) => [r.applicationId, r])) };
  }
  const status = (id: string) =>
    (f.sqlite.prepare('SELECT status FROM applications WHERE id = ?').get(id) as { status: string }).status;
  const signatures = (id: string) =>
    (f.sqlite.prepare('SELECT count(*) AS n FROM signatures WHERE application_id = ?').get(id) as { n: number }).n;
  const onSigning = (extra: Partial<Parameters<typeof insertApplication>[1]> = {}) =>
    insertApplication(f.sqlite, {
      serviceCode: 'unemployed-certificate',
      providerId: EMPLOYMENT.provider,
      status: 'on_signing',
      decision: 'positive',
      responsibleUserId: EMPLOYMENT.executor,
      currentStep: 'head-sign',
      ...extra,
    });

  it('signs and completes what is On signing with one opened key; skips the rest with the reason', async () => {
    const ready = [onSigning(), onSigning()];
    const received = newApplication();
    const done = onSigning({ status: 'completed', currentStep: null });
    const { done: progress, by } = await batch(EMPLOYMENT.head, [...ready, received, done, 'no-such-application']);
    expect(progress).toMatchObject({ state: 'finished', total: 5, done: 5, failed: 3 });
    for (const id of ready) {
      expect(by.get(id)).toMatchObject({ ok: true, code: null });
      expect(status(id)).toBe('completed');
      expect(signatures(id)).toBe(1);
      // The same command path as the card: the sign event names the signature, both go to the server in order.
      const ops = f.sqlite
        .prepare('SELECT op FROM outbox WHERE entity_id = ? OR payload LIKE ? ORDER BY seq')
        .all(id, `%"applicationId":"${id}"%`) as { op: string }[];
      expect(ops.map((o) => o.op).slice(-2)).toEqual(['signature.add', 'application.transition']);
    }
    expect(by.get(received)).toMatchObject({
      ok: false,
      code: 'notOnSigning',
      messageKey: 'errors.signing.notOnSigning',
    });
    expect(by.get(done)).toMatchObject({
      ok: false,
      code: 'alreadySigned',
      messageKey: 'errors.signing.alreadySigned',
    });
    expect(by.get('no-such-application')).toMatchObject({ ok: false, code: 'notFound' });
    // Nothing was signed for the skipped ones.
    expect(signatures(received) + signatures(done)).toBe(0);
    expect(status(received)).toBe('received');
  });

  it("another's to sign is skipped: industrial infrastructure is signed by its responsible executor, not the head", async () => {
    const id = onSigning({
      serviceCode: 'industrial-infrastructure',
      providerId: ENTREPRENEURSHIP.provider,
      responsibleUserId: ENTREPRENEURSHIP.executor,
      currentStep: 'executor-issue',
    });
    const byHead = await batch(ENTREPRENEURSHIP.head, [id]);
    expect(byHead.by.get(id)).toMatchObject({ ok: false, code: 'notYourSignature' });
    expect(signatures(id)).toBe(0);
    const byExecutor = await batch(ENTREPRENEURSHIP.executor, [id]);
    expect(byExecutor.by.get(id)).toMatchObject({ ok: true });
    expect(status(id)).toBe('completed');
  });

  it('a batch cut short after signing completes on the signature already made, without signing again', async () => {
    const id = onSigning();
    insertSignature(f.sqlite, id, EMPLOYMENT.head, f.clock.now);
    const { by } = await batch(EMPLOYMENT.head, [id]);
    expect(by.get(id)).toMatchObject({ ok: true });
    expect(status(id)).toBe('completed');
    expect(signatures(id)).toBe(1);
  });
});

function stubBackend(): SignerBackend {
  const facts = {
    commonName: 'STUB HEAD',
    iin: DEMO_HEAD.iin,
    bin: null,
    sha256: 'ab'.repeat(32),
  } as unknown as CertificateFacts;
  return {
    listTokens: () => Promise.resolve({ tokens: [], modules: [] }),
    openToken: () => Promise.reject(new Error('no tokens in this test')),
    openKeyFile: () =>
      Promise.resolve({
        key: {
          source: 'keyfile',
          label: 'stub',
          certificate: new Uint8Array([1]),
          chain: [],
          algorithm: 'rsa',
          sign: () => Promise.resolve(new Uint8Array([2])),
        },
        close: () => Promise.resolve(),
      }),
    facts: () => facts,
    check: () =>
      Promise.resolve({
        revocation: { status: 'good', source: 'crl', stale: false, checkedAt: f.clock.now },
        warnings: [],
      }),
    sign: (_format, document) =>
      Promise.resolve({ signed: document, timestampedAt: null, timestampNote: 'notConfigured' }),
  };
}
