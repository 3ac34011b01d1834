import { describe, expect, it } from 'vitest';
import { CallFailure } from '../api/client';
import { syncFailureKey } from './SyncFailure';

const failure = (code: string, messageKey: string) => new CallFailure({ code, messageKey });

describe('a failed sync call in words', () => {
  it("takes main's own key, an errors.* one or a sync one", () => {
    expect(syncFailureKey(failure('unreachable', 'errors.unreachable'))).toEqual({
      key: 'errors.unreachable',
      code: 'unreachable',
    });
    expect(syncFailureKey(failure('wrong_credentials', 'sync.error.wrong_credentials'))).toEqual({
      key: 'sync.error.wrong_credentials',
      code: 'wrong_credentials',
    });
  });

  it('looks the code up among the sync errors when the key says nothing more than "internal"', () => {
    expect(syncFailureKey(failure('device_revoked', 'errors.internal')).key).toBe('sync.error.device_revoked');
    expect(syncFailureKey(failure('timeout', 'errors.noSuchKey')).key).toBe('sync.error.timeout');
    // The codes main answers a failed enrolment with (main/app.ts enrolmentError).
    for (const code of ['wrongCredentials', 'forbidden', 'notFound', 'unreachable'])
      expect(syncFailureKey(failure(code, 'errors.sync.notInThisCatalogue')).key, code).toBe(`sync.error.${code}`);
  });

  it('is an internal error, with its code, when nothing names it', () => {
    expect(syncFailureKey(failure('boom', 'errors.internal'))).toEqual({ key: 'errors.internal', code: 'boom' });
    expect(syncFailureKey(failure('boom', 'sync.no.such.key'))).toEqual({ key: 'errors.internal', code: 'boom' });
    expect(syncFailureKey(new Error('x'))).toEqual({ key: 'errors.internal', code: 'renderer' });
  });
});
