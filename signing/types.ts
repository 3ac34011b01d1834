/**
 * The shapes every part of the signer shares: a key ready to sign (from a
 * key file or a token), the facts read from a certificate, and what a
 * verification reports.
 */

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
