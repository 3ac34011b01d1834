/**
 * The document that is signed for an application: built by core (the server
 * builds the same bytes from its own state to check a pushed signature), read
 * here from the local database.
 */
import type Database from 'better-sqlite3';
import { type ApplicationDocumentRow } from '#core/workflow/signed-document.js';

export {
  applicationXml,
  DOCUMENT_NAMESPACE,
  escapeXml,
  type ApplicationDocumentRow,
} from '#core/workflow/signed-document.js';

/** Reads what the document needs from the local database; null when there is no such application. */
export function loadApplicationDocument(sqlite: Database.Database, id: string): ApplicationDocumentRow | null {
  const row = sqlite
    .prepare(
      `SELECT a.id, a.number, a.portal_number AS portalNumber, a.service_code AS serviceCode,
              p.bin AS providerBin, p.name_ru AS providerName, a.applicant_iin AS applicantIin,
              a.applicant_bin AS applicantBin, a.applicant_name AS applicantName, a.status, a.decision,
              a.refusal_reason_code AS refusalReasonCode, a.refusal_text AS refusalText,
              a.submitted_at AS submittedAt, a.form_data AS formData
         FROM applications a JOIN providers p ON p.id = a.provider_id
        WHERE a.id = ?`,
    )
    .get(id) as (Omit<ApplicationDocumentRow, 'formData'> & { formData: string }) | undefined;
  if (!row) return null;
  let formData: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(row.formData);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) formData = parsed as Record<string, unknown>;
  } catch {
    formData = {};
  }
  return { ...row, formData };
}
