/**
 * The token key source on a real SoftHSM2 token (in a temp directory), in
 * this thread. Faults SoftHSM2 cannot produce (a locked or last-try PIN, a
 * PIN-pad reader, a device error mid-signature, a missing mechanism) are
 * injected with a Proxy over the real library: the rest of each call is real.
 */
import { verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as Pkcs11Js from 'pkcs11js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SigningError, isSigningError } from '../errors.js';
import { TestPki, standardPeople } from '../testing/pki.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from '../testing/softhsm.js';
import type { TokenSigningKey } from './api.js';
import { CKF } from './mapping.js';
import { InProcessPkcs11, pkcs11js } from './token.js';

const missing = softHsmMissing();
if (missing) console.warn(`token.test: SoftHSM2 tests skipped: ${missing}`);

const PIN = '123456';
const SO_PIN = '87654321';
const pin = (s = PIN) => new Uint8Array(Buffer.from(s, 'utf8'));

/** What the Proxy changes or records; reset after each test. */
interface Faults {
  addFlags: number;
  /** Replaces C_Login; `real` calls the library's. */
  login: ((pinText: string, userType: number, real: (pinText: string) => void) => void) | null;
  signFails: string | null;
  signInitFails: { mechanism: number; ckr: string } | null;
  hideMechanisms: number[];
}
const clean = (): Faults => ({ addFlags: 0, login: null, signFails: null, signInitFails: null, hideMechanisms: [] });
let faults = clean();
const calls = { login: [] as { userType: number; empty: boolean }[], logout: 0, signInit: [] as number[] };

function pkcs11Error(ckr: string): Error {
  const { Pkcs11Error } = pkcs11js();
  const code = (pkcs11js() as unknown as Record<string, number>)[ckr] ?? 0;
  return new Pkcs11Error(`${ckr}:${code}`);
}

function intercept(p11: Pkcs11Js.PKCS11): Pkcs11Js.PKCS11 {
  return new Proxy(p11, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const real = (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
      switch (prop) {
        case 'C_GetTokenInfo':
          return (slot: Buffer) => {
            const info = real(slot) as Pkcs11Js.TokenInfo;
            return { ...info, flags: info.flags | faults.addFlags };
          };
        case 'C_Login':
          return (session: Buffer, userType: number, pinText: string) => {
            calls.login.push({ userType, empty: pinText === '' });
            if (faults.login) return faults.login(pinText, userType, (p) => real(session, userType, p));
            return real(session, userType, pinText);
          };
        case 'C_Logout':
          return (session: Buffer) => {
            calls.logout++;
            return real(session);
          };
        case 'C_SignInit':
          return (session: Buffer, mechanism: Pkcs11Js.Mechanism, key: Buffer) => {
            calls.signInit.push(mechanism.mechanism);
            if (faults.signInitFails?.mechanism === mechanism.mechanism) throw pkcs11Error(faults.signInitFails.ckr);
            return real(session, mechanism, key);
          };
        case 'C_Sign':
          return (...args: unknown[]) => {
            if (faults.signFails) throw pkcs11Error(faults.signFails);
            return real(...args);
          };
        case 'C_GetMechanismList':
          return (slot: Buffer) => (real(slot) as number[]).filter((m) => !faults.hideMechanisms.includes(m));
        default:
          return real;
      }
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<SigningError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!isSigningError(err)) throw new Error(`expected a SigningError, got ${String(err)}`);
  return err;
}

describe.skipIf(missing !== null)('PKCS#11 on a SoftHSM2 token (in-process)', () => {
  let dir: string;
  let hsm: SoftHsm;
  let people: ReturnType<typeof standardPeople>;
  let pki: TestPki;
  let backend: InProcessPkcs11;
  let slotId: string;
  let goneSlotId: string;
  const open: TokenSigningKey[] = [];

  const openKey = async (keyId: string, p: Uint8Array | null = pin(), slot = slotId) => {
    const key = await backend.openKey(hsm.module, slot, keyId, p);
    open.push(key);
    return key;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-pkcs11-'));
    pki = new TestPki(join(dir, 'pki'));
    people = standardPeople(pki);
    hsm = createSoftHsm(join(dir, 'softhsm'));
    // All tokens exist before this process's first C_Initialize (SoftHSM2 reads its directory then).
    slotId = hsm.initToken('QYZMET-1', SO_PIN, PIN);
    hsm.importKey('QYZMET-1', PIN, {
      keyPem: people.head.keyPem,
      certDer: people.head.certDer,
      id: 'a1',
      label: 'head',
    });
    hsm.importKey('QYZMET-1', PIN, {
      keyPem: people.employeeEc.keyPem,
      certDer: people.employeeEc.certDer,
      id: 'e1',
      label: 'employee-ec',
    });
    hsm.importCertificate('QYZMET-1', PIN, { certDer: pki.ca.certDer, id: 'ca01', label: 'QYZMET TEST CA' });
    goneSlotId = hsm.initToken('QYZMET-GONE', SO_PIN, PIN);
    hsm.importKey('QYZMET-GONE', PIN, {
      keyPem: people.sign.keyPem,
      certDer: people.sign.certDer,
      id: 'b1',
      label: 'sign',
    });
    backend = new InProcessPkcs11({ intercept });
  });

  afterEach(async () => {
    for (const key of open.splice(0)) await key.close();
    faults = clean();
    calls.login = [];
    calls.logout = 0;
    calls.signInit = [];
  });

  afterAll(async () => {
    await backend?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the initialized tokens with their PIN state (not the free slot)', async () => {
    const tokens = await backend.listTokens(hsm.module);
    expect(tokens.map((t) => t.label).sort()).toEqual(['QYZMET-1', 'QYZMET-GONE']);
    const token = tokens.find((t) => t.label === 'QYZMET-1');
    expect(token).toMatchObject({
      modulePath: hsm.module,
      slotId,
      manufacturer: 'SoftHSM project',
      model: 'SoftHSM v2',
      minPinLength: 4,
      maxPinLength: 255,
      flags: {
        loginRequired: true,
        protectedAuthenticationPath: false,
        userPinCountLow: false,
        userPinFinalTry: false,
        userPinLocked: false,
      },
    });
    expect(token?.serial).toMatch(/^[0-9a-f]{16}$/);
    expect(token?.slotDescription).toMatch(/SoftHSM slot/);
  });

  it('lists the certificates paired by CKA_ID; the CA certificate is left for the chain', async () => {
    const keys = await backend.listKeys(hsm.module, slotId);
    expect(keys.map((k) => [k.id, k.label, k.algorithm]).sort()).toEqual([
      ['a1', 'head', 'rsa'],
      ['e1', 'employee-ec', 'ec'],
    ]);
    const head = keys.find((k) => k.id === 'a1');
    expect(Buffer.from(head!.certificate).equals(people.head.certDer)).toBe(true);
    // pkcs11-tool writes private keys as CKA_PRIVATE: hidden until login.
    expect(head?.privateKey).toBeNull();
  });

  it('signs with RSA (CKM_SHA256_RSA_PKCS); node:crypto verifies against the certificate', async () => {
    const p = pin();
    const key = await openKey('a1', p);
    expect(p.every((b) => b === 0)).toBe(true); // wiped once C_Login used it
    expect(key).toMatchObject({ source: 'pkcs11', algorithm: 'rsa', keyId: 'a1', label: 'QYZMET-1 / head', slotId });
    expect(Buffer.from(key.certificate).equals(people.head.certDer)).toBe(true);
    expect(key.chain.map((c) => Buffer.from(c).equals(pki.ca.certDer))).toEqual([true]);
    const data = Buffer.from('<application id="1">қолтаңба</application>');
    const signature = await key.sign(data);
    expect(verify('sha256', data, people.head.certPem, signature)).toBe(true);
    expect(calls.signInit).toEqual([pkcs11js().CKM_SHA256_RSA_PKCS]);
  });

  it('signs with EC (CKM_ECDSA over a SHA-256 digest, r||s turned into DER)', async () => {
    const key = await openKey('e1');
    expect(key.algorithm).toBe('ec');
    const data = Buffer.from('{"applicationId":"42"}');
    const signature = await key.sign(data);
    expect(signature[0]).toBe(0x30);
    expect(verify('sha256', data, people.employeeEc.certPem, signature)).toBe(true);
    expect(calls.signInit).toEqual([pkcs11js().CKM_ECDSA]);
  });

  it('falls back to CKM_RSA_PKCS over a DigestInfo when the token lacks CKM_SHA256_RSA_PKCS', async () => {
    const { CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS } = pkcs11js();
    faults.hideMechanisms = [CKM_SHA256_RSA_PKCS];
    const key = await openKey('a1');
    const data = Buffer.from('fallback');
    expect(verify('sha256', data, people.head.certPem, await key.sign(data))).toBe(true);
    expect(calls.signInit).toEqual([CKM_RSA_PKCS]);
  });

  it('…and when the mechanism is listed but C_SignInit refuses it (CKR_MECHANISM_INVALID)', async () => {
    const { CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS } = pkcs11js();
    faults.signInitFails = { mechanism: CKM_SHA256_RSA_PKCS, ckr: 'CKR_MECHANISM_INVALID' };
    const key = await openKey('a1');
    for (const text of ['one', 'two']) {
      expect(verify('sha256', Buffer.from(text), people.head.certPem, await key.sign(Buffer.from(text)))).toBe(true);
    }
    // Tried once, then remembered.
    expect(calls.signInit).toEqual([CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS, CKM_RSA_PKCS]);
  });

  it('batch: one login, 100 signatures, then logout; the closed key signs no more', async () => {
    const key = await openKey('a1');
    const documents = Array.from({ length: 100 }, (_, i) => Buffer.from(`document ${i}`));
    const signatures: Uint8Array[] = [];
    for (const d of documents) signatures.push(await key.sign(d));
    expect(calls.login).toEqual([{ userType: pkcs11js().CKU_USER, empty: false }]);
    expect(documents.every((d, i) => verify('sha256', d, people.head.certPem, signatures[i]!))).toBe(true);
    await key.close();
    expect(calls.logout).toBe(1);
    expect((await rejection(key.sign(Buffer.from('late')))).code).toBe('cancelled');
    await key.close(); // idempotent
    expect(calls.logout).toBe(1);
  });

  it('a real wrong PIN → pinIncorrect; SoftHSM2 then sets CKF_USER_PIN_COUNT_LOW, read back as triesLeft "low"', async () => {
    const p = pin('000000');
    const err = await rejection(backend.openKey(hsm.module, slotId, 'a1', p));
    expect(err.code).toBe('pinIncorrect');
    expect(err.details).toEqual({ triesLeft: 'low' });
    expect(p.every((b) => b === 0)).toBe(true);
    expect(JSON.stringify(err.details)).not.toContain('000000');
    const [after] = (await backend.listTokens(hsm.module)).filter((t) => t.slotId === slotId);
    expect(after?.flags.userPinCountLow).toBe(true);
    // SoftHSM2 never locks: many more wrong PINs, and the right one still opens (and clears the flag).
    for (let i = 0; i < 12; i++) {
      expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', pin(`bad-${i}`)))).code).toBe('pinIncorrect');
    }
    await openKey('a1');
    const [cleared] = (await backend.listTokens(hsm.module)).filter((t) => t.slotId === slotId);
    expect(cleared?.flags).toMatchObject({ userPinCountLow: false, userPinFinalTry: false, userPinLocked: false });
  });

  it('a PIN shorter than the token’s minimum → pinLengthInvalid, without spending a try', async () => {
    const err = await rejection(backend.openKey(hsm.module, slotId, 'a1', pin('12')));
    expect(err.code).toBe('pinLengthInvalid');
    expect(calls.login).toEqual([]);
    expect(err.cause).toBeUndefined();
    // No PIN at all on a token without a PIN pad: the same.
    expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', null))).code).toBe('pinLengthInvalid');
  });

  it('wrong PIN on the last try (CKF_USER_PIN_FINAL_TRY after the failure) → triesLeft "final"', async () => {
    faults.login = () => {
      faults.addFlags = CKF.USER_PIN_COUNT_LOW | CKF.USER_PIN_FINAL_TRY;
      throw pkcs11Error('CKR_PIN_INCORRECT');
    };
    const err = await rejection(backend.openKey(hsm.module, slotId, 'a1', pin('654321')));
    expect([err.code, err.details]).toEqual(['pinIncorrect', { triesLeft: 'final' }]);
  });

  it('a wrong PIN that locks the token (CKF_USER_PIN_LOCKED after the failure) → pinLocked', async () => {
    faults.login = () => {
      faults.addFlags = CKF.USER_PIN_LOCKED;
      throw pkcs11Error('CKR_PIN_INCORRECT');
    };
    expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', pin('654321')))).code).toBe('pinLocked');
  });

  it('CKR_PIN_LOCKED from C_Login → pinLocked', async () => {
    faults.login = () => {
      throw pkcs11Error('CKR_PIN_LOCKED');
    };
    expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', pin()))).code).toBe('pinLocked');
  });

  it('a token already showing CKF_USER_PIN_LOCKED → pinLocked without trying the PIN', async () => {
    faults.addFlags = CKF.USER_PIN_LOCKED;
    const p = pin();
    expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', p))).code).toBe('pinLocked');
    expect(calls.login).toEqual([]);
    expect(p.every((b) => b === 0)).toBe(true);
  });

  it('CKR_PIN_LEN_RANGE from C_Login → pinLengthInvalid', async () => {
    faults.login = () => {
      throw pkcs11Error('CKR_PIN_LEN_RANGE');
    };
    expect((await rejection(backend.openKey(hsm.module, slotId, 'a1', pin()))).code).toBe('pinLengthInvalid');
  });

  it('PIN-pad reader (CKF_PROTECTED_AUTHENTICATION_PATH): logs in with no PIN, the reader supplies it', async () => {
    faults.addFlags = CKF.PROTECTED_AUTHENTICATION_PATH;
    // The "reader": when the app passes no PIN, the user types it on the pad.
    faults.login = (pinText, _type, real) => real(pinText === '' ? PIN : 'not-from-the-app');
    const tokens = await backend.listTokens(hsm.module);
    expect(tokens.find((t) => t.slotId === slotId)?.flags.protectedAuthenticationPath).toBe(true);
    for (const noPin of [null, new Uint8Array(0)]) {
      const key = await openKey('e1', noPin);
      const data = Buffer.from('pin pad');
      expect(verify('sha256', data, people.employeeEc.certPem, await key.sign(data))).toBe(true);
      await key.close();
    }
    expect(calls.login).toEqual([
      { userType: pkcs11js().CKU_USER, empty: true },
      { userType: pkcs11js().CKU_USER, empty: true },
    ]);
  });

  it('no token in that slot → tokenNotFound; no key with that CKA_ID → keyNotFound (and the session is closed)', async () => {
    expect((await rejection(backend.listKeys(hsm.module, '123456789'))).code).toBe('tokenNotFound');
    expect((await rejection(backend.openKey(hsm.module, '123456789', 'a1', pin()))).code).toBe('tokenNotFound');
    expect((await rejection(backend.openKey(hsm.module, slotId, 'ff', pin()))).code).toBe('keyNotFound');
    expect((await rejection(backend.openKey(hsm.module, slotId, 'not hex', pin()))).code).toBe('keyNotFound');
    expect(calls.logout).toBe(1);
    // The failed open left nothing logged in: the next one logs in afresh and works.
    const key = await openKey('a1');
    expect(await key.sign(Buffer.from('x'))).toHaveLength(256);
  });

  it('module path wrong or not a PKCS#11 library → moduleNotLoaded with details.module', async () => {
    for (const path of [join(dir, 'nope.so'), join(dir, 'pki', 'head.pem')]) {
      const err = await rejection(backend.listTokens(path));
      expect([err.code, err.details]).toEqual(['moduleNotLoaded', { module: path }]);
    }
  });

  it('opening a second key on the same token supersedes the first (one login per token)', async () => {
    const first = await openKey('a1');
    const second = await openKey('e1');
    expect((await rejection(first.sign(Buffer.from('x')))).code).toBe('cancelled');
    expect(verify('sha256', Buffer.from('y'), people.employeeEc.certPem, await second.sign(Buffer.from('y')))).toBe(
      true,
    );
  });

  it('CKR_DEVICE_REMOVED mid-batch → tokenRemoved, and the key stays dead', async () => {
    const key = await openKey('a1');
    await key.sign(Buffer.from('before'));
    faults.signFails = 'CKR_DEVICE_REMOVED';
    expect((await rejection(key.sign(Buffer.from('during')))).code).toBe('tokenRemoved');
    faults.signFails = null;
    expect((await rejection(key.sign(Buffer.from('after')))).code).toBe('tokenRemoved');
  });

  it('rescan is skipped while a key is logged in (C_Finalize would end its session)', async () => {
    const key = await openKey('a1');
    await backend.listTokens(hsm.module, { rescan: true });
    expect(verify('sha256', Buffer.from('z'), people.head.certPem, await key.sign(Buffer.from('z')))).toBe(true);
  });

  it('the token deleted under a logged-in session (softhsm2-util --delete-token) → tokenRemoved', async () => {
    const key = await openKey('b1', pin(), goneSlotId);
    await key.sign(Buffer.from('before'));
    hsm.deleteToken('QYZMET-GONE');
    // SoftHSM2 answers C_Sign with CKR_OBJECT_HANDLE_INVALID and C_GetTokenInfo with CKR_GENERAL_ERROR:
    // the fresh look at the slot says the token is gone.
    const err = await rejection(key.sign(Buffer.from('after')));
    expect(err.code).toBe('tokenRemoved');
    expect(String((err.cause as Error | undefined)?.message)).toMatch(/^CKR_/);
    const labels = (await backend.listTokens(hsm.module)).map((t) => t.label);
    expect(labels).not.toContain('QYZMET-GONE');
    expect((await rejection(backend.openKey(hsm.module, goneSlotId, 'b1', pin()))).code).toBe('tokenNotFound');
  });
});
