/**
 * The DER reader and writer the signature formats share, checked against
 * known encodings (X.690 examples, openssl output) and node:crypto.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Asn1Error,
  TAG,
  childrenOf,
  ctx,
  ecdsaDerToRaw,
  ecdsaRawToDer,
  int,
  octetString,
  octetsOf,
  oid,
  publicKeyOf,
  readCertificate,
  readOid,
  readRoot,
  readTime,
  readTlv,
  seq,
  setOf,
  time,
  toDer,
  unsignedInt,
} from './asn1.js';
import { TestPki, standardPeople } from './testing/pki.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('writing', () => {
  it('encodes OIDs, integers, times and lengths as X.690 DER', () => {
    expect(hex(oid('1.2.840.113549.1.7.2'))).toBe('06092a864886f70d010702');
    expect(hex(oid('2.16.840.1.101.3.4.2.1'))).toBe('0609608648016503040201');
    expect(hex(oid('2.999.3'))).toBe('0603883703');
    expect(() => oid('1.40')).toThrow(RangeError);
    expect(hex(toDer(int(0)))).toBe('020100');
    expect(hex(toDer(int(128)))).toBe('02020080');
    expect(hex(toDer(int(65535)))).toBe('020300ffff');
    expect(hex(toDer(unsignedInt(fromHex('0000ff01'))))).toBe('020300ff01');
    expect(hex(toDer(unsignedInt(fromHex('0001'))))).toBe('020101');
    expect(hex(toDer(unsignedInt(fromHex('00'))))).toBe('020100');
    expect(hex(toDer(time(new Date('2026-03-01T09:15:30.999Z'))))).toBe(
      hex(Buffer.from('\x17\x0d260301091530Z', 'latin1')),
    );
    expect(hex(toDer(time(new Date('1949-12-31T23:59:59Z'))))).toBe(
      hex(Buffer.from('\x18\x0f19491231235959Z', 'latin1')),
    );
    expect(hex(toDer(time(new Date('2050-01-01T00:00:00Z'))))).toBe(
      hex(Buffer.from('\x18\x0f20500101000000Z', 'latin1')),
    );
    // Long-form lengths.
    expect(hex(toDer(octetString(new Uint8Array(127)))).slice(0, 4)).toBe('047f');
    expect(hex(toDer(octetString(new Uint8Array(128)))).slice(0, 6)).toBe('048180');
    expect(hex(toDer(octetString(new Uint8Array(70000)))).slice(0, 10)).toBe('0483011170');
    const big = toDer(seq(ctx(0, octetString(new Uint8Array(1 << 20).fill(7)))));
    expect(big.length).toBe((1 << 20) + 5 + 5 + 5); // three headers with 3-byte lengths
    expect(octetsOf(big, childrenOf(big, childrenOf(big, readRoot(big))[0]!)[0]!).every((b) => b === 7)).toBe(true);
  });

  it('sorts a SET OF by encoding', () => {
    // X.690 11.6: compared as octet strings (TLV encodings are prefix-free, so no padding question arises).
    const sorted = toDer(setOf([fromHex('04020000'), fromHex('0401ff'), fromHex('020101'), fromHex('0400')]));
    expect(hex(sorted)).toBe('310c' + '020101' + '0400' + '0401ff' + '04020000');
  });
});

describe('reading', () => {
  it('reads DER and BER (indefinite lengths, constructed OCTET STRING) and refuses malformed input', () => {
    const ber = fromHex('30 80 24 80 04 02 61 62 04 01 63 00 00 06 03 2a 03 04 00 00');
    const root = readRoot(ber);
    const [octets, id] = childrenOf(ber, root);
    expect(Buffer.from(octetsOf(ber, octets!)).toString()).toBe('abc');
    expect(readOid(ber, id)).toBe('1.2.3.4');
    for (const bad of [
      '',
      '30',
      '3004020101',
      '300302010100',
      '0480',
      '3085ffffffffff',
      '1f',
      '060181',
      '06028001',
      '0600',
    ]) {
      expect(() => {
        const b = fromHex(bad);
        const t = readRoot(b);
        if (t.constructed) childrenOf(b, t);
        if (t.tag === TAG.oid) readOid(b, t);
      }, bad).toThrow(Asn1Error);
    }
    // Deep nesting of indefinite lengths stops, not overflows the stack.
    const deep = fromHex('3080'.repeat(100));
    expect(() => readTlv(deep, 0)).toThrow(Asn1Error);
  });

  it('reads UTCTime and GeneralizedTime, with offsets and fractions', () => {
    const t = (tag: number, text: string) => {
      const b = Buffer.concat([Buffer.of(tag, text.length), Buffer.from(text, 'latin1')]);
      return readTime(b, readRoot(b))?.toISOString() ?? null;
    };
    expect(t(TAG.utcTime, '260301091530Z')).toBe('2026-03-01T09:15:30.000Z');
    expect(t(TAG.utcTime, '491231235959Z')).toBe('2049-12-31T23:59:59.000Z');
    expect(t(TAG.utcTime, '500101000000Z')).toBe('1950-01-01T00:00:00.000Z');
    expect(t(TAG.utcTime, '2603010915+0500')).toBe('2026-03-01T04:15:00.000Z');
    expect(t(TAG.generalizedTime, '20260301091530.25+0500')).toBe('2026-03-01T04:15:30.250Z');
    expect(t(TAG.generalizedTime, '20510630235958Z')).toBe('2051-06-30T23:59:58.000Z');
    expect(t(TAG.utcTime, 'junk')).toBeNull();
    expect(t(TAG.integer, '1')).toBeNull();
  });
});

describe('ECDSA values', () => {
  it('converts DER to r||s and back, with leading zeros and high bits', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const der = sign('sha256', data, privateKey);
      const raw = ecdsaDerToRaw(der, 32);
      expect(raw).toHaveLength(64);
      expect(verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      expect(ecdsaRawToDer(raw)).toEqual(der);
    }
    const r = Buffer.alloc(32, 0);
    r[31] = 1;
    const s = Buffer.alloc(32, 0xff);
    const der = ecdsaRawToDer(Buffer.concat([r, s]));
    expect(hex(der)).toBe('3026' + '020101' + '022100' + 'ff'.repeat(32));
    expect(ecdsaDerToRaw(der, 32)).toEqual(Buffer.concat([r, s]));
    expect(() => ecdsaDerToRaw(der, 16)).toThrow(Asn1Error);
    expect(() => ecdsaDerToRaw(fromHex('3003020101'), 32)).toThrow(Asn1Error);
  });
});

describe('certificates', () => {
  let people: ReturnType<typeof standardPeople>;
  beforeAll(() => {
    people = standardPeople(new TestPki(mkdtempSync(join(tmpdir(), 'qyzmet-asn1-'))));
  });

  it('reads serial, issuer, subject, key and key identifier as node:crypto and openssl see them', () => {
    for (const person of [people.head, people.employeeEc]) {
      const info = readCertificate(person.certDer);
      const x509 = new X509Certificate(person.certDer);
      const serial = readRoot(info.serialNumber);
      const serialHex = hex(info.serialNumber.subarray(serial.valueStart)).replace(/^00/, '').toUpperCase();
      expect(serialHex).toBe(x509.serialNumber);
      expect(publicKeyOf(info).equals(x509.publicKey)).toBe(true);
      const ski = execFileSync('openssl', ['x509', '-noout', '-ext', 'subjectKeyIdentifier', '-in', person.certPath], {
        encoding: 'utf8',
      });
      expect(hex(info.subjectKeyIdentifier!).toUpperCase()).toBe(ski.split('\n')[1]!.trim().replace(/:/g, ''));
      expect(info.issuer.length).toBeGreaterThan(10);
      expect(Buffer.from(info.subject).includes(Buffer.from('СЕРГЕЕВ', 'utf8'))).toBe(person === people.employeeEc);
    }
    expect(() => readCertificate(fromHex('3003020101'))).toThrow(Asn1Error);
  });
});

describe('ecdsaRawToDer (the answer of CKM_ECDSA)', () => {
  it('turns r||s into the DER node:crypto verifies, over many signatures (high bits, short integers)', () => {
    for (const namedCurve of ['P-256', 'P-384', 'P-521']) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve });
      for (let i = 0; i < 60; i++) {
        const data = Buffer.from(`document ${namedCurve} ${i}`);
        const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
        const der = ecdsaRawToDer(raw);
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
    const der = ecdsaRawToDer(Uint8Array.from([...r, ...s]));
    expect(Buffer.from(der).toString('hex')).toBe('3026' + '020101' + '022100' + 'ff'.repeat(32));
  });

  it('uses the long length form past 127 bytes (P-521)', () => {
    const raw = new Uint8Array(132).fill(0x80);
    const der = ecdsaRawToDer(raw);
    expect(der[0]).toBe(0x30);
    expect(der[1]).toBe(0x81); // one length byte follows
    expect(der[2]).toBe(der.length - 3);
  });

  it('refuses an odd or empty input', () => {
    expect(() => ecdsaRawToDer(new Uint8Array(63))).toThrow(Asn1Error);
    expect(() => ecdsaRawToDer(new Uint8Array(0))).toThrow(Asn1Error);
  });
});
