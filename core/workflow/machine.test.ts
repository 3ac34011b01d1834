import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Role } from '../vocabulary.js';
import { loadCalendars } from '../node/calendar-loader.js';
import { dueAfter, weekendOnlyCalendar, type DeadlineCalendar } from './deadlines.js';
import { formatDate } from './document.js';
import {
  actorFor,
  availableActions,
  decisionConflict,
  planSteps,
  TRANSITIONS,
  type ActionContext,
  type StepPlan,
} from './machine.js';
import { DAY, MINUTE, NOW, ROOT, SERVICES } from '../testing.js';

function service(code: string) {
  const def = SERVICES.find((s) => s.code === code);
  if (!def) throw new Error(`no service ${code} in the catalogue`);
  return def;
}

function codes(plan: StepPlan | null) {
  if (!plan) throw new Error('no plan');
  return {
    steps: plan.steps.map((s) => s.code),
    assign: plan.assign.code,
    accept: plan.accept.code,
    collegial: plan.collegial?.code ?? null,
    afterCollegial: plan.afterCollegial?.code ?? null,
    rework: plan.rework.code,
    sign: plan.sign.code,
  };
}

describe('steps of the catalogue services', () => {
  it('grants: the commission between the executor check and the result', () => {
    expect(codes(planSteps(service('grant-small-business'), 'office'))).toEqual({
      steps: [
        'clerk-register',
        'head-review',
        'executor-review',
        'commission-decision',
        'executor-prepare',
        'head-sign',
        'clerk-issue',
      ],
      assign: 'head-review',
      accept: 'executor-review',
      collegial: 'commission-decision',
      afterCollegial: 'executor-prepare',
      rework: 'executor-prepare',
      sign: 'head-sign',
    });
  });

  it('industrial infrastructure: the council, and no head signing step (the executor issues)', () => {
    expect(codes(planSteps(service('industrial-infrastructure'), 'portal'))).toMatchObject({
      collegial: 'council-decision',
      afterCollegial: 'executor-issue',
      rework: 'executor-issue',
      sign: 'executor-issue',
    });
  });

  it("the centre's own steps only for applications that came through the centre", () => {
    const office = codes(planSteps(service('unemployed-certificate'), 'office'));
    const centre = codes(planSteps(service('unemployed-certificate'), 'centre'));
    expect(office.steps.some((s) => s.startsWith('centre-'))).toBe(false);
    expect(centre.steps.filter((s) => s.startsWith('centre-'))).toEqual([
      'centre-accept',
      'centre-request',
      'centre-lookup',
      'centre-send',
      'centre-issue',
    ]);
    expect(centre).toMatchObject({
      assign: 'head-assign',
      accept: 'executor-prepare',
      collegial: null,
      sign: 'head-sign',
    });
  });
});

describe('who may press what', () => {
  const plan = planSteps(service('grant-small-business'), 'office');
  const ctx = (over: Partial<Omit<ActionContext, 'roles'>> & { roles: Role[] }): ActionContext => ({
    status: 'received',
    decision: 'none',
    responsibleUserId: 'exec',
    currentStep: 'executor-review',
    userId: 'exec',
    plan,
    ...over,
    roles: new Set(over.roles),
  });

  it('follows the transitions table: role, responsible, status', () => {
    expect(availableActions(ctx({ roles: ['executor'] }))).toEqual(['accept']);
    expect(availableActions(ctx({ roles: ['head'], userId: 'boss' }))).toEqual(['assign']);
    expect(availableActions(ctx({ roles: ['executor'], userId: 'other' }))).toEqual([]);
    expect(availableActions(ctx({ roles: ['clerk', 'admin', 'monitoring', 'operator'] }))).toEqual([]);
    expect(availableActions(ctx({ roles: ['executor'], status: 'in_processing' }))).toEqual([
      'save',
      'decidePositive',
      'decideNegative',
      'refer',
      'commission',
    ]);
    expect(
      availableActions(
        ctx({ roles: ['executor'], status: 'in_processing', decision: 'negative', currentStep: 'executor-prepare' }),
      ),
    ).toEqual(['save', 'decidePositive', 'decideNegative', 'commission', 'send']);
    expect(availableActions(ctx({ roles: ['head', 'executor'], status: 'on_signing' }))).toEqual(['return', 'sign']);
    for (const status of ['completed', 'external_processing', 'completed_with_error'] as const) {
      expect(availableActions(ctx({ roles: ['head', 'executor'], status }))).toEqual([]);
    }
  });

  it('moves the status only where docs/domain.md#statuses says', () => {
    const moves = Object.entries(TRANSITIONS)
      .filter(([, t]) => t.to !== null)
      .map(([action, t]) => `${t.from.join('|')} -${action}-> ${t.to}`);
    expect(moves).toEqual([
      'received -accept-> in_processing',
      'in_processing -send-> on_signing',
      'on_signing -return-> in_processing',
      'on_signing -sign-> completed',
    ]);
  });
});

describe('who signs (seed 001: the industrial infrastructure executor prepares and issues the result)', () => {
  const industrial = planSteps(service('industrial-infrastructure'), 'office');
  const grants = planSteps(service('grant-small-business'), 'office');
  const onSigning = (plan: StepPlan | null, roles: Role[], userId: string): ActionContext => ({
    status: 'on_signing',
    decision: 'positive',
    responsibleUserId: 'exec',
    currentStep: plan?.sign.code ?? null,
    userId,
    plan,
    roles: new Set(roles),
  });

  it('the catalogue ends industrial infrastructure with the executor issuing: no head step after the executor', () => {
    const def = service('industrial-infrastructure');
    const last = def.steps.at(-1);
    expect(last).toMatchObject({ code: 'executor-issue', role: 'executor' });
    expect(def.steps.filter((s) => s.role === 'head').map((s) => s.code)).toEqual(['head-review']);
  });

  it('the responsible executor signs and returns it; the head does not', () => {
    expect(actorFor('sign', industrial)).toEqual({ role: 'executor', responsibleOnly: true });
    expect(actorFor('return', industrial)).toEqual({ role: 'executor', responsibleOnly: true });
    expect(availableActions(onSigning(industrial, ['executor'], 'exec'))).toEqual(['return', 'sign']);
    expect(availableActions(onSigning(industrial, ['executor'], 'other-exec'))).toEqual([]);
    expect(availableActions(onSigning(industrial, ['head'], 'boss'))).toEqual([]);
  });

  it('where a head signing step exists the head signs, as before', () => {
    expect(actorFor('sign', grants)).toEqual({ role: 'head', responsibleOnly: false });
    expect(availableActions(onSigning(grants, ['head'], 'boss'))).toEqual(['return', 'sign']);
    expect(availableActions(onSigning(grants, ['executor'], 'exec'))).toEqual([]);
    for (const def of SERVICES.filter((s) => s.code !== 'industrial-infrastructure')) {
      expect(planSteps(def, 'office')?.sign.role, def.code).toBe('head');
    }
  });
});

describe('a decision must agree with the recorded findings (seed 001)', () => {
  const grants = service('grant-small-business');
  const industrial = service('industrial-infrastructure');
  const duplicate = service('education-document-duplicate');
  const conflict = (code: string, form: Record<string, unknown>, decision: 'positive' | 'negative' | 'none') => {
    const def = service(code);
    return decisionConflict(def, planSteps(def, 'office'), form, decision);
  };

  it('the findings live in the catalogue: the check and protocol options are marked with their outcome', () => {
    const option = (def: typeof grants, field: string, value: string) =>
      [...def.sections.flatMap((s) => s.fields), ...def.steps.flatMap((s) => s.protocol?.fields ?? [])]
        .find((f) => f.code === field)
        ?.options?.find((o) => o.value === value)?.outcome;
    expect(option(grants, 'commissionDecision', 'refuse')).toBe('negative');
    expect(option(grants, 'commissionDecision', 'award')).toBe('positive');
    expect(option(industrial, 'councilDecision', 'financing-impossible')).toBe('negative');
    expect(option(industrial, 'councilDecision', 'financing-possible')).toBe('positive');
    expect(option(duplicate, 'documentsCheck', 'mismatch')).toBe('negative');
    // "The documents are complete" decides nothing by itself: other grounds for refusal remain.
    expect(option(duplicate, 'documentsCheck', 'complete')).toBeUndefined();
  });

  it('a positive decision after the commission refused is refused', () => {
    expect(conflict('grant-small-business', { commissionDecision: 'refuse' }, 'positive')).toMatchObject({
      code: 'collegialRefused',
      messageKey: 'errors.workflow.positiveAfterCollegialRefusal',
      field: 'commissionDecision',
    });
    expect(conflict('grant-small-business', { commissionDecision: 'refuse' }, 'negative')).toBeNull();
  });

  it('a positive decision after the council found financing impossible is refused', () => {
    expect(
      conflict('industrial-infrastructure', { councilDecision: 'financing-impossible' }, 'positive'),
    ).toMatchObject({ code: 'collegialRefused', field: 'councilDecision', value: 'financing-impossible' });
  });

  it('a positive decision after the documents check said "mismatch" is refused', () => {
    for (const code of ['education-document-duplicate', 'grant-small-business', 'industrial-infrastructure']) {
      expect(conflict(code, { documentsCheck: 'mismatch' }, 'positive'), code).toMatchObject({
        code: 'documentsMismatch',
        messageKey: 'errors.workflow.positiveAfterMismatch',
      });
    }
    expect(conflict('education-document-duplicate', { documentsCheck: 'complete' }, 'positive')).toBeNull();
  });

  it('the other way round: a negative decision after the collegial body approved, with nothing against it, is refused', () => {
    expect(conflict('grant-small-business', { commissionDecision: 'award' }, 'negative')).toMatchObject({
      code: 'collegialApproved',
      messageKey: 'errors.workflow.negativeAfterCollegialApproval',
    });
    expect(
      conflict(
        'industrial-infrastructure',
        { documentsCheck: 'complete', councilDecision: 'financing-possible' },
        'negative',
      ),
    ).toMatchObject({ code: 'collegialApproved' });
    // A mismatch found as well still allows the refusal (and rules out the positive result).
    const mixed = { documentsCheck: 'mismatch', councilDecision: 'financing-possible' };
    expect(conflict('industrial-infrastructure', mixed, 'negative')).toBeNull();
    expect(conflict('industrial-infrastructure', mixed, 'positive')).toMatchObject({ code: 'documentsMismatch' });
    // Before any finding, either decision stands (a refusal before the council is in the seed).
    expect(conflict('industrial-infrastructure', {}, 'negative')).toBeNull();
    expect(conflict('industrial-infrastructure', {}, 'positive')).toBeNull();
    expect(conflict('grant-small-business', { commissionDecision: 'award' }, 'none')).toBeNull();
  });
});

describe('deadlines with the weekend-only calendar', () => {
  const calendar = weekendOnlyCalendar();

  it('counts working days over a weekend, minutes as they are', () => {
    // Friday 22 May 2026 12:30 + 1 working day: Monday 25 May, same time.
    const friday = NOW + 2 * DAY;
    expect(dueAfter(calendar, friday, { unit: 'working_days', value: 1 })).toBe(friday + 3 * DAY);
    // Saturday + 1 working day: Monday.
    expect(dueAfter(calendar, friday + DAY, { unit: 'working_days', value: 1 })).toBe(friday + 3 * DAY);
    expect(dueAfter(calendar, friday, { unit: 'minutes', value: 20 })).toBe(friday + 20 * MINUTE);
  });

  it('uses the local (UTC+5) day: 22:00 UTC on Friday is already Saturday in Astana', () => {
    const fridayNightUtc = Date.UTC(2026, 4, 22, 22, 0); // Saturday 03:00 local
    expect(dueAfter(calendar, fridayNightUtc, { unit: 'working_days', value: 1 })).toBe(fridayNightUtc + 2 * DAY);
  });
});

describe('deadlines with the holiday calendar of core/calendar', () => {
  it('plugs in as the DeadlineCalendar and skips Nauryz', () => {
    const calendar: DeadlineCalendar = loadCalendars(join(ROOT, 'resources', 'calendars')).calendar;
    // Friday 20 March 2026, 10:00 in Astana: Nauryz (21–23 March) and the days off it moves from the
    // weekend leave Thursday 26 March as the next working day.
    const friday = Date.UTC(2026, 2, 20, 5, 0);
    const due = dueAfter(calendar, friday, { unit: 'working_days', value: 1 });
    expect(due).toBeGreaterThan(dueAfter(weekendOnlyCalendar(), friday, { unit: 'working_days', value: 1 }));
    expect(formatDate(due)).toBe('26.03.2026');
  });
});
