/**
 * The document that is signed for an application: a deterministic XML
 * rendering of the application's record (number, service, provider,
 * applicant, status, decision, the form's fields). The same bytes go into the
 * CMS (as its content) or carry the enveloped XMLDSig.
 *
 * The workstation builds it from its local row to sign it; the server builds
 * it again from its own row to check that a pushed signature is over the
 * application it names, as the server knows it. So everything here comes
 * from synced state only (no clock, no local-only data), and values are
 * written the same whatever order their keys were stored in (PostgreSQL's
 * jsonb keeps keys in its own order, SQLite keeps the text).
 */

export const DOCUMENT_NAMESPACE = 'urn:qyzmet:application:1';

export interface ApplicationDocumentRow {
  id: string;
  number: string;
  portalNumber: string | null;
  serviceCode: string;
  providerBin: string;
  /** The provider's Russian name. */
  providerName: string;
  applicantIin: string;
  applicantBin: string | null;
  applicantName: string;
  status: string;
  decision: string;
  refusalReasonCode: string | null;
  refusalText: string | null;
  submittedAt: number;
  formData: Readonly<Record<string, unknown>>;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(value: string): string {
  // Characters XML 1.0 forbids are dropped, not escaped.
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** JSON with every object's keys in code-point order, so the stored key order does not matter. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function fieldValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return canonicalJson(value);
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
