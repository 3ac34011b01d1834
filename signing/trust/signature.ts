/**
 * Checks a signature made over some bytes (a CRL's, an OCSP answer's or a
 * time-stamp's to-be-signed part) with node:crypto, from the algorithm
 * identifier that came with it. The Kazakh GOST algorithms have no
 * implementation here: they come back 'unsupported', never 'invalid'.
 */
import { constants, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import * as pkijs from 'pkijs';
import { DIGEST_OIDS, isKzGost } from '../der.js';
import type { CertView } from './x509.js';

export type SignatureCheck = 'valid' | 'invalid' | 'unsupported';

interface Scheme {
  kind: 'rsa' | 'rsa-pss' | 'ecdsa' | 'eddsa';
  /** null: take the digest from the separate digest algorithm (CMS' rsaEncryption / ecPublicKey). */
  digest: string | null;
}

const SCHEMES: Readonly<Record<string, Scheme>> = {
  '1.2.840.113549.1.1.1': { kind: 'rsa', digest: null },
  '1.2.840.113549.1.1.5': { kind: 'rsa', digest: 'sha1' },
  '1.2.840.113549.1.1.14': { kind: 'rsa', digest: 'sha224' },
  '1.2.840.113549.1.1.11': { kind: 'rsa', digest: 'sha256' },
  '1.2.840.113549.1.1.12': { kind: 'rsa', digest: 'sha384' },
  '1.2.840.113549.1.1.13': { kind: 'rsa', digest: 'sha512' },
  '1.2.840.113549.1.1.10': { kind: 'rsa-pss', digest: null },
  '1.2.840.10045.2.1': { kind: 'ecdsa', digest: null },
  '1.2.840.10045.4.1': { kind: 'ecdsa', digest: 'sha1' },
  '1.2.840.10045.4.3.1': { kind: 'ecdsa', digest: 'sha224' },
  '1.2.840.10045.4.3.2': { kind: 'ecdsa', digest: 'sha256' },
  '1.2.840.10045.4.3.3': { kind: 'ecdsa', digest: 'sha384' },
  '1.2.840.10045.4.3.4': { kind: 'ecdsa', digest: 'sha512' },
  '1.3.101.112': { kind: 'eddsa', digest: null },
};

/**
 * Verifies `signature` over `data` with `signer`'s key. `algorithm` is the
 * signature AlgorithmIdentifier; `digestOid` the separate digest algorithm
 * when the identifier names only the key type (as CMS SignerInfos may).
 */
export function verifySignature(
  algorithm: pkijs.AlgorithmIdentifier,
  data: Uint8Array,
  signature: Uint8Array,
  signer: CertView | KeyObject,
  digestOid?: string,
): SignatureCheck {
  const oid = algorithm.algorithmId;
  if (isKzGost(oid)) return 'unsupported';
  const scheme = SCHEMES[oid];
  if (!scheme) return 'unsupported';
  let key: KeyObject;
  try {
    key = 'x509' in signer ? signer.x509.publicKey : signer;
  } catch {
    // node can't load the key (a GOST key under a foreign signature OID).
    return 'unsupported';
  }
  try {
    switch (scheme.kind) {
      case 'rsa':
      case 'ecdsa': {
        const digest = scheme.digest ?? (digestOid ? DIGEST_OIDS[digestOid] : undefined);
        if (!digest) return 'unsupported';
        if (key.asymmetricKeyType !== (scheme.kind === 'rsa' ? 'rsa' : 'ec')) return 'invalid';
        const options =
          scheme.kind === 'rsa' ? { key, padding: constants.RSA_PKCS1_PADDING } : { key, dsaEncoding: 'der' as const };
        return cryptoVerify(digest, data, options, signature) ? 'valid' : 'invalid';
      }
      case 'rsa-pss': {
        const params = algorithm.algorithmParams
          ? new pkijs.RSASSAPSSParams({ schema: algorithm.algorithmParams })
          : new pkijs.RSASSAPSSParams();
        const digest = DIGEST_OIDS[params.hashAlgorithm.algorithmId];
        if (!digest) return 'unsupported';
        if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'rsa-pss') return 'invalid';
        return cryptoVerify(
          digest,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength },
          signature,
        )
          ? 'valid'
          : 'invalid';
      }
      case 'eddsa':
        return cryptoVerify(null, data, key, signature) ? 'valid' : 'invalid';
    }
  } catch {
    return 'invalid';
  }
}
