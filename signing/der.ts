/**
 * The byte helpers every part of the signer shares: PEM armour in and out (the one reader of it), DER from
 * whatever a caller was given, hex, the one normal form of serial numbers, hashing by OID.
 */
import { createHash } from 'node:crypto';

/** One armoured block: its label ("CERTIFICATE", "X509 CRL", …) and the base64 text between the lines. */
export interface PemBlock {
  readonly label: string;
  readonly base64: string;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
const BASE64_TEXT = /^[A-Za-z0-9+/=\s]+$/;

/** The PEM blocks in `text`, in order (text around them is ignored); whitespace is taken out of the base64. */
export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(PEM_BLOCK)].map((m) => ({
    label: m[1] ?? '',
    base64: (m[2] ?? '').replace(/\s+/g, ''),
  }));
}

/** True when the text (whitespace aside) could be base64. */
export function isBase64Text(text: string): boolean {
  return BASE64_TEXT.test(text);
}

/** PEM text (64-column lines, trailing newline) of `der`. */
export function derToPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * DER from DER bytes (as they are, not copied), or from PEM (text or bytes: the first block, whatever its
 * label), or from bare base64 text. Lenient: what is not DER shows when it is parsed.
 */
export function derFrom(input: Uint8Array | string): Uint8Array {
  let text: string;
  if (typeof input === 'string') text = input;
  else if (input[0] === 0x30 /* SEQUENCE */) return input;
  else text = Buffer.from(input).toString('latin1');
  const body = pemBlocks(text)[0]?.base64 ?? text.replace(/\s+/g, '');
  return new Uint8Array(Buffer.from(body, 'base64'));
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
