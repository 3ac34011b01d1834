import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Role } from '../vocabulary.js';
import { loadCalendars } from '../node/calendar-loader.js';
import { dueAfter, weekendOnlyCalendar, type DeadlineCalendar } from './deadlines.js';
import { formatDate } from './document.js';
import { availableActions, planSteps, TRANSITIONS, type ActionContext, type StepPlan } from './machine.js';
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
