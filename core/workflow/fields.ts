/**
 * The application's form data against its service definition: which fields
 * the executor fills (the `processing` and `result` sections, and the
 * protocol of a collegial step), checking a value against its field, and
 * which required fields are still empty.
 */
import { isValidBin, isValidIin } from '../identity/iin.js';
import type { FormField, FormSection, ServiceDefinition, ServiceStep } from '../catalogue/schema.js';

export type FieldValue = string | number | boolean | null;

/** Sections the executor fills while processing; intake sections were filled when the application was taken. */
export const EXECUTOR_STAGES: ReadonlySet<FormSection['stage']> = new Set(['processing', 'result']);

/** Free text without a `maxLength` in the catalogue is capped here. */
export const DEFAULT_MAX_LENGTH = 4000;

export function executorFields(def: ServiceDefinition): FormField[] {
  return def.sections.filter((s) => EXECUTOR_STAGES.has(s.stage)).flatMap((s) => s.fields);
}

/** Whether the executor can type a value into the field (files come through attachments). */
export function isEditable(field: FormField): boolean {
  return field.type !== 'file';
}

export function isEmpty(value: unknown): boolean {
  return (
    value === null ||
    value === undefined ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  );
}

/** A stored value as the card shows it: scalars as they are, anything else as JSON text. */
export function displayValue(value: unknown): FieldValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  return JSON.stringify(value);
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+?[0-9 ()-]{5,20}$/;

function validDate(s: string): boolean {
  const m = DATE.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

export type FieldProblem = 'invalid' | 'tooLong' | 'required' | 'unknown' | 'notEditable';

/**
 * Checks and normalises one value for a field: strings trimmed, an empty
 * string becomes null (the field is cleared). Returns the value to store, or
 * the problem.
 */
export function checkValue(
  field: FormField,
  raw: FieldValue,
): { ok: true; value: FieldValue } | { ok: false; problem: FieldProblem } {
  if (raw === null) return { ok: true, value: null };
  const bad = { ok: false, problem: 'invalid' } as const;
  switch (field.type) {
    case 'checkbox':
      return typeof raw === 'boolean' ? { ok: true, value: raw } : bad;
    case 'number':
      return typeof raw === 'number' && Number.isFinite(raw) ? { ok: true, value: raw } : bad;
    case 'file':
      return { ok: false, problem: 'notEditable' };
    default:
      break;
  }
  if (typeof raw !== 'string') return bad;
  const value = raw.trim();
  if (value === '') return { ok: true, value: null };
  switch (field.type) {
    case 'date':
      return validDate(value) ? { ok: true, value } : bad;
    case 'iin':
      return isValidIin(value) ? { ok: true, value } : bad;
    case 'bin':
      return isValidBin(value) ? { ok: true, value } : bad;
    case 'select':
      return field.options?.some((o) => o.value === value) ? { ok: true, value } : bad;
    case 'email':
      if (!EMAIL.test(value)) return bad;
      break;
    case 'phone':
      if (!PHONE.test(value)) return bad;
      break;
    default:
      break;
  }
  if (value.length > (field.maxLength ?? DEFAULT_MAX_LENGTH)) return { ok: false, problem: 'tooLong' };
  return { ok: true, value };
}

/**
 * Applies `changes` to `form` for the fields allowed; returns the new form
 * data, the codes changed and the problems by field code.
 */
export function applyChanges(
  form: Readonly<Record<string, unknown>>,
  changes: Readonly<Record<string, FieldValue>>,
  allowed: readonly FormField[],
): { form: Record<string, unknown>; changed: string[]; problems: Record<string, FieldProblem> } {
  const byCode = new Map(allowed.map((f) => [f.code, f]));
  const next: Record<string, unknown> = { ...form };
  const changed: string[] = [];
  const problems: Record<string, FieldProblem> = {};
  for (const [code, raw] of Object.entries(changes)) {
    const field = byCode.get(code);
    if (!field) {
      problems[code] = 'unknown';
      continue;
    }
    const checked = checkValue(field, raw);
    if (!checked.ok) {
      problems[code] = checked.problem;
      continue;
    }
    const before = form[code];
    if (checked.value === null) {
      if (code in next) delete next[code];
    } else {
      next[code] = checked.value;
    }
    if ((before ?? null) !== checked.value) changed.push(code);
  }
  return { form: next, changed: changed.sort(), problems };
}

/** Required fields of `fields` that are empty in `form`. */
export function missingRequired(form: Readonly<Record<string, unknown>>, fields: readonly FormField[]): string[] {
  return fields.filter((f) => f.required && isEmpty(form[f.code])).map((f) => f.code);
}

/** The protocol fields of a collegial step (empty when it has none). */
export function protocolFields(step: ServiceStep | null): FormField[] {
  return step?.protocol?.fields ?? [];
}
