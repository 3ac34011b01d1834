/**
 * The closed set of signing and verification failures. Every code has a
 * message in the interface catalogues under `errors.signing.<code>` (kk, ru,
 * en); the CLI prints the English one. Details carry only what the message
 * needs (tries left, a date, an alias list): never a PIN, a password or a key.
 */
export const SIGNING_ERROR_CODES = [
  // Key sources
  'pinIncorrect', // details.triesLeft: 'unknown' | 'low' | 'final'
  'pinLocked',
  'pinLengthInvalid',
  'tokenRemoved',
  'tokenNotFound',
  'moduleNotLoaded', // details.module: the PKCS#11 library path
  'keyNotFound',
  'aliasRequired', // details.aliases: comma-separated aliases of the key file
  'keyfileCorrupt',
  'keyfileNotPkcs12',
  'wrongPassword',
  'unsupportedAlgorithm', // details.algorithm: e.g. 'GOST 34.310-2004'
  'cancelled',
  // Certificate checks
  'certExpired', // details.notAfter (ISO)
  'certNotYetValid', // details.notBefore (ISO)
  'certRevoked', // details.revokedAt (ISO), details.reason
  'revocationUnknown',
  'chainUntrusted',
  'iinMismatch', // details.expected, details.actual
  'wrongKeyUsage', // details.needed: 'sign' | 'auth'
  // Signatures
  'signatureInvalid',
  'contentMismatch',
  'malformedSignature',
  'contentMissing',
] as const;

export type SigningErrorCode = (typeof SIGNING_ERROR_CODES)[number];

export class SigningError extends Error {
  constructor(
    readonly code: SigningErrorCode,
    readonly details: Readonly<Record<string, string>> = {},
    options?: { cause?: unknown },
  ) {
    super(`signing: ${code}`, options);
    this.name = 'SigningError';
  }

  /** The i18n key of this error's message (a wrong PIN says how many tries are left when the token tells). */
  get messageKey(): string {
    if (this.code === 'pinIncorrect') {
      if (this.details.triesLeft === 'final') return 'errors.signing.pinIncorrectFinal';
      if (this.details.triesLeft === 'low') return 'errors.signing.pinIncorrectLow';
    }
    return `errors.signing.${this.code}`;
  }
}

export function isSigningError(err: unknown, code?: SigningErrorCode): err is SigningError {
  return err instanceof SigningError && (code === undefined || err.code === code);
}

/** Overwrites a secret held in a buffer once it has been used (the string it came from is dropped by the caller). */
export function wipe(buffer: Uint8Array | null | undefined): void {
  if (buffer) buffer.fill(0);
}
