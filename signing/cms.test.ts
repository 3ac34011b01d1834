/**
 * CMS signing, co-signing, timestamp placement and verification, checked by
 * our own verifier and by `openssl cms -verify` against the test PKI.
 *
 * openssl runs without `-purpose any`, i.e. with its default S/MIME signing
 * purpose check: the test people's signing certificates (RSA and EC) carry
 * emailProtection and digitalSignature/nonRepudiation, as NCA signing
 * certificates do, so they pass it, and openssl checks the chain to the test
 * root, every signer's signature and the content. (An authentication
 * certificate, clientAuth only, fails with "unsuitable certificate purpose";
 * `-purpose any` would be the switch if a test ever needed one. Whether a
 * certificate may sign is the trust module's decision, not this one's.)
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { childrenOf, encodingOf, readRoot } from './asn1.js';
import {
  CMS_OID,
  addTimestampToken,
  addUnsignedAttribute,
  cosignCms,
  parseCms,
  signCms,
  signatureValueOf,
  verifyCmsSignatures,
} from './cms.js';
import { isSigningError } from './errors.js';
import { softwareKey } from './software-key.js';
import { TestPki, standardPeople, type Person } from './testing/pki.js';
import type { SigningKey } from './types.js';

let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
let dir: string;
let keys: { sign: SigningKey; head: SigningKey; ec: SigningKey };
let fileNo = 0;

const DOC = Buffer.from('Анықтама № 17: Серікқызы Гүлнар — жұмыссыз ретінде тіркелген.\n', 'utf8');

function keyOf(person: Person, chain: Uint8Array[] = []): SigningKey {
  return softwareKey({ key: person.keyPem, certificate: person.certDer, chain, label: person.name });
}

function file(name: string, data: Uint8Array | string): string {
  const path = join(dir, `${fileNo++}-${name}`);
  writeFileSync(path, data);
  return path;
}

function openssl(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `openssl cms -verify` of a DER CMS (all signers); returns the exit status and what it wrote out. */
function opensslVerify(cms: Uint8Array, content?: Uint8Array): { status: number | null; out: Buffer; stderr: string } {
  const input = file('sig.p7s', cms);
  const out = join(dir, `${fileNo++}-out.bin`);
  const args = ['cms', '-verify', '-binary', '-inform', 'DER', '-in', input, '-CAfile', pki.chainPath, '-out', out];
  if (content) args.push('-content', file('doc.bin', content));
  const r = openssl(args);
  let written = Buffer.alloc(0);
  try {
    written = readFileSync(out);
  } catch {
    // nothing written
  }
  return { status: r.status, out: written, stderr: r.stderr };
}

/** The whole encodings of the SignerInfos of a CMS. */
function signerInfoEncodings(cms: Uint8Array): Buffer[] {
  const root = readRoot(cms);
  const sd = childrenOf(cms, childrenOf(cms, root)[1]!)[0]!;
  const fields = childrenOf(cms, sd);
  const signerInfos = fields[fields.length - 1]!;
  return childrenOf(cms, signerInfos).map((t) => Buffer.from(encodingOf(cms, t)));
}

function flipByteAt(data: Uint8Array, offset: number): Uint8Array {
  const copy = Uint8Array.from(data);
  copy[offset]! ^= 0x01;
  return copy;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-cms-'));
  pki = new TestPki(dir);
  people = standardPeople(pki);
  keys = { sign: keyOf(people.sign), head: keyOf(people.head), ec: keyOf(people.employeeEc) };
});

describe('signCms', () => {
  it('makes an attached CMS that both verifiers accept, with the four signed attributes', async () => {
    const signingTime = new Date('2026-03-01T09:15:30.789Z');
    const cms = await signCms(DOC, keys.sign, { signingTime });

    const checks = verifyCmsSignatures(cms);
    expect(checks).toEqual([
      {
        index: 0,
        ok: true,
        certificate: Uint8Array.from(people.sign.certDer),
        signingTime: new Date('2026-03-01T09:15:30Z'),
      },
    ]);

    const parsed = parseCms(cms);
    expect(parsed.detached).toBe(false);
    expect(Buffer.from(parsed.content!)).toEqual(DOC);
    expect(parsed.contentType).toBe(CMS_OID.data);
    expect(parsed.certificates.map((c) => Buffer.from(c))).toEqual([people.sign.certDer]);
    expect(parsed.signers).toEqual([
      {
        certificate: Uint8Array.from(people.sign.certDer),
        signingTime: new Date('2026-03-01T09:15:30Z'),
        digestAlgorithm: 'sha256',
        signatureAlgorithm: 'sha256WithRSAEncryption',
        hasSigningCertificateV2: true,
        timestampToken: null,
      },
    ]);

    const r = opensslVerify(cms);
    expect(r.stderr).toContain('Verification successful');
    expect(r.status).toBe(0);
    expect(r.out).toEqual(DOC);

    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file('print.p7s', cms)]);
    expect(printed.status).toBe(0);
    const attrTypes = [...printed.stdout.matchAll(/object: (\S+) \((\S+)\)/g)].map((m) => m[1]);
    expect(attrTypes).toEqual(
      expect.arrayContaining(['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2']),
    );
    expect(printed.stdout).toContain('UTCTIME:Mar  1 09:15:30 2026 GMT');
    expect(printed.stdout).toContain('sha256WithRSAEncryption');
    // messageDigest, as openssl dumps it, is the SHA-256 of the document.
    const section = printed.stdout.split('object: messageDigest')[1]!.split('object:')[0]!;
    const dumped = [...section.matchAll(/^\s*[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){0,15}[0-9a-f]{2})/gm)]
      .map((m) => m[1]!.replace(/[ -]/g, ''))
      .join('');
    expect(dumped).toBe(createHash('sha256').update(DOC).digest('hex'));
  });

  it('makes a detached CMS: content given to the verifiers separately, contentMissing without it', async () => {
    const cms = await signCms(DOC, keys.head, { detached: true });
    const parsed = parseCms(cms);
    expect(parsed.detached).toBe(true);
    expect(parsed.content).toBeNull();
    expect(cms.length).toBeLessThan(DOC.length + 3000);

    expect(verifyCmsSignatures(cms, { content: DOC })).toMatchObject([{ index: 0, ok: true }]);
    expect(() => verifyCmsSignatures(cms)).toThrowError(
      expect.objectContaining({ name: 'SigningError', code: 'contentMissing' }),
    );
    const other = Buffer.from(DOC);
    other[0]! ^= 1;
    expect(verifyCmsSignatures(cms, { content: other })).toMatchObject([
      { index: 0, ok: false, code: 'contentMismatch' },
    ]);

    const r = opensslVerify(cms, DOC);
    expect(r.status).toBe(0);
    expect(r.out).toEqual(DOC);
    expect(opensslVerify(cms, other).status).not.toBe(0);
  });

  it('signs with an EC P-256 key (ecdsa-with-SHA256)', async () => {
    const cms = await signCms(DOC, keys.ec);
    expect(parseCms(cms).signers[0]).toMatchObject({
      signatureAlgorithm: 'ecdsa-with-SHA256',
      digestAlgorithm: 'sha256',
    });
    expect(verifyCmsSignatures(cms)).toMatchObject([
      { ok: true, certificate: Uint8Array.from(people.employeeEc.certDer) },
    ]);
    expect(opensslVerify(cms).status).toBe(0);
  });

  it('adds the chain when asked', async () => {
    const key = keyOf(people.sign, [pki.ca.certDer]);
    const without = parseCms(await signCms(DOC, key));
    const withChain = parseCms(await signCms(DOC, key, { includeChain: true }));
    expect(without.certificates).toHaveLength(1);
    expect(withChain.certificates.map((c) => Buffer.from(c))).toEqual([people.sign.certDer, pki.ca.certDer]);
  });

  it('refuses a key that is not the certificate’s', async () => {
    const wrong = softwareKey({ key: people.head.keyPem, certificate: people.sign.certDer, label: 'wrong' });
    await expect(signCms(DOC, wrong)).rejects.toSatisfy((e) => isSigningError(e, 'signatureInvalid'));
    const ecKeyRsaCert = softwareKey({ key: people.employeeEc.keyPem, certificate: people.sign.certDer, label: 'x' });
    await expect(signCms(DOC, ecKeyRsaCert)).rejects.toSatisfy((e) => isSigningError(e, 'unsupportedAlgorithm'));
  });
});

describe('cosignCms', () => {
  it('adds the head after the executor, keeping the executor’s SignerInfo byte for byte (RSA, attached)', async () => {
    const first = await signCms(DOC, keys.sign, { signingTime: new Date('2026-03-01T09:00:00Z') });
    const both = await cosignCms(first, keys.head, { signingTime: new Date('2026-03-01T10:00:00Z') });

    const [executorBefore] = signerInfoEncodings(first);
    const [executorAfter, head] = signerInfoEncodings(both);
    expect(executorAfter).toEqual(executorBefore);
    expect(head).toBeDefined();

    const parsed = parseCms(both);
    expect(parsed.certificates.map((c) => Buffer.from(c))).toEqual([people.sign.certDer, people.head.certDer]);
    expect(parsed.signers.map((s) => s.signingTime?.toISOString())).toEqual([
      '2026-03-01T09:00:00.000Z',
      '2026-03-01T10:00:00.000Z',
    ]);
    expect(verifyCmsSignatures(both)).toEqual([
      {
        index: 0,
        ok: true,
        certificate: Uint8Array.from(people.sign.certDer),
        signingTime: new Date('2026-03-01T09:00:00Z'),
      },
      {
        index: 1,
        ok: true,
        certificate: Uint8Array.from(people.head.certDer),
        signingTime: new Date('2026-03-01T10:00:00Z'),
      },
    ]);
    const r = opensslVerify(both);
    expect(r.status).toBe(0);
    expect(r.out).toEqual(DOC);

    // A third signature does not add the certificate twice.
    const again = parseCms(await cosignCms(both, keys.head));
    expect(again.signers).toHaveLength(3);
    expect(again.certificates).toHaveLength(2);
  });

  it('co-signs a detached CMS with EC then RSA, and needs the content to do so', async () => {
    const first = await signCms(DOC, keys.ec, { detached: true });
    await expect(cosignCms(first, keys.head)).rejects.toSatisfy((e) => isSigningError(e, 'contentMissing'));
    const both = await cosignCms(first, keys.head, { content: DOC });
    expect(signerInfoEncodings(both)[0]).toEqual(signerInfoEncodings(first)[0]);
    expect(parseCms(both).signers.map((s) => s.signatureAlgorithm)).toEqual([
      'ecdsa-with-SHA256',
      'sha256WithRSAEncryption',
    ]);
    expect(verifyCmsSignatures(both, { content: DOC })).toMatchObject([
      { index: 0, ok: true },
      { index: 1, ok: true },
    ]);
    expect(opensslVerify(both, DOC).status).toBe(0);
  });

  it('refuses content that differs from the attached content', async () => {
    const first = await signCms(DOC, keys.sign);
    await expect(cosignCms(first, keys.head, { content: Buffer.from('other') })).rejects.toSatisfy((e) =>
      isSigningError(e, 'contentMismatch'),
    );
  });

  it('reads and co-signs a BER CMS made by openssl (indefinite lengths, constructed content)', async () => {
    const doc = file('doc.txt', DOC);
    const ber = join(dir, 'openssl-ber.p7s');
    const r = openssl([
      'cms', '-sign', '-binary', '-nodetach', '-stream', '-outform', 'DER', '-md', 'sha256',
      '-in', doc, '-signer', people.sign.certPath, '-inkey', people.sign.keyPath, '-out', ber,
    ]); // prettier-ignore
    expect(r.stderr).toBe('');
    const der = readFileSync(ber);
    expect(der[1]).toBe(0x80); // indefinite length: BER, not DER

    expect(Buffer.from(parseCms(der).content!)).toEqual(DOC);
    expect(verifyCmsSignatures(der)).toMatchObject([{ ok: true }]);
    const both = await cosignCms(der, keys.head);
    expect(verifyCmsSignatures(both)).toMatchObject([{ ok: true }, { ok: true }]);
    expect(opensslVerify(both).status).toBe(0);
  });
});

describe('verifyCmsSignatures', () => {
  it('finds a signer by subject key identifier and checks a signature without signed attributes (openssl -keyid -noattr)', () => {
    const doc = file('doc.txt', DOC);
    const out = join(dir, 'keyid-noattr.p7s');
    const r = openssl([
      'cms', '-sign', '-binary', '-noattr', '-keyid', '-outform', 'DER', '-md', 'sha256',
      '-in', doc, '-signer', people.head.certPath, '-inkey', people.head.keyPath, '-out', out,
    ]); // prettier-ignore
    expect(r.status).toBe(0);
    const cms = readFileSync(out);
    const parsed = parseCms(cms);
    expect(parsed.detached).toBe(true);
    expect(parsed.signers).toEqual([
      {
        certificate: Uint8Array.from(people.head.certDer),
        signingTime: null,
        digestAlgorithm: 'sha256',
        signatureAlgorithm: 'rsaEncryption',
        hasSigningCertificateV2: false,
        timestampToken: null,
      },
    ]);
    expect(verifyCmsSignatures(cms, { content: DOC })).toEqual([
      { index: 0, ok: true, certificate: Uint8Array.from(people.head.certDer), signingTime: null },
    ]);
    // Without a messageDigest attribute, other content shows as a signature that does not verify.
    expect(verifyCmsSignatures(cms, { content: Buffer.from('other') })).toMatchObject([
      { ok: false, code: 'signatureInvalid' },
    ]);
  });

  it('looks the signer up in extra certificates when the CMS carries none (openssl -nocerts)', () => {
    const out = join(dir, 'nocerts.p7s');
    const r = openssl([
      'cms', '-sign', '-binary', '-nocerts', '-nodetach', '-outform', 'DER', '-md', 'sha256',
      '-in', file('doc.txt', DOC), '-signer', people.sign.certPath, '-inkey', people.sign.keyPath, '-out', out,
    ]); // prettier-ignore
    expect(r.status).toBe(0);
    const cms = readFileSync(out);
    expect(parseCms(cms).signers[0]!.certificate).toBeNull();
    expect(verifyCmsSignatures(cms)).toMatchObject([{ ok: false, code: 'signatureInvalid', certificate: null }]);
    expect(verifyCmsSignatures(cms, { certificates: [people.head.certDer, people.sign.certDer] })).toMatchObject([
      { ok: true, certificate: Uint8Array.from(people.sign.certDer) },
    ]);
  });

  it('says unsupportedAlgorithm for a signature algorithm it does not know (e.g. GOST)', async () => {
    const cms = Buffer.from(await signCms(DOC, keys.sign));
    const sha256WithRsa = Buffer.from('06092a864886f70d01010b', 'hex');
    const at = cms.lastIndexOf(sha256WithRsa); // the SignerInfo's, after the certificate's
    const changed = Buffer.from(cms);
    changed[at + sha256WithRsa.length - 1] = 0x7f; // 1.2.840.113549.1.1.127
    expect(parseCms(changed).signers[0]!.signatureAlgorithm).toBe('1.2.840.113549.1.1.127');
    expect(verifyCmsSignatures(changed)).toMatchObject([{ ok: false, code: 'unsupportedAlgorithm' }]);
  });

  it('writes signingTime from 2050 on as GeneralizedTime and reads it back', async () => {
    const when = new Date('2051-06-30T23:59:58Z');
    const cms = await signCms(DOC, keys.ec, { signingTime: when });
    expect(parseCms(cms).signers[0]!.signingTime).toEqual(when);
    expect(Buffer.from(cms).includes(Buffer.from('180f32303531303633303233353935385a', 'hex'))).toBe(true);
    expect(verifyCmsSignatures(cms)).toMatchObject([{ ok: true, signingTime: when }]);
  });

  it('says contentMismatch for changed content and signatureInvalid for a changed signature', async () => {
    const cms = await signCms(DOC, keys.sign);
    const at = Buffer.from(cms).indexOf(DOC);
    expect(at).toBeGreaterThan(0);
    const changedContent = flipByteAt(cms, at + 5);
    expect(verifyCmsSignatures(changedContent)).toMatchObject([{ ok: false, code: 'contentMismatch' }]);
    expect(opensslVerify(changedContent).status).not.toBe(0);

    const signature = signatureValueOf(cms, 0);
    const sigAt = Buffer.from(cms).indexOf(signature);
    const changedSignature = flipByteAt(cms, sigAt + 100);
    expect(verifyCmsSignatures(changedSignature)).toMatchObject([
      { ok: false, code: 'signatureInvalid', certificate: Uint8Array.from(people.sign.certDer) },
    ]);
    expect(opensslVerify(changedSignature).status).not.toBe(0);

    const ec = await signCms(DOC, keys.ec);
    const ecSig = signatureValueOf(ec, 0);
    const changedEc = flipByteAt(ec, Buffer.from(ec).indexOf(ecSig) + ecSig.length - 3);
    expect(verifyCmsSignatures(changedEc)).toMatchObject([{ ok: false, code: 'signatureInvalid' }]);
  });

  it('flags only the broken signer of a co-signed CMS', async () => {
    const both = await cosignCms(await signCms(DOC, keys.sign), keys.head);
    const headSig = signatureValueOf(both, 1);
    const broken = flipByteAt(both, Buffer.from(both).indexOf(headSig) + 7);
    expect(verifyCmsSignatures(broken)).toMatchObject([
      { index: 0, ok: true },
      { index: 1, ok: false, code: 'signatureInvalid' },
    ]);
  });

  it('says signatureInvalid when signingCertificateV2 names another certificate than the one that verifies', async () => {
    const cms = Buffer.from(await signCms(DOC, keys.sign));
    // Swap the certificate for one with the same key but another serial: find it via the cert hash in the attribute.
    const certHash = createHash('sha256').update(people.sign.certDer).digest();
    const at = cms.indexOf(certHash);
    expect(at).toBeGreaterThan(0);
    // Changing the attribute changes the signed bytes: the signature check catches it first.
    expect(verifyCmsSignatures(flipByteAt(cms, at))).toMatchObject([{ ok: false, code: 'signatureInvalid' }]);
  });

  it('says malformedSignature for garbage, truncation and other content types', async () => {
    const cms = await signCms(DOC, keys.sign);
    const garbage = [
      new Uint8Array(0),
      Buffer.from('not a signature at all'),
      cms.subarray(0, cms.length - 10),
      Buffer.concat([cms, Buffer.of(0)]),
      Buffer.from('3003020101', 'hex'),
      Buffer.from('300d06092a864886f70d010701a000', 'hex'), // ContentInfo of id-data
      Buffer.from('3080', 'hex'),
    ];
    for (const g of garbage) {
      expect(() => parseCms(g)).toThrowError(expect.objectContaining({ code: 'malformedSignature' }));
      expect(() => verifyCmsSignatures(g, { content: DOC })).toThrowError(
        expect.objectContaining({ code: 'malformedSignature' }),
      );
    }
  });

  it('never verifies damaged content, signed attributes, signature or certificate, and only fails as SigningError', async () => {
    const cms = await signCms(DOC, keys.sign);
    const signerInfo = signerInfoEncodings(cms)[0]!;
    const signerAt = Buffer.from(cms).indexOf(signerInfo);
    const signerFields = childrenOf(signerInfo, readRoot(signerInfo));
    const signedAttrs = signerFields[3]!; // version, sid, digestAlgorithm, [0] signedAttrs
    expect(signedAttrs.tag).toBe(0xa0);
    const contentAt = Buffer.from(cms).indexOf(DOC);
    // Everything from the content to the end of the signed attributes (content, certificate, SignerInfo head)
    // except the SignerInfo's version, which no signature covers; then the signature value.
    const covered: number[] = [];
    for (let i = contentAt; i < signerAt + signedAttrs.end; i++) {
      if (i < signerAt || i >= signerAt + signerFields[1]!.start) covered.push(i);
    }
    const signature = signatureValueOf(cms, 0);
    const sigAt = Buffer.from(cms).indexOf(signature);
    for (let i = sigAt; i < sigAt + signature.length; i++) covered.push(i);

    let random = 0x12345678;
    const next = () => (random = (random * 1103515245 + 12345) >>> 0);
    let results = 0;
    let thrown = 0;
    for (let n = 0; n < 400; n++) {
      const damaged = Uint8Array.from(cms);
      const at = covered[next() % covered.length]!;
      damaged[at]! ^= 1 + (next() % 255);
      try {
        const checks = verifyCmsSignatures(damaged);
        results++;
        expect(
          checks.some((c) => c.ok),
          `damage at ${at} verified`,
        ).toBe(false);
      } catch (err) {
        thrown++;
        expect(isSigningError(err, 'malformedSignature'), String(err)).toBe(true);
      }
    }
    // Anywhere at all: a result or a SigningError, never another exception.
    for (let n = 0; n < 400; n++) {
      const damaged = Uint8Array.from(cms);
      damaged[next() % damaged.length]! ^= 1 + (next() % 255);
      try {
        verifyCmsSignatures(damaged);
        parseCms(damaged);
      } catch (err) {
        expect(isSigningError(err), String(err)).toBe(true);
      }
    }
    expect(results).toBeGreaterThan(100);
    expect(thrown).toBeGreaterThan(0);
  });

  it('verifies fast enough (rough figures logged, not asserted)', async () => {
    const small = await cosignCms(await signCms(DOC, keys.sign), keys.ec);
    const count = 1000;
    let t = performance.now();
    for (let i = 0; i < count; i++) verifyCmsSignatures(small);
    const perSecond = (count * 2) / ((performance.now() - t) / 1000);

    const megabyte = Buffer.alloc(1 << 20, 0x5a);
    const key = keys.sign;
    for (let i = 0; i < 10; i++) await signCms(megabyte, key); // warm up
    // Medians: a run now and then pays for a garbage collection of the previous megabytes.
    const runs = 40;
    const raw: number[] = [];
    const attached: number[] = [];
    const detached: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      await key.sign(megabyte);
      raw.push(performance.now() - t);
      t = performance.now();
      await signCms(megabyte, key);
      attached.push(performance.now() - t);
      t = performance.now();
      await signCms(megabyte, key, { detached: true });
      detached.push(performance.now() - t);
    }
    const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!.toFixed(2);
    const big = await signCms(megabyte, key);
    const verifying: number[] = [];
    for (let i = 0; i < runs; i++) {
      t = performance.now();
      verifyCmsSignatures(big);
      verifying.push(performance.now() - t);
    }
    console.log(
      `[cms] ${perSecond.toFixed(0)} signer verifications/s (small co-signed CMS, RSA+EC); 1 MB medians: ` +
        `raw key.sign ${median(raw)} ms, attached CMS ${median(attached)} ms, detached ${median(detached)} ms, ` +
        `verify attached ${median(verifying)} ms`,
    );
    expect(verifyCmsSignatures(big)).toMatchObject([{ ok: true }]);
  });
});

describe('timestamps', () => {
  /** An RFC 3161 token from openssl's TSA (the test PKI's TSA certificate) over `data`. */
  function tsaToken(data: Uint8Array): Buffer {
    const config = file(
      'tsa.cnf',
      [
        '[ tsa ]',
        'default_tsa = test_tsa',
        '[ test_tsa ]',
        `serial = ${join(dir, 'tsa-serial')}`,
        'crypto_device = builtin',
        `signer_cert = ${pki.tsa.certPath}`,
        `signer_key = ${pki.tsa.keyPath}`,
        'signer_digest = sha256',
        'default_policy = 1.2.398.3.3.2.6',
        'digests = sha256',
        'accuracy = secs:1',
        'ess_cert_id_alg = sha256',
        '',
      ].join('\n'),
    );
    const query = join(dir, `${fileNo++}-req.tsq`);
    const token = join(dir, `${fileNo++}-token.der`);
    let r = openssl(['ts', '-query', '-data', file('imprint.bin', data), '-sha256', '-cert', '-out', query]);
    expect(r.status).toBe(0);
    r = openssl(['ts', '-reply', '-config', config, '-queryfile', query, '-token_out', '-out', token]);
    expect(r.status).toBe(0);
    return readFileSync(token);
  }

  it('places a TSA token over the signature value on the right signer, keeping both signatures valid', async () => {
    const both = await cosignCms(await signCms(DOC, keys.sign), keys.head);
    const value = signatureValueOf(both, 1);
    expect(value).toHaveLength(256); // RSA-2048
    const token = tsaToken(value);
    // openssl itself agrees the token is over these bytes.
    const check = openssl([
      'ts', '-verify', '-data', file('value.bin', value), '-in', file('token.der', token), '-token_in',
      '-CAfile', pki.chainPath,
    ]); // prettier-ignore
    expect(check.stdout).toContain('Verification: OK');

    const stamped = addTimestampToken(both, 1, token);
    const parsed = parseCms(stamped);
    expect(parsed.signers[0]!.timestampToken).toBeNull();
    expect(Buffer.from(parsed.signers[1]!.timestampToken!)).toEqual(token);
    // The signer's signed part is untouched: its encoding up to the signature is still in there.
    const [executor, head] = signerInfoEncodings(both);
    const [executorAfter, headAfter] = signerInfoEncodings(stamped);
    expect(executorAfter).toEqual(executor);
    expect(headAfter!.subarray(4, head!.length).equals(head!.subarray(4))).toBe(true);

    expect(verifyCmsSignatures(stamped)).toMatchObject([{ ok: true }, { ok: true }]);
    expect(opensslVerify(stamped).status).toBe(0);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file('stamped.p7s', stamped)]);
    expect(printed.stdout).toContain('id-smime-aa-timeStampToken');
  });

  it('refuses a token over another signature and one that is not a token', async () => {
    const both = await cosignCms(await signCms(DOC, keys.sign), keys.head);
    const token = tsaToken(signatureValueOf(both, 0));
    expect(() => addTimestampToken(both, 1, token)).toThrowError(expect.objectContaining({ code: 'contentMismatch' }));
    expect(() => addTimestampToken(both, 0, both)).toThrowError(
      expect.objectContaining({ code: 'malformedSignature' }),
    );
    expect(() => addTimestampToken(both, 2, token)).toThrowError(RangeError);
    expect(Buffer.from(parseCms(addTimestampToken(both, 0, token)).signers[0]!.timestampToken!)).toEqual(token);
  });

  it('appends other unsigned attributes next to existing ones', async () => {
    const cms = await signCms(DOC, keys.ec);
    const once = addUnsignedAttribute(cms, 0, '1.2.3.4.5', [Buffer.from('0c0161', 'hex')]);
    const twice = addUnsignedAttribute(once, 0, '1.2.3.4.6', [Buffer.from('0500', 'hex')]);
    expect(verifyCmsSignatures(twice)).toMatchObject([{ ok: true }]);
    expect(opensslVerify(twice).status).toBe(0);
    const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', file('attrs.p7s', twice)]);
    expect(printed.stdout).toContain('1.2.3.4.5');
    expect(printed.stdout).toContain('1.2.3.4.6');
    expect(() => addUnsignedAttribute(cms, 0, '1.2.3', [Buffer.from('0c05', 'hex')])).toThrowError(
      expect.objectContaining({ code: 'malformedSignature' }),
    );
  });
});
