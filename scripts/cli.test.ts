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
