/**
 * The card's read model: what the screens read about one application (the
 * card with its sections, steps, history and signatures; the bilingual output
 * document; the event chain's check) and the provider's executors for
 * "Assign responsible". Each read is one transaction and changes nothing.
 */
import type Database from 'better-sqlite3';
import type { Role } from '#core/vocabulary.js';
import type { FormField, ServiceDefinition, ServiceStep } from '#core/catalogue/schema.js';
import type { ApplicationCard, CardField, CardStep, OutputDocument } from '#preload/contract/workflow.js';
import { dueAfter, type DeadlineCalendar } from '#core/workflow/deadlines.js';
import type { ChainCheck, JsonValue, StoredEvent } from '#core/workflow/chain.js';
import { readEvents, verifyChain } from './events.js';
import { buildDocument } from '#core/workflow/document.js';
import {
  displayValue,
  EXECUTOR_STAGES,
  executorFields,
  isEditable,
  isEmpty,
  missingRequired,
} from '#core/workflow/fields.js';
import { allows, availableActions, planSteps, stepIndex, type StepPlan } from '#core/workflow/machine.js';
import { OPEN_STATUSES } from '#core/vocabulary.js';
import {
  canView,
  forbidden,
  loadApplication,
  notFound,
  rolesFor,
  type Actor,
  type AppRow,
  type WorkflowServiceOptions,
} from './records.js';

/** An executor the head may make responsible, with how many open applications they hold. */
export interface StaffMember {
  userId: string;
  fullName: string;
  position: { kk: string; ru: string };
  roles: Role[];
  openApplications: number;
}

export class CardReadModel {
  private readonly sqlite: Database.Database;
  private readonly services: Map<string, ServiceDefinition>;
  private readonly calendar: DeadlineCalendar;
  private readonly now: () => number;

  constructor(o: WorkflowServiceOptions) {
    this.sqlite = o.sqlite;
    this.services = new Map(o.services.map((s) => [s.code, s]));
    this.calendar = o.calendar;
    this.now = o.now ?? Date.now;
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

  /** The provider's executors the head can assign (asked by its head or administrator), with how many open applications each holds. */
  staff(providerId: string, actor: Actor): StaffMember[] {
    const roles = rolesFor(this.sqlite, actor.id, providerId);
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
    const row = loadApplication(this.sqlite, applicationId);
    if (!row) throw notFound();
    if (!canView(this.sqlite, actor.id, row)) throw forbidden();
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
      const roles = rolesFor(this.sqlite, actor.id, row.providerId);
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
        // The card shows the choices; what each finds for the decision (`outcome`) stays with the rules.
        ...(f.options ? { options: f.options.map((o) => ({ value: o.value, label: o.label })) } : {}),
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
