/**
 * The DigestInfo that CKM_RSA_PKCS signs when the token lacks CKM_SHA256_RSA_PKCS. (CKM_ECDSA's raw r||s
 * becomes the Ecdsa-Sig-Value verifiers expect through asn1.ts's ecdsaRawToDer, the library's one converter.)
 */

/** DER prefix of DigestInfo { AlgorithmIdentifier sha256 (NULL parameters), OCTET STRING(32) } (RFC 8017 §9.2 note 1). */
const SHA256_DIGEST_INFO_PREFIX = Uint8Array.from([
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20,
]);

/** DigestInfo over a SHA-256 hash: what PKCS#1 v1.5 (sha256WithRSAEncryption) pads and signs. */
export function sha256DigestInfo(hash: Uint8Array): Uint8Array {
  if (hash.length !== 32) throw new RangeError(`a SHA-256 hash has 32 bytes, not ${hash.length}`);
  const out = new Uint8Array(SHA256_DIGEST_INFO_PREFIX.length + 32);
  out.set(SHA256_DIGEST_INFO_PREFIX);
  out.set(hash, SHA256_DIGEST_INFO_PREFIX.length);
  return out;
}
