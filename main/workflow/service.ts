/**
 * The provider's workflow over the local database (DOMAIN.md §4): every
 * transition checks the actor's role for the application's provider
 * (user_roles, read in the same transaction), the `version` the user saw and
 * the application's status, then in ONE immediate SQLite transaction updates
 * the application row, appends the hash-chained event and writes the outbox
 * row for the central server.
 *
 * Also what the screens read: the application card, the provider's
 * executors for "Assign responsible", and the bilingual output document.
 */
import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { SCHEMA_VERSION, type Channel, type Decision, type Role, type Status } from '#db/schema.js';
import type { FormField, ServiceDefinition, ServiceStep } from '#core/catalogue/schema.js';
import type {
  ApplicationCard,
  CardField,
  CardStep,
  OutputDocument,
  TransitionResult,
} from '#preload/contract/workflow.js';
import { ServiceError } from '../rpc.js';
import { applicationXml, loadApplicationDocument } from '../signing/documents.js';
import { dueAfter, type WorkingCalendar } from '#core/workflow/deadlines.js';
import {
  appendEvent,
  readEvents,
  verifyChain,
  type ChainCheck,
  type JsonValue,
  type StoredEvent,
} from '#core/workflow/chain.js';
import { buildDocument } from '#core/workflow/document.js';
import {
  applyChanges,
  displayValue,
  EXECUTOR_STAGES,
  executorFields,
  isEditable,
  isEmpty,
  missingRequired,
  protocolFields,
  type FieldValue,
} from '#core/workflow/fields.js';
import {
  allows,
  availableActions,
  beforeCollegial,
  OPEN_STATUSES,
  planSteps,
  stepIndex,
  TRANSITIONS,
  type StepPlan,
  type TransitionColumn,
  type WorkflowAction,
} from '#core/workflow/machine.js';

/** Who acts: the logged-in user. Roles are read from the database, not taken from the caller. */
export interface Actor {
  id: string;
}

export interface WorkflowServiceOptions {
  sqlite: Database.Database;
  services: readonly ServiceDefinition[];
  calendar: WorkingCalendar;
  now?: () => number;
  protocolVersion?: number;
  schemaVersion?: number;
}

export const MAX_COMMENT = 2000;
/** Actions whose event records the decision. */
const DECISION_ACTIONS: ReadonlySet<WorkflowAction> = new Set(['decide', 'send', 'return', 'sign']);
export const MAX_REFUSAL_TEXT = 4000;

interface AppRow {
  id: string;
  number: string;
  portalNumber: string | null;
  providerId: string;
  serviceCode: string;
  channel: Channel;
  applicantIin: string;
  applicantBin: string | null;
  applicantName: string;
  status: Status;
  decision: Decision;
  responsibleUserId: string | null;
  currentStep: string | null;
  submittedAt: number;
  statusChangedAt: number;
  dueAt: number | null;
  formData: Record<string, unknown>;
  refusalReasonCode: string | null;
  refusalText: string | null;
  reworkComment: string | null;
  version: number;
  regionKato: string;
}

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

const SELECT_APPLICATION = `SELECT id, number, portal_number AS portalNumber, provider_id AS providerId,
    service_code AS serviceCode, channel, applicant_iin AS applicantIin, applicant_bin AS applicantBin,
    applicant_name AS applicantName, status, decision, responsible_user_id AS responsibleUserId,
    current_step AS currentStep, submitted_at AS submittedAt, status_changed_at AS statusChangedAt,
    due_at AS dueAt, form_data AS formData, refusal_reason_code AS refusalReasonCode,
    refusal_text AS refusalText, rework_comment AS reworkComment, version, region_kato AS regionKato
  FROM applications WHERE id = ?`;

function parseForm(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const notFound = () => new ServiceError('notFound', 'errors.workflow.notFound');
const forbidden = () => new ServiceError('forbidden', 'errors.forbidden');

function problemsError(code: string, messageKey: string, problems: Record<string, string>): ServiceError {
  return new ServiceError(code, messageKey, problems);
}

export class WorkflowService {
  private readonly sqlite: Database.Database;
  private readonly services: Map<string, ServiceDefinition>;
  private readonly calendar: WorkingCalendar;
  private readonly now: () => number;

  constructor(private readonly o: WorkflowServiceOptions) {
    this.sqlite = o.sqlite;
    this.services = new Map(o.services.map((s) => [s.code, s]));
    this.calendar = o.calendar;
    this.now = o.now ?? Date.now;
  }

  // ------------------------------------------------------------ reading ---

  private load(id: string): AppRow | null {
    const row = this.sqlite.prepare(SELECT_APPLICATION).get(id) as (AppRow & { formData: string }) | undefined;
    return row ? { ...row, formData: parseForm(row.formData) } : null;
  }

  /** The user's roles for one provider (blocked users have none). */
  private rolesFor(userId: string, providerId: string): Set<Role> {
    const rows = this.sqlite
      .prepare(
        `SELECT r.role FROM user_roles r JOIN users u ON u.id = r.user_id
          WHERE r.user_id = ? AND r.provider_id = ? AND u.blocked = 0`,
      )
      .all(userId, providerId) as { role: Role }[];
    return new Set(rows.map((r) => r.role));
  }

  /**
   * Who may read an application: anyone with a role at its provider; the
   * monitoring role bound to no provider everywhere, bound to one within
   * that provider's region (as main/auth's data scope).
   */
  private canView(userId: string, row: Pick<AppRow, 'providerId' | 'regionKato'>): boolean {
    if (this.rolesFor(userId, row.providerId).size > 0) return true;
    const monitoring = this.sqlite
      .prepare(
        `SELECT r.provider_id AS providerId, p.region_kato AS regionKato FROM user_roles r
           JOIN users u ON u.id = r.user_id AND u.blocked = 0
           LEFT JOIN providers p ON p.id = r.provider_id
          WHERE r.user_id = ? AND r.role = 'monitoring'`,
      )
      .all(userId) as { providerId: string; regionKato: string | null }[];
    return monitoring.some((m) => m.providerId === '' || m.regionKato === row.regionKato);
  }

  private userName(id: string | null): { userId: string; fullName: string } | null {
    if (!id) return null;
    const row = this.sqlite.prepare('SELECT full_name AS fullName FROM users WHERE id = ?').get(id) as
      { fullName: string } | undefined;
    return { userId: id, fullName: row?.fullName ?? id };
  }

  private due(from: number, step: ServiceStep): number {
    return dueAfter(this.calendar, from, step.limit);
  }

  // -------------------------------------------------------- transitions ---

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
      const row = this.load(applicationId);
      if (!row) throw notFound();
      const roles = this.rolesFor(actor.id, row.providerId);
      if (!roles.has(t.role)) throw forbidden();
      if (version !== null && row.version !== version) {
        throw new ServiceError('staleVersion', 'errors.workflow.staleVersion', { version: String(row.version) });
      }
      if (t.responsibleOnly && row.responsibleUserId !== actor.id) {
        throw new ServiceError('notResponsible', 'errors.workflow.notResponsible');
      }
      if (!t.from.includes(row.status)) {
        throw new ServiceError('wrongState', 'errors.workflow.wrongState', { status: row.status });
      }
      const def = this.services.get(row.serviceCode);
      const plan = def ? planSteps(def, row.channel) : null;
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
  ): {
    id: string;
    number: string | null;
    ok: boolean;
    code: string | null;
    messageKey: string;
    version: number | null;
  }[] {
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
    return this.run('decide', applicationId, version, actor, ({ def }) => {
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

  /**
   * The head completes the application: it needs a signature of its current
   * document, made by this head (signing.start) since the application went
   * On signing — the named one, or the latest.
   */
  sign(applicationId: string, version: number, actor: Actor, signatureId?: string): TransitionResult {
    return this.run('sign', applicationId, version, actor, ({ row }) => {
      const signature = this.sqlite
        .prepare(
          `SELECT id, document_sha256 AS documentSha256 FROM signatures
            WHERE application_id = ? AND user_id = ? AND signed_at >= ? AND (? IS NULL OR id = ?)
            ORDER BY signed_at DESC, rowid DESC LIMIT 1`,
        )
        .get(row.id, actor.id, row.statusChangedAt, signatureId ?? null, signatureId ?? null) as
        { id: string; documentSha256: string } | undefined;
      if (!signature) throw new ServiceError('signatureRequired', 'errors.workflow.signatureRequired');
      const doc = loadApplicationDocument(this.sqlite, row.id);
      const sha = doc ? createHash('sha256').update(applicationXml(doc), 'utf8').digest('hex') : '';
      if (sha !== signature.documentSha256) {
        throw new ServiceError('signatureMismatch', 'errors.workflow.signatureMismatch');
      }
      return { set: { currentStep: null, dueAt: null }, payload: { signatureId: signature.id } };
    });
  }

  // ------------------------------------------------------------- screens ---

  /** The provider's executors the head can assign (asked by its head or administrator), with how many open applications each holds. */
  staff(
    providerId: string,
    actor: Actor,
  ): {
    userId: string;
    fullName: string;
    position: { kk: string; ru: string };
    roles: Role[];
    openApplications: number;
  }[] {
    const roles = this.rolesFor(actor.id, providerId);
    if (!roles.has('head') && !roles.has('admin')) throw forbidden();
    const rows = this.sqlite
      .prepare(
        `SELECT u.id AS userId, u.full_name AS fullName, s.position_kk AS kk, s.position_ru AS ru,
                (SELECT group_concat(r2.role) FROM user_roles r2
                  WHERE r2.user_id = u.id AND r2.provider_id = s.provider_id) AS roles,
                (SELECT count(*) FROM applications a
                  WHERE a.responsible_user_id = u.id AND a.status IN ('received', 'in_processing')) AS open
           FROM provider_staff s
           JOIN users u ON u.id = s.user_id AND u.blocked = 0
           JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
          WHERE s.provider_id = ? AND s.active = 1
          ORDER BY u.full_name`,
      )
      .all(providerId) as { userId: string; fullName: string; kk: string; ru: string; roles: string; open: number }[];
    return rows.map((r) => ({
      userId: r.userId,
      fullName: r.fullName,
      position: { kk: r.kk, ru: r.ru },
      roles: r.roles.split(',').sort() as Role[],
      openApplications: r.open,
    }));
  }

  private viewable(applicationId: string, actor: Actor): AppRow {
    const row = this.load(applicationId);
    if (!row) throw notFound();
    if (!this.canView(actor.id, row)) throw forbidden();
    return row;
  }

  verifyChain(applicationId: string, actor: Actor): ChainCheck {
    this.viewable(applicationId, actor);
    return verifyChain(this.sqlite, applicationId);
  }

  private provider(providerId: string): { bin: string; kk: string; ru: string; en: string } {
    return (
      (this.sqlite
        .prepare('SELECT bin, name_kk AS kk, name_ru AS ru, name_en AS en FROM providers WHERE id = ?')
        .get(providerId) as { bin: string; kk: string; ru: string; en: string } | undefined) ?? {
        bin: '',
        kk: providerId,
        ru: providerId,
        en: providerId,
      }
    );
  }

  /** The bilingual (kk + ru) output document, as it stands now. */
  preview(applicationId: string, actor: Actor): OutputDocument {
    return this.sqlite.transaction(() => {
      const row = this.viewable(applicationId, actor);
      const def = this.services.get(row.serviceCode) ?? null;
      const plan = def ? planSteps(def, row.channel) : null;
      const provider = this.provider(row.providerId);
      const signature = this.sqlite
        .prepare(
          `SELECT signer_name AS signerName, signed_at AS signedAt FROM signatures
            WHERE application_id = ? ORDER BY signed_at DESC, rowid DESC LIMIT 1`,
        )
        .get(row.id) as { signerName: string; signedAt: number } | undefined;
      return buildDocument(
        { ...row, provider: { kk: provider.kk, ru: provider.ru }, signature: signature ?? null },
        def,
        plan,
      );
    })();
  }

  /** Everything the application card shows, read in one transaction. */
  card(applicationId: string, actor: Actor): ApplicationCard {
    return this.sqlite.transaction((): ApplicationCard => {
      const row = this.viewable(applicationId, actor);
      const now = this.now();
      const def = this.services.get(row.serviceCode) ?? null;
      const plan = def ? planSteps(def, row.channel) : null;
      const roles = this.rolesFor(actor.id, row.providerId);
      const ctx = {
        status: row.status,
        decision: row.decision,
        responsibleUserId: row.responsibleUserId,
        currentStep: row.currentStep,
        userId: actor.id,
        roles,
        plan,
      };
      const canSave = allows('save', ctx);
      const canCommission = allows('commission', ctx);
      const provider = this.provider(row.providerId);
      const events = readEvents(this.sqlite, row.id);
      const names = this.names([
        ...events.map((e) => e.actorUserId),
        row.responsibleUserId,
        ...events.map((e) => payloadString(e.payload, 'responsibleUserId')),
        ...events.map((e) => payloadString(e.payload, 'previousResponsibleUserId')),
      ]);

      const cardField = (f: FormField, editable: boolean): CardField => ({
        code: f.code,
        label: f.label,
        type: f.type,
        required: f.required,
        editable,
        missing: f.required && isEmpty(row.formData[f.code]),
        value: displayValue(row.formData[f.code]),
        ...(f.options ? { options: f.options } : {}),
        ...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {}),
        ...(f.hint ? { hint: f.hint } : {}),
      });

      const sections = (def?.sections ?? []).map((s) => {
        const editable = canSave && EXECUTOR_STAGES.has(s.stage);
        return {
          code: s.code,
          title: s.title,
          stage: s.stage,
          collapsed: s.collapsed ?? false,
          editable,
          fields: s.fields.map((f) => cardField(f, editable && isEditable(f))),
        };
      });

      const collegial = plan?.collegial ?? null;
      const commission =
        collegial?.protocol !== undefined && collegial !== null
          ? {
              stepCode: collegial.code,
              name: collegial.protocol.name,
              fields: collegial.protocol.fields.map((f) => cardField(f, canCommission && isEditable(f))),
              recorded: missingRequired(row.formData, collegial.protocol.fields).length === 0,
            }
          : null;

      const signatures = this.sqlite
        .prepare(
          `SELECT id, format, signer_name AS signerName, signer_iin AS signerIin, user_id AS userId,
                  signed_at AS signedAt, timestamped_at AS timestampedAt
             FROM signatures WHERE application_id = ? ORDER BY signed_at, rowid`,
        )
        .all(row.id) as ApplicationCard['signatures'];

      return {
        header: {
          id: row.id,
          number: row.number,
          portalNumber: row.portalNumber,
          serviceCode: row.serviceCode,
          serviceName: def?.name ?? { kk: row.serviceCode, ru: row.serviceCode, en: row.serviceCode },
          channel: row.channel,
          status: row.status,
          decision: row.decision,
          submittedAt: row.submittedAt,
          statusChangedAt: row.statusChangedAt,
          dueAt: row.dueAt,
          applicantIin: row.applicantIin,
          applicantBin: row.applicantBin,
          applicantName: row.applicantName,
          provider: {
            number: row.providerId,
            bin: provider.bin,
            name: { kk: provider.kk, ru: provider.ru, en: provider.en },
          },
          responsible: row.responsibleUserId ? nameOf(names, row.responsibleUserId) : null,
          currentStep: row.currentStep,
        },
        sections,
        commission,
        refusal:
          row.refusalReasonCode || row.refusalText ? { code: row.refusalReasonCode, text: row.refusalText } : null,
        refusalReasons: (def?.refusalReasons ?? []).map((r) => ({ code: r.code, text: r.text })),
        steps: plan ? this.steps(row, plan, events, now) : [],
        events: events.map((e) => ({
          seq: e.seq,
          at: e.at,
          actor: e.actorUserId ? nameOf(names, e.actorUserId) : null,
          action: e.action,
          fromStatus: e.fromStatus,
          toStatus: e.toStatus,
          decision: e.decision,
          comment: e.comment,
          details: eventDetails(e, names),
        })),
        reworkComment: row.reworkComment,
        signatures,
        version: row.version,
        actions: availableActions(ctx),
        missingRequired: def && canSave ? missingRequired(row.formData, executorFields(def)) : [],
        chain: verifyChain(this.sqlite, row.id),
      };
    })();
  }

  private names(ids: readonly (string | null)[]): Map<string, string> {
    const unique = [...new Set(ids.filter((i): i is string => typeof i === 'string' && i.length > 0))];
    const out = new Map<string, string>();
    const stmt = this.sqlite.prepare('SELECT full_name AS fullName FROM users WHERE id = ?');
    for (const id of unique) {
      const r = stmt.get(id) as { fullName: string } | undefined;
      out.set(id, r?.fullName ?? id);
    }
    return out;
  }

  /** The first active holder of a role at the provider (the head, the clerk), for steps not yet taken. */
  private holderByRole(providerId: string, role: Role): { userId: string; fullName: string } | null {
    const r = this.sqlite
      .prepare(
        `SELECT u.id AS userId, u.full_name AS fullName FROM provider_staff s
           JOIN users u ON u.id = s.user_id AND u.blocked = 0
           JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = ?
          WHERE s.provider_id = ? AND s.active = 1 ORDER BY u.full_name LIMIT 1`,
      )
      .get(role, providerId) as { userId: string; fullName: string } | undefined;
    return r ?? null;
  }

  /**
   * The service's steps for this application: done / current / pending, when
   * each was entered and left (from the events' recorded steps), its deadline
   * (recorded, or projected for the steps ahead) and who holds it.
   */
  private steps(row: AppRow, plan: StepPlan, events: readonly StoredEvent[], now: number): CardStep[] {
    let current = stepIndex(plan, row.currentStep);
    const open = OPEN_STATUSES.includes(row.status);
    if (current < 0) {
      if (row.status === 'received')
        current = stepIndex(plan, (row.responsibleUserId ? plan.accept : plan.assign).code);
      else if (row.status === 'in_processing') current = stepIndex(plan, plan.accept.code);
      else if (row.status === 'on_signing') current = stepIndex(plan, plan.sign.code);
    }
    // Closed applications: everything up to the signature is done, nothing is current.
    const doneBefore = open ? current : row.status === 'external_processing' ? -1 : stepIndex(plan, plan.sign.code) + 1;

    const head = this.holderByRole(row.providerId, 'head');
    const clerk = this.holderByRole(row.providerId, 'clerk');
    const responsible = this.userName(row.responsibleUserId);
    let projectFrom = row.dueAt ?? now;

    return plan.steps.map((step, i): CardStep => {
      const entered = events.filter(
        (e) => payloadString(e.payload, 'toStep') === step.code && payloadString(e.payload, 'fromStep') !== step.code,
      );
      const left = events.filter(
        (e) => payloadString(e.payload, 'fromStep') === step.code && payloadString(e.payload, 'toStep') !== step.code,
      );
      const enteredEvent = entered.at(-1) ?? null;
      const leftEvent = left.at(-1) ?? null;
      const state: CardStep['state'] = open && i === current ? 'current' : i < doneBefore ? 'done' : 'pending';
      let dueAt: number | null = null;
      let projected = false;
      if (state === 'current') dueAt = row.dueAt;
      else if (state === 'done') dueAt = enteredEvent ? payloadNumber(enteredEvent.payload, 'dueAt') : null;
      else if (open && i > current) {
        dueAt = this.due(projectFrom, step);
        projectFrom = dueAt;
        projected = true;
      }
      const completedAt = state === 'done' && leftEvent ? leftEvent.at : null;
      const overdue =
        dueAt !== null &&
        !projected &&
        (state === 'current' ? now > dueAt : completedAt !== null && completedAt > dueAt);
      let holder: CardStep['holder'] = null;
      if (state === 'done' && leftEvent?.actorUserId) holder = this.userName(leftEvent.actorUserId);
      else if (step.role === 'executor') holder = responsible;
      else if (step.role === 'head') holder = head;
      else if (step.role === 'clerk') holder = clerk;
      return {
        code: step.code,
        name: step.name,
        role: step.role,
        limit: step.limit,
        collegial: step.collegial === true,
        state,
        enteredAt: enteredEvent?.at ?? null,
        completedAt,
        dueAt,
        projected,
        overdue,
        holder,
      };
    });
  }
}

function payloadString(payload: JsonValue | null, key: string): string | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const v = payload[key];
  return typeof v === 'string' ? v : null;
}

function payloadNumber(payload: JsonValue | null, key: string): number | null {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return null;
  const v = payload[key];
  return typeof v === 'number' ? v : null;
}

function nameOf(names: Map<string, string>, id: string): { userId: string; fullName: string } {
  return { userId: id, fullName: names.get(id) ?? id };
}

/** An event's payload flattened to strings for the card's history (the version and steps left out). */
function eventDetails(e: StoredEvent, names: Map<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const p = e.payload;
  if (p === null || typeof p !== 'object' || Array.isArray(p)) return out;
  for (const [k, v] of Object.entries(p)) {
    if (k === 'version' || k === 'fromStep' || k === 'dueAt' || v === null) continue;
    if (k === 'toStep') {
      if (v !== payloadString(p, 'fromStep') && typeof v === 'string') out.step = v;
      continue;
    }
    if ((k === 'responsibleUserId' || k === 'previousResponsibleUserId') && typeof v === 'string') {
      out[k] = v;
      out[k === 'responsibleUserId' ? 'responsible' : 'previousResponsible'] = names.get(v) ?? v;
      continue;
    }
    if (Array.isArray(v)) out[k] = v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ');
    else if (typeof v === 'object') {
      for (const [k2, v2] of Object.entries(v)) if (v2 !== null) out[`${k}.${k2}`] = String(v2);
    } else out[k] = String(v);
  }
  return out;
}
