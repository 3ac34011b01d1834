/**
 * Changes to applications, checked against the server's own state, never
 * the client's word: a new application taken in, a workflow action (the
 * state machine of main/workflow/machine.ts over the SERVER's status, the
 * actor's roles in the server's user_roles, and the responsible executor),
 * and a signature (verified, its signer read from its own certificate).
 *
 * Each checks first, then writes the application row and the next event of
 * the server's hash-chained log of the application (main/workflow/chain.ts
 * hashing) in one statement, and queues the feed rows of the provider's
 * partition (written with their versions when the transaction ends).
 */
import { createHash } from 'node:crypto';
import type { ServiceDefinition } from '../../../main/catalogue/schema.js';
import { parseCertificate } from '../../../main/signing/certificate.js';
import { parseCms, verifyCmsSignatures } from '../../../main/signing/cms.js';
import { verifyXml } from '../../../main/signing/xmldsig.js';
import { eventHash, GENESIS_HASH, type EventFields, type JsonValue } from '../../../main/workflow/chain.js';
import {
  applyChanges,
  executorFields,
  isEditable,
  missingRequired,
  protocolFields,
} from '../../../main/workflow/fields.js';
import {
  allows,
  beforeCollegial,
  planSteps,
  TRANSITIONS,
  type StepPlan,
  type WorkflowAction,
} from '../../../main/workflow/machine.js';
import type { Decision, Status } from '../../../db/schema.js';
import type { Sql } from '../db/sql.js';
import { providerPartition } from '../feed.js';
import { applicationCreatePayload, signatureAddPayload, transitionPayload } from '../protocol.js';
import {
  APPLICATION_COLUMNS,
  eventFeedId,
  readApplication,
  type ApplicationData,
  type EventData,
  type SignatureData,
} from '../rows.js';
import { activeActor, payloadOf, Rejection, rolesAt, type ApplyContext, type OpHandler } from './common.js';
import type { z } from 'zod';

/** Actions whose event records the decision (as main/workflow/service.ts). */
const DECISION_ACTIONS: ReadonlySet<WorkflowAction> = new Set(['decide', 'send', 'return', 'sign']);
const MAX_TEXT = 4000;

// ------------------------------------------------------------------ log ---

export interface NewServerEvent {
  applicationId: string;
  at: number;
  actorUserId: string | null;
  action: string;
  fromStatus: Status | null;
  toStatus: Status | null;
  decision: Decision | null;
  comment: string | null;
  payload: unknown;
  deviceId: string | null;
  deviceSeq: number | null;
}

type LastEvent = { seq: number; hash: string } | null;

/** The server's next event of an application after `last` (null: its first): seq, previous hash, own hash. */
function nextEvent(e: NewServerEvent, last: LastEvent): EventData {
  // What is hashed is what is read back: the payload after a JSON round trip.
  const payload =
    e.payload === null || e.payload === undefined ? null : (JSON.parse(JSON.stringify(e.payload)) as JsonValue);
  const fields: EventFields = {
    applicationId: e.applicationId,
    seq: (last?.seq ?? 0) + 1,
    at: e.at,
    actorUserId: e.actorUserId,
    action: e.action,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    decision: e.decision,
    comment: e.comment,
    payload,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  return { ...fields, hash: eventHash(fields), deviceId: e.deviceId, deviceSeq: e.deviceSeq };
}

/** `INSERT INTO application_events … VALUES` with placeholders from $`from` on, and its parameters. */
function insertEvent(ev: EventData, from: number): { text: string; params: unknown[] } {
  const params = [
    ev.applicationId,
    ev.seq,
    ev.at,
    ev.actorUserId,
    ev.action,
    ev.fromStatus,
    ev.toStatus,
    ev.decision,
    ev.comment,
    ev.payload === null ? null : JSON.stringify(ev.payload),
    ev.deviceId,
    ev.deviceSeq,
    ev.prevHash,
    ev.hash,
  ];
  const marks = params.map((_, i) => `$${from + i}${i === 9 ? '::jsonb' : ''}`).join(', ');
  return {
    text: `INSERT INTO application_events (application_id, seq, at, actor_user_id, action, from_status, to_status,
             decision, comment, payload, device_id, device_seq, prev_hash, hash) VALUES (${marks})`,
    params,
  };
}

/** The application row with its last event, locked for the change. */
async function lockApplication(sql: Sql, id: string): Promise<(ApplicationData & { lastEvent: LastEvent }) | null> {
  const [row] = await sql.query<ApplicationData & { lastEvent: LastEvent }>(
    `SELECT ${APPLICATION_COLUMNS},
            (SELECT jsonb_build_object('seq', e.seq, 'hash', e.hash) FROM application_events e
              WHERE e.application_id = a.id ORDER BY e.seq DESC LIMIT 1) AS "lastEvent"
       FROM applications a WHERE a.id = $1 FOR UPDATE OF a`,
    [id],
  );
  return row ?? null;
}

// ---------------------------------------------------------- transition ---

type Transition = z.infer<typeof transitionPayload>;

/** The columns an action may change. */
type Changes = Partial<
  Pick<
    ApplicationData,
    | 'decision'
    | 'responsibleUserId'
    | 'currentStep'
    | 'dueAt'
    | 'formData'
    | 'refusalReasonCode'
    | 'refusalText'
    | 'reworkComment'
  >
>;

interface ActionInput {
  sql: Sql;
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

async function assignable(sql: Sql, providerId: string, userId: string): Promise<boolean> {
  const rows = await sql.query(
    `SELECT 1 FROM provider_staff s
       JOIN users u ON u.id = s.user_id AND NOT u.blocked
       JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
      WHERE s.provider_id = $1 AND s.user_id = $2 AND s.active`,
    [providerId, userId],
  );
  return rows.length > 0;
}

/** What each action changes, after its own preconditions (on the server's row). */
const ACTIONS: Record<WorkflowAction, (i: ActionInput) => Promise<Changes> | Changes> = {
  async assign(i) {
    const to = i.next.responsibleUserId;
    if (!to || !(await assignable(i.sql, i.row.providerId, to))) {
      throw new Rejection('invalid', `${to ?? 'nobody'} is not an active executor of ${i.row.providerId}`);
    }
    return { responsibleUserId: to, ...moveTo(i) };
  },
  accept: (i) => moveTo(i),
  save: (i) => ({ formData: patched(i, executorFields(i.def).filter(isEditable)) }),
  decide(i) {
    const decision = i.next.decision;
    if (decision === 'positive') return { decision, refusalReasonCode: null, refusalText: null };
    if (decision !== 'negative') throw new Rejection('invalid', 'a decision is positive or negative');
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
    const [signature] = await i.sql.query<{ applicationId: string }>(
      'SELECT application_id AS "applicationId" FROM signatures WHERE id = $1',
      [signatureId],
    );
    if (!signature || signature.applicationId !== i.row.id) {
      throw new Rejection('invalid', `signature ${signatureId} of this application is not on the server`);
    }
    return { currentStep: null, dueAt: null };
  },
};

/** Whether the user was ever made (or was) the responsible executor of the application, per the server's log. */
async function wasResponsible(sql: Sql, applicationId: string, userId: string): Promise<boolean> {
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

  const locked = await lockApplication(c.sql, id);
  if (!locked) throw new Rejection('notFound', `no application ${id}`);
  const { lastEvent, ...row } = locked;
  const actor = await activeActor(c, event.actorUserId);
  const roles = rolesAt(actor, row.providerId);
  if (!roles.has(t.role)) throw new Rejection('forbidden', `${actor.id} is not ${t.role} at ${row.providerId}`);
  if (t.responsibleOnly && row.responsibleUserId !== actor.id) {
    if (await wasResponsible(c.sql, id, actor.id)) {
      throw new Rejection('reassigned', `the application was reassigned to ${row.responsibleUserId ?? 'nobody'}`);
    }
    throw new Rejection('forbidden', `${actor.id} is not the responsible executor`);
  }
  if (!t.from.includes(row.status)) {
    throw new Rejection('notAllowed', `${action} is not allowed in status ${row.status}`);
  }
  const def = await c.cache.service(c.sql, row.serviceCode);
  const plan = def ? planSteps(def, row.channel) : null;
  if (!def || !plan) throw new Rejection('invalid', `service ${row.serviceCode} has no steps for ${row.channel}`);
  if (!allows(action, { ...row, userId: actor.id, roles, plan })) {
    throw new Rejection('notAllowed', `${action} is not allowed now`);
  }
  const set = await ACTIONS[action]({ sql: c.sql, row, def, plan, event, next });

  return async () => {
    const status = t.to ?? row.status;
    const after: ApplicationData = {
      ...row,
      ...set,
      status,
      statusChangedAt: status !== row.status ? event.at : row.statusChangedAt,
    };
    const logged = nextEvent(
      {
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
      },
      lastEvent,
    );
    const log = insertEvent(logged, 12);
    await c.sql.query(
      `WITH updated AS (
         UPDATE applications SET status = $2, decision = $3, responsible_user_id = $4, current_step = $5, due_at = $6,
           form_data = $7::jsonb, refusal_reason_code = $8, refusal_text = $9, rework_comment = $10,
           status_changed_at = $11 WHERE id = $1
       ) ${log.text}`,
      [
        id,
        after.status,
        after.decision,
        after.responsibleUserId,
        after.currentStep,
        after.dueAt,
        JSON.stringify(after.formData),
        after.refusalReasonCode,
        after.refusalText,
        after.reworkComment,
        after.statusChangedAt,
        ...log.params,
      ],
    );
    const partition = providerPartition(row.providerId);
    c.feed.write(partition, { entity: 'event', id: eventFeedId(id, logged.seq), op: 'upsert', data: logged });
    c.feed.applicationAt(id, c.feed.write(partition, { entity: 'application', id, op: 'upsert', data: after }));
  };
};

// -------------------------------------------------------------- create ---

export const create: OpHandler = async (c) => {
  const { actorUserId, ...app } = payloadOf(applicationCreatePayload, c.change.payload);
  if (app.id !== c.change.entityId) throw new Rejection('invalid', 'the change names another application');
  const actor = await activeActor(c, actorUserId);
  const mayTakeIn = actor.grants.some(
    (g) =>
      (g.role === 'operator' && (g.providerId === '' || g.providerId === app.providerId)) ||
      (g.role === 'clerk' && g.providerId === app.providerId),
  );
  if (!mayTakeIn) throw new Rejection('forbidden', `${actor.id} takes in no applications for ${app.providerId}`);
  const [known] = await c.sql.query<{ provider: boolean; taken: string | null }>(
    `SELECT EXISTS (SELECT 1 FROM providers WHERE id = $1) AS provider,
            (SELECT id FROM applications WHERE id = $2 OR (provider_id = $1 AND number = $3) LIMIT 1) AS taken`,
    [app.providerId, app.id, app.number],
  );
  if (!known?.provider) throw new Rejection('notFound', `no provider ${app.providerId}`);
  const def = await c.cache.service(c.sql, app.serviceCode);
  const plan = def ? planSteps(def, app.channel) : null;
  if (!plan) throw new Rejection('invalid', `service ${app.serviceCode} takes no applications by ${app.channel}`);
  if (app.status !== 'received' || app.decision !== 'none' || app.responsibleUserId !== null) {
    throw new Rejection('invalid', 'a new application is received, undecided, with nobody responsible');
  }
  step(plan, app.currentStep);
  if (known.taken) {
    throw new Rejection(
      'invalid',
      known.taken === app.id ? `application ${app.id} exists` : `number ${app.number} is taken`,
    );
  }

  return async () => {
    const logged = nextEvent(
      {
        applicationId: app.id,
        at: app.submittedAt,
        actorUserId: actor.id,
        action: 'received',
        fromStatus: null,
        toStatus: 'received',
        decision: null,
        comment: null,
        payload: null,
        deviceId: c.device.deviceId,
        deviceSeq: c.change.seq,
      },
      null,
    );
    const log = insertEvent(logged, 23);
    // server_version is set when the transaction's feed rows take their versions (FeedBuffer.flush).
    await c.sql.query(
      `WITH created AS (
         INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
           applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
           submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
           server_version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19::jsonb, $20, $21,
           $22, 0)
       ) ${log.text}`,
      [
        app.id,
        app.number,
        app.portalNumber,
        app.providerId,
        app.serviceCode,
        app.channel,
        app.applicantIin,
        app.applicantBin,
        app.applicantName,
        app.regionKato,
        app.locality,
        app.status,
        app.decision,
        app.responsibleUserId,
        app.currentStep,
        app.submittedAt,
        app.statusChangedAt,
        app.dueAt,
        JSON.stringify(app.formData),
        app.refusalReasonCode,
        app.refusalText,
        app.reworkComment,
        ...log.params,
      ],
    );
    const partition = providerPartition(app.providerId);
    c.feed.write(partition, { entity: 'event', id: eventFeedId(app.id, logged.seq), op: 'upsert', data: logged });
    c.feed.applicationAt(
      app.id,
      c.feed.write(partition, { entity: 'application', id: app.id, op: 'upsert', data: app }),
    );
  };
};

// ----------------------------------------------------------- signature ---

/** The signer's certificate of a signature that verifies, or the rejection `invalid`. */
function verifiedSigner(format: 'xmldsig' | 'cms', signed: Buffer, documentSha256: string): Uint8Array {
  try {
    if (format === 'xmldsig') {
      const v = verifyXml(signed.toString('utf8'));
      if (!v.ok) throw new Rejection('invalid', `the signature does not verify (${v.code})`);
      return v.certificate;
    }
    const checks = verifyCmsSignatures(signed);
    const failed = checks.find((ch) => !ch.ok);
    const first = checks[0];
    if (!first || failed || !first.ok) throw new Rejection('invalid', 'the signature does not verify');
    const content = parseCms(signed).content;
    if (content && createHash('sha256').update(content).digest('hex') !== documentSha256) {
      throw new Rejection('invalid', 'the signed content is not the document named');
    }
    return first.certificate;
  } catch (err) {
    if (err instanceof Rejection) throw err;
    throw new Rejection(
      'invalid',
      `the signature cannot be read (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

export const addSignature: OpHandler = async (c) => {
  const p = payloadOf(signatureAddPayload, c.change.payload);
  if (p.id !== c.change.entityId) throw new Rejection('invalid', 'the change names another signature');
  const app = await readApplication(c.sql, p.applicationId, true);
  if (!app) throw new Rejection('notFound', `no application ${p.applicationId}`);
  const signed = Buffer.from(p.signed, 'base64');
  const facts = parseCertificate(verifiedSigner(p.format, signed, p.documentSha256));
  if (facts.sha256 !== p.certificateSha256) throw new Rejection('invalid', 'the certificate is not the one named');
  if (!facts.iin) throw new Rejection('forbidden', 'the certificate names no IIN');

  // The signer is the certificate's holder: the named user must be them; unnamed, the holder among the users.
  const [holder] = await c.sql.query<{ id: string }>(
    `SELECT u.id FROM users u WHERE u.iin = $1 AND ($2::text IS NULL OR u.id = $2)
      ORDER BY EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'head' AND r.provider_id = $3) DESC, u.id
      LIMIT 1`,
    [facts.iin, p.userId ?? null, app.providerId],
  );
  if (!holder) throw new Rejection('forbidden', 'the certificate is not a registered user’s');
  const actor = await activeActor(c, holder.id);
  const mayAdd = actor.grants.some(
    (g) => (g.role === 'head' && g.providerId === app.providerId) || g.role === 'operator',
  );
  if (!mayAdd) throw new Rejection('forbidden', `${actor.id} does not sign for ${app.providerId}`);
  const [exists] = await c.sql.query('SELECT 1 FROM signatures WHERE id = $1', [p.id]);
  if (exists) throw new Rejection('invalid', `signature ${p.id} exists`);

  return async () => {
    const data: SignatureData = {
      id: p.id,
      applicationId: app.id,
      format: p.format,
      signed: signed.toString('base64'),
      documentSha256: p.documentSha256,
      signerIin: facts.iin,
      signerBin: facts.bin,
      signerName: facts.commonName,
      certificateSha256: facts.sha256,
      keySource: p.keySource ?? 'unknown',
      userId: actor.id,
      signedAt: p.signedAt,
      timestampedAt: p.timestampedAt ?? null,
    };
    await c.sql.query(
      `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin, signer_name,
         certificate_sha256, key_source, user_id, signed_at, timestamped_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        data.id,
        data.applicationId,
        data.format,
        signed,
        data.documentSha256,
        data.signerIin,
        data.signerBin,
        data.signerName,
        data.certificateSha256,
        data.keySource,
        data.userId,
        data.signedAt,
        data.timestampedAt,
      ],
    );
    c.feed.write(providerPartition(app.providerId), { entity: 'signature', id: p.id, op: 'upsert', data });
  };
};

export type { ApplyContext };
