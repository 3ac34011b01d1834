import { constants, createHash, generateKeyPairSync, privateEncrypt, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rawEcdsaToDer, sha256DigestInfo } from './der.js';

describe('rawEcdsaToDer', () => {
  it('turns r||s into the DER node:crypto verifies, over many signatures (high bits, short integers)', () => {
    for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      for (let i = 0; i < 60; i++) {
        const data = Buffer.from(`document ${namedCurve} ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = rawEcdsaToDer(raw);
        expect(verify('sha256', data, publicKey, der), `${namedCurve} #${i}`).toBe(true);
        // And back: node reads our DER as the same (r, s).
        expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      }
    }
  });

  it('drops leading zeros and adds 0x00 before a set top bit', () => {
    const r = new Uint8Array(32);
    r[31] = 0x01; // r = 1: 31 leading zeros
    const s = new Uint8Array(32).fill(0xff); // s has the top bit set
    const der = rawEcdsaToDer(Uint8Array.from([...r, ...s]));
    expect(Buffer.from(der).toString('hex')).toBe('3026' + '020101' + '022100' + 'ff'.repeat(32));
  });

  it('uses the long length form past 127 bytes (P-521)', () => {
    const raw = new Uint8Array(132).fill(0x80);
    const der = rawEcdsaToDer(raw);
    expect(der[0]).toBe(0x30);
    expect(der[1]).toBe(0x81); // one length byte follows
    expect(der[2]).toBe(der.length - 3);
  });

  it('refuses an odd or empty input', () => {
    expect(() => rawEcdsaToDer(new Uint8Array(63))).toThrow(RangeError);
    expect(() => rawEcdsaToDer(new Uint8Array(0))).toThrow(RangeError);
  });
});

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
