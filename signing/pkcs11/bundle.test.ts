/**
 * The worker as the build will ship it: worker.ts bundled by esbuild with the
 * main bundle's options (CommonJS, pkcs11js external, import.meta.url mapped
 * to the bundle's own file) into `pkcs11-worker.cjs`, then started by
 * Pkcs11Client against a real SoftHSM2 token. The bundle is written under
 * node_modules/.cache so that it resolves pkcs11js like dist/main/ does.
 */
import { verify } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestPki, standardPeople } from '../testing/pki.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from '../testing/softhsm.js';
import { Pkcs11Client, WORKER_BUNDLE_NAME, defaultWorkerScript } from './client.js';

const missing = softHsmMissing();
if (missing) console.warn(`bundle.test: SoftHSM2 tests skipped: ${missing}`);

const ROOT = join(import.meta.dirname, '..', '..');
const PIN = '123456';

describe.skipIf(missing !== null)('the bundled worker (dist/main/pkcs11-worker.cjs)', () => {
  let dir: string;
  let outDir: string;
  let hsm: SoftHsm;
  let people: ReturnType<typeof standardPeople>;
  let client: Pkcs11Client;
  let slotId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-pkcs11-bundle-'));
    mkdirSync(join(ROOT, 'node_modules', '.cache'), { recursive: true });
    outDir = mkdtempSync(join(ROOT, 'node_modules', '.cache', 'qyzmet-pkcs11-bundle-'));
    await build({
      entryPoints: [join(import.meta.dirname, 'worker.ts')],
      outfile: join(outDir, WORKER_BUNDLE_NAME),
      bundle: true,
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      logLevel: 'warning',
      external: ['pkcs11js'],
      banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      define: { 'import.meta.url': '__bundleUrl' },
    });
    writeFileSync(join(outDir, 'main.cjs'), '// stands for dist/main/main.cjs\n');
    people = standardPeople(new TestPki(join(dir, 'pki')));
    hsm = createSoftHsm(join(dir, 'softhsm'));
    slotId = hsm.initToken('QYZMET-B', '87654321', PIN);
    hsm.importKey('QYZMET-B', PIN, {
      keyPem: people.head.keyPem,
      certDer: people.head.certDer,
      id: 'a1',
      label: 'head',
    });
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('is what defaultWorkerScript() picks next to the main bundle', () => {
    const main = pathToFileURL(join(outDir, 'main.cjs'));
    expect(fileURLToPath(defaultWorkerScript(main))).toBe(join(outDir, WORKER_BUNDLE_NAME));
  });

  it('lists, logs in and signs', async () => {
    client = new Pkcs11Client({ workerScript: join(outDir, WORKER_BUNDLE_NAME) });
    const tokens = await client.listTokens(hsm.module);
    expect(tokens.map((t) => [t.label, t.slotId])).toEqual([['QYZMET-B', slotId]]);
    const key = await client.openKey(hsm.module, slotId, 'a1', new Uint8Array(Buffer.from(PIN)));
    const data = Buffer.from('bundled');
    expect(verify('sha256', data, people.head.certPem, await key.sign(data))).toBe(true);
    await key.close();
    await expect(client.openKey(hsm.module, slotId, 'a1', new Uint8Array(Buffer.from('000000')))).rejects.toMatchObject(
      {
        code: 'pinIncorrect',
      },
    );
  });
});
