/**
 * A GOST key file for the tests, shaped like the national CA's: a
 * pkcs8ShroudedKeyBag whose PrivateKeyInfo names a Kazakh GOST algorithm
 * (random key bytes: nothing can sign with it, and nothing should), beside a
 * certBag with a real NCA test GOST certificate, MAC'd with the password.
 * Test code only: nothing here ships in the app.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import forge from 'node-forge';
import { certificateDer } from '../certificate.js';
import { buildPkcs12 } from '../pkcs12-builder.js';

const { asn1 } = forge;

/** The NCA test fixtures, from signing/testing/ up to the repository's parent. */
export const NCA_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/nca-test/', import.meta.url));

const VARIANTS = {
  /** GOST 34.310-2004: the head of АО "ТЕСТ"'s signing certificate, issued by ҰКО 3.0 (GOST TEST). */
  '2004': {
    keyOid: '1.2.398.3.10.1.1.1.1',
    paramOids: ['1.2.398.3.10.1.1.1.1.1', '1.2.398.3.10.1.3.1.1.0'],
    keyBytes: 32,
    certificate: 'certs-ceo_valid_sign_2004_gost.cer',
    chain: ['ca-nca_gost_test.crt'],
  },
  /** GOST 34.10-2015 (512-bit): the only 2015 certificate in the fixtures is the CA's, which does for a key file. */
  '2015': {
    keyOid: '1.2.398.3.10.1.1.2.2',
    paramOids: ['1.2.398.3.10.1.1.2.2.1', '1.2.398.3.10.1.3.3'],
    keyBytes: 64,
    certificate: 'ca-nca_gost2015_test.cer',
    chain: [],
  },
} as const;

export type GostVariant = keyof typeof VARIANTS;

function fixture(name: string): Uint8Array {
  return certificateDer(readFileSync(NCA_FIXTURES + name));
}

/** A GOST PrivateKeyInfo (DER) with random key bytes. */
export function gostPrivateKeyInfo(variant: GostVariant = '2004'): Uint8Array {
  const v = VARIANTS[variant];
  const oid = (dotted: string) =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
  const node = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, String.fromCharCode(0)),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      oid(v.keyOid),
      asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, v.paramOids.map(oid)),
    ]),
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, randomBytes(v.keyBytes).toString('binary')),
  ]);
  return new Uint8Array(Buffer.from(asn1.toDer(node).getBytes(), 'binary'));
}

/** The certificate a GOST key file of `variant` holds (DER). */
export function gostCertificate(variant: GostVariant = '2004'): Uint8Array {
  return fixture(VARIANTS[variant].certificate);
}

/** A GOST key file (DER PKCS#12) protected by `password`, like the NCA's (PBE-SHA1-3DES, SHA-1 MAC). */
export function gostKeyFile(password: string, options: { variant?: GostVariant; alias?: string } = {}): Buffer {
  const variant = options.variant ?? '2004';
  const v = VARIANTS[variant];
  return buildPkcs12({
    password,
    entries: [
      {
        pkcs8: gostPrivateKeyInfo(variant),
        certificate: fixture(v.certificate),
        alias: options.alias ?? `gost${variant}`,
      },
    ],
    extraCertificates: v.chain.map(fixture),
    keyEncryption: '3des',
    certEncryption: '3des',
    mac: 'sha1',
  });
}
