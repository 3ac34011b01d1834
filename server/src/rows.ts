/**
 * The server's rows as the feed carries them (protocol.ts FEED_DATA): one
 * SELECT per entity that reads a row in its wire shape, and the feed ids
 * (an event is `<applicationId>:<seq>`, a staff position
 * `<providerId>:<userId>`). Every writer builds feed data here, so a row
 * reads the same in the feed whoever wrote it.
 */
import type { z } from 'zod';
import type { Sql } from './postgres/sql.js';
import type { applicationData, eventData, signatureData, staffData, userData } from '#core/protocol.js';

export type ApplicationData = z.infer<typeof applicationData>;
export type EventData = z.infer<typeof eventData>;
export type UserData = z.infer<typeof userData>;
export type StaffData = z.infer<typeof staffData>;
export type SignatureData = z.infer<typeof signatureData>;

export const eventFeedId = (applicationId: string, seq: number) => `${applicationId}:${seq}`;
export const staffFeedId = (providerId: string, userId: string) => `${providerId}:${userId}`;

/** applications columns in ApplicationData's shape (camelCase aliases). */
export const APPLICATION_COLUMNS = `id, number, portal_number AS "portalNumber", provider_id AS "providerId",
  service_code AS "serviceCode", channel, applicant_iin AS "applicantIin", applicant_bin AS "applicantBin",
  applicant_name AS "applicantName", region_kato AS "regionKato", locality, status, decision,
  responsible_user_id AS "responsibleUserId", current_step AS "currentStep", submitted_at AS "submittedAt",
  status_changed_at AS "statusChangedAt", due_at AS "dueAt", form_data AS "formData",
  refusal_reason_code AS "refusalReasonCode", refusal_text AS "refusalText", rework_comment AS "reworkComment"`;

export const EVENT_COLUMNS = `application_id AS "applicationId", seq, at, actor_user_id AS "actorUserId", action,
  from_status AS "fromStatus", to_status AS "toStatus", decision, comment, payload, device_id::text AS "deviceId",
  device_seq AS "deviceSeq", prev_hash AS "prevHash", hash`;

/** The application's row as the feed carries it; null when there is none. */
export async function readApplication(sql: Sql, id: string, forUpdate = false): Promise<ApplicationData | null> {
  const [row] = await sql.query<ApplicationData>(
    `SELECT ${APPLICATION_COLUMNS} FROM applications WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row ?? null;
}

export async function readEvent(sql: Sql, applicationId: string, seq: number): Promise<EventData | null> {
  const [row] = await sql.query<EventData>(
    `SELECT ${EVENT_COLUMNS} FROM application_events WHERE application_id = $1 AND seq = $2`,
    [applicationId, seq],
  );
  return row ?? null;
}

/** A user with their roles, without the password hash (the feed goes to every workstation). */
export async function readUser(sql: Sql, id: string): Promise<UserData | null> {
  const [row] = await sql.query<Omit<UserData, 'roles'> & { roles: UserData['roles'] | null }>(
    `SELECT u.id, u.login, u.full_name AS "fullName", u.iin, u.email, u.phone, u.position_kk AS "positionKk",
            u.position_ru AS "positionRu", u.blocked, u.must_change_password AS "mustChangePassword",
            (SELECT jsonb_agg(jsonb_build_object('role', r.role, 'providerId', r.provider_id)
                              ORDER BY r.role, r.provider_id)
               FROM user_roles r WHERE r.user_id = u.id) AS roles
       FROM users u WHERE u.id = $1`,
    [id],
  );
  return row ? { ...row, roles: row.roles ?? [] } : null;
}

export async function readStaff(sql: Sql, providerId: string, userId: string): Promise<StaffData | null> {
  const [row] = await sql.query<StaffData>(
    `SELECT provider_id AS "providerId", user_id AS "userId", position_kk AS "positionKk",
            position_ru AS "positionRu", active
       FROM provider_staff WHERE provider_id = $1 AND user_id = $2`,
    [providerId, userId],
  );
  return row ?? null;
}

export async function readSignature(sql: Sql, id: string): Promise<SignatureData | null> {
  const [row] = await sql.query<Omit<SignatureData, 'signed' | 'format'> & { signed: Uint8Array; format: string }>(
    `SELECT id, application_id AS "applicationId", format, signed, document_sha256 AS "documentSha256",
            signer_iin AS "signerIin", signer_bin AS "signerBin", signer_name AS "signerName",
            certificate_sha256 AS "certificateSha256", key_source AS "keySource", user_id AS "userId",
            signed_at AS "signedAt", timestamped_at AS "timestampedAt"
       FROM signatures WHERE id = $1`,
    [id],
  );
  if (!row) return null;
  return {
    ...row,
    format: row.format === 'cms' ? 'cms' : 'xmldsig',
    signed: Buffer.from(row.signed).toString('base64'),
  };
}
