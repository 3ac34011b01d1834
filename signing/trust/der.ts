/**
 * Small byte helpers the trust checks share: PEM or DER in, DER out; hex;
 * the one normal form of serial numbers every lookup uses; hashing by OID.
 */
import { createHash } from 'node:crypto';

/**
 * DER from DER bytes, or from PEM (text or bytes; text around the armour is
 * ignored), or from bare base64 text.
 */
export function toDer(input: Uint8Array | string): Uint8Array {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input[0] === 0x30 /* SEQUENCE */) return input;
  else text = Buffer.from(input).toString('latin1');
  const armoured = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(text);
  const body = armoured?.[1] ?? text;
  return new Uint8Array(Buffer.from(body.replace(/\s+/g, ''), 'base64'));
}

export function hex(bytes: Uint8Array | ArrayBuffer): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)).toString('hex');
}

/**
 * The normal form of a serial number: lower-case hex without leading zeros
 * ("00A1" and "a1" are the same certificate). Node gives upper case with the
 * sign byte sometimes kept; ASN.1 INTEGER contents keep it always.
 */
export function serialKey(serial: string | Uint8Array): string {
  const h = typeof serial === 'string' ? serial.replace(/[^0-9a-fA-F]/g, '') : hex(serial);
  return h.toLowerCase().replace(/^0+/, '') || '0';
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), b) === 0;
}

/** Digest OIDs node:crypto can compute, by name. */
export const DIGEST_OIDS: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export const DIGEST_OID_BY_NAME = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;

/** The digest of `data` with the algorithm `oid`, or null when it's not one we compute (GOST 34.311 among them). */
export function digestByOid(oid: string, data: Uint8Array): Uint8Array | null {
  const name = DIGEST_OIDS[oid];
  return name ? new Uint8Array(createHash(name).update(data).digest()) : null;
}

/** A readable name for a digest OID: 'sha256', 'gost34311' or the OID itself. */
export function digestName(oid: string): string {
  return DIGEST_OIDS[oid] ?? (oid === '1.2.398.3.10.1.3.1' ? 'gost34311' : oid);
}

/** True for the Kazakh national algorithms (GOST 34.310/34.311, 34.10-2015): parsed here, never verified. */
export function isKzGost(oid: string): boolean {
  return oid.startsWith('1.2.398.3.10.');
}

/** A copy of an ArrayBuffer view as its own Uint8Array. */
export function copyBytes(view: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (view instanceof ArrayBuffer) return new Uint8Array(view.slice(0));
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength));
}
