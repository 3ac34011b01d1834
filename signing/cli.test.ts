/**
 * The signer's command line against a real SoftHSM2 token and key files of
 * the tests' CA; what it signs is checked by openssl and xmlsec1 too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXIT, parsePkcs11Uri, runCli } from './cli.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from './testing/softhsm.js';
import { standardPeople, TestPki } from './testing/pki.js';

const PIN = '482916';
const PASSWORD = 'Құпия-сөз 1';

let dir: string;
let pki: TestPki;
let people: ReturnType<typeof standardPeople>;
let hsm: SoftHsm;
let signP12: string;
let headP12: string;
let passwordFile: string;
let pinFile: string;
let trust: string[];
let doc: string;

interface Run {
  code: number;
  out: string;
  err: string;
  json: () => Record<string, unknown>;
}

/** The tool passes the app's English catalogue in (scripts/cli.ts); here, the one text these tests look for. */
const MESSAGES = { 'errors.signing.wrongPassword': 'Wrong key file password.' };

async function cli(args: string[], stdin = ''): Promise<Run> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    stdin: () => Promise.resolve(Buffer.from(stdin)),
    messages: MESSAGES,
  });
  return { code, out, err, json: () => JSON.parse(out) as Record<string, unknown> };
}

const missing = softHsmMissing();
if (missing) console.warn(`cli.test: SoftHSM2 tests skipped: ${missing}`);

describe.skipIf(missing !== null)('signer command line', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-cli-'));
    pki = new TestPki(join(dir, 'pki'));
    people = standardPeople(pki);
    hsm = createSoftHsm(join(dir, 'softhsm'));
    hsm.initToken('CLI TOKEN', '11223344', PIN);
    hsm.importKey('CLI TOKEN', PIN, {
      keyPem: people.head.keyPem,
      certDer: people.head.certDer,
      id: 'c0ffee',
      label: 'head',
    });
    signP12 = join(dir, 'RSA256_sign.p12');
    writeFileSync(signP12, pki.p12(people.sign, PASSWORD, { legacy: true }));
    headP12 = join(dir, 'RSA256_head.p12');
    writeFileSync(headP12, pki.p12(people.head, PASSWORD));
    passwordFile = join(dir, 'password.txt');
    writeFileSync(passwordFile, PASSWORD + '\n');
    pinFile = join(dir, 'pin.txt');
    writeFileSync(pinFile, PIN);
    trust = ['--trust', join(pki.dir, 'root.pem'), '--trust', join(pki.dir, 'ca.pem')];
    writeFileSync(join(dir, 'crl.der'), pki.crl(24));
    doc = join(dir, 'order.xml');
    writeFileSync(doc, '<?xml version="1.0" encoding="UTF-8"?>\n<Order no="7">Анықтама берілсін</Order>\n');
  }, 60_000);

  it('parses pkcs11 URIs', () => {
    expect(parsePkcs11Uri('pkcs11:token=CLI%20TOKEN;id=%c0%ff%ee?module-path=/usr/lib/x.so')).toEqual({
      token: 'CLI TOKEN',
      id: 'c0ffee',
      modulePath: '/usr/lib/x.so',
    });
  });

  it('tokens: lists the token, its key and whose certificate it holds', async () => {
    const r = await cli(['tokens', '--module', hsm.module]);
    expect(r.code).toBe(EXIT.ok);
    const tokens = r.json().tokens as {
      label: string;
      keys: { id: string; uri: string; certificate: { iin: string } }[];
    }[];
    const token = tokens.find((t) => t.label === 'CLI TOKEN');
    expect(token?.keys[0]?.id).toBe('c0ffee');
    expect(token?.keys[0]?.certificate.iin).toBe(people.head.options.iin);
    expect(token?.keys[0]?.uri).toBe('pkcs11:token=CLI%20TOKEN;id=%c0%ff%ee');
  });

  it('cert-info: from a certificate file, a key file (password from a file or stdin) and a token', async () => {
    const cert = await cli(['cert-info', '--cert', people.head.certPath]);
    expect(cert.json()).toMatchObject({ iin: people.head.options.iin, bin: people.head.options.bin, purpose: 'sign' });

    const fromFile = await cli(['cert-info', '--key', signP12, '--password-file', passwordFile]);
    expect(fromFile.code).toBe(EXIT.ok);
    const keys = fromFile.json().keys as { certificate: { iin: string } }[];
    expect(keys[0]?.certificate.iin).toBe(people.sign.options.iin);

    const fromStdin = await cli(['cert-info', '--key', signP12], PASSWORD + '\n');
    expect(fromStdin.code).toBe(EXIT.ok);

    const token = await cli(['cert-info', '--key', 'pkcs11:token=CLI%20TOKEN;id=%c0%ff%ee', '--module', hsm.module]);
    expect(token.json()).toMatchObject({ iin: people.head.options.iin, roles: ['legalEntity', 'head'] });
  });

  it('sign + verify: attached CMS from a key file, checked by openssl too', async () => {
    const out = join(dir, 'attached.p7s');
    const s = await cli(['sign', '--key', signP12, '--password-file', passwordFile, '--in', doc, '--out', out]);
    expect(s.code, s.err).toBe(EXIT.ok);
    const v = await cli([
      'verify',
      '--in',
      out,
      ...trust,
      '--crl',
      join(dir, 'crl.der'),
      '--iin',
      people.sign.options.iin,
    ]);
    expect(v.code, v.err).toBe(EXIT.ok);
    expect(v.json()).toMatchObject({ valid: true, format: 'cms' });
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        out,
        '-CAfile',
        pki.chainPath,
        '-purpose',
        'any',
        '-out',
        join(dir, 'attached.out'),
      ],
      { stdio: 'pipe' },
    );
    expect(readFileSync(join(dir, 'attached.out'), 'utf8')).toBe(readFileSync(doc, 'utf8'));
  });

  it('sign on the token (PIN from a file), detached; the head co-signs; openssl verifies both signers', async () => {
    const first = join(dir, 'detached.p7s');
    const s1 = await cli([
      'sign',
      '--key',
      signP12,
      '--password-file',
      passwordFile,
      '--in',
      doc,
      '--out',
      first,
      '--detached',
    ]);
    expect(s1.code, s1.err).toBe(EXIT.ok);
    const both = join(dir, 'cosigned.p7s');
    const s2 = await cli([
      'sign',
      '--key',
      'pkcs11:token=CLI%20TOKEN;id=%c0%ff%ee',
      '--module',
      hsm.module,
      '--pin-file',
      pinFile,
      '--in',
      doc,
      '--out',
      both,
      '--cosign',
      first,
    ]);
    expect(s2.code, s2.err).toBe(EXIT.ok);
    const v = await cli(['verify', '--in', both, '--content', doc, ...trust, '--crl', join(dir, 'crl.der')]);
    expect(v.code, v.err).toBe(EXIT.ok);
    expect((v.json().signers as unknown[]).length).toBe(2);
    execFileSync(
      'openssl',
      [
        'cms',
        '-verify',
        '-binary',
        '-inform',
        'DER',
        '-in',
        both,
        '-content',
        doc,
        '-CAfile',
        pki.chainPath,
        '-purpose',
        'any',
        '-out',
        '/dev/null',
      ],
      { stdio: 'pipe' },
    );

    // Without the document a detached signature cannot be checked.
    const noContent = await cli(['verify', '--in', both, ...trust]);
    expect(noContent.code).toBe(EXIT.failed);
    expect(noContent.err).toContain('contentMissing');
  });

  it('sign --xml: XMLDSig that xmlsec1 verifies', async () => {
    const out = join(dir, 'signed.xml');
    const s = await cli([
      'sign',
      '--xml',
      '--key',
      headP12,
      '--password-file',
      passwordFile,
      '--in',
      doc,
      '--out',
      out,
    ]);
    expect(s.code, s.err).toBe(EXIT.ok);
    execFileSync(
      'xmlsec1',
      ['--verify', '--trusted-pem', join(pki.dir, 'root.pem'), '--untrusted-pem', join(pki.dir, 'ca.pem'), out],
      { stdio: 'pipe' },
    );
    const v = await cli(['verify', '--in', out, ...trust, '--crl', join(dir, 'crl.der')]);
    expect(v.code, v.err).toBe(EXIT.ok);
    expect(v.json()).toMatchObject({ format: 'xmldsig' });
  });

  it('refusals: wrong password, wrong PIN, a PIN on the command line, tampering, a stranger CA, an IIN mismatch', async () => {
    const out = join(dir, 'x.p7s');
    const wrongPassword = join(dir, 'wrong.txt');
    writeFileSync(wrongPassword, 'nope');
    const wp = await cli(['sign', '--key', signP12, '--password-file', wrongPassword, '--in', doc, '--out', out]);
    expect(wp.code).toBe(EXIT.failed);
    expect(JSON.parse(wp.err)).toMatchObject({ error: { code: 'wrongPassword', message: 'Wrong key file password.' } });

    const wrongPin = await cli(
      ['sign', '--key', 'pkcs11:token=CLI%20TOKEN;id=%c0%ff%ee', '--module', hsm.module, '--in', doc, '--out', out],
      '000000\n',
    );
    expect(wrongPin.code).toBe(EXIT.failed);
    expect(wrongPin.err).toContain('pinIncorrect');

    const onCommandLine = await cli(['sign', '--key', signP12, '--password', PASSWORD, '--in', doc, '--out', out]);
    expect(onCommandLine.code).toBe(EXIT.usage);
    expect(onCommandLine.err).toContain('never taken from the command line');

    const good = join(dir, 'good.p7s');
    await cli(['sign', '--key', signP12, '--password-file', passwordFile, '--in', doc, '--out', good, '--detached']);
    const changed = join(dir, 'changed.xml');
    writeFileSync(changed, readFileSync(doc, 'utf8').replace('7', '8'));
    const tampered = await cli(['verify', '--in', good, '--content', changed, ...trust, '--crl', join(dir, 'crl.der')]);
    expect(tampered.code).toBe(EXIT.failed);
    expect(tampered.err).toContain('contentMismatch');

    const stranger = new TestPki(join(dir, 'stranger'));
    const untrusted = await cli(['verify', '--in', good, '--content', doc, '--trust', join(stranger.dir, 'root.pem')]);
    expect(untrusted.code).toBe(EXIT.failed);
    expect(untrusted.err).toContain('chainUntrusted');

    const mismatch = await cli([
      'verify',
      '--in',
      good,
      '--content',
      doc,
      ...trust,
      '--crl',
      join(dir, 'crl.der'),
      '--iin',
      people.employeeEc.options.iin,
    ]);
    expect(mismatch.code).toBe(EXIT.failed);
    expect(mismatch.err).toContain('iinMismatch');
  }, 30_000);

  it('a revoked signer: verify fails with certRevoked once the CRL says so', async () => {
    const p12 = join(dir, 'RSA256_ec.p12');
    writeFileSync(p12, pki.p12(people.employeeEc, PASSWORD));
    const out = join(dir, 'revoked.p7s');
    expect((await cli(['sign', '--key', p12, '--password-file', passwordFile, '--in', doc, '--out', out])).code).toBe(
      EXIT.ok,
    );
    // Signed before the revocation: a CRL issued later still dates the revocation after the signature.
    await new Promise((r) => setTimeout(r, 1100));
    pki.revoke(people.employeeEc);
    writeFileSync(join(dir, 'crl2.der'), pki.crl(24));
    const later = await cli(['verify', '--in', out, ...trust, '--crl', join(dir, 'crl2.der')]);
    expect(later.code, later.err).toBe(EXIT.ok);
    expect(JSON.stringify(later.json())).toContain('revokedAfterSigning');

    const after = join(dir, 'after.p7s');
    expect((await cli(['sign', '--key', p12, '--password-file', passwordFile, '--in', doc, '--out', after])).code).toBe(
      EXIT.ok,
    );
    const v = await cli(['verify', '--in', after, ...trust, '--crl', join(dir, 'crl2.der')]);
    expect(v.code).toBe(EXIT.failed);
    expect(v.err).toContain('certRevoked');
  }, 30_000);
});
