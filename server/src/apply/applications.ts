/**
 * Changes to applications, checked against the server's own state, never
 * the client's word: a new application taken in, a workflow action (the
 * state machine of core/workflow/machine.ts over the SERVER's status, the
 * actor's roles in the server's user_roles, and the responsible executor).
 * Signatures are apply/signatures.ts's.
 *
 * Each checks first, against the transaction's state of the application
 * (apply/state.ts: read and locked with the other applications of the
 * batch, as earlier changes of the batch left it), then records the new row
 * and the next event of the server's hash-chained log of the application
 * there (written with the rest of the batch), and queues the feed rows of
 * the provider's partition (written with their versions when the
 * transaction ends).
 */
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { applyChanges, executorFields, isEditable, missingRequired, protocolFields } from '#core/workflow/fields.js';
import {
  actorFor,
  allows,
  beforeCollegial,
  decisionConflict,
  DECISION_ACTIONS,
  planSteps,
  TRANSITIONS,
  type StepPlan,
  type TransitionColumn,
} from '#core/workflow/machine.js';
import type { Sql } from '../postgres/sql.js';
import { providerPartition } from '../feed.js';
import { applicationCreatePayload, transitionPayload, type Change } from '#core/protocol.js';
import type { WorkflowAction } from '#core/vocabulary.js';
import { receivedEvent } from '#core/workflow/chain.js';
import { eventFeedId, type ApplicationData } from '../rows.js';
import {
  activeActor,
  payloadOf,
  Rejection,
  rolesAt,
  type ApplyCache,
  type ApplyContext,
  type OpHandler,
} from './common.js';
import type { ApplicationState } from './state.js';
import { documentDigest } from './signatures.js';
import type { z } from 'zod';

const MAX_TEXT = 4000;

// ------------------------------------------------------------ prefetch ---

/**
 * Reads what the application changes of a batch will check, for all of
 * them at once: the applications they name, locked (in id order) with their
 * chain heads, and which numbers of the applications they create are taken.
 * What a change names is only a hint here; its handler checks it again.
 */
export async function prefetch(sql: Sql, state: ApplicationState, changes: readonly Change[]): Promise<void> {
  const ids: string[] = [];
  const numbers: { providerId: string; number: string }[] = [];
  for (const c of changes) {
    const payload = (typeof c.payload === 'object' ? c.payload : null) as Record<string, unknown> | null;
    if (c.op === 'application.transition') ids.push(c.entityId);
    else if (c.op === 'signature.add' && typeof payload?.applicationId === 'string') ids.push(payload.applicationId);
    else if (c.op === 'application.create') {
      ids.push(c.entityId);
      if (typeof payload?.providerId === 'string' && typeof payload.number === 'string') {
        numbers.push({ providerId: payload.providerId, number: payload.number });
      }
    }
  }
  await state.lock(sql, ids);
  await state.readNumbers(sql, numbers);
}

// ---------------------------------------------------------- transition ---

type Transition = z.infer<typeof transitionPayload>;

/** The columns an action may change. */
type Changes = Partial<Pick<ApplicationData, TransitionColumn>>;

interface ActionInput {
  sql: Sql;
  /** The user acting (proven by the change's key). */
  actorId: string;
  cache: ApplyCache;
  row: ApplicationData;
  def: ServiceDefinition;
  plan: StepPlan;
  event: Transition['event'];
  next: Transition['application'];
}

const isAction = (a: string): a is WorkflowAction => Object.hasOwn(TRANSITIONS, a);

function step(plan: StepPlan, code: string | null): string | null {
  if (code !== null && !plan.steps.some((s) => s.code === code)) {
    throw new Rejection('invalid', `${code} is not a step of this service`);
  }
  return code;
}

/** The step and deadline the workstation moved to (checked to be one of the service's steps). */
const moveTo = (i: ActionInput): Changes => ({ currentStep: step(i.plan, i.next.currentStep), dueAt: i.next.dueAt });

/** The form after the patch the change carries, for `fields` only. */
function patched(i: ActionInput, fields: ReturnType<typeof executorFields>): Record<string, unknown> {
  const { form, problems } = applyChanges(i.row.formData, i.next.formData ?? {}, fields);
  const bad = Object.entries(problems);
  if (bad.length > 0) {
    throw new Rejection('invalid', `fields not accepted: ${bad.map(([k, p]) => `${k} (${p})`).join(', ')}`);
  }
  return form;
}

/** What each action changes, after its own preconditions (on the server's row). */
const ACTIONS: Record<WorkflowAction, (i: ActionInput) => Promise<Changes> | Changes> = {
  async assign(i) {
    const to = i.next.responsibleUserId;
    if (!to || !(await i.cache.assignable(i.sql, i.row.providerId, to))) {
      throw new Rejection('invalid', `${to ?? 'nobody'} is not an active executor of ${i.row.providerId}`);
    }
    return { responsibleUserId: to, ...moveTo(i) };
  },
  accept: (i) => moveTo(i),
  save: (i) => ({ formData: patched(i, executorFields(i.def).filter(isEditable)) }),
  decide(i) {
    const decision = i.next.decision;
    if (decision !== 'positive' && decision !== 'negative')
      throw new Rejection('invalid', 'a decision is positive or negative');
    const conflict = decisionConflict(i.def, i.plan, i.row.formData, decision);
    if (conflict)
      throw new Rejection('notAllowed', `a ${decision} decision contradicts ${conflict.field} = ${conflict.value}`);
    if (decision === 'positive') return { decision, refusalReasonCode: null, refusalText: null };
    const code = i.next.refusalReasonCode?.trim() ?? '';
    const text = i.next.refusalText?.trim() ?? '';
    if (!i.def.refusalReasons.some((r) => r.code === code)) {
      throw new Rejection('invalid', `refusal reason "${code}" is not one of the service's`);
    }
    if (!text || text.length > MAX_TEXT)
      throw new Rejection('invalid', 'a refusal needs a text (at most 4000 characters)');
    return { decision, refusalReasonCode: code, refusalText: text };
  },
  refer(i) {
    if (!i.plan.collegial || !beforeCollegial(i.plan, i.row.currentStep)) {
      throw new Rejection('notAllowed', 'the application is past its collegial step (or the service has none)');
    }
    return moveTo(i);
  },
  commission(i) {
    const collegial = i.plan.collegial;
    if (!collegial) throw new Rejection('notAllowed', 'the service has no collegial step');
    const fields = protocolFields(collegial);
    const formData = patched(i, fields);
    const missing = missingRequired(formData, fields);
    if (missing.length > 0) throw new Rejection('invalid', `the protocol misses ${missing.join(', ')}`);
    return { formData, ...moveTo(i) };
  },
  send(i) {
    if (i.row.decision === 'none') throw new Rejection('notAllowed', 'no decision was made');
    const missing = missingRequired(i.row.formData, executorFields(i.def));
    if (missing.length > 0) throw new Rejection('notAllowed', `required fields are empty: ${missing.join(', ')}`);
    const conflict = decisionConflict(i.def, i.plan, i.row.formData, i.row.decision);
    if (conflict) {
      throw new Rejection(
        'notAllowed',
        `a ${i.row.decision} decision contradicts ${conflict.field} = ${conflict.value}`,
      );
    }
    return { ...moveTo(i), reworkComment: null };
  },
  return(i) {
    const comment = i.event.comment?.trim() ?? '';
    if (!comment || comment.length > MAX_TEXT) throw new Rejection('invalid', 'a return needs a comment');
    return { ...moveTo(i), reworkComment: comment };
  },
  async sign(i) {
    const signatureId = i.event.payload?.signatureId;
    if (typeof signatureId !== 'string') throw new Rejection('invalid', 'the signing names no signature');
    const [signature] = await i.sql.query<{ applicationId: string; userId: string | null; documentSha256: string }>(
      'SELECT application_id AS "applicationId", user_id AS "userId", document_sha256 AS "documentSha256" FROM signatures WHERE id = $1',
      [signatureId],
    );
    if (!signature || signature.applicationId !== i.row.id) {
      throw new Rejection('invalid', `signature ${signatureId} of this application is not on the server`);
    }
    // Completed only on the head's own signature of the document as it stands now: not another signer's, and
    // not one made before the application was returned and changed.
    if (signature.userId !== i.actorId) throw new Rejection('forbidden', `signature ${signatureId} is not the actor's`);
    if (signature.documentSha256 !== (await documentDigest(i.sql, i.row))) {
      throw new Rejection('invalid', `signature ${signatureId} is of an earlier state of the application`);
    }
    return { currentStep: null, dueAt: null };
  },
};

/**
 * Whether the user was ever made (or was) the responsible executor of the
 * application, per the server's log: its stored events and those of this
 * transaction not written yet.
 */
async function wasResponsible(
  sql: Sql,
  state: ApplicationState,
  applicationId: string,
  userId: string,
): Promise<boolean> {
  const named = (payload: unknown) => {
    const p = payload as Record<string, unknown> | null;
    return p !== null && (p.responsibleUserId === userId || p.previousResponsibleUserId === userId);
  };
  if (state.eventsOf(applicationId).some((e) => e.action === 'assign' && named(e.payload))) return true;
  const rows = await sql.query(
    `SELECT 1 FROM application_events WHERE application_id = $1 AND action = 'assign'
        AND (payload->>'responsibleUserId' = $2 OR payload->>'previousResponsibleUserId' = $2) LIMIT 1`,
    [applicationId, userId],
  );
  return rows.length > 0;
}

export const transition: OpHandler = async (c) => {
  const { event, application: next } = payloadOf(transitionPayload, c.change.payload);
  const id = c.change.entityId;
  if (event.applicationId !== id || next.id !== id) {
    throw new Rejection('invalid', 'the change names another application');
  }
  if (!isAction(event.action)) throw new Rejection('invalid', `unknown action ${event.action}`);
  const action = event.action;
  const t = TRANSITIONS[action];

  const held = await c.applications.get(c.sql, id);
  if (!held) throw new Rejection('notFound', `no application ${id}`);
  const { row } = held;
  // A workstation acts only on its own office's applications, whatever its users' roles elsewhere.
  if (row.providerId !== c.device.providerId) {
    throw new Rejection('forbidden', `application ${id} is not of this device's office`);
  }
  const actor = await activeActor(c, event.actorUserId);
  const roles = rolesAt(actor, row.providerId);
  const def = await c.cache.service(c.sql, row.serviceCode);
  const plan = def ? planSteps(def, row.channel) : null;
  // The same rule as the workstation's: the service's plan says who signs (core/workflow/machine.ts).
  const who = actorFor(action, plan);
  if (!roles.has(who.role)) throw new Rejection('forbidden', `${actor.id} is not ${who.role} at ${row.providerId}`);
  if (who.responsibleOnly && row.responsibleUserId !== actor.id) {
    if (await wasResponsible(c.sql, c.applications, id, actor.id)) {
      throw new Rejection('reassigned', `the application was reassigned to ${row.responsibleUserId ?? 'nobody'}`);
    }
    throw new Rejection('forbidden', `${actor.id} is not the responsible executor`);
  }
  if (!t.from.includes(row.status)) {
    throw new Rejection('notAllowed', `${action} is not allowed in status ${row.status}`);
  }
  if (!def || !plan) throw new Rejection('invalid', `service ${row.serviceCode} has no steps for ${row.channel}`);
  if (!allows(action, { ...row, userId: actor.id, roles, plan })) {
    throw new Rejection('notAllowed', `${action} is not allowed now`);
  }
  const set = await ACTIONS[action]({ sql: c.sql, actorId: actor.id, cache: c.cache, row, def, plan, event, next });

  return () => {
    const status = t.to ?? row.status;
    const after: ApplicationData = {
      ...row,
      ...set,
      status,
      statusChangedAt: status !== row.status ? event.at : row.statusChangedAt,
    };
    const logged = c.applications.update(after, {
      applicationId: id,
      at: event.at,
      actorUserId: actor.id,
      action,
      fromStatus: row.status,
      toStatus: status,
      decision: DECISION_ACTIONS.has(action) ? after.decision : null,
      comment: event.comment,
      payload: event.payload,
      deviceId: c.device.deviceId,
      deviceSeq: c.change.seq,
    });
    const partition = providerPartition(row.providerId);
    c.feed.write(partition, { entity: 'event', id: eventFeedId(id, logged.seq), op: 'upsert', data: logged });
    c.feed.applicationAt(id, c.feed.write(partition, { entity: 'application', id, op: 'upsert', data: after }));
    return Promise.resolve();
  };
};

// -------------------------------------------------------------- create ---

export const create: OpHandler = async (c) => {
  const { actorUserId, ...app } = payloadOf(applicationCreatePayload, c.change.payload);
  if (app.id !== c.change.entityId) throw new Rejection('invalid', 'the change names another application');
  if (app.providerId !== c.device.providerId) {
    throw new Rejection('forbidden', `this device takes in applications for ${c.device.providerId} only`);
  }
  const actor = await activeActor(c, actorUserId);
  const mayTakeIn = actor.grants.some(
    (g) =>
      (g.role === 'operator' && (g.providerId === '' || g.providerId === app.providerId)) ||
      (g.role === 'clerk' && g.providerId === app.providerId),
  );
  if (!mayTakeIn) throw new Rejection('forbidden', `${actor.id} takes in no applications for ${app.providerId}`);
  if (!(await c.cache.providerExists(c.sql, app.providerId))) {
    throw new Rejection('notFound', `no provider ${app.providerId}`);
  }
  const def = await c.cache.service(c.sql, app.serviceCode);
  const plan = def ? planSteps(def, app.channel) : null;
  if (!plan) throw new Rejection('invalid', `service ${app.serviceCode} takes no applications by ${app.channel}`);
  if (app.status !== 'received' || app.decision !== 'none' || app.responsibleUserId !== null) {
    throw new Rejection('invalid', 'a new application is received, undecided, with nobody responsible');
  }
  step(plan, app.currentStep);
  if (await c.applications.get(c.sql, app.id)) throw new Rejection('invalid', `application ${app.id} exists`);
  if (await c.applications.numberTaken(c.sql, app.providerId, app.number)) {
    throw new Rejection('invalid', `number ${app.number} is taken`);
  }

  return () => {
    // server_version is set when the transaction's feed rows take their versions (FeedBuffer.flush).
    const logged = c.applications.create(app, {
      ...receivedEvent(app.id, app.submittedAt, actor.id),
      deviceId: c.device.deviceId,
      deviceSeq: c.change.seq,
    });
    const partition = providerPartition(app.providerId);
    c.feed.write(partition, { entity: 'event', id: eventFeedId(app.id, logged.seq), op: 'upsert', data: logged });
    c.feed.applicationAt(
      app.id,
      c.feed.write(partition, { entity: 'application', id: app.id, op: 'upsert', data: app }),
    );
    return Promise.resolve();
  };
};

export type { ApplyContext };
