/**
 * A test CA the server under test trusts: its root and intermediate in a
 * `trusted` folder to pass as `trustDirs`, and signing certificates of the
 * demo users it issues, valid from before the tests' clock.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SigningKey, softwareKey } from '#signing/index.js';
import { TestPki } from '#signing/testing/pki.js';

export interface TrustedPki {
  pki: TestPki;
  /** The folder of the CA's certificates, for startServer's `trustDirs`. */
  trustDir: string;
  /**
   * A folder with the root's and the intermediate's CRLs (nothing revoked, good for 30 days), for startServer's
   * `crlDir`: the server judges a signature only when it can tell its signer's revocation.
   */
  crlDir: string;
  /** A signing key of `user` (full name "SURNAME FIRST PATRONYMIC", IIN), valid from 30 days before `now`. */
  signingKey(user: { fullName: string; iin: string }, now: number): SigningKey;
  remove(): void;
}

export function trustedPki(): TrustedPki {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-pki-'));
  const pki = new TestPki(join(dir, 'ca'));
  const trustDir = join(dir, 'trusted');
  mkdirSync(trustDir);
  writeFileSync(join(trustDir, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trustDir, 'ca.pem'), pki.ca.certPem);
  const crlDir = join(dir, 'crls');
  mkdirSync(crlDir);
  writeFileSync(join(crlDir, 'root.crl'), pki.rootCrl(24 * 30));
  writeFileSync(join(crlDir, 'ca.crl'), pki.crl(24 * 30));
  let n = 0;
  return {
    pki,
    trustDir,
    crlDir,
    signingKey(user, now) {
      const [surname, firstName, patronymic] = user.fullName.toUpperCase().split(' ');
      const cert = pki.issue({
        name: `signer-${++n}`,
        surname: surname!,
        firstName: firstName!,
        patronymic: patronymic!,
        iin: user.iin,
        purpose: 'sign',
        roles: ['legalEntity', 'head'],
        notBefore: new Date(now - 30 * 86_400_000),
        notAfter: new Date(now + 365 * 86_400_000),
      });
      return softwareKey({ key: cert.keyPem, certificate: cert.certDer, label: user.fullName });
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
