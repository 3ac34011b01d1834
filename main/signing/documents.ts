/**
 * The document that is signed for an application: a deterministic XML
 * rendering of the application's record (number, service, provider,
 * applicant, decision, the form's fields). The same bytes go into the CMS
 * (as its content) or carry the enveloped XMLDSig.
 */
import type Database from 'better-sqlite3';

export const DOCUMENT_NAMESPACE = 'urn:qyzmet:application:1';

export interface ApplicationDocumentRow {
  id: string;
  number: string;
  portalNumber: string | null;
  serviceCode: string;
  providerBin: string;
  providerName: string;
  applicantIin: string;
  applicantBin: string | null;
  applicantName: string;
  status: string;
  decision: string;
  refusalReasonCode: string | null;
  refusalText: string | null;
  submittedAt: number;
  formData: Record<string, unknown>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(value: string): string {
  // Characters XML 1.0 forbids are dropped, not escaped.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function fieldValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The XML of one application, fields in a stable order. */
export function applicationXml(row: ApplicationDocumentRow): string {
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<ApplicationDocument xmlns="${DOCUMENT_NAMESPACE}" id="${escapeXml(row.id)}">`,
    `  <Number>${escapeXml(row.number)}</Number>`,
    `  <PortalNumber>${escapeXml(row.portalNumber ?? '')}</PortalNumber>`,
    `  <Service code="${escapeXml(row.serviceCode)}"/>`,
    `  <Provider bin="${escapeXml(row.providerBin)}">${escapeXml(row.providerName)}</Provider>`,
    `  <Applicant iin="${escapeXml(row.applicantIin)}" bin="${escapeXml(row.applicantBin ?? '')}">${escapeXml(row.applicantName)}</Applicant>`,
    `  <SubmittedAt>${new Date(row.submittedAt).toISOString()}</SubmittedAt>`,
    `  <Status>${escapeXml(row.status)}</Status>`,
    `  <Decision>${escapeXml(row.decision)}</Decision>`,
  ];
  if (row.refusalReasonCode || row.refusalText) {
    lines.push(
      `  <Refusal code="${escapeXml(row.refusalReasonCode ?? '')}">${escapeXml(row.refusalText ?? '')}</Refusal>`,
    );
  }
  const fields = Object.keys(row.formData).sort();
  lines.push('  <Form>');
  for (const name of fields) {
    lines.push(`    <Field name="${escapeXml(name)}">${escapeXml(fieldValue(row.formData[name]))}</Field>`);
  }
  lines.push('  </Form>', '</ApplicationDocument>', '');
  return lines.join('\n');
}

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
