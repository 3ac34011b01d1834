/**
 * Pure translations from PKCS#11 facts (CK_TOKEN_INFO flags, CKR_* return
 * values) to the signer's errors. No pkcs11js here: the numbers are the
 * PKCS#11 2.40 ones (a test checks them against pkcs11js's constants).
 *
 * pkcs11js throws `Pkcs11Error` whose `message` is the CKR name (e.g.
 * 'CKR_PIN_INCORRECT') and whose `code` is the number; a failed dlopen throws
 * a plain Error with the loader's message.
 */
import { SigningError } from '../errors.js';
import type { TokenFlags } from './api.js';

export const CKF = {
  LOGIN_REQUIRED: 0x0000_0004,
  USER_PIN_INITIALIZED: 0x0000_0008,
  PROTECTED_AUTHENTICATION_PATH: 0x0000_0100,
  TOKEN_INITIALIZED: 0x0000_0400,
  USER_PIN_COUNT_LOW: 0x0001_0000,
  USER_PIN_FINAL_TRY: 0x0002_0000,
  USER_PIN_LOCKED: 0x0004_0000,
  USER_PIN_TO_BE_CHANGED: 0x0008_0000,
} as const;

/** The CKR values this module tells apart (by name when the error carries only the number). */
export const CKR: Readonly<Record<string, number>> = {
  CKR_GENERAL_ERROR: 0x05,
  CKR_SLOT_ID_INVALID: 0x03,
  CKR_DEVICE_ERROR: 0x30,
  CKR_DEVICE_MEMORY: 0x31,
  CKR_DEVICE_REMOVED: 0x32,
  CKR_FUNCTION_CANCELED: 0x50,
  CKR_KEY_HANDLE_INVALID: 0x60,
  CKR_KEY_TYPE_INCONSISTENT: 0x63,
  CKR_KEY_FUNCTION_NOT_PERMITTED: 0x68,
  CKR_MECHANISM_INVALID: 0x70,
  CKR_OBJECT_HANDLE_INVALID: 0x82,
  CKR_PIN_INCORRECT: 0xa0,
  CKR_PIN_INVALID: 0xa1,
  CKR_PIN_LEN_RANGE: 0xa2,
  CKR_PIN_EXPIRED: 0xa3,
  CKR_PIN_LOCKED: 0xa4,
  CKR_SESSION_CLOSED: 0xb0,
  CKR_SESSION_HANDLE_INVALID: 0xb3,
  CKR_TOKEN_NOT_PRESENT: 0xe0,
  CKR_TOKEN_NOT_RECOGNIZED: 0xe1,
  CKR_USER_ALREADY_LOGGED_IN: 0x100,
  CKR_USER_NOT_LOGGED_IN: 0x101,
  CKR_USER_PIN_NOT_INITIALIZED: 0x102,
  CKR_CRYPTOKI_NOT_INITIALIZED: 0x190,
  CKR_CRYPTOKI_ALREADY_INITIALIZED: 0x191,
};

/** Return values that mean the token (or its reader) went away under us. */
export const TOKEN_GONE = new Set([
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_SLOT_ID_INVALID',
  'CKR_DEVICE_ERROR',
]);

export function tokenFlags(flags: number): TokenFlags {
  return {
    loginRequired: (flags & CKF.LOGIN_REQUIRED) !== 0,
    protectedAuthenticationPath: (flags & CKF.PROTECTED_AUTHENTICATION_PATH) !== 0,
    userPinCountLow: (flags & CKF.USER_PIN_COUNT_LOW) !== 0,
    userPinFinalTry: (flags & CKF.USER_PIN_FINAL_TRY) !== 0,
    userPinLocked: (flags & CKF.USER_PIN_LOCKED) !== 0,
  };
}

/** The CKR_* name an error from pkcs11js carries, or null when it is not a PKCS#11 return value. */
export function ckrName(err: unknown): string | null {
  if (!(err instanceof Error)) return null;
  const named = /\b(CKR_[A-Z0-9_]+)\b/.exec(err.message);
  if (named?.[1] && named[1] !== 'CKR_VENDOR_DEFINED') return named[1];
  const code = (err as { code?: unknown }).code;
  if (err.name === 'Pkcs11Error' && typeof code === 'number') {
    for (const [name, value] of Object.entries(CKR)) if (value === code) return name;
    return `CKR_0x${code.toString(16)}`;
  }
  return named?.[1] ?? null;
}

/**
 * A wrong PIN, judged by the token's flags read AFTER the failed C_Login:
 * locked → 'pinLocked'; else 'pinIncorrect' with triesLeft 'final'
 * (CKF_USER_PIN_FINAL_TRY), 'low' (CKF_USER_PIN_COUNT_LOW) or 'unknown'
 * (no flag, or the flags could not be read).
 */
export function wrongPin(flagsAfter: TokenFlags | null, cause?: unknown): SigningError {
  const options = cause === undefined ? undefined : { cause };
  if (flagsAfter?.userPinLocked) return new SigningError('pinLocked', {}, options);
  const triesLeft = flagsAfter?.userPinFinalTry ? 'final' : flagsAfter?.userPinCountLow ? 'low' : 'unknown';
  return new SigningError('pinIncorrect', { triesLeft }, options);
}

/**
 * A failed C_Login. `flagsAfter` is C_GetTokenInfo re-read after the failure
 * (null if that failed too). Returns null for return values that are not about
 * the PIN or the token's presence: the caller keeps the original error.
 */
export function loginFailure(ckr: string | null, flagsAfter: TokenFlags | null, cause?: unknown): SigningError | null {
  const options = cause === undefined ? undefined : { cause };
  switch (ckr) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID': // some tokens answer this to a wrong PIN's format at login
      return wrongPin(flagsAfter, cause);
    case 'CKR_PIN_LOCKED':
      return new SigningError('pinLocked', {}, options);
    case 'CKR_PIN_LEN_RANGE':
      return new SigningError('pinLengthInvalid', {}, options);
    case 'CKR_FUNCTION_CANCELED': // the user cancelled on a PIN-pad reader
      return new SigningError('cancelled', {}, options);
    case 'CKR_TOKEN_NOT_RECOGNIZED':
      return new SigningError('tokenNotFound', {}, options);
  }
  if (ckr && TOKEN_GONE.has(ckr)) return new SigningError('tokenRemoved', {}, options);
  if (flagsAfter?.userPinLocked) return new SigningError('pinLocked', {}, options);
  return null;
}

/**
 * A failure while signing (or finding the key) with a logged-in session.
 * `tokenPresent` is the answer of a fresh look at the slot (slot listed,
 * C_GetTokenInfo works, same serial): a token that is gone makes any failure
 * 'tokenRemoved' — SoftHSM2, for one, answers CKR_OBJECT_HANDLE_INVALID or
 * CKR_GENERAL_ERROR when its token directory is deleted. Returns null when
 * nothing fits (the caller keeps the original error).
 */
export function operationFailure(ckr: string | null, tokenPresent: boolean, cause?: unknown): SigningError | null {
  const options = cause === undefined ? undefined : { cause };
  if ((ckr && TOKEN_GONE.has(ckr)) || !tokenPresent) return new SigningError('tokenRemoved', {}, options);
  switch (ckr) {
    case 'CKR_KEY_HANDLE_INVALID':
    case 'CKR_OBJECT_HANDLE_INVALID':
      return new SigningError('keyNotFound', {}, options);
    case 'CKR_FUNCTION_CANCELED':
      return new SigningError('cancelled', {}, options);
    case 'CKR_PIN_LOCKED':
      return new SigningError('pinLocked', {}, options);
  }
  return null;
}

/**
 * Checks a PIN's length before C_Login, so that a PIN that cannot be right does
 * not spend one of the token's tries. `pinBytes` is the UTF-8 length; 0 means
 * no PIN (a PIN-pad reader asks for it itself). Bounds a token reports as 0 or
 * absurd (CK_UNAVAILABLE_INFORMATION, CK_EFFECTIVELY_INFINITE) are ignored.
 */
export function pinLengthProblem(
  pinBytes: number,
  token: { flags: TokenFlags; minPinLength: number; maxPinLength: number },
): SigningError | null {
  if (pinBytes === 0) {
    return token.flags.protectedAuthenticationPath || !token.flags.loginRequired
      ? null
      : new SigningError('pinLengthInvalid');
  }
  const min = token.minPinLength > 0 && token.minPinLength <= 1024 ? token.minPinLength : 0;
  const max = token.maxPinLength > 0 && token.maxPinLength <= 1024 ? token.maxPinLength : Infinity;
  if (min > max) return null;
  if (pinBytes < min || pinBytes > max) return new SigningError('pinLengthInvalid');
  return null;
}
