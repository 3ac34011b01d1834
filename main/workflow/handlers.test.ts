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
import { createWorkflowHandlers, type WorkflowHandlers } from './handlers.js';
import { EMPLOYMENT, insertApplication, openFixture, RESULT_DATA, SERVICES, type Fixture } from './testing.js';

let f: Fixture;
let handlers: WorkflowHandlers;
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
  handlers = createWorkflowHandlers({
    sqlite: f.sqlite,
    services: SERVICES,
    calendar: weekendOnlyCalendar(),
    currentUser: () => session,
    now: () => f.clock.now,
  });
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
    let card = await call<{ version: number; actions: string[] }>('application.card', { id });
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
    // The head signs the application's document with the signer, as the Sign dialog does.
    const signing = new SigningService({
      sqlite: f.sqlite,
      backend: stubBackend(),
      currentUser: () => ({ id: EMPLOYMENT.head, iin: DEMO_HEAD.iin }),
      now: () => f.clock.now,
    });
    const opened = await signing.open({ kind: 'keyfile', fileName: 'RSA256_test.p12', data: 'AA==', password: 'x' });
    const batch = signing.start(opened.handle, [id], 'cms');
    const done = await signing.settle(batch.batchId);
    expect(done.results).toEqual([expect.objectContaining({ ok: true })]);
    await signing.closeAll();

    const signed = await call<{ status: string; messageKey: string }>('application.sign', { id, version: r.version });
    expect(signed).toMatchObject({ status: 'completed', messageKey: 'messages.applicationSigned' });
    card = await call('application.card', { id });
    expect(card.actions).toEqual([]);
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
