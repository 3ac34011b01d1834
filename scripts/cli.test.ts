/**
 * `npm run -s cli`: the signer's command line as administrators run it, with the English texts of the app's
 * catalogue (the library's own tests pass texts of their own).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeDocumentCode } from '#core/documents/code.js';
import { composePage, grayToPng, pngToGray, qrPng, sampleDocumentXml, signAs } from '#main/documents/paper-testing.js';
import { standardPeople, TestPki } from '#signing/testing/pki.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('the signer command line (scripts/cli.ts)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-cli-tool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a refusal with its English text from the renderer catalogue', async () => {
    const pki = new TestPki(join(dir, 'pki'));
    const people = standardPeople(pki);
    const p12 = join(dir, 'sign.p12');
    writeFileSync(p12, pki.p12(people.sign, 'right-password'));
    const wrong = join(dir, 'wrong.txt');
    writeFileSync(wrong, 'nope');
    const failed = await run(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'scripts', 'cli.ts'), 'cert-info', '--key', p12, '--password-file', wrong],
      { cwd: ROOT },
    ).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(JSON.parse(failed?.stderr ?? '{}')).toMatchObject({
      error: { code: 'wrongPassword', message: 'Wrong key file password.' },
    });
  });
});

describe('verify with a paper (a PDF or a picture of a printed document)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-cli-paper-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the codes of a page image, verifies them offline with the CRL, and says why a paper fails', async () => {
    const pki = new TestPki(join(dir, 'pki'));
    const people = standardPeople(pki);
    const crl = join(dir, 'ca.crl');
    writeFileSync(crl, pki.crl(24));
    const page = async (xml: string) =>
      grayToPng(
        composePage(await Promise.all(encodeDocumentCode(xml).map(async (t) => pngToGray(await qrPng(t)))), 1654, 2339),
      );
    const good = join(dir, 'good.png');
    writeFileSync(good, await page(await signAs(people.head, sampleDocumentXml({ signedAt: new Date() }))));
    const employee = join(dir, 'employee.png');
    writeFileSync(employee, await page(await signAs(people.employeeEc, sampleDocumentXml({ signedAt: new Date() }))));
    const cli = (file: string) =>
      run(
        process.execPath,
        [
          '--import',
          'tsx',
          join(ROOT, 'scripts', 'cli.ts'),
          'verify',
          '--in',
          file,
          '--trust',
          pki.chainPath,
          '--crl',
          crl,
        ],
        { cwd: ROOT },
      ).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (err: { code: number; stdout: string }) => ({ code: err.code, stdout: err.stdout }),
      );
    const ok = await cli(good);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      ok: true,
      data: { number: 'KZ-2026-000123' },
      signer: { bin: '050140000011' },
      message: 'The document is genuine: the signature is valid and the signer has the right to sign.',
    });
    const refused = await cli(employee);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({ ok: false, problem: 'signerNotAllowed' });
  }, 120_000);
});
