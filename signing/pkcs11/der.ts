/**
 * The two bits of DER a token signature needs around it: the DigestInfo that
 * CKM_RSA_PKCS signs when the token lacks CKM_SHA256_RSA_PKCS, and the
 * Ecdsa-Sig-Value that X.509/CMS/XMLDSig verifiers expect where CKM_ECDSA
 * answers a raw r||s.
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

function derLength(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

/** A non-negative big-endian integer as DER INTEGER: leading zeros dropped, a 0x00 added when the top bit is set. */
function derUnsignedInteger(bytes: Uint8Array): number[] {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const body = Array.from(bytes.subarray(start));
  if (body.length === 0) body.push(0);
  if ((body[0] ?? 0) & 0x80) body.unshift(0);
  return [0x02, ...derLength(body.length), ...body];
}

/**
 * Converts CKM_ECDSA's answer (r and s, each the curve's byte length, concatenated)
 * to DER Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3).
 */
export function rawEcdsaToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0) {
    throw new RangeError(`an ECDSA r||s signature has an even, non-zero length, not ${raw.length}`);
  }
  const half = raw.length / 2;
  const r = derUnsignedInteger(raw.subarray(0, half));
  const s = derUnsignedInteger(raw.subarray(half));
  const body = [...r, ...s];
  return Uint8Array.from([0x30, ...derLength(body.length), ...body]);
}
