import { describe, expect, it } from 'vitest';
import { CallFailure } from '../api/client';
import { failureText, type TextKey } from './text';

const t = (key: TextKey, params?: Readonly<Record<string, string | number>>) =>
  params && Object.keys(params).length > 0 ? `${key} ${JSON.stringify(params)}` : key;

describe('failureText', () => {
  it('words the login messages of the provider guide, not only errors.*', () => {
    const shown = failureText(
      t,
      new CallFailure({ code: 'wrongLoginOrPassword', messageKey: 'messages.wrongLoginOrPassword' }),
    );
    expect(shown).toEqual({ text: 'messages.wrongLoginOrPassword', code: 'wrongLoginOrPassword' });
  });

  it('fills the placeholders from the details, dates as dd.mm.yyyy', () => {
    const shown = failureText(
      t,
      new CallFailure({
        code: 'certExpired',
        messageKey: 'errors.signing.certExpired',
        details: { notAfter: '2025-03-07T10:00:00.000Z' },
      }),
    );
    expect(shown.text).toBe('errors.signing.certExpired {"notAfter":"07.03.2025"}');
  });

  it('says "internal" for a key this build does not know, and for anything that is not a failed call', () => {
    expect(failureText(t, new CallFailure({ code: 'x', messageKey: 'no.such.key' }))).toEqual({
      text: 'errors.internal',
      code: 'x',
    });
    expect(failureText(t, new Error('boom'))).toEqual({ text: 'errors.internal', code: 'renderer' });
  });
});
