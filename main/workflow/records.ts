/**
 * What the workflow's commands and the card's read model both read: the
 * application row, the user's roles at its provider, and who may view it.
 * Every function takes the connection, so a caller's transaction covers it.
 */
import type Database from 'better-sqlite3';
import type { Channel, Decision, Role, Status } from '#core/vocabulary.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import type { DeadlineCalendar } from '#core/workflow/deadlines.js';
import { ServiceError } from '../rpc.js';

/** Who acts: the logged-in user. Roles are read from the database, not taken from the caller. */
export interface Actor {
  id: string;
}

export interface WorkflowServiceOptions {
  sqlite: Database.Database;
  services: readonly ServiceDefinition[];
  calendar: DeadlineCalendar;
  now?: () => number;
  protocolVersion?: number;
  schemaVersion?: number;
}

export interface AppRow {
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

export const notFound = () => new ServiceError('notFound', 'errors.workflow.notFound');
export const forbidden = () => new ServiceError('forbidden', 'errors.forbidden');

export function loadApplication(sqlite: Database.Database, id: string): AppRow | null {
  const row = sqlite.prepare(SELECT_APPLICATION).get(id) as (AppRow & { formData: string }) | undefined;
  return row ? { ...row, formData: parseForm(row.formData) } : null;
}

/** The user's roles for one provider (blocked users have none). */
export function rolesFor(sqlite: Database.Database, userId: string, providerId: string): Set<Role> {
  const rows = sqlite
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
export function canView(
  sqlite: Database.Database,
  userId: string,
  row: Pick<AppRow, 'providerId' | 'regionKato'>,
): boolean {
  if (rolesFor(sqlite, userId, row.providerId).size > 0) return true;
  const monitoring = sqlite
    .prepare(
      `SELECT r.provider_id AS providerId, p.region_kato AS regionKato FROM user_roles r
         JOIN users u ON u.id = r.user_id AND u.blocked = 0
         LEFT JOIN providers p ON p.id = r.provider_id
        WHERE r.user_id = ? AND r.role = 'monitoring'`,
    )
    .all(userId) as { providerId: string; regionKato: string | null }[];
  return monitoring.some((m) => m.providerId === '' || m.regionKato === row.regionKato);
}
