/**
 * What a simulated workstation has queued after a day of work in its office:
 * new applications taken in at the counter ('application.create', the clerk),
 * each then assigned by the head and accepted by the responsible executor
 * ('application.transition'), in exactly the payloads the workstation writes
 * (main/workflow/commands.ts `outbox()`: the hash-chained event and the
 * application's new state). Every change is valid against the server's
 * state machine, so all of them must be applied; none is a business
 * rejection. Deterministic for a seed.
 */
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { makeIin } from '#core/identity/iin.js';
import {
  eventHash,
  GENESIS_HASH,
  receivedEvent,
  type EventFields,
  type NewEvent,
  type StoredEvent,
} from '#core/workflow/chain.js';
import { planSteps } from '#core/workflow/machine.js';
import { mulberry32 } from '#demo/random.js';
import { PROTOCOL_VERSION, SCHEMA_VERSION, type ApplicationData, type Change } from '#core/protocol.js';

/** One office as the global partition describes it: who takes applications in, who assigns, who executes. */
export interface Office {
  providerId: string;
  regionKato: string;
  locality: string;
  /** Services the office provides (codes in `services`). */
  serviceCodes: string[];
  clerkId: string;
  headId: string;
  executorIds: string[];
}

export interface WorkloadOptions {
  office: Office;
  services: ReadonlyMap<string, ServiceDefinition>;
  /** How many changes to queue (the last application's chain may stop early). */
  count: number;
  /** Unique per workstation: application numbers and ids are made from it. */
  tag: string;
  seed: number;
  /** The workstation's clock when work starts; each change a few seconds later. */
  start: number;
  /** How far each application goes: 1 created, 2 and assigned, 3 and accepted (default). */
  steps?: 1 | 2 | 3;
  /** The seq of the first change (default 1). */
  firstSeq?: number;
  protocolVersion?: number;
}

const DAY = 86_400_000;

/** A UUID (v4 layout) from the seeded PRNG, so a run can be replayed. */
function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = ((Number.parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function nextEvent(prev: StoredEvent | null, fields: NewEvent): StoredEvent {
  const full: EventFields = { ...fields, seq: (prev?.seq ?? 0) + 1, prevHash: prev?.hash ?? GENESIS_HASH };
  return { ...full, hash: eventHash(full) };
}

/** The `application` part of a transition's payload, as service.ts writes it. */
function transitionState(app: ApplicationData, version: number) {
  return {
    id: app.id,
    version,
    status: app.status,
    decision: app.decision,
    responsibleUserId: app.responsibleUserId,
    currentStep: app.currentStep,
    dueAt: app.dueAt,
    statusChangedAt: app.statusChangedAt,
    refusalReasonCode: app.refusalReasonCode,
    refusalText: app.refusalText,
    reworkComment: app.reworkComment,
  };
}

/** The queue, seq firstSeq…firstSeq + count − 1. */
export function buildQueue(o: WorkloadOptions): Change[] {
  const random = mulberry32(o.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const protocolVersion = o.protocolVersion ?? PROTOCOL_VERSION;
  const changes: Change[] = [];
  let clock = o.start;
  /** A few seconds to a half minute between two changes at the counter. */
  const tick = () => {
    clock += 1_000 + Math.floor(random() * 30_000);
  };
  const push = (op: Change['op'], entityId: string, payload: unknown) => {
    changes.push({
      seq: (o.firstSeq ?? 1) + changes.length,
      op,
      entity: 'application',
      entityId,
      payload,
      protocolVersion,
      schemaVersion: SCHEMA_VERSION,
      createdAt: clock,
      signature: null,
    });
  };

  for (let n = 1; changes.length < o.count; n++) {
    tick();
    const code = pick(o.office.serviceCodes);
    const def = o.services.get(code);
    const plan = def ? planSteps(def, 'office') : null;
    if (!plan) throw new Error(`workload: service ${code} has no office channel`);
    const birth = new Date(
      Date.UTC(1960 + Math.floor(random() * 45), Math.floor(random() * 12), 1 + Math.floor(random() * 28)),
    );
    const app: ApplicationData = {
      id: seededUuid(random),
      number: `L${o.tag}-${n}`,
      portalNumber: null,
      providerId: o.office.providerId,
      serviceCode: code,
      channel: 'office',
      applicantIin: makeIin(birth, random() < 0.5 ? 'male' : 'female', Math.floor(random() * 10_000)),
      applicantBin: null,
      applicantName: `Load applicant ${o.tag}-${n}`,
      regionKato: o.office.regionKato,
      locality: o.office.locality,
      status: 'received',
      decision: 'none',
      responsibleUserId: null,
      currentStep: plan.assign.code,
      submittedAt: clock,
      statusChangedAt: clock,
      dueAt: clock + DAY,
      formData: {},
      refusalReasonCode: null,
      refusalText: null,
      reworkComment: null,
    };
    push('application.create', app.id, { ...app, actorUserId: o.office.clerkId });
    const steps = o.steps ?? 3;
    let event: StoredEvent | null = nextEvent(null, receivedEvent(app.id, clock, o.office.clerkId));
    if (changes.length >= o.count) break;
    if (steps < 2) continue;

    // The head assigns an executor: from the head's step the executor's first step starts now.
    tick();
    const executor = pick(o.office.executorIds);
    const assignedFrom = app.currentStep;
    app.responsibleUserId = executor;
    app.currentStep = plan.accept.code;
    app.dueAt = clock + 5 * DAY;
    event = nextEvent(event, {
      applicationId: app.id,
      at: clock,
      actorUserId: o.office.headId,
      action: 'assign',
      fromStatus: 'received',
      toStatus: 'received',
      decision: null,
      comment: null,
      payload: {
        version: 2,
        fromStep: assignedFrom,
        toStep: app.currentStep,
        dueAt: app.dueAt,
        responsibleUserId: executor,
        previousResponsibleUserId: null,
      },
    });
    push('application.transition', app.id, { event, application: transitionState(app, 2) });
    if (changes.length >= o.count) break;
    if (steps < 3) continue;

    // The executor accepts it: in processing, the step and deadline the assignment set.
    tick();
    app.status = 'in_processing';
    app.statusChangedAt = clock;
    event = nextEvent(event, {
      applicationId: app.id,
      at: clock,
      actorUserId: executor,
      action: 'accept',
      fromStatus: 'received',
      toStatus: 'in_processing',
      decision: null,
      comment: null,
      payload: { version: 3, fromStep: app.currentStep, toStep: app.currentStep, dueAt: app.dueAt },
    });
    push('application.transition', app.id, { event, application: transitionState(app, 3) });
  }
  return changes;
}
