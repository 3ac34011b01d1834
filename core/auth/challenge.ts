/**
 * The challenge an EDS login signs: a fresh random nonce (the central
 * server's when online, this workstation's otherwise) bound to this device
 * and a time, written as a small canonical JSON document; and the check of
 * the signature over it with the certificate's public key.
 */
import { constants, randomBytes, verify, X509Certificate } from 'node:crypto';

/** A challenge to sign: a random nonce (base64) and the times it is good between. */
export interface LoginChallenge {
  nonce: string;
  issuedAt: number;
  expiresAt: number;
}

export const CHALLENGE_TTL_MS = 60_000;

/** A challenge made on this workstation (offline). */
export function localChallenge(now: number, ttlMs = CHALLENGE_TTL_MS): LoginChallenge {
  return { nonce: randomBytes(32).toString('base64'), issuedAt: now, expiresAt: now + ttlMs };
}

/** The bytes the key signs: purpose, nonce, device and times, keys in a fixed order. */
export function challengeDocument(challenge: LoginChallenge, deviceId: string): Uint8Array {
  const doc = {
    purpose: 'qyzmet-login',
    nonce: challenge.nonce,
    deviceId,
    issuedAt: new Date(challenge.issuedAt).toISOString(),
    expiresAt: new Date(challenge.expiresAt).toISOString(),
  };
  return Buffer.from(JSON.stringify(doc), 'utf8');
}

/** Whether `signature` (SHA-256; RSA PKCS#1 v1.5 or DER ECDSA, as SigningKey.sign makes it) is over `data` by `certificate`'s key. */
export function verifyChallengeSignature(data: Uint8Array, signature: Uint8Array, certificate: Uint8Array): boolean {
  try {
    const key = new X509Certificate(certificate).publicKey;
    const type = key.asymmetricKeyType;
    if (type === 'rsa') return verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    if (type === 'ec') return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
    return false;
  } catch {
    return false;
  }
}
