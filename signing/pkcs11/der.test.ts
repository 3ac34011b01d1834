import { constants, createHash, generateKeyPairSync, privateEncrypt, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256DigestInfo } from './der.js';

describe('sha256DigestInfo', () => {
  it('is what PKCS#1 v1.5 signs: raw RSA over it equals sha256WithRSAEncryption', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const data = Buffer.from('қолтаңба / подпись / signature');
    const digestInfo = sha256DigestInfo(createHash('sha256').update(data).digest());
    const raw = privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, digestInfo);
    expect(raw.equals(sign('sha256', data, privateKey))).toBe(true);
  });

  it('wants a 32-byte hash', () => {
    expect(() => sha256DigestInfo(new Uint8Array(20))).toThrow(RangeError);
  });
});
