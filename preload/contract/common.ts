/**
 * Shapes more than one part of the contract uses (signing and EDS login):
 * the facts of a certificate, a token with its keys, a key source with its
 * secret. Kept apart so that the contract's fragments import them without a
 * cycle through preload/api.ts.
 */
import { z } from 'zod';

export const certificateFacts = z.strictObject({
  commonName: z.string(),
  surname: z.string().nullable(),
  givenName: z.string().nullable(),
  iin: z.string().nullable(),
  iinChecksumValid: z.boolean().nullable(),
  bin: z.string().nullable(),
  binChecksumValid: z.boolean().nullable(),
  organisation: z.string().nullable(),
  email: z.string().nullable(),
  roles: z.array(z.string()),
  purpose: z.enum(['auth', 'sign', 'both', 'unknown']),
  keyUsage: z.array(z.string()),
  extendedKeyUsage: z.array(z.string()),
  policies: z.array(z.string()),
  notBefore: z.string(),
  notAfter: z.string(),
  issuerCommonName: z.string(),
  issuer: z.string(),
  subject: z.string(),
  serialNumber: z.string(),
  publicKeyAlgorithm: z.string(),
  publicKeyBits: z.number().nullable(),
  sha256: z.string(),
});
export type CertificateFactsDto = z.infer<typeof certificateFacts>;

export const tokenInfo = z.strictObject({
  /** Opaque id of module + slot, for `signing.open`. */
  id: z.string(),
  module: z.string(),
  slotId: z.string(),
  label: z.string(),
  manufacturer: z.string(),
  model: z.string(),
  serial: z.string(),
  /** A PIN-pad reader: the PIN is typed on the reader, not in the app. */
  protectedAuthPath: z.boolean(),
  pinCountLow: z.boolean(),
  pinFinalTry: z.boolean(),
  pinLocked: z.boolean(),
  keys: z.array(z.strictObject({ keyId: z.string(), label: z.string(), certificate: certificateFacts })),
});
export type TokenInfo = z.infer<typeof tokenInfo>;

/** A secret typed by the user: sent once to main, never echoed back. */
export const secret = z.string().max(256);

export const signingSource = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('keyfile'),
    fileName: z.string().min(1).max(260),
    /** The key file's bytes, base64 (key files are a few kilobytes). */
    data: z.base64().max(200_000),
    password: secret,
    alias: z.string().max(200).optional(),
  }),
  z.strictObject({
    kind: z.literal('token'),
    tokenId: z.string().min(1).max(600),
    keyId: z.string().regex(/^[0-9a-f]{0,256}$/),
    /** Empty for a PIN-pad reader. */
    pin: secret,
  }),
]);
export type SigningSource = z.infer<typeof signingSource>;
