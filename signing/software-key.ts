/**
 * A SigningKey held in memory as a node:crypto KeyObject: what a key file
 * gives once opened. The key never leaves main; it is dropped with the object.
 */
import { createPrivateKey, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { SigningError } from './errors.js';
import type { SigningKey } from './types.js';

export interface SoftwareKeyInput {
  key: KeyObject | string; // a KeyObject, or PKCS#8 / PKCS#1 / SEC1 PEM
  certificate: Uint8Array;
  chain?: readonly Uint8Array[];
  label: string;
}

export function softwareKey(input: SoftwareKeyInput): SigningKey {
  const key = typeof input.key === 'string' ? createPrivateKey(input.key) : input.key;
  const type = key.asymmetricKeyType;
  if (type !== 'rsa' && type !== 'ec') {
    throw new SigningError('unsupportedAlgorithm', { algorithm: String(type) });
  }
  const algorithm = type;
  return {
    source: 'keyfile',
    label: input.label,
    certificate: input.certificate,
    chain: input.chain ?? [],
    algorithm,
    // DER-encoded ECDSA signatures (the node default) and PKCS#1 v1.5 for RSA.
    sign: (data) => Promise.resolve(new Uint8Array(cryptoSign('sha256', data, key))),
  };
}
