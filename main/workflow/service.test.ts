import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationCard, outputDocument } from '#preload/contract/workflow.js';
import { ServiceError } from '../rpc.js';
import { readEvents, verifyChain } from './events.js';
import {
  countOf,
  DAY,
  EMPLOYMENT,
  ENTREPRENEURSHIP,
  insertApplication,
  insertSignature,
  MINUTE,
  MONITORING,
  NOW,
  openFixture,
  RESULT_DATA,
  row,
  type Fixture,
} from './testing.js';

let f: Fixture;

beforeAll(async () => {
  f = await openFixture();
});
afterAll(() => f.close());

const head = { id: EMPLOYMENT.head };
const executor = { id: EMPLOYMENT.executor };
const executor2 = { id: EMPLOYMENT.executor2 };
const clerk = { id: EMPLOYMENT.clerk };

/** The ServiceError a call throws (fails the test when it does not throw one). */
function refusal(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ServiceError) return err;
    throw err;
  }
  throw new Error('expected a ServiceError, the call succeeded');
}

function certificate(extra: Partial<Parameters<typeof insertApplication>[1]> = {}): string {
  return insertApplication(f.sqlite, {
    serviceCode: 'unemployed-certificate',
    providerId: EMPLOYMENT.provider,
    currentStep: 'head-assign',
    ...extra,
  });
}

/** A certificate application the executor has accepted: in processing, version 3. */
function inProcessing(): string {
  const id = certificate();
  f.service.assignOne(id, 1, EMPLOYMENT.executor, head);
  f.service.accept(id, 2, executor);
  return id;
}

describe('the whole walk of one application', () => {
  it('assign → accept → negative → send → return → positive → send → sign: completed, every step an event', () => {
    f.clock.now = NOW;
    const id = certificate();

    const assigned = f.service.assignOne(id, 1, EMPLOYMENT.executor, head);
    expect(assigned).toMatchObject({
      status: 'received',
      version: 2,
      responsibleUserId: EMPLOYMENT.executor,
      currentStep: 'executor-prepare',
      dueAt: NOW + 3 * MINUTE,
      messageKey: 'messages.responsibleAssigned',
    });

    f.clock.now += MINUTE;
    const accepted = f.service.accept(id, assigned.version, executor);
    expect(accepted).toMatchObject({ status: 'in_processing', version: 3, messageKey: 'messages.applicationAccepted' });
    expect(row(f.sqlite, id).status_changed_at).toBe(f.clock.now);

    const saved = f.service.save(id, accepted.version, { ...RESULT_DATA, executorComment: '  checked  ' }, executor);
    expect(saved).toMatchObject({ version: 4, messageKey: 'messages.dataSaved' });
    expect(JSON.parse(String(row(f.sqlite, id).form_data))).toMatchObject({
      ...RESULT_DATA,
      executorComment: 'checked',
    });

    const negative = f.service.decide(
      id,
      saved.version,
      { decision: 'negative', refusalReasonCode: 'documents-mismatch', refusalText: 'Нет справки' },
      executor,
    );
    expect(negative).toMatchObject({ decision: 'negative', status: 'in_processing', version: 5 });

    f.clock.now += MINUTE;
    const sent = f.service.send(id, negative.version, executor);
    expect(sent).toMatchObject({
      status: 'on_signing',
      decision: 'negative',
      currentStep: 'head-sign',
      dueAt: f.clock.now + 2 * MINUTE,
      messageKey: 'messages.applicationSent',
    });

    f.clock.now += MINUTE;
    const returned = f.service.returnForRework(id, sent.version, '  Отказ необоснован, проверьте ГБД ФЛ ', head);
    expect(returned).toMatchObject({
      status: 'in_processing',
      currentStep: 'executor-prepare',
      messageKey: 'messages.applicationReturnedForRework',
    });
    expect(row(f.sqlite, id).rework_comment).toBe('Отказ необоснован, проверьте ГБД ФЛ');
    // The executor sees the comment on the card.
    expect(f.service.card(id, executor).reworkComment).toBe('Отказ необоснован, проверьте ГБД ФЛ');

    const positive = f.service.decide(id, returned.version, { decision: 'positive' }, executor);
    expect(positive.decision).toBe('positive');
    expect(row(f.sqlite, id)).toMatchObject({ refusal_reason_code: null, refusal_text: null });

    f.clock.now += MINUTE;
    const resent = f.service.send(id, positive.version, executor);
    expect(resent.status).toBe('on_signing');
    expect(row(f.sqlite, id).rework_comment).toBeNull();

    // No signature yet; then one made before it went On signing again does not count either.
    expect(refusal(() => f.service.sign(id, resent.version, head)).code).toBe('signatureRequired');
    insertSignature(f.sqlite, id, EMPLOYMENT.head, f.clock.now - 30_000);
    expect(refusal(() => f.service.sign(id, resent.version, head)).code).toBe('signatureRequired');
    // Signed by someone else than the acting head: not the head's signature.
    insertSignature(f.sqlite, id, EMPLOYMENT.executor, f.clock.now + 1000);
    expect(refusal(() => f.service.sign(id, resent.version, head)).code).toBe('signatureRequired');

    f.clock.now += MINUTE;
    const signatureId = insertSignature(f.sqlite, id, EMPLOYMENT.head, f.clock.now);
    const signed = f.service.sign(id, resent.version, head);
    expect(signed).toMatchObject({
      status: 'completed',
      decision: 'positive',
      currentStep: null,
      dueAt: null,
      messageKey: 'messages.applicationSigned',
    });

    const events = readEvents(f.sqlite, id);
    expect(events.map((e) => e.action)).toEqual([
      'received',
      'assign',
      'accept',
      'save',
      'decide',
      'send',
      'return',
      'decide',
      'send',
      'sign',
    ]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const ret = events.find((e) => e.action === 'return');
    expect(ret).toMatchObject({
      actorUserId: EMPLOYMENT.head,
      fromStatus: 'on_signing',
      toStatus: 'in_processing',
      comment: 'Отказ необоснован, проверьте ГБД ФЛ',
    });
    expect(events.at(-1)?.payload).toMatchObject({ signatureId, version: signed.version });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: true });

    // One outbox row per transition, carrying the event as chained.
    const outbox = f.sqlite
      .prepare(
        "SELECT op, entity, payload, protocol_version, schema_version FROM outbox WHERE entity_id = ? AND op = 'application.transition' ORDER BY seq",
      )
      .all(id) as { op: string; entity: string; payload: string; protocol_version: number; schema_version: number }[];
    expect(outbox).toHaveLength(events.length - 1);
    const sentHashes = outbox.map((o) => (JSON.parse(o.payload) as { event: { hash: string } }).event.hash);
    expect(sentHashes).toEqual(events.slice(1).map((e) => e.hash));
    expect(outbox.every((o) => o.entity === 'application' && o.protocol_version === 1 && o.schema_version === 1)).toBe(
      true,
    );
    const last = JSON.parse(outbox.at(-1)?.payload ?? '{}') as { application: Record<string, unknown> };
    expect(last.application).toMatchObject({ status: 'completed', decision: 'positive', version: signed.version });
    const save = JSON.parse(outbox[2]?.payload ?? '{}') as { application: { formData: Record<string, unknown> } };
    expect(save.application.formData).toEqual({ ...RESULT_DATA, executorComment: 'checked' });

    // The card of the completed application: the steps up to the signature done, nothing to press.
    const card = f.service.card(id, head);
    expect(card.actions).toEqual([]);
    expect(card.steps.filter((s) => s.state === 'done').map((s) => s.code)).toEqual([
      'clerk-register',
      'head-assign',
      'executor-prepare',
      'head-sign',
    ]);
    expect(card.steps.find((s) => s.code === 'head-sign')?.holder?.userId).toBe(EMPLOYMENT.head);
    expect(card.signatures.map((s) => s.id)).toContain(signatureId);
    expect(card.chain).toEqual({ ok: true });
  });

  it('a service with a competition commission: refer, protocol, then the result', () => {
    f.clock.now = NOW;
    const grantHead = { id: ENTREPRENEURSHIP.head };
    const grantExecutor = { id: ENTREPRENEURSHIP.executor };
    const id = insertApplication(f.sqlite, {
      serviceCode: 'grant-small-business',
      providerId: ENTREPRENEURSHIP.provider,
      currentStep: 'head-review',
    });
    let v = f.service.assignOne(id, 1, ENTREPRENEURSHIP.executor, grantHead).version;
    const accepted = f.service.accept(id, v, grantExecutor);
    expect(accepted.currentStep).toBe('executor-review');
    // 5 working days from Wednesday 20 May: Wednesday 27 May, same time.
    expect(accepted.dueAt).toBe(NOW + 7 * DAY);
    expect(f.service.card(id, grantExecutor).actions).toEqual(
      expect.arrayContaining(['refer', 'commission', 'save', 'decidePositive', 'decideNegative']),
    );

    const referred = f.service.refer(id, accepted.version, grantExecutor);
    expect(referred).toMatchObject({ currentStep: 'commission-decision', messageKey: 'messages.referredToCommission' });
    // 10 working days: two weekends skipped.
    expect(referred.dueAt).toBe(NOW + 14 * DAY);
    expect(refusal(() => f.service.refer(id, referred.version, grantExecutor)).code).toBe('wrongState');

    v = f.service.save(id, referred.version, RESULT_DATA, grantExecutor).version;
    v = f.service.decide(id, v, { decision: 'positive' }, grantExecutor).version;
    // Positive without the commission's protocol: refused.
    expect(refusal(() => f.service.send(id, v, grantExecutor)).code).toBe('protocolRequired');

    const incomplete = refusal(() =>
      f.service.commission(id, v, { commissionProtocolNumber: '12', commissionDecision: 'award' }, grantExecutor),
    );
    expect(incomplete.code).toBe('requiredFields');
    expect(incomplete.details).toEqual({ commissionProtocolDate: 'required', commissionReasons: 'required' });

    f.clock.now += DAY;
    const protocol = f.service.commission(
      id,
      v,
      {
        commissionProtocolNumber: '12',
        commissionProtocolDate: '2026-05-21',
        commissionDecision: 'award',
        commissionReasons: 'Проект соответствует условиям',
      },
      grantExecutor,
    );
    expect(protocol).toMatchObject({ currentStep: 'executor-prepare', messageKey: 'messages.protocolSaved' });
    const card = f.service.card(id, grantExecutor);
    expect(card.commission).toMatchObject({ stepCode: 'commission-decision', recorded: true });
    expect(card.actions).not.toContain('refer');
    expect(card.steps.find((s) => s.code === 'commission-decision')).toMatchObject({
      state: 'done',
      enteredAt: NOW,
      completedAt: NOW + DAY,
      dueAt: NOW + 14 * DAY,
      overdue: false,
    });

    const sent = f.service.send(id, protocol.version, grantExecutor);
    expect(sent.currentStep).toBe('head-sign');
    insertSignature(f.sqlite, id, ENTREPRENEURSHIP.head, f.clock.now);
    expect(f.service.sign(id, sent.version, grantHead).status).toBe('completed');

    const doc = f.service.preview(id, grantHead);
    expect(doc.kk.title).toBe('Грант беру туралы шарт');
    expect(doc.ru.lines).toContainEqual({ label: 'Номер протокола', value: '12' });
    expect(doc.ru.lines).toContainEqual({ label: 'Решение комиссии', value: 'Предоставить грант' });
    expect(doc.ru.signature).toMatch(/^Подписано ЭЦП: TEST SIGNER, \d\d\.\d\d\.2026 \d\d:\d\d$/);
    expect(doc.draft).toBe(false);
  });
});

describe('what is refused, and that nothing changes then', () => {
  it('the wrong role', () => {
    const id = certificate();
    const before = { events: countOf(f.sqlite, 'application_events', id), outbox: countOf(f.sqlite, 'outbox', id) };
    expect(refusal(() => f.service.assignOne(id, 1, EMPLOYMENT.executor, clerk))).toMatchObject({
      code: 'forbidden',
      messageKey: 'errors.forbidden',
    });
    expect(refusal(() => f.service.assignOne(id, 1, EMPLOYMENT.executor, executor)).code).toBe('forbidden');
    // The head of another provider.
    expect(refusal(() => f.service.assignOne(id, 1, EMPLOYMENT.executor, { id: ENTREPRENEURSHIP.head })).code).toBe(
      'forbidden',
    );
    const v = f.service.assignOne(id, 1, EMPLOYMENT.executor, head).version;
    // The head holds no executor role: may not accept, even when asked to.
    expect(refusal(() => f.service.accept(id, v, head)).code).toBe('forbidden');
    // Another executor of the same provider is not the responsible one.
    expect(refusal(() => f.service.accept(id, v, executor2))).toMatchObject({
      code: 'notResponsible',
      messageKey: 'errors.workflow.notResponsible',
    });
    const a = f.service.accept(id, v, executor);
    expect(refusal(() => f.service.returnForRework(id, a.version, 'x', executor)).code).toBe('forbidden');
    expect(refusal(() => f.service.sign(id, a.version, executor)).code).toBe('forbidden');
    expect(countOf(f.sqlite, 'application_events', id)).toBe(before.events + 2);
    expect(countOf(f.sqlite, 'outbox', id)).toBe(before.outbox + 2);
  });

  it('the wrong state', () => {
    const id = inProcessing();
    const v = Number(row(f.sqlite, id).version);
    expect(refusal(() => f.service.accept(id, v, executor))).toMatchObject({
      code: 'wrongState',
      messageKey: 'errors.workflow.wrongState',
      details: { status: 'in_processing' },
    });
    expect(refusal(() => f.service.returnForRework(id, v, 'comment', head)).code).toBe('wrongState');
    expect(refusal(() => f.service.sign(id, v, head)).code).toBe('wrongState');
    // A certificate has no commission.
    expect(refusal(() => f.service.refer(id, v, executor)).code).toBe('noCollegialStep');
    expect(refusal(() => f.service.commission(id, v, {}, executor)).code).toBe('noCollegialStep');

    const decided = f.service.decide(id, v, { decision: 'positive' }, executor);
    f.service.save(id, decided.version, RESULT_DATA, executor);
    const sent = f.service.send(id, decided.version + 1, executor);
    expect(refusal(() => f.service.save(id, sent.version, { executorComment: 'late' }, executor)).code).toBe(
      'wrongState',
    );
    expect(refusal(() => f.service.decide(id, sent.version, { decision: 'positive' }, executor)).code).toBe(
      'wrongState',
    );
    expect(refusal(() => f.service.assignOne(id, sent.version, EMPLOYMENT.executor2, head)).code).toBe('wrongState');
    expect(row(f.sqlite, id).version).toBe(sent.version);
  });

  it('a negative decision without its refusal reason or text, a return without a comment', () => {
    const id = inProcessing();
    const v = Number(row(f.sqlite, id).version);
    expect(
      refusal(() => f.service.decide(id, v, { decision: 'negative', refusalText: 'text' }, executor)),
    ).toMatchObject({ code: 'refusalReasonRequired', messageKey: 'errors.workflow.refusalReasonRequired' });
    expect(
      refusal(() =>
        f.service.decide(
          id,
          v,
          { decision: 'negative', refusalReasonCode: 'commission-refused', refusalText: 't' },
          executor,
        ),
      ).code,
    ).toBe('refusalReasonUnknown');
    expect(
      refusal(() =>
        f.service.decide(
          id,
          v,
          { decision: 'negative', refusalReasonCode: 'data-unavailable', refusalText: '   ' },
          executor,
        ),
      ).code,
    ).toBe('refusalTextRequired');
    expect(row(f.sqlite, id)).toMatchObject({ decision: 'none', version: v });

    // Send needs a decision, then the required fields.
    expect(refusal(() => f.service.send(id, v, executor)).code).toBe('decisionRequired');
    const d = f.service.decide(
      id,
      v,
      { decision: 'negative', refusalReasonCode: 'data-unavailable', refusalText: 'ГБД недоступна' },
      executor,
    );
    const missing = refusal(() => f.service.send(id, d.version, executor));
    expect(missing).toMatchObject({
      code: 'requiredFields',
      details: { documentsCheck: 'required', resultNumber: 'required', resultDate: 'required' },
    });

    const s = f.service.save(id, d.version, RESULT_DATA, executor);
    const sent = f.service.send(id, s.version, executor);
    expect(refusal(() => f.service.returnForRework(id, sent.version, '  \n ', head))).toMatchObject({
      code: 'commentRequired',
      messageKey: 'errors.workflow.commentRequired',
    });
    expect(row(f.sqlite, id)).toMatchObject({ status: 'on_signing', rework_comment: null, version: sent.version });
  });

  it('fields the executor may not fill, or fills wrongly', () => {
    const id = inProcessing();
    const v = Number(row(f.sqlite, id).version);
    const err = refusal(() =>
      f.service.save(
        id,
        v,
        {
          resultDate: '2026-02-30',
          documentsCheck: 'maybe',
          lastName: 'Иванова',
          noSuchField: 'x',
          publicWorks: 'yes',
          executorComment: 'x'.repeat(2001),
        },
        executor,
      ),
    );
    expect(err).toMatchObject({ code: 'fieldInvalid', messageKey: 'errors.workflow.fieldInvalid' });
    expect(err.details).toEqual({
      resultDate: 'invalid',
      documentsCheck: 'invalid',
      lastName: 'unknown',
      noSuchField: 'unknown',
      publicWorks: 'invalid',
      executorComment: 'tooLong',
    });
    expect(row(f.sqlite, id).version).toBe(v);
    // Saving what is already there changes nothing, not even the version.
    const first = f.service.save(id, v, { publicWorks: true }, executor);
    expect(f.service.save(id, first.version, { publicWorks: true }, executor).version).toBe(first.version);
  });

  it('two users on one application: the second save is refused and nothing is overwritten', () => {
    const id = inProcessing();
    const seen = Number(row(f.sqlite, id).version);
    // The executor saves in one window...
    f.service.save(id, seen, { executorComment: 'first' }, executor);
    // ...and again in another window opened before, with the version it showed.
    const stale = refusal(() => f.service.save(id, seen, { executorComment: 'second' }, executor));
    expect(stale).toMatchObject({
      code: 'staleVersion',
      messageKey: 'errors.workflow.staleVersion',
      details: { version: String(seen + 1) },
    });
    // The head reassigns from the card he opened before the save.
    expect(refusal(() => f.service.assignOne(id, seen, EMPLOYMENT.executor2, head)).code).toBe('staleVersion');
    const after = row(f.sqlite, id);
    expect(JSON.parse(String(after.form_data))).toMatchObject({ executorComment: 'first' });
    expect(after).toMatchObject({ version: seen + 1, responsible_user_id: EMPLOYMENT.executor });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: true });
  });

  it('writes the outbox in the same transaction: when it cannot, the row and the event stay as they were', () => {
    const id = certificate();
    f.sqlite.exec(
      "CREATE TEMP TRIGGER outbox_refuses BEFORE INSERT ON outbox BEGIN SELECT RAISE(ABORT, 'outbox unavailable'); END",
    );
    try {
      expect(() => f.service.assignOne(id, 1, EMPLOYMENT.executor, head)).toThrow(/outbox unavailable/);
    } finally {
      f.sqlite.exec('DROP TRIGGER outbox_refuses');
    }
    expect(row(f.sqlite, id)).toMatchObject({ version: 1, responsible_user_id: null });
    expect(countOf(f.sqlite, 'application_events', id)).toBe(1);
    expect(countOf(f.sqlite, 'outbox', id)).toBe(0);
    expect(f.service.assignOne(id, 1, EMPLOYMENT.executor, head).version).toBe(2);
    expect(countOf(f.sqlite, 'outbox', id)).toBe(1);
  });

  it('a signature over another document than the one now on signing', () => {
    const id = inProcessing();
    let v = f.service.decide(id, Number(row(f.sqlite, id).version), { decision: 'positive' }, executor).version;
    v = f.service.save(id, v, RESULT_DATA, executor).version;
    const sent = f.service.send(id, v, executor);
    insertSignature(f.sqlite, id, EMPLOYMENT.head, f.clock.now);
    // The document changes behind the workflow's back (e.g. a sync applied a remote edit).
    f.sqlite.prepare("UPDATE applications SET refusal_text = 'changed' WHERE id = ?").run(id);
    expect(refusal(() => f.service.sign(id, sent.version, head))).toMatchObject({
      code: 'signatureMismatch',
      messageKey: 'errors.workflow.signatureMismatch',
    });
    expect(row(f.sqlite, id).status).toBe('on_signing');
  });
});

describe('assigning several applications', () => {
  it('each row succeeds or fails on its own', () => {
    const a = certificate();
    const b = certificate({ status: 'on_signing', responsibleUserId: EMPLOYMENT.executor, currentStep: 'head-sign' });
    const c = insertApplication(f.sqlite, {
      serviceCode: 'grant-small-business',
      providerId: ENTREPRENEURSHIP.provider,
      currentStep: 'head-review',
    });
    const d = inProcessing();
    const results = f.service.assign(
      [{ id: a }, { id: b }, { id: c }, { id: 'no-such-application' }, { id: d, version: 1 }, { id: d }],
      EMPLOYMENT.executor2,
      head,
    );
    expect(results.map((r) => [r.ok, r.code])).toEqual([
      [true, null],
      [false, 'wrongState'],
      [false, 'forbidden'],
      [false, 'notFound'],
      [false, 'staleVersion'],
      [true, null],
    ]);
    expect(results[0]).toMatchObject({ messageKey: 'messages.responsibleAssigned', version: 2 });
    expect(results[3]).toMatchObject({ number: null, messageKey: 'errors.workflow.notFound' });
    expect(row(f.sqlite, a).responsible_user_id).toBe(EMPLOYMENT.executor2);
    // Reassigned while in processing: the status and the step stay.
    expect(row(f.sqlite, d)).toMatchObject({
      responsible_user_id: EMPLOYMENT.executor2,
      status: 'in_processing',
      current_step: 'executor-prepare',
    });
    expect(row(f.sqlite, b).responsible_user_id).toBe(EMPLOYMENT.executor);
  });

  it('only to an active executor of the provider', () => {
    const id = certificate();
    for (const who of [EMPLOYMENT.formerExecutor, EMPLOYMENT.clerk, ENTREPRENEURSHIP.executor]) {
      expect(refusal(() => f.service.assignOne(id, 1, who, head))).toMatchObject({
        code: 'notStaff',
        messageKey: 'errors.workflow.notStaff',
      });
    }
    expect(row(f.sqlite, id).version).toBe(1);
  });

  it('lists the executors for "Assign responsible", to the provider head only', () => {
    const staff = f.service.staff(EMPLOYMENT.provider, head);
    const ids = staff.map((s) => s.userId);
    expect(ids).toContain(EMPLOYMENT.executor);
    expect(ids).toContain(EMPLOYMENT.executor2);
    expect(ids).not.toContain(EMPLOYMENT.formerExecutor);
    expect(ids).not.toContain(EMPLOYMENT.clerk);
    const open = f.sqlite
      .prepare(
        "SELECT count(*) AS n FROM applications WHERE responsible_user_id = ? AND status IN ('received', 'in_processing')",
      )
      .get(EMPLOYMENT.executor) as { n: number };
    expect(staff.find((s) => s.userId === EMPLOYMENT.executor)?.openApplications).toBe(open.n);
    expect(refusal(() => f.service.staff(EMPLOYMENT.provider, executor)).code).toBe('forbidden');
    // The provider's administrator (the staff screen) sees the same list.
    f.sqlite
      .prepare("INSERT INTO user_roles (user_id, role, provider_id) VALUES (?, 'admin', ?)")
      .run(EMPLOYMENT.clerk, EMPLOYMENT.provider);
    try {
      expect(f.service.staff(EMPLOYMENT.provider, clerk).map((s) => s.userId)).toEqual(ids);
    } finally {
      f.sqlite
        .prepare("DELETE FROM user_roles WHERE user_id = ? AND role = 'admin' AND provider_id = ?")
        .run(EMPLOYMENT.clerk, EMPLOYMENT.provider);
    }
    expect(refusal(() => f.service.staff(ENTREPRENEURSHIP.provider, head)).code).toBe('forbidden');
  });
});

describe('the application card', () => {
  it('shows each role the buttons it may press now', () => {
    const id = certificate();
    expect(f.service.card(id, head).actions).toEqual(['assign']);
    expect(f.service.card(id, executor).actions).toEqual([]);
    expect(f.service.card(id, clerk).actions).toEqual([]);
    const v = f.service.assignOne(id, 1, EMPLOYMENT.executor, head).version;
    expect(f.service.card(id, executor).actions).toEqual(['accept']);
    expect(f.service.card(id, executor2).actions).toEqual([]);
    expect(f.service.card(id, head).actions).toEqual(['assign']);
    const a = f.service.accept(id, v, executor);
    expect(f.service.card(id, executor).actions).toEqual(['save', 'decidePositive', 'decideNegative']);
    const d = f.service.decide(id, a.version, { decision: 'positive' }, executor);
    expect(f.service.card(id, executor).actions).toEqual(['save', 'decidePositive', 'decideNegative', 'send']);
    const s = f.service.save(id, d.version, RESULT_DATA, executor);
    f.service.send(id, s.version, executor);
    expect(f.service.card(id, head).actions).toEqual(['return', 'sign']);
    expect(f.service.card(id, executor).actions).toEqual([]);
    // Monitoring reads every provider's applications, presses nothing.
    expect(f.service.card(id, { id: MONITORING }).actions).toEqual([]);
    // Someone of another provider does not see it at all.
    expect(refusal(() => f.service.card(id, { id: ENTREPRENEURSHIP.head })).code).toBe('forbidden');
  });

  it('lets a monitoring officer of an education department read its region only', () => {
    f.sqlite
      .prepare(
        `INSERT INTO users (id, login, full_name, iin, created_at, updated_at)
         VALUES ('user-monitoring-astana', 'monitoring.astana', 'Мониторинг Астана', '880101300123', 0, 0)`,
      )
      .run();
    f.sqlite
      .prepare("INSERT INTO user_roles (user_id, role, provider_id) VALUES ('user-monitoring-astana', 'monitoring', ?)")
      .run('prov-astana-education');
    const astana = certificate();
    const almaty = insertApplication(f.sqlite, {
      serviceCode: 'grant-small-business',
      providerId: 'prov-almaty-entrepreneurship',
      currentStep: 'head-review',
    });
    const officer = { id: 'user-monitoring-astana' };
    expect(f.service.card(astana, officer).actions).toEqual([]);
    expect(refusal(() => f.service.card(almaty, officer)).code).toBe('forbidden');
    expect(refusal(() => f.service.preview(almaty, officer)).code).toBe('forbidden');
    expect(refusal(() => f.service.verifyChain(almaty, officer)).code).toBe('forbidden');
  });

  it('marks required and editable fields, the steps with deadlines and holders, the history', () => {
    f.clock.now = NOW;
    const id = inProcessing();
    const card = applicationCard.parse(f.service.card(id, executor));
    expect(card.header).toMatchObject({
      status: 'in_processing',
      applicantIin: '900512400123',
      provider: { number: EMPLOYMENT.provider },
      responsible: { userId: EMPLOYMENT.executor },
    });
    expect(card.header.provider.bin).toMatch(/^\d{12}$/);
    const processing = card.sections.find((s) => s.code === 'processing');
    const applicant = card.sections.find((s) => s.code === 'applicant');
    expect(processing?.editable).toBe(true);
    expect(applicant?.editable).toBe(false);
    expect(processing?.fields.find((x) => x.code === 'documentsCheck')).toMatchObject({
      required: true,
      missing: true,
      editable: true,
      value: null,
    });
    expect(applicant?.fields.find((x) => x.code === 'lastName')).toMatchObject({ value: 'Сапарова', missing: false });
    expect(card.missingRequired).toEqual(['documentsCheck', 'resultNumber', 'resultDate']);
    expect(card.refusalReasons.map((r) => r.code)).toEqual([
      'eds-not-confirmed',
      'data-unavailable',
      'documents-mismatch',
    ]);

    const step = (code: string) => card.steps.find((s) => s.code === code);
    expect(step('executor-prepare')).toMatchObject({
      state: 'current',
      dueAt: NOW + 3 * MINUTE,
      holder: { userId: EMPLOYMENT.executor },
      overdue: false,
    });
    expect(step('head-sign')).toMatchObject({
      state: 'pending',
      projected: true,
      dueAt: NOW + 5 * MINUTE,
      holder: { userId: EMPLOYMENT.head },
    });
    expect(step('head-assign')).toMatchObject({ state: 'done', holder: { userId: EMPLOYMENT.head } });
    // Centre steps are not on an application that came to the office.
    expect(card.steps.some((s) => s.code.startsWith('centre-'))).toBe(false);
    expect(card.events.map((e) => e.action)).toEqual(['received', 'assign', 'accept']);
    expect(card.events[1]?.details).toMatchObject({
      responsibleUserId: EMPLOYMENT.executor,
      step: 'executor-prepare',
    });
    expect(card.events[1]?.details.responsible).toBeTruthy();

    f.clock.now = NOW + 10 * MINUTE;
    const later = f.service.card(id, head);
    expect(later.steps.find((s) => s.code === 'executor-prepare')?.overdue).toBe(true);
    expect(later.sections.every((s) => !s.editable)).toBe(true);
    expect(later.missingRequired).toEqual([]);
    f.clock.now = NOW;
  });

  it('previews the output document in Kazakh and Russian', () => {
    const id = inProcessing();
    let v = Number(row(f.sqlite, id).version);
    v = f.service.save(id, v, RESULT_DATA, executor).version;
    f.service.decide(
      id,
      v,
      { decision: 'negative', refusalReasonCode: 'documents-mismatch', refusalText: 'Справка не приложена' },
      executor,
    );
    const doc = outputDocument.parse(f.service.preview(id, executor));
    expect(doc).toMatchObject({ decision: 'negative', draft: true, resultCode: 'reasoned-refusal' });
    expect(doc.kk.title).toBe('Мемлекеттік қызмет көрсетуден бас тарту туралы дәлелді жауап');
    expect(doc.ru.decisionText).toMatch(/^Доводим до Вашего сведения, что Вам отказано/);
    expect(doc.kk.decisionText).toMatch(/бас тартылғанын хабарлаймыз\.$/);
    expect(doc.ru.decisionLines).toEqual([
      { label: 'Причина отказа', value: expect.stringMatching(/^Несоответствие документов/) as unknown },
      { label: 'Обоснование отказа', value: 'Справка не приложена' },
    ]);
    expect(doc.kk.lines).toContainEqual({ label: 'Шығыс құжатының күні', value: '20.05.2026' });
    // The executor's internal processing data stays out of the document.
    expect(doc.ru.lines.map((l) => l.label)).not.toContain('Результат проверки документов');
    expect(doc.kk.signature).toBeNull();
  });
});

describe('demo data', () => {
  it('every demo application opens as a card that fits the contract, and its chain verifies', () => {
    const ids = f.sqlite.prepare('SELECT id, provider_id AS p FROM applications').all() as { id: string; p: string }[];
    expect(ids.length).toBeGreaterThan(30);
    for (const { id } of ids) {
      const card = applicationCard.parse(f.service.card(id, { id: MONITORING }));
      expect(card.chain).toEqual({ ok: true });
      outputDocument.parse(f.service.preview(id, { id: MONITORING }));
    }
  });

  it('the demo head signs a demo application that is on signing', () => {
    const app = f.sqlite
      .prepare(
        "SELECT id, version FROM applications WHERE provider_id = ? AND status = 'on_signing' AND number NOT LIKE 'T%' LIMIT 1",
      )
      .get(EMPLOYMENT.provider) as { id: string; version: number } | undefined;
    if (!app) {
      // The seed gives one; if a generator change removes it, make one the way the generator does.
      throw new Error('the demo has no application on signing at the demo provider; change the seed');
    }
    expect(f.service.card(app.id, head).actions).toEqual(['return', 'sign']);
    insertSignature(f.sqlite, app.id, EMPLOYMENT.head, f.clock.now);
    expect(f.service.sign(app.id, app.version, head).status).toBe('completed');
    expect(verifyChain(f.sqlite, app.id)).toEqual({ ok: true });
  });
});

describe('seed 001 rules', () => {
  const bizHead = { id: ENTREPRENEURSHIP.head };
  const bizExecutor = { id: ENTREPRENEURSHIP.executor };

  function business(serviceCode: string, extra: Partial<Parameters<typeof insertApplication>[1]> = {}): string {
    return insertApplication(f.sqlite, {
      serviceCode,
      providerId: ENTREPRENEURSHIP.provider,
      status: 'in_processing',
      responsibleUserId: ENTREPRENEURSHIP.executor,
      currentStep: 'executor-check',
      ...extra,
    });
  }

  it('industrial infrastructure: the responsible executor signs and completes it, the head may not', () => {
    f.clock.now = NOW;
    const id = business('industrial-infrastructure', {
      status: 'on_signing',
      decision: 'positive',
      currentStep: 'executor-issue',
      formData: { councilDecision: 'financing-possible' },
    });
    expect(f.service.card(id, bizExecutor).actions).toEqual(['return', 'sign']);
    expect(f.service.card(id, bizHead).actions).toEqual([]);
    insertSignature(f.sqlite, id, ENTREPRENEURSHIP.head, f.clock.now);
    expect(refusal(() => f.service.sign(id, 1, bizHead)).code).toBe('forbidden');
    insertSignature(f.sqlite, id, ENTREPRENEURSHIP.executor, f.clock.now);
    expect(f.service.sign(id, 1, bizExecutor)).toMatchObject({ status: 'completed', currentStep: null });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: true });
  });

  it('a positive decision after the commission refused is refused with its message; nothing changes', () => {
    const id = business('grant-small-business', {
      currentStep: 'executor-prepare',
      formData: { commissionDecision: 'refuse', commissionProtocolNumber: '7' },
    });
    const e = refusal(() => f.service.decide(id, 1, { decision: 'positive' }, bizExecutor));
    expect(e).toMatchObject({
      code: 'collegialRefused',
      messageKey: 'errors.workflow.positiveAfterCollegialRefusal',
      details: { field: 'commissionDecision', value: 'refuse' },
    });
    expect(row(f.sqlite, id)).toMatchObject({ decision: 'none', version: 1 });
    expect(countOf(f.sqlite, 'outbox', id)).toBe(0);
  });

  it('a positive decision after the council found financing impossible, or after a documents mismatch, is refused', () => {
    const council = business('industrial-infrastructure', { formData: { councilDecision: 'financing-impossible' } });
    expect(refusal(() => f.service.decide(council, 1, { decision: 'positive' }, bizExecutor)).messageKey).toBe(
      'errors.workflow.positiveAfterCollegialRefusal',
    );
    const check = business('industrial-infrastructure', { formData: { documentsCheck: 'mismatch' } });
    expect(refusal(() => f.service.decide(check, 1, { decision: 'positive' }, bizExecutor)).messageKey).toBe(
      'errors.workflow.positiveAfterMismatch',
    );
    // The refusal itself goes through.
    const refused = f.service.decide(
      check,
      1,
      { decision: 'negative', refusalReasonCode: 'requirements-mismatch', refusalText: 'Құжаттар сәйкес емес' },
      bizExecutor,
    );
    expect(refused.decision).toBe('negative');
  });

  it('the other way round: a negative decision after the council approved financing is refused', () => {
    const id = business('industrial-infrastructure', {
      currentStep: 'executor-issue',
      formData: { documentsCheck: 'complete', councilDecision: 'financing-possible' },
    });
    const e = refusal(() =>
      f.service.decide(
        id,
        1,
        { decision: 'negative', refusalReasonCode: 'requirements-mismatch', refusalText: 'x' },
        bizExecutor,
      ),
    );
    expect(e).toMatchObject({
      code: 'collegialApproved',
      messageKey: 'errors.workflow.negativeAfterCollegialApproval',
    });
  });

  it('Send checks again: a finding recorded after the decision stops a contradicting result', () => {
    const id = business('education-document-duplicate', {
      serviceCode: 'education-document-duplicate',
      providerId: ENTREPRENEURSHIP.provider,
      decision: 'positive',
      currentStep: 'executor-process',
      formData: {
        ...RESULT_DATA,
        documentsCheck: 'mismatch',
        duplicateSeriesNumber: 'A1',
        duplicateRegistrationNumber: '2',
      },
    });
    expect(refusal(() => f.service.send(id, 1, bizExecutor)).code).toBe('documentsMismatch');
    expect(row(f.sqlite, id).status).toBe('in_processing');
  });
});
