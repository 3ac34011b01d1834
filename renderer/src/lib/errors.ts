/**
 * What the user reads when a call fails: the catalogue text of the error's
 * message key (errors.internal when main names a key this build does not
 * know) and the stable error code for support. Never a stack or a raw message.
 */
import { CallFailure } from '../api/client';
import { isMessageKey, type MessageKey } from '../i18n/i18n';

export interface ShownError {
  key: MessageKey;
  code: string;
  /** The error's details as the message's placeholders; ISO dates as dd.mm.yyyy. */
  params?: Record<string, string>;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T/;

function params(details: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!details) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(details)) {
    const m = ISO_DATE.exec(value);
    out[name] = m ? `${m[3]}.${m[2]}.${m[1]}` : value;
  }
  return out;
}

export function shownError(err: unknown): ShownError {
  if (err instanceof CallFailure) {
    const key = err.error.messageKey;
    const known = isMessageKey(key) && key.startsWith('errors.');
    const p = known ? params(err.error.details) : undefined;
    return { key: known ? key : 'errors.internal', code: err.error.code, ...(p ? { params: p } : {}) };
  }
  return { key: 'errors.internal', code: 'renderer' };
}
