/**
 * The shapes every part of the signer shares: a key ready to sign (from a
 * key file or a token), the facts read from a certificate, and the signer as
 * the app's services use it (SignerBackend, with the tokens and outcomes it
 * gives). The app's contract declares the same shapes for the renderer; the
 * service checks at compile time that they agree.
 */
import type { SignatureFormat } from '#core/vocabulary.js';

/** A private key that can sign, with its certificate. Key files and tokens both give one. */
export interface SigningKey {
  /** Where it comes from, for the interface and the logs (never a secret). */
  readonly source: 'keyfile' | 'pkcs11';
  /** A label: the key file's alias, or the token label and the object's label. */
  readonly label: string;
  /** The signer's certificate, DER. */
  readonly certificate: Uint8Array;
  /** Other certificates the source holds (intermediates), DER; may be empty. */
  readonly chain: readonly Uint8Array[];
  readonly algorithm: 'rsa' | 'ec';
  /**
   * Signs `data` with SHA-256: the signer hashes it. RSA gives PKCS#1 v1.5
   * (sha256WithRSAEncryption); EC gives a DER Ecdsa-Sig-Value (ecdsa-with-SHA256).
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** NCA role OIDs found in the extended key usage or the certificate policies. */
export const NCA_ROLE_OIDS = {
  '1.2.398.3.3.4.1.1': 'individual',
  '1.2.398.3.3.4.1.2': 'legalEntity',
  '1.2.398.3.3.4.1.2.1': 'head',
  '1.2.398.3.3.4.1.2.2': 'maySign',
  '1.2.398.3.3.4.1.2.3': 'financial',
  '1.2.398.3.3.4.1.2.4': 'hr',
  '1.2.398.3.3.4.1.2.5': 'employee',
} as const;

export type NcaRole = (typeof NCA_ROLE_OIDS)[keyof typeof NCA_ROLE_OIDS];

/** The facts of a certificate the interface, the CLI and the checks use. */
export interface CertificateFacts {
  /** CN as written ("SURNAME NAME"). */
  commonName: string;
  surname: string | null;
  /** GN: in NCA certificates the patronymic. */
  givenName: string | null;
  /** 12 digits from SERIALNUMBER=IIN…, or null. */
  iin: string | null;
  /** False when the IIN's checksum fails (a warning: NCA test certificates carry such IINs). */
  iinChecksumValid: boolean | null;
  /** 12 digits from OU=BIN…, or null. */
  bin: string | null;
  binChecksumValid: boolean | null;
  organisation: string | null;
  email: string | null;
  roles: NcaRole[];
  /** What the key is for: authentication (clientAuth), signing (emailProtection / nonRepudiation), both, or unknown. */
  purpose: 'auth' | 'sign' | 'both' | 'unknown';
  keyUsage: string[];
  extendedKeyUsage: string[];
  policies: string[];
  notBefore: string; // ISO 8601
  notAfter: string; // ISO 8601
  issuerCommonName: string;
  issuer: string;
  subject: string;
  serialNumber: string; // hex, lower case
  /** 'rsa', 'ec', 'gost2004', 'gost2015' or the raw OID. */
  publicKeyAlgorithm: string;
  publicKeyBits: number | null;
  sha256: string; // hex fingerprint of the DER
}

/** A token with its usable keys, as the signer lists it (the id is opaque: module and slot). */
export interface TokenInfo {
  id: string;
  module: string;
  slotId: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
  /** A PIN-pad reader: the PIN is typed on the reader, not in the app. */
  protectedAuthPath: boolean;
  pinCountLow: boolean;
  pinFinalTry: boolean;
  pinLocked: boolean;
  keys: { keyId: string; label: string; certificate: CertificateFacts }[];
}

/** The tokens found, and each configured PKCS#11 library with whether it loaded (and why not). */
export interface TokenList {
  tokens: TokenInfo[];
  modules: { path: string; loaded: boolean; code: string | null }[];
}

/** A certificate's revocation as checked now: where the answer came from and when. */
export interface Revocation {
  status: 'good' | 'revoked' | 'unknown';
  source: 'ocsp' | 'crl' | 'none';
  /** The cached CRL is past its next update. */
  stale: boolean;
  checkedAt: number | null;
}

export type { SignatureFormat };

/** A key opened from a token or a key file; `close` logs out or drops the decrypted key. */
export interface OpenedKey {
  key: SigningKey;
  close(): Promise<void>;
}

export interface CheckOutcome {
  revocation: Revocation;
  warnings: string[];
}

export interface SignedDocument {
  signed: Uint8Array;
  /** When an RFC 3161 timestamp was added; null otherwise, with the reason. */
  timestampedAt: number | null;
  timestampNote: 'none' | 'notConfigured' | 'unreachable';
}

/** What the app's services need from the key sources, the checks and the formats (Signer implements it). */
export interface SignerBackend {
  listTokens(): Promise<TokenList>;
  openToken(tokenId: string, keyIdHex: string, pin: Uint8Array): Promise<OpenedKey>;
  openKeyFile(data: Uint8Array, password: Uint8Array, alias?: string): Promise<OpenedKey>;
  facts(certificate: Uint8Array): CertificateFacts;
  /** Chain, validity, key usage, identity and revocation; throws the first SigningError. */
  check(
    certificate: Uint8Array,
    options: { act: 'sign' | 'auth'; at: Date; expect?: { iin?: string; bin?: string } },
  ): Promise<CheckOutcome>;
  sign(format: SignatureFormat, document: Uint8Array, key: SigningKey): Promise<SignedDocument>;
}
