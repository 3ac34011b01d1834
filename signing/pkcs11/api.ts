/**
 * The token key source as the rest of the signer sees it, whether PKCS#11 runs
 * in a worker thread (`Pkcs11Client`, what Electron's main process uses) or in
 * the calling thread (`InProcessPkcs11`, for the CLI and tests), plus the
 * messages the client and the worker exchange. Nothing here loads pkcs11js.
 */
import { SIGNING_ERROR_CODES, SigningError, type SigningErrorCode } from '../errors.js';
import type { SigningKey } from '../types.js';

/** The user-PIN state and capabilities of a token, from CK_TOKEN_INFO.flags. */
export interface TokenFlags {
  loginRequired: boolean;
  /** A PIN-pad reader (CKF_PROTECTED_AUTHENTICATION_PATH): the PIN is typed on the reader. */
  protectedAuthenticationPath: boolean;
  /** At least one wrong PIN since the last good one (SoftHSM2 sets it too). */
  userPinCountLow: boolean;
  /** One more wrong PIN locks the token. */
  userPinFinalTry: boolean;
  userPinLocked: boolean;
}

/** A slot with an initialized token in it. */
export interface TokenSlot {
  /** The PKCS#11 library the token was found through. */
  modulePath: string;
  /** CK_SLOT_ID as a decimal string (64 bits on Linux/macOS do not fit a JS number). */
  slotId: string;
  slotDescription: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  flags: TokenFlags;
  /** ulMinPinLen / ulMaxPinLen, in bytes of the UTF-8 PIN. */
  minPinLength: number;
  maxPinLength: number;
}

/** A certificate on a token, paired by CKA_ID with its private key. */
export interface TokenKey {
  /** CKA_ID, lower-case hex (may be empty). */
  id: string;
  /** CKA_LABEL of the certificate (or of the key when the certificate has none). */
  label: string;
  /** The certificate, DER. */
  certificate: Uint8Array;
  /** From the private key's CKA_KEY_TYPE when visible, else from the certificate's public key. */
  algorithm: 'rsa' | 'ec' | 'unsupported';
  /**
   * true: a private key with this CKA_ID is visible now; false: private keys
   * are visible but none has this id; null: the token shows no private key
   * before login (the usual case: keys are CKA_PRIVATE), so it is not known yet.
   */
  privateKey: boolean | null;
}

/** A token key logged in for a batch: one PIN, many signatures, then `close()` (logout, close the session). */
export interface TokenSigningKey extends SigningKey {
  readonly source: 'pkcs11';
  readonly modulePath: string;
  readonly slotId: string;
  /** CKA_ID, lower-case hex. */
  readonly keyId: string;
  close(): Promise<void>;
}

export interface ListTokensOptions {
  /**
   * Re-read the module's slots from scratch (C_Finalize + C_Initialize) when
   * no key of that module is open. Needed for SoftHSM2, which reads its token
   * directory only in C_Initialize; hardware modules usually show plugged
   * tokens in C_GetSlotList without it. Skipped, never forced, while a key of
   * the module is logged in (C_Finalize would end that session).
   */
  rescan?: boolean;
}

/** What both `Pkcs11Client` (worker) and `InProcessPkcs11` offer. */
export interface Pkcs11Api {
  /** Slots holding an initialized token. Throws 'moduleNotLoaded' (details.module) when the library cannot be used. */
  listTokens(modulePath: string, options?: ListTokensOptions): Promise<TokenSlot[]>;
  /** The end-entity certificates on the token (CA certificates are left out: they become `chain`). */
  listKeys(modulePath: string, slotId: string): Promise<TokenKey[]>;
  /**
   * Logs in and returns the key. `pin` is UTF-8; it is wiped once C_Login has
   * used it (and on every failure). Pass null (or an empty array) for a PIN-pad
   * reader: the reader asks for it. Opening a key on a token that already has
   * an open key closes the earlier one (its next sign() fails with 'cancelled').
   */
  openKey(modulePath: string, slotId: string, keyIdHex: string, pin: Uint8Array | null): Promise<TokenSigningKey>;
  /** Closes every open key, C_Finalize, unloads the libraries. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Errors across the thread boundary

/** An error as it crosses the thread: a SigningError's code and details, or just a message. */
export interface SerializedError {
  code: SigningErrorCode | null;
  details: Record<string, string>;
  /** For errors that are not SigningErrors: e.g. 'CKR_GENERAL_ERROR' or a dlopen message. Never a PIN. */
  message: string;
}

export function serializeError(err: unknown): SerializedError {
  if (err instanceof SigningError) return { code: err.code, details: { ...err.details }, message: err.message };
  return { code: null, details: {}, message: err instanceof Error ? err.message : String(err) };
}

/** Rebuilds a SigningError (same code and details) or a plain Error naming the PKCS#11 failure. */
export function deserializeError(e: SerializedError): Error {
  if (e.code !== null && (SIGNING_ERROR_CODES as readonly string[]).includes(e.code)) {
    return new SigningError(e.code, e.details);
  }
  return new Error(`pkcs11: ${e.message}`);
}

// ---------------------------------------------------------------------------
// Worker messages

/** An opened key as the worker describes it; the client turns it into a TokenSigningKey. */
export interface OpenedKeyDto {
  handle: number;
  label: string;
  modulePath: string;
  slotId: string;
  keyId: string;
  certificate: Uint8Array;
  chain: Uint8Array[];
  algorithm: 'rsa' | 'ec';
}

export interface WorkerOps {
  listTokens: { args: { modulePath: string; rescan: boolean }; result: TokenSlot[] };
  listKeys: { args: { modulePath: string; slotId: string }; result: TokenKey[] };
  openKey: {
    args: { modulePath: string; slotId: string; keyId: string; pin: Uint8Array | null };
    result: OpenedKeyDto;
  };
  sign: { args: { handle: number; data: Uint8Array }; result: Uint8Array };
  closeKey: { args: { handle: number }; result: null };
  /** Closes everything (logout, C_Finalize); the client then ends the thread. */
  shutdown: { args: Record<string, never>; result: null };
}

export type WorkerOp = keyof WorkerOps;

export type WorkerRequest = {
  [K in WorkerOp]: { id: number; op: K; args: WorkerOps[K]['args'] };
}[WorkerOp];

export type WorkerResponse =
  { id: number; ok: true; result: WorkerOps[WorkerOp]['result'] } | { id: number; ok: false; error: SerializedError };
