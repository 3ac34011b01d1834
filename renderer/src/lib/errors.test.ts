import { describe, expect, it } from 'vitest';
import { CallFailure } from '../api/client';
import { shownError } from './errors';

describe('shownError', () => {
  it('words a CallFailure by its message key', () => {
    expect(shownError(new CallFailure({ code: 'unreachable', messageKey: 'errors.unreachable' }))).toEqual({
      key: 'errors.unreachable',
      code: 'unreachable',
    });
  });

  it('falls back to errors.internal for keys this build does not know', () => {
    expect(shownError(new CallFailure({ code: 'x', messageKey: 'errors.somethingNew' })).key).toBe('errors.internal');
    expect(shownError(new CallFailure({ code: 'x', messageKey: 'journal.title' })).key).toBe('errors.internal');
  });

  it('fills the message from the details, dates in the catalogue form', () => {
    const shown = shownError(
      new CallFailure({
        code: 'certExpired',
        messageKey: 'errors.signing.certExpired',
        details: { notAfter: '2025-03-07T10:00:00.000Z' },
      }),
    );
    expect(shown).toEqual({
      key: 'errors.signing.certExpired',
      code: 'certExpired',
      params: { notAfter: '07.03.2025' },
    });
  });

  it('never shows what a plain exception says', () => {
    expect(shownError(new Error('SQLITE_BUSY at /home/x/db'))).toEqual({ key: 'errors.internal', code: 'renderer' });
  });
});
