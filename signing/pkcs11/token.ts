/**
 * The code that calls pkcs11js: load a PKCS#11 library, list its tokens and
 * the certificates on them, log in once and sign many times. Every call here
 * is synchronous and may block (a PIN-pad reader waits for the user), which is
 * why Electron's main process runs it in a worker (worker.ts, client.ts);
 * `InProcessPkcs11` is the same thing on the calling thread, for the CLI and
 * the tests.
 *
 * One PKCS#11 library has one state per process (C_Initialize is per
 * process), so use either the worker or InProcessPkcs11 in a process, not both
 * on the same library.
 *
 * Secrets: the PIN arrives as UTF-8 bytes and is wiped right after C_Login.
 * pkcs11js's C_Login only takes a JS string, so a string copy exists for the
 * duration of the call and is left to the garbage collector; it is never
 * logged or put in an error.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute } from 'node:path';
import type * as Pkcs11Js from 'pkcs11js';
import { SigningError, wipe } from '../errors.js';
import type { ListTokensOptions, Pkcs11Api, TokenKey, TokenSigningKey, TokenSlot } from './api.js';
import { ecdsaRawToDer } from '../asn1.js';
import { decodeCertificate } from '../certificate.js';
import { sha256DigestInfo } from './der.js';
import { CKF, TOKEN_GONE, ckrName, loginFailure, operationFailure, pinLengthProblem, tokenFlags } from './mapping.js';

type Pkcs11Lib = typeof Pkcs11Js;
type PKCS11 = Pkcs11Js.PKCS11;
type Handle = Buffer;

let lib: Pkcs11Lib | undefined;

/**
 * pkcs11js, required on first use: it is CommonJS with a native addon, kept
 * outside the esbuild bundles, and a main thread that only uses the worker
 * never loads it.
 */
export function pkcs11js(): Pkcs11Lib {
  lib ??= createRequire(import.meta.url)('pkcs11js') as Pkcs11Lib;
  return lib;
}

export interface InProcessOptions {
  /**
   * Test seam: wraps each library once loaded (e.g. a Proxy over the real
   * SoftHSM2 module that reports a PIN-pad reader or a locked PIN, or fails a
   * call with a chosen CKR_*). The wrapper must call the real methods with the
   * real object as `this`.
   */
  intercept?: (p11: PKCS11, modulePath: string) => PKCS11;
}

/** CK_SLOT_ID from pkcs11js's handle (a CK_ULONG in native, little-endian order) as a decimal string. */
export function slotIdOf(handle: Handle): string {
  let value = 0n;
  for (let i = handle.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(handle[i] ?? 0);
  return value.toString();
}

/** PKCS#11 text fields are fixed-length, blank-padded (some tokens pad with NULs). */
function text(value: string): string {
  return value.replace(/[\s\0]+$/u, '').replace(/^\s+/u, '');
}

function hex(buffer: Uint8Array | null | undefined): string {
  return buffer ? Buffer.from(buffer).toString('hex') : '';
}

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

/** CK_ULONG attribute value (native little-endian) as a number. */
function ulong(value: Buffer): number {
  let n = 0;
  for (let i = Math.min(value.length, 6) - 1; i >= 0; i--) n = n * 256 + (value[i] ?? 0);
  return n;
}

const PUBLIC_KEY_OIDS: Record<string, 'rsa' | 'ec'> = {
  '1.2.840.113549.1.1.1': 'rsa',
  '1.2.840.10045.2.1': 'ec',
};

const KNOWN_ALGORITHMS: Record<string, string> = {
  '1.2.398.3.10.1.1.1.1': 'GOST 34.310-2004',
};

/** The certificate's public-key algorithm: 'rsa', 'ec', or a name/OID the token source cannot sign with. */
function certificateAlgorithm(der: Uint8Array): { algorithm: 'rsa' | 'ec' | 'unsupported'; name: string } {
  try {
    const cert = decodeCertificate(der);
    const oid = cert.subjectPublicKeyInfo.algorithm.algorithmId;
    const known = PUBLIC_KEY_OIDS[oid];
    if (known) return { algorithm: known, name: known };
    const prefix = Object.keys(KNOWN_ALGORITHMS).find((p) => oid === p || oid.startsWith(`${p}.`));
    return { algorithm: 'unsupported', name: prefix ? (KNOWN_ALGORITHMS[prefix] ?? oid) : oid };
  } catch {
    return { algorithm: 'unsupported', name: 'unknown' };
  }
}

function isCaCertificate(der: Uint8Array): boolean {
  try {
    return new X509Certificate(der).ca;
  } catch {
    return false;
  }
}

interface CertObject {
  id: string;
  label: string;
  der: Uint8Array;
  ca: boolean;
}

interface KeyObject {
  handle: Handle;
  id: string;
  label: string;
  keyType: number | null;
  alwaysAuthenticate: boolean;
}

/** A loaded, initialized PKCS#11 library. */
class Pkcs11Module {
  readonly openKeys = new Set<OpenTokenKey>();
  private alive = true;

  private constructor(
    readonly path: string,
    readonly p11: PKCS11,
    /** False when the library was already initialized in this process by someone else: then never C_Finalize it. */
    private readonly ownsInit: boolean,
  ) {}

  static load(path: string, intercept?: InProcessOptions['intercept']): Pkcs11Module {
    const fail = (cause: unknown) => new SigningError('moduleNotLoaded', { module: path }, { cause });
    // A bare file name is left to the system's library search (e.g. a DLL on PATH).
    if (isAbsolute(path) && !existsSync(path)) throw fail(new Error('no such file'));
    const { PKCS11 } = pkcs11js();
    const raw = new PKCS11();
    try {
      raw.load(path); // dlopen / LoadLibrary + C_GetFunctionList
    } catch (err) {
      throw fail(err);
    }
    const p11 = intercept ? intercept(raw, path) : raw;
    let ownsInit = true;
    try {
      p11.C_Initialize();
    } catch (err) {
      if (ckrName(err) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw fail(err);
      ownsInit = false;
    }
    return new Pkcs11Module(path, p11, ownsInit);
  }

  get usable(): boolean {
    return this.alive;
  }

  /**
   * C_Finalize + C_Initialize, so that the library reads its slots afresh
   * (SoftHSM2 sees tokens created after C_Initialize only this way). Not done
   * while a key is open: C_Finalize would end its logged-in session.
   */
  rescan(): boolean {
    if (!this.ownsInit || this.openKeys.size > 0) return false;
    try {
      this.p11.C_Finalize();
      this.p11.C_Initialize();
      return true;
    } catch (err) {
      this.alive = false;
      throw new SigningError('moduleNotLoaded', { module: this.path }, { cause: err });
    }
  }

  listTokens(): TokenSlot[] {
    let slots: Handle[];
    try {
      slots = this.p11.C_GetSlotList(true);
    } catch (err) {
      // The library is in no state to answer (e.g. finalized under us): load it afresh next time.
      this.alive = false;
      throw new SigningError('moduleNotLoaded', { module: this.path }, { cause: err });
    }
    const out: TokenSlot[] = [];
    for (const slot of slots) {
      const token = this.tokenAt(slot);
      if (token) out.push(token);
    }
    return out;
  }

  /** The token in a slot, or null when there is none, it is not initialized, or it cannot be read (e.g. just pulled out). */
  tokenAt(slot: Handle): TokenSlot | null {
    try {
      const info = this.p11.C_GetTokenInfo(slot);
      if ((info.flags & CKF.TOKEN_INITIALIZED) === 0) return null;
      let slotDescription = '';
      try {
        slotDescription = text(this.p11.C_GetSlotInfo(slot).slotDescription);
      } catch {
        // The description is cosmetic.
      }
      return {
        modulePath: this.path,
        slotId: slotIdOf(slot),
        slotDescription,
        label: text(info.label),
        manufacturer: text(info.manufacturerID),
        model: text(info.model),
        serial: text(info.serialNumber),
        flags: tokenFlags(info.flags),
        minPinLength: info.minPinLen,
        maxPinLength: info.maxPinLen,
      };
    } catch {
      return null;
    }
  }

  /** The slot handle and token for an id from listTokens; 'tokenNotFound' when that slot has no usable token now. */
  findToken(slotId: string): { slot: Handle; token: TokenSlot } {
    let slots: Handle[];
    try {
      slots = this.p11.C_GetSlotList(true);
    } catch (err) {
      throw new SigningError('tokenNotFound', {}, { cause: err });
    }
    const slot = slots.find((s) => slotIdOf(s) === slotId);
    const token = slot ? this.tokenAt(slot) : null;
    if (!slot || !token) throw new SigningError('tokenNotFound');
    return { slot, token };
  }

  /** A fresh look: is a token with this serial still in the slot? */
  stillPresent(slotId: string, serial: string): boolean {
    try {
      const slot = this.p11.C_GetSlotList(true).find((s) => slotIdOf(s) === slotId);
      return slot !== undefined && text(this.p11.C_GetTokenInfo(slot).serialNumber) === serial;
    } catch {
      return false;
    }
  }

  flagsOf(slot: Handle): TokenSlot['flags'] | null {
    try {
      return tokenFlags(this.p11.C_GetTokenInfo(slot).flags);
    } catch {
      return null;
    }
  }

  openSession(slot: Handle): Handle {
    const { CKF_SERIAL_SESSION } = pkcs11js();
    try {
      return this.p11.C_OpenSession(slot, CKF_SERIAL_SESSION);
    } catch (err) {
      const ckr = ckrName(err);
      if (ckr && (TOKEN_GONE.has(ckr) || ckr === 'CKR_TOKEN_NOT_RECOGNIZED')) {
        throw new SigningError('tokenNotFound', {}, { cause: err });
      }
      throw err;
    }
  }

  closeSession(session: Handle, logout: boolean): void {
    if (logout) {
      try {
        this.p11.C_Logout(session);
      } catch {
        // Not logged in any more, or the token is gone: nothing to undo.
      }
    }
    try {
      this.p11.C_CloseSession(session);
    } catch {
      // Same.
    }
  }

  private findObjects(session: Handle, template: Pkcs11Js.Template): Handle[] {
    const out: Handle[] = [];
    this.p11.C_FindObjectsInit(session, template);
    try {
      for (;;) {
        const batch = this.p11.C_FindObjects(session, 64);
        if (batch.length === 0) break;
        out.push(...batch);
      }
    } finally {
      this.p11.C_FindObjectsFinal(session);
    }
    return out;
  }

  /** One attribute, or null when the object does not have it (or will not show it). */
  private attribute(session: Handle, object: Handle, type: number): Buffer | null {
    try {
      const [attr] = this.p11.C_GetAttributeValue(session, object, [{ type }]);
      return attr?.value ?? null;
    } catch {
      return null;
    }
  }

  certificates(session: Handle): CertObject[] {
    const p = pkcs11js();
    const out: CertObject[] = [];
    const template = [
      { type: p.CKA_CLASS, value: p.CKO_CERTIFICATE },
      { type: p.CKA_CERTIFICATE_TYPE, value: p.CKC_X_509 },
    ];
    for (const handle of this.findObjects(session, template)) {
      const der = this.attribute(session, handle, p.CKA_VALUE);
      if (!der || der.length === 0) continue;
      const value = new Uint8Array(der);
      out.push({
        id: hex(this.attribute(session, handle, p.CKA_ID)),
        label: text(this.attribute(session, handle, p.CKA_LABEL)?.toString('utf8') ?? ''),
        der: value,
        ca: isCaCertificate(value),
      });
    }
    return out;
  }

  privateKeys(session: Handle): KeyObject[] {
    const p = pkcs11js();
    return this.findObjects(session, [{ type: p.CKA_CLASS, value: p.CKO_PRIVATE_KEY }]).map((handle) => {
      const keyType = this.attribute(session, handle, p.CKA_KEY_TYPE);
      const always = this.attribute(session, handle, p.CKA_ALWAYS_AUTHENTICATE);
      return {
        handle,
        id: hex(this.attribute(session, handle, p.CKA_ID)),
        label: text(this.attribute(session, handle, p.CKA_LABEL)?.toString('utf8') ?? ''),
        keyType: keyType ? ulong(keyType) : null,
        alwaysAuthenticate: always !== null && always.length > 0 && always[0] !== 0,
      };
    });
  }

  mechanisms(slot: Handle): Set<number> | null {
    try {
      return new Set(this.p11.C_GetMechanismList(slot));
    } catch {
      return null;
    }
  }

  close(): void {
    for (const key of [...this.openKeys]) key.closeNow();
    if (this.alive && this.ownsInit) {
      try {
        this.p11.C_Finalize();
      } catch {
        // Already finalized or the library is in a bad state: nothing more to do.
      }
    }
    this.alive = false;
    // The library stays mapped (no dlclose): some vendor libraries leave
    // threads running after C_Finalize, and unmapping their code would crash
    // the whole process. Loading the same path again reuses the mapping.
  }
}

function keyAlgorithm(
  keyType: number | null,
  certificate: Uint8Array,
): { algorithm: 'rsa' | 'ec' | 'unsupported'; name: string } {
  const p = pkcs11js();
  if (keyType === p.CKK_RSA) return { algorithm: 'rsa', name: 'rsa' };
  if (keyType === p.CKK_EC) return { algorithm: 'ec', name: 'ec' };
  const fromCert = certificateAlgorithm(certificate);
  if (keyType === null) return fromCert;
  return {
    algorithm: 'unsupported',
    name: fromCert.algorithm === 'unsupported' ? fromCert.name : `CKK 0x${keyType.toString(16)}`,
  };
}

/** A logged-in session with one private key: what openKey returns in this thread. */
class OpenTokenKey implements TokenSigningKey {
  readonly source = 'pkcs11' as const;
  private state: 'open' | 'closed' | 'superseded' | 'removed' = 'open';
  /** Whether CKM_SHA256_RSA_PKCS is used; false: CKM_RSA_PKCS over a DigestInfo. */
  private rsaHashOnToken: boolean;

  constructor(
    private readonly module: Pkcs11Module,
    private readonly session: Handle,
    private readonly key: Handle,
    private readonly loggedIn: boolean,
    readonly slotId: string,
    private readonly serial: string,
    readonly keyId: string,
    readonly label: string,
    readonly certificate: Uint8Array,
    readonly chain: readonly Uint8Array[],
    readonly algorithm: 'rsa' | 'ec',
    mechanisms: Set<number> | null,
    /** CKA_ALWAYS_AUTHENTICATE on a PIN-pad reader: a context-specific login (the reader asks) after each C_SignInit. */
    private readonly contextLogin: boolean,
  ) {
    // Without a mechanism list, try the hashing mechanism and fall back on CKR_MECHANISM_INVALID.
    this.rsaHashOnToken = mechanisms === null || mechanisms.has(pkcs11js().CKM_SHA256_RSA_PKCS);
  }

  get modulePath(): string {
    return this.module.path;
  }

  async sign(data: Uint8Array): Promise<Uint8Array> {
    return this.signNow(data);
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  /** Ends the batch: C_Logout, C_CloseSession. Idempotent. */
  closeNow(): void {
    this.end('closed');
  }

  /** Another openKey on the same token takes over its login. */
  supersede(): void {
    this.end('superseded');
  }

  private end(state: 'closed' | 'superseded' | 'removed'): void {
    if (this.state !== 'open') return;
    this.state = state;
    this.module.openKeys.delete(this);
    this.module.closeSession(this.session, this.loggedIn);
  }

  signNow(data: Uint8Array): Uint8Array {
    if (this.state === 'removed') throw new SigningError('tokenRemoved');
    if (this.state !== 'open') throw new SigningError('cancelled');
    const p = pkcs11js();
    try {
      if (this.algorithm === 'ec') return ecdsaRawToDer(this.raw(p.CKM_ECDSA, sha256(data)));
      if (this.rsaHashOnToken) {
        try {
          return this.raw(p.CKM_SHA256_RSA_PKCS, data);
        } catch (err) {
          if (ckrName(err) !== 'CKR_MECHANISM_INVALID') throw err;
          this.rsaHashOnToken = false;
        }
      }
      return this.raw(p.CKM_RSA_PKCS, sha256DigestInfo(sha256(data)));
    } catch (err) {
      if (err instanceof SigningError) throw err;
      const ckr = ckrName(err);
      const mapped =
        operationFailure(ckr, this.module.stillPresent(this.slotId, this.serial), err) ??
        (ckr === 'CKR_MECHANISM_INVALID' || ckr === 'CKR_KEY_TYPE_INCONSISTENT'
          ? new SigningError('unsupportedAlgorithm', { algorithm: this.algorithm.toUpperCase() }, { cause: err })
          : null);
      if (mapped?.code === 'tokenRemoved') this.end('removed');
      throw mapped ?? err;
    }
  }

  private raw(mechanism: number, input: Uint8Array): Uint8Array {
    this.module.p11.C_SignInit(this.session, { mechanism }, this.key);
    if (this.contextLogin) this.module.p11.C_Login(this.session, pkcs11js().CKU_CONTEXT_SPECIFIC, '');
    // 1024 bytes hold an RSA-8192 signature; C_Sign answers a subarray of the right length.
    const out = this.module.p11.C_Sign(this.session, Buffer.from(input), Buffer.alloc(1024));
    return new Uint8Array(out);
  }
}

/** The token key source on the calling thread (blocking calls). The worker wraps one of these. */
export class InProcessPkcs11 implements Pkcs11Api {
  private readonly modules = new Map<string, Pkcs11Module>();

  constructor(private readonly options: InProcessOptions = {}) {}

  private module(path: string): Pkcs11Module {
    const loaded = this.modules.get(path);
    if (loaded?.usable) return loaded;
    const module = Pkcs11Module.load(path, this.options.intercept);
    this.modules.set(path, module);
    return module;
  }

  async listTokens(modulePath: string, options: ListTokensOptions = {}): Promise<TokenSlot[]> {
    const loaded = this.modules.get(modulePath);
    if (options.rescan && loaded?.usable) {
      try {
        loaded.rescan();
      } catch (err) {
        this.modules.delete(modulePath);
        throw err;
      }
    }
    return this.module(modulePath).listTokens();
  }

  async listKeys(modulePath: string, slotId: string): Promise<TokenKey[]> {
    const module = this.module(modulePath);
    const { slot } = module.findToken(slotId);
    const session = module.openSession(slot);
    try {
      const certs = module.certificates(session);
      const keys = module.privateKeys(session);
      const keysById = new Map(keys.map((k) => [k.id, k]));
      return certs
        .filter((c) => !c.ca)
        .map((c) => {
          const key = keysById.get(c.id);
          return {
            id: c.id,
            label: c.label || key?.label || c.id,
            certificate: c.der,
            algorithm: keyAlgorithm(key?.keyType ?? null, c.der).algorithm,
            privateKey: key ? true : keys.length > 0 ? false : null,
          };
        });
    } finally {
      module.closeSession(session, false);
    }
  }

  async openKey(
    modulePath: string,
    slotId: string,
    keyIdHex: string,
    pin: Uint8Array | null,
  ): Promise<TokenSigningKey> {
    try {
      return this.openKeyNow(modulePath, slotId, keyIdHex, pin);
    } finally {
      wipe(pin);
    }
  }

  private openKeyNow(modulePath: string, slotId: string, keyIdHex: string, pin: Uint8Array | null): OpenTokenKey {
    if (!/^[0-9a-f]*$/i.test(keyIdHex)) throw new SigningError('keyNotFound');
    const keyId = keyIdHex.toLowerCase();
    const module = this.module(modulePath);
    const { slot, token } = module.findToken(slotId);
    if (token.flags.userPinLocked) throw new SigningError('pinLocked');
    const pinBytes = pin?.length ?? 0;
    const lengthProblem = pinLengthProblem(pinBytes, token);
    if (lengthProblem) throw lengthProblem;

    // PKCS#11 login state is per token and per process: one batch per token at a time.
    for (const other of [...module.openKeys]) if (other.slotId === slotId) other.supersede();

    const session = module.openSession(slot);
    let loggedIn = false;
    try {
      loggedIn = this.login(module, slot, session, token, pin);
      const keys = module.privateKeys(session).filter((k) => k.id === keyId);
      const certs = module.certificates(session);
      const cert = certs.find((c) => c.id === keyId && !c.ca) ?? certs.find((c) => c.id === keyId);
      const key = keys[0];
      if (!key || !cert) throw new SigningError('keyNotFound');
      const { algorithm, name } = keyAlgorithm(key.keyType, cert.der);
      if (algorithm === 'unsupported') throw new SigningError('unsupportedAlgorithm', { algorithm: name });
      if (key.alwaysAuthenticate && !token.flags.protectedAuthenticationPath) {
        // Such a key wants the PIN again before every signature (CKU_CONTEXT_SPECIFIC);
        // the PIN is wiped after the first login, so a batch cannot do that.
        throw new SigningError('unsupportedAlgorithm', { algorithm: 'CKA_ALWAYS_AUTHENTICATE' });
      }
      const chain = certs.filter((c) => c.ca && c !== cert).map((c) => c.der);
      const opened = new OpenTokenKey(
        module,
        session,
        key.handle,
        loggedIn,
        slotId,
        token.serial,
        keyId,
        `${token.label} / ${cert.label || key.label || keyId}`,
        cert.der,
        chain,
        algorithm,
        module.mechanisms(slot),
        key.alwaysAuthenticate,
      );
      module.openKeys.add(opened);
      return opened;
    } catch (err) {
      module.closeSession(session, loggedIn);
      throw err;
    }
  }

  /** C_Login as the user; returns whether a login happened. Wipes `pin` right after the call. */
  private login(
    module: Pkcs11Module,
    slot: Handle,
    session: Handle,
    token: TokenSlot,
    pin: Uint8Array | null,
  ): boolean {
    const empty = !pin || pin.length === 0;
    if (empty && !token.flags.loginRequired) return false;
    const { CKU_USER } = pkcs11js();
    // pkcs11js cannot pass NULL_PTR: for a PIN-pad reader it passes "" (a non-null pointer, length 0).
    const pinText = empty ? '' : new TextDecoder().decode(pin);
    wipe(pin);
    const attempt = () => module.p11.C_Login(session, CKU_USER, pinText);
    try {
      try {
        attempt();
      } catch (err) {
        // Left logged in by an earlier batch of this process: log out so that this PIN is really checked.
        if (ckrName(err) !== 'CKR_USER_ALREADY_LOGGED_IN') throw err;
        module.p11.C_Logout(session);
        attempt();
      }
      return true;
    } catch (err) {
      const flagsAfter = module.flagsOf(slot);
      throw loginFailure(ckrName(err), flagsAfter, err) ?? err;
    }
  }

  async close(): Promise<void> {
    for (const module of this.modules.values()) module.close();
    this.modules.clear();
  }
}
