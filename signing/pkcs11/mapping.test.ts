import { describe, expect, it } from 'vitest';
import { type SigningError } from '../errors.js';
import { pkcs11js } from './token.js';
import {
  CKF,
  CKR,
  TOKEN_GONE,
  ckrName,
  loginFailure,
  operationFailure,
  pinLengthProblem,
  tokenFlags,
  wrongPin,
} from './mapping.js';

const NONE = tokenFlags(CKF.LOGIN_REQUIRED | CKF.TOKEN_INITIALIZED);
const LOW = tokenFlags(CKF.LOGIN_REQUIRED | CKF.USER_PIN_COUNT_LOW);
const FINAL = tokenFlags(CKF.LOGIN_REQUIRED | CKF.USER_PIN_COUNT_LOW | CKF.USER_PIN_FINAL_TRY);
const LOCKED = tokenFlags(CKF.LOGIN_REQUIRED | CKF.USER_PIN_LOCKED);

function codeOf(err: SigningError | null): [string, Record<string, string>] | null {
  return err ? [err.code, { ...err.details }] : null;
}

describe('PKCS#11 numbers', () => {
  it('match the ones pkcs11js was built with', () => {
    const p = pkcs11js() as unknown as Record<string, number>;
    for (const [name, value] of Object.entries(CKF)) expect(p[`CKF_${name}`], name).toBe(value);
    for (const [name, value] of Object.entries(CKR)) expect(p[name], name).toBe(value);
  });
});

describe('tokenFlags', () => {
  it('reads the user-PIN state and the PIN-pad flag', () => {
    expect(tokenFlags(0)).toEqual({
      loginRequired: false,
      protectedAuthenticationPath: false,
      userPinCountLow: false,
      userPinFinalTry: false,
      userPinLocked: false,
    });
    expect(tokenFlags(0x0004_042d | CKF.PROTECTED_AUTHENTICATION_PATH | CKF.USER_PIN_FINAL_TRY)).toMatchObject({
      loginRequired: true,
      protectedAuthenticationPath: true,
      userPinCountLow: false,
      userPinFinalTry: true,
      userPinLocked: true,
    });
  });
});

describe('ckrName', () => {
  it("reads pkcs11js's Pkcs11Error (message 'CKR_…', numeric code)", () => {
    const { Pkcs11Error } = pkcs11js();
    const err = new Pkcs11Error('CKR_PIN_INCORRECT:160');
    expect(err.message).toBe('CKR_PIN_INCORRECT');
    expect(err.code).toBe(160);
    expect(ckrName(err)).toBe('CKR_PIN_INCORRECT');
  });

  it('falls back to the number, and names vendor values in hex', () => {
    const byNumber = Object.assign(new Error('CKR_VENDOR_DEFINED'), { name: 'Pkcs11Error', code: 0xa4 });
    expect(ckrName(byNumber)).toBe('CKR_PIN_LOCKED');
    const vendor = Object.assign(new Error('CKR_VENDOR_DEFINED'), { name: 'Pkcs11Error', code: 0x8000_0001 });
    expect(ckrName(vendor)).toBe('CKR_0x80000001');
  });

  it('is null for what is not a PKCS#11 return value', () => {
    expect(ckrName(new Error('/nope.so: cannot open shared object file'))).toBeNull();
    expect(ckrName('CKR_PIN_INCORRECT')).toBeNull();
    expect(ckrName(new TypeError('Argument 2 has wrong type'))).toBeNull();
  });
});

describe('wrongPin: the flags read after a failed C_Login', () => {
  it('COUNT_LOW → pinIncorrect, triesLeft low', () => {
    expect(codeOf(wrongPin(LOW))).toEqual(['pinIncorrect', { triesLeft: 'low' }]);
  });
  it('FINAL_TRY → pinIncorrect, triesLeft final (even with COUNT_LOW)', () => {
    expect(codeOf(wrongPin(FINAL))).toEqual(['pinIncorrect', { triesLeft: 'final' }]);
    expect(codeOf(wrongPin(tokenFlags(CKF.USER_PIN_FINAL_TRY)))).toEqual(['pinIncorrect', { triesLeft: 'final' }]);
  });
  it('LOCKED → pinLocked (that was the last try)', () => {
    expect(codeOf(wrongPin(LOCKED))).toEqual(['pinLocked', {}]);
    expect(codeOf(wrongPin(tokenFlags(CKF.USER_PIN_LOCKED | CKF.USER_PIN_FINAL_TRY)))).toEqual(['pinLocked', {}]);
  });
  it('no flag, or flags unreadable → triesLeft unknown', () => {
    expect(codeOf(wrongPin(NONE))).toEqual(['pinIncorrect', { triesLeft: 'unknown' }]);
    expect(codeOf(wrongPin(null))).toEqual(['pinIncorrect', { triesLeft: 'unknown' }]);
  });
});

describe('loginFailure', () => {
  it('maps the PIN return values', () => {
    expect(codeOf(loginFailure('CKR_PIN_INCORRECT', FINAL))).toEqual(['pinIncorrect', { triesLeft: 'final' }]);
    expect(codeOf(loginFailure('CKR_PIN_INCORRECT', LOCKED))).toEqual(['pinLocked', {}]);
    expect(codeOf(loginFailure('CKR_PIN_INVALID', LOW))).toEqual(['pinIncorrect', { triesLeft: 'low' }]);
    expect(codeOf(loginFailure('CKR_PIN_LOCKED', NONE))).toEqual(['pinLocked', {}]);
    expect(codeOf(loginFailure('CKR_PIN_LEN_RANGE', NONE))).toEqual(['pinLengthInvalid', {}]);
    expect(codeOf(loginFailure('CKR_FUNCTION_CANCELED', NONE))).toEqual(['cancelled', {}]);
  });

  it('maps a token gone during login to tokenRemoved', () => {
    for (const ckr of TOKEN_GONE) expect(codeOf(loginFailure(ckr, null)), ckr).toEqual(['tokenRemoved', {}]);
  });

  it('a locked flag wins over an unknown return value; otherwise null (keep the original error)', () => {
    expect(codeOf(loginFailure('CKR_GENERAL_ERROR', LOCKED))).toEqual(['pinLocked', {}]);
    expect(loginFailure('CKR_GENERAL_ERROR', NONE)).toBeNull();
    expect(loginFailure(null, null)).toBeNull();
  });

  it('keeps the cause and never puts the PIN in the details', () => {
    const cause = new Error('CKR_PIN_INCORRECT');
    const err = loginFailure('CKR_PIN_INCORRECT', LOW, cause);
    expect(err?.cause).toBe(cause);
    expect(Object.keys(err?.details ?? {})).toEqual(['triesLeft']);
  });
});

describe('operationFailure (a logged-in session failing)', () => {
  it('return values of a vanished token → tokenRemoved', () => {
    for (const ckr of [
      'CKR_DEVICE_REMOVED',
      'CKR_TOKEN_NOT_PRESENT',
      'CKR_SESSION_HANDLE_INVALID',
      'CKR_SLOT_ID_INVALID',
      'CKR_DEVICE_ERROR',
    ]) {
      expect(codeOf(operationFailure(ckr, true)), ckr).toEqual(['tokenRemoved', {}]);
    }
  });

  it('any failure while the token is no longer there → tokenRemoved (what SoftHSM2 gives)', () => {
    expect(codeOf(operationFailure('CKR_OBJECT_HANDLE_INVALID', false))).toEqual(['tokenRemoved', {}]);
    expect(codeOf(operationFailure('CKR_GENERAL_ERROR', false))).toEqual(['tokenRemoved', {}]);
    expect(codeOf(operationFailure(null, false))).toEqual(['tokenRemoved', {}]);
  });

  it('with the token present: a lost key → keyNotFound, cancel → cancelled, else null', () => {
    expect(codeOf(operationFailure('CKR_KEY_HANDLE_INVALID', true))).toEqual(['keyNotFound', {}]);
    expect(codeOf(operationFailure('CKR_OBJECT_HANDLE_INVALID', true))).toEqual(['keyNotFound', {}]);
    expect(codeOf(operationFailure('CKR_FUNCTION_CANCELED', true))).toEqual(['cancelled', {}]);
    expect(operationFailure('CKR_GENERAL_ERROR', true)).toBeNull();
  });
});

describe('pinLengthProblem (checked before C_Login spends a try)', () => {
  const token = (flags: number, min = 4, max = 16) => ({
    flags: tokenFlags(flags),
    minPinLength: min,
    maxPinLength: max,
  });

  it('refuses a PIN outside the token’s bounds', () => {
    expect(pinLengthProblem(3, token(CKF.LOGIN_REQUIRED))?.code).toBe('pinLengthInvalid');
    expect(pinLengthProblem(17, token(CKF.LOGIN_REQUIRED))?.code).toBe('pinLengthInvalid');
    expect(pinLengthProblem(4, token(CKF.LOGIN_REQUIRED))).toBeNull();
    expect(pinLengthProblem(16, token(CKF.LOGIN_REQUIRED))).toBeNull();
  });

  it('no PIN: fine for a PIN-pad reader or a token without login, refused otherwise', () => {
    expect(pinLengthProblem(0, token(CKF.LOGIN_REQUIRED | CKF.PROTECTED_AUTHENTICATION_PATH))).toBeNull();
    expect(pinLengthProblem(0, token(0))).toBeNull();
    expect(pinLengthProblem(0, token(CKF.LOGIN_REQUIRED))?.code).toBe('pinLengthInvalid');
  });

  it('ignores bounds a token reports as 0 or "unavailable" (~0)', () => {
    expect(pinLengthProblem(40, token(CKF.LOGIN_REQUIRED, 0, 2 ** 32 - 1))).toBeNull();
    expect(pinLengthProblem(1, token(CKF.LOGIN_REQUIRED, 0, 0))).toBeNull();
    expect(pinLengthProblem(6, token(CKF.LOGIN_REQUIRED, 8, 4))).toBeNull();
  });
});
