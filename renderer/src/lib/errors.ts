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
}

export function shownError(err: unknown): ShownError {
  if (err instanceof CallFailure) {
    const key = err.error.messageKey;
    return { key: isMessageKey(key) && key.startsWith('errors.') ? key : 'errors.internal', code: err.error.code };
  }
  return { key: 'errors.internal', code: 'renderer' };
}
