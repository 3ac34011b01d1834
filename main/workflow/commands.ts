/**
 * The workflow's commands over the local database: every transition checks
 * the actor's role for the application's provider (user_roles, read in the
 * same transaction), the `version` the user saw and the application's
 * status, then in ONE immediate SQLite transaction updates the application
 * row, appends the hash-chained event and writes the outbox row for the
 * central server.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '#core/protocol.js';
import type { Status, WorkflowAction } from '#core/vocabulary.js';
import type { ServiceDefinition, ServiceStep } from '#core/catalogue/schema.js';
import type { TransitionResult } from '#preload/contract/workflow.js';
import { ServiceError } from '../rpc.js';
import { applicationXml, loadApplicationDocument } from '../signing/documents.js';
import { dueAfter, type DeadlineCalendar } from '#core/workflow/deadlines.js';
import type { JsonValue, StoredEvent } from '#core/workflow/chain.js';
import { appendEvent } from './events.js';
import {
  applyChanges,
  displayValue,
  executorFields,
  isEditable,
  missingRequired,
  protocolFields,
  type FieldValue,
} from '#core/workflow/fields.js';
import {
  actorFor,
  beforeCollegial,
  decisionConflict,
  DECISION_ACTIONS,
  planSteps,
  stepIndex,
  TRANSITIONS,
  type DecisionConflict,
  type StepPlan,
  type TransitionColumn,
} from '#core/workflow/machine.js';
import {
  forbidden,
  loadApplication,
  notFound,
  rolesFor,
  type Actor,
  type AppRow,
  type WorkflowServiceOptions,
} from './records.js';

export const MAX_COMMENT = 2000;
export const MAX_REFUSAL_TEXT = 4000;

/** The columns a transition may change. */
type Changes = Partial<Pick<AppRow, TransitionColumn>>;

interface Change {
  set: Changes;
  comment?: string | null;
  /** Recorded in the event (hashed) besides version and steps. */
  payload?: Record<string, JsonValue>;
  /** Field values sent to the server with the outbox row (not in the event). */
  formPatch?: Record<string, FieldValue>;
}

interface Ctx {
  row: AppRow;
  def: ServiceDefinition;
  plan: StepPlan;
  now: number;
}

function conflictError(c: DecisionConflict): ServiceError {
  return new ServiceError(c.code, c.messageKey, { field: c.field, value: c.value });
}

function problemsError(code: string, messageKey: string, problems: Record<string, string>): ServiceError {
  return new ServiceError(code, messageKey, problems);
}

/** One result row of a bulk assignment (the journal's selection). */
export interface AssignResult {
  id: string;
  number: string | null;
  ok: boolean;
  code: string | null;
  messageKey: string;
  version: number | null;
}

export class WorkflowCommands {
  private readonly sqlite: Database.Database;
  private readonly services: Map<string, ServiceDefinition>;
  private readonly calendar: DeadlineCalendar;
  private readonly now: () => number;

  constructor(private readonly o: WorkflowServiceOptions) {
    this.sqlite = o.sqlite;
    this.services = new Map(o.services.map((s) => [s.code, s]));
    this.calendar = o.calendar;
    this.now = o.now ?? Date.now;
  }

  private due(from: number, step: ServiceStep): number {
    return dueAfter(this.calendar, from, step.limit);
  }

  /**
   * One transition: checks in this order (each refusal leaves everything as
   * it was): the application exists; the actor holds the action's role at
   * its provider; the version is the current one; the actor is the
   * responsible executor where that is needed; the status allows the action;
   * then `body` checks the action's own preconditions and says what changes.
   * `body` returning null means nothing to change (the version stays).
   */
  private run(
    action: WorkflowAction,
    applicationId: string,
    version: number | null,
    actor: Actor,
    body: (ctx: Ctx) => Change | null,
  ): TransitionResult {
    const t = TRANSITIONS[action];
    const tx = this.sqlite.transaction((): TransitionResult => {
      const row = loadApplication(this.sqlite, applicationId);
      if (!row) throw notFound();
      const def = this.services.get(row.serviceCode);
      const plan = def ? planSteps(def, row.channel) : null;
      // Who acts may depend on the service (its executor signs where it issues the result itself).
      const who = actorFor(action, plan);
      const roles = rolesFor(this.sqlite, actor.id, row.providerId);
      if (!roles.has(who.role)) throw forbidden();
      if (version !== null && row.version !== version) {
        throw new ServiceError('staleVersion', 'errors.workflow.staleVersion', { version: String(row.version) });
      }
      if (who.responsibleOnly && row.responsibleUserId !== actor.id) {
        throw new ServiceError('notResponsible', 'errors.workflow.notResponsible');
      }
      if (!t.from.includes(row.status)) {
        throw new ServiceError('wrongState', 'errors.workflow.wrongState', { status: row.status });
      }
      if (!def || !plan) throw new ServiceError('serviceUnknown', 'errors.workflow.serviceUnknown');
      const now = this.now();
      const change = body({ row, def, plan, now });
      if (!change) return this.result(row, t.messageKey);
      return this.write(action, row, change, actor, now, t.to);
    });
    return tx.immediate();
  }

  private result(row: AppRow, messageKey: string): TransitionResult {
    return {
      id: row.id,
      version: row.version,
      status: row.status,
      decision: row.decision,
      responsibleUserId: row.responsibleUserId,
      currentStep: row.currentStep,
      dueAt: row.dueAt,
      messageKey,
    };
  }

  private write(
    action: WorkflowAction,
    row: AppRow,
    change: Change,
    actor: Actor,
    now: number,
    to: Status | null,
  ): TransitionResult {
    const status = to ?? row.status;
    const next: AppRow = {
      ...row,
      ...change.set,
      status,
      version: row.version + 1,
      statusChangedAt: status !== row.status ? now : row.statusChangedAt,
    };
    const updated = this.sqlite
      .prepare(
        `UPDATE applications SET status = ?, decision = ?, responsible_user_id = ?, current_step = ?, due_at = ?,
           form_data = ?, refusal_reason_code = ?, refusal_text = ?, rework_comment = ?, version = ?,
           status_changed_at = ?, updated_at = ?
         WHERE id = ? AND version = ?`,
      )
      .run(
        next.status,
        next.decision,
        next.responsibleUserId,
        next.currentStep,
        next.dueAt,
        JSON.stringify(next.formData),
        next.refusalReasonCode,
        next.refusalText,
        next.reworkComment,
        next.version,
        next.statusChangedAt,
        now,
        row.id,
        row.version,
      );
    if (updated.changes !== 1) {
      throw new ServiceError('staleVersion', 'errors.workflow.staleVersion');
    }
    const event = appendEvent(this.sqlite, {
      applicationId: row.id,
      at: now,
      actorUserId: actor.id,
      action,
      fromStatus: row.status,
      toStatus: status,
      decision: DECISION_ACTIONS.has(action) ? next.decision : null,
      comment: change.comment ?? null,
      payload: {
        version: next.version,
        fromStep: row.currentStep,
        toStep: next.currentStep,
        dueAt: next.dueAt,
        ...(change.payload ?? {}),
      },
    });
    this.outbox(row.id, event, next, change.formPatch ?? null, now);
    return this.result(next, TRANSITIONS[action].messageKey);
  }

  private outbox(
    applicationId: string,
    event: StoredEvent,
    next: AppRow,
    formPatch: Record<string, FieldValue> | null,
    now: number,
  ): void {
    const payload = {
      event,
      application: {
        id: next.id,
        version: next.version,
        status: next.status,
        decision: next.decision,
        responsibleUserId: next.responsibleUserId,
        currentStep: next.currentStep,
        dueAt: next.dueAt,
        statusChangedAt: next.statusChangedAt,
        refusalReasonCode: next.refusalReasonCode,
        refusalText: next.refusalText,
        reworkComment: next.reworkComment,
        ...(formPatch ? { formData: formPatch } : {}),
      },
    };
    this.sqlite
      .prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('application.transition', 'application', ?, ?, ?, ?, ?)`,
      )
      .run(
        applicationId,
        JSON.stringify(payload),
        this.o.protocolVersion ?? 1,
        this.o.schemaVersion ?? SCHEMA_VERSION,
        now,
      );
  }

  /** The executor that may be made responsible: active in the provider's staff, executor role there, not blocked. */
  private assignable(providerId: string, userId: string): boolean {
    return (
      this.sqlite
        .prepare(
          `SELECT 1 FROM provider_staff s
             JOIN users u ON u.id = s.user_id AND u.blocked = 0
             JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
            WHERE s.provider_id = ? AND s.user_id = ? AND s.active = 1`,
        )
        .get(providerId, userId) !== undefined
    );
  }

  /** The head assigns (or changes) the responsible executor of one application. */
  assignOne(applicationId: string, version: number | null, responsibleUserId: string, actor: Actor): TransitionResult {
    return this.run('assign', applicationId, version, actor, ({ row, plan, now }) => {
      if (!this.assignable(row.providerId, responsibleUserId)) {
        throw new ServiceError('notStaff', 'errors.workflow.notStaff');
      }
      const set: Changes = { responsibleUserId };
      // Assigned from the head's step: the executor's first step starts now.
      const at = stepIndex(plan, row.currentStep);
      const onExecutorStep = at >= 0 && plan.steps[at]?.role === 'executor';
      if (row.status === 'received' && !onExecutorStep) {
        set.currentStep = plan.accept.code;
        set.dueAt = this.due(now, plan.accept);
      }
      return { set, payload: { responsibleUserId, previousResponsibleUserId: row.responsibleUserId } };
    });
  }

  /** Assigns several applications (selected in the journal); each row succeeds or fails on its own. */
  assign(
    items: readonly { id: string; version?: number | undefined }[],
    responsibleUserId: string,
    actor: Actor,
  ): AssignResult[] {
    const numberOf = (id: string) =>
      (this.sqlite.prepare('SELECT number FROM applications WHERE id = ?').get(id) as { number: string } | undefined)
        ?.number ?? null;
    return items.map((item) => {
      try {
        const r = this.assignOne(item.id, item.version ?? null, responsibleUserId, actor);
        return {
          id: item.id,
          number: numberOf(item.id),
          ok: true,
          code: null,
          messageKey: r.messageKey,
          version: r.version,
        };
      } catch (err) {
        if (!(err instanceof ServiceError)) throw err;
        return {
          id: item.id,
          number: numberOf(item.id),
          ok: false,
          code: err.code,
          messageKey: err.messageKey,
          version: null,
        };
      }
    });
  }

  /** The responsible executor accepts the application for processing. */
  accept(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.run('accept', applicationId, version, actor, ({ row, plan, now }) => {
      const at = stepIndex(plan, row.currentStep);
      if (at >= 0 && plan.steps[at]?.role === 'executor' && row.dueAt !== null) return { set: {} };
      return { set: { currentStep: plan.accept.code, dueAt: this.due(now, plan.accept) } };
    });
  }

  /** The executor saves the fields of the processing and result sections. */
  save(
    applicationId: string,
    version: number,
    data: Readonly<Record<string, FieldValue>>,
    actor: Actor,
  ): TransitionResult {
    return this.run('save', applicationId, version, actor, ({ row, def }) => {
      const allowed = executorFields(def).filter(isEditable);
      const { form, changed, problems } = applyChanges(row.formData, data, allowed);
      if (Object.keys(problems).length > 0) {
        throw problemsError('fieldInvalid', 'errors.workflow.fieldInvalid', problems);
      }
      if (changed.length === 0) return null;
      const formPatch = Object.fromEntries(changed.map((c) => [c, displayValue(form[c])]));
      return { set: { formData: form }, payload: { fields: changed }, formPatch };
    });
  }

  /** Process positively, or negatively with a refusal reason of the service's dictionary and a text. */
  decide(
    applicationId: string,
    version: number,
    input: {
      decision: 'positive' | 'negative';
      refusalReasonCode?: string | undefined;
      refusalText?: string | undefined;
    },
    actor: Actor,
  ): TransitionResult {
    return this.run('decide', applicationId, version, actor, ({ row, def, plan }) => {
      const conflict = decisionConflict(def, plan, row.formData, input.decision);
      if (conflict) throw conflictError(conflict);
      if (input.decision === 'positive') {
        return { set: { decision: 'positive', refusalReasonCode: null, refusalText: null } };
      }
      const code = input.refusalReasonCode?.trim() ?? '';
      const text = input.refusalText?.trim() ?? '';
      if (!code) throw new ServiceError('refusalReasonRequired', 'errors.workflow.refusalReasonRequired');
      if (!def.refusalReasons.some((r) => r.code === code)) {
        throw new ServiceError('refusalReasonUnknown', 'errors.workflow.refusalReasonUnknown', { code });
      }
      if (!text) throw new ServiceError('refusalTextRequired', 'errors.workflow.refusalTextRequired');
      if (text.length > MAX_REFUSAL_TEXT) throw new ServiceError('tooLong', 'errors.workflow.textTooLong');
      return {
        set: { decision: 'negative', refusalReasonCode: code, refusalText: text },
        payload: { refusalReasonCode: code, refusalText: text },
      };
    });
  }

  /** Hands the application to the collegial body (commission, council): its step and deadline start. */
  refer(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.run('refer', applicationId, version, actor, ({ row, plan, now }) => {
      if (!plan.collegial) throw new ServiceError('noCollegialStep', 'errors.workflow.noCollegialStep');
      if (!beforeCollegial(plan, row.currentStep)) {
        throw new ServiceError('wrongState', 'errors.workflow.wrongState', { status: row.status });
      }
      return { set: { currentStep: plan.collegial.code, dueAt: this.due(now, plan.collegial) } };
    });
  }

  /**
   * Records the collegial body's protocol (number, date, decision, reasons:
   * the fields of the step's protocol in the catalogue). Recorded at or before
   * the collegial step, the application moves on to the executor's next step.
   */
  commission(
    applicationId: string,
    version: number,
    protocol: Readonly<Record<string, FieldValue>>,
    actor: Actor,
  ): TransitionResult {
    return this.run('commission', applicationId, version, actor, ({ row, plan, now }) => {
      const collegial = plan.collegial;
      if (!collegial) throw new ServiceError('noCollegialStep', 'errors.workflow.noCollegialStep');
      const fields = protocolFields(collegial);
      const { form, changed, problems } = applyChanges(row.formData, protocol, fields);
      if (Object.keys(problems).length > 0) {
        throw problemsError('fieldInvalid', 'errors.workflow.fieldInvalid', problems);
      }
      const missing = missingRequired(form, fields);
      if (missing.length > 0) {
        throw problemsError(
          'requiredFields',
          'errors.workflow.requiredFields',
          Object.fromEntries(missing.map((m) => [m, 'required'])),
        );
      }
      const set: Changes = { formData: form };
      const at = stepIndex(plan, row.currentStep);
      if ((at < 0 || at <= stepIndex(plan, collegial.code)) && plan.afterCollegial) {
        set.currentStep = plan.afterCollegial.code;
        set.dueAt = this.due(now, plan.afterCollegial);
      }
      const values = Object.fromEntries(fields.map((f) => [f.code, displayValue(form[f.code])]));
      return {
        set,
        payload: { step: collegial.code, protocol: values, fields: changed },
        formPatch: Object.fromEntries(changed.map((c) => [c, displayValue(form[c])])),
      };
    });
  }

  /** The executor sends the processed application to the head for signing. */
  send(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.run('send', applicationId, version, actor, ({ row, def, plan, now }) => {
      if (row.decision === 'none') throw new ServiceError('decisionRequired', 'errors.workflow.decisionRequired');
      const missing = missingRequired(row.formData, executorFields(def));
      if (missing.length > 0) {
        throw problemsError(
          'requiredFields',
          'errors.workflow.requiredFields',
          Object.fromEntries(missing.map((m) => [m, 'required'])),
        );
      }
      if (row.decision === 'negative' && (!row.refusalReasonCode || !row.refusalText)) {
        throw new ServiceError('refusalReasonRequired', 'errors.workflow.refusalReasonRequired');
      }
      // A finding recorded after the decision (the protocol, the documents check) may contradict it.
      const conflict = decisionConflict(def, plan, row.formData, row.decision);
      if (conflict) throw conflictError(conflict);
      // A positive result needs the collegial body's protocol; a reasoned refusal may come before it.
      if (
        row.decision === 'positive' &&
        plan.collegial &&
        missingRequired(row.formData, protocolFields(plan.collegial)).length > 0
      ) {
        throw new ServiceError('protocolRequired', 'errors.workflow.protocolRequired');
      }
      return {
        set: { currentStep: plan.sign.code, dueAt: this.due(now, plan.sign), reworkComment: null },
        payload: { decision: row.decision },
      };
    });
  }

  /** The head returns the application to the executor with a mandatory comment. */
  returnForRework(applicationId: string, version: number, comment: string, actor: Actor): TransitionResult {
    return this.run('return', applicationId, version, actor, ({ plan, now }) => {
      const text = comment.trim();
      if (!text) throw new ServiceError('commentRequired', 'errors.workflow.commentRequired');
      if (text.length > MAX_COMMENT) throw new ServiceError('tooLong', 'errors.workflow.textTooLong');
      return {
        set: { currentStep: plan.rework.code, dueAt: this.due(now, plan.rework), reworkComment: text },
        comment: text,
      };
    });
  }

  /** The actor's latest signature of the application made since it went On signing (the named one when given). */
  private latestSignature(
    row: AppRow,
    actor: Actor,
    signatureId: string | null,
  ): { id: string; documentSha256: string } | undefined {
    return this.sqlite
      .prepare(
        `SELECT id, document_sha256 AS documentSha256 FROM signatures
          WHERE application_id = ? AND user_id = ? AND signed_at >= ? AND (? IS NULL OR id = ?)
          ORDER BY signed_at DESC, rowid DESC LIMIT 1`,
      )
      .get(row.id, actor.id, row.statusChangedAt, signatureId, signatureId) as
      { id: string; documentSha256: string } | undefined;
  }

  private documentSha(applicationId: string): string {
    const doc = loadApplicationDocument(this.sqlite, applicationId);
    return doc ? createHash('sha256').update(applicationXml(doc), 'utf8').digest('hex') : '';
  }

  /**
   * The signer (the head, or the responsible executor where the service's
   * executor issues the result) completes the application: it needs a
   * signature of its current document, made by this signer (signing.start)
   * since the application went On signing — the named one, or the latest.
   */
  sign(applicationId: string, version: number | null, actor: Actor, signatureId?: string): TransitionResult {
    return this.run('sign', applicationId, version, actor, ({ row }) => {
      const signature = this.latestSignature(row, actor, signatureId ?? null);
      if (!signature) throw new ServiceError('signatureRequired', 'errors.workflow.signatureRequired');
      if (this.documentSha(row.id) !== signature.documentSha256) {
        throw new ServiceError('signatureMismatch', 'errors.workflow.signatureMismatch');
      }
      return { set: { currentStep: null, dueAt: null }, payload: { signatureId: signature.id } };
    });
  }

  /**
   * Before the journal's batch signs an application: why this user may not
   * sign it now (not On signing, already completed, not theirs to sign), or
   * null. The sign transition checks all of it again.
   */
  signRefusal(applicationId: string, actor: Actor): ServiceError | null {
    const row = loadApplication(this.sqlite, applicationId);
    if (!row) return notFound();
    if (row.status === 'completed' || row.status === 'completed_with_error') {
      return new ServiceError('alreadySigned', 'errors.signing.alreadySigned');
    }
    if (row.status !== 'on_signing') {
      return new ServiceError('notOnSigning', 'errors.signing.notOnSigning', { status: row.status });
    }
    const def = this.services.get(row.serviceCode);
    const plan = def ? planSteps(def, row.channel) : null;
    if (!plan) return new ServiceError('serviceUnknown', 'errors.workflow.serviceUnknown');
    const who = actorFor('sign', plan);
    const roles = rolesFor(this.sqlite, actor.id, row.providerId);
    if (!roles.has(who.role) || (who.responsibleOnly && row.responsibleUserId !== actor.id)) {
      return new ServiceError('notYourSignature', 'errors.signing.notYourSignature');
    }
    return null;
  }

  /** The actor's signature of the application's document as it stands now, made since it went On signing; null if none. */
  currentSignature(applicationId: string, actor: Actor): string | null {
    const row = loadApplication(this.sqlite, applicationId);
    if (!row || row.status !== 'on_signing') return null;
    const signature = this.latestSignature(row, actor, null);
    return signature && signature.documentSha256 === this.documentSha(row.id) ? signature.id : null;
  }
}
