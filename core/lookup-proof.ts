/**
 * What a citizen look-up carries besides the device's token: the purpose it
 * is made for (audited with it on the server) and the proof of the user
 * making it (core/auth/change-key.ts requestMac) in three headers.
 */
import { requestMac } from './auth/change-key.js';

/** Why a look-up is made: taking in an application, checking an applicant's data. */
export const LOOKUP_PURPOSES = ['applicationIntake', 'applicantCheck'] as const;
export type LookupPurpose = (typeof LOOKUP_PURPOSES)[number];

export const USER_KEY_HEADER = 'X-Qyzmet-User-Key';
export const USER_MAC_HEADER = 'X-Qyzmet-User-Mac';
export const AT_HEADER = 'X-Qyzmet-At';

/** SHA-256 (hex) of an empty body: a GET's. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** The headers proving that the holder of user key `key` makes this request at `at`. */
export function userProofHeaders(
  key: { id: string; secret: Uint8Array },
  deviceId: string,
  method: string,
  path: string,
  at: number,
  bodySha256 = EMPTY_SHA256,
): Record<string, string> {
  return {
    [USER_KEY_HEADER]: key.id,
    [USER_MAC_HEADER]: requestMac(key.secret, deviceId, method, path, bodySha256, at),
    [AT_HEADER]: String(at),
  };
}
