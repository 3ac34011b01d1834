/**
 * The workflow's contract calls (preload/contract/workflow.ts) over the
 * WorkflowService, for the composition root (main/app.ts) to spread into its
 * handlers. The session user is asked on every call; roles are checked by
 * the service against the database.
 */
import type Database from 'better-sqlite3';
import type { Role } from '#core/vocabulary.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import type { workflowContract } from '#preload/contract/workflow.js';
import { ServiceError, type Handlers } from '../rpc.js';
import type { DeadlineCalendar } from '#core/workflow/deadlines.js';
import { WorkflowService, type Actor } from './service.js';

export interface WorkflowDeps {
  sqlite: Database.Database;
  services: readonly ServiceDefinition[];
  calendar: DeadlineCalendar;
  /** The logged-in user; null when nobody is. */
  currentUser: () => { id: string; roles: { role: Role; providerId: string }[] } | null;
  now?: () => number;
}

export type WorkflowHandlers = Pick<Handlers, keyof typeof workflowContract>;

export function createWorkflowService(deps: Omit<WorkflowDeps, 'currentUser'>): WorkflowService {
  return new WorkflowService({
    sqlite: deps.sqlite,
    services: deps.services,
    calendar: deps.calendar,
    ...(deps.now ? { now: deps.now } : {}),
  });
}

/** One handler per workflow channel; pass `service` to share one with other callers (CLI, tests). */
export function createWorkflowHandlers(
  deps: WorkflowDeps,
  service: WorkflowService = createWorkflowService(deps),
): WorkflowHandlers {
  const actor = (): Actor => {
    const user = deps.currentUser();
    if (!user) throw new ServiceError('noSession', 'errors.sessionUnavailable');
    return { id: user.id };
  };

  return {
    'application.card': (input) => service.card(input.id, actor()),
    'application.save': (input) => service.save(input.id, input.version, input.data, actor()),
    'application.assign': (input) => {
      const results = service.assign(input.applications, input.responsibleUserId, actor());
      const ok = results.some((r) => r.ok);
      return {
        results,
        messageKey: ok ? 'messages.responsibleAssigned' : (results[0]?.messageKey ?? 'errors.forbidden'),
      };
    },
    'application.accept': (input) => service.accept(input.id, input.version, actor()),
    'application.decide': (input) =>
      service.decide(
        input.id,
        input.version,
        {
          decision: input.decision,
          refusalReasonCode: input.refusalReasonCode,
          refusalText: input.refusalText,
        },
        actor(),
      ),
    'application.refer': (input) => service.refer(input.id, input.version, actor()),
    'application.commission': (input) => service.commission(input.id, input.version, input.protocol, actor()),
    'application.send': (input) => service.send(input.id, input.version, actor()),
    'application.return': (input) => service.returnForRework(input.id, input.version, input.comment, actor()),
    'application.sign': (input) => service.sign(input.id, input.version, actor(), input.signatureId),
    'application.preview': (input) => service.preview(input.id, actor()),
    'application.verifyChain': (input) => service.verifyChain(input.id, actor()),
    'staff.list': (input) => ({ staff: service.staff(input.providerId, actor()) }),
  };
}
