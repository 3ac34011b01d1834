/**
 * The signer's figures of `npm run bench`, on a real SoftHSM2 token:
 *  - sign.cms_overhead_ms: a detached CMS of a 1 MB document minus a raw
 *    C_Sign of the same key (baseline: that C_Sign);
 *  - sign.batch100_s: 100 application documents as CMS with one PIN entry,
 *    through the worker thread as the app does it, login included
 *    (baseline: 100 raw C_Sign calls through the same worker);
 *  - verify.cms_per_s: CMS verifications per second with a cached CRL, each
 *    checking the cryptography, the chain, validity, key usage and revocation
 *    (baseline: the cryptography alone).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InProcessPkcs11, Pkcs11Client, signCms, Signer, softwareKey, verifyCmsSignatures } from '#signing/index.js';
import { createSoftHsm, softHsmMissing } from '#signing/testing/softhsm.js';
import { TestPki } from '#signing/testing/pki.js';
import { median, type Report } from './report.js';

const PIN = '135790';

async function timeEach(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return median(samples);
}

export async function benchSigning(report: Report, dir: string, runs: number): Promise<void> {
  const missing = softHsmMissing();
  if (missing) {
    console.log(`# signing figures skipped: ${missing}`);
    return;
  }
  const pki = new TestPki(join(dir, 'pki'));
  const head = pki.issue({
    name: 'bench-head',
    surname: 'ТЕСТОВА',
    firstName: 'ӘСЕЛ',
    iin: '840312445215',
    purpose: 'sign',
    roles: ['legalEntity', 'head'],
  });
  const hsm = createSoftHsm(join(dir, 'softhsm'));
  hsm.initToken('BENCH', '11223344', PIN);
  hsm.importKey('BENCH', PIN, { keyPem: head.keyPem, certDer: head.certDer, id: '01', label: 'bench' });

  // In-process: CMS of 1 MB against the raw C_Sign, same key, same session.
  const local = new InProcessPkcs11();
  const [slot] = await local.listTokens(hsm.module);
  if (!slot) throw new Error('bench: the SoftHSM token is not visible');
  const key = await local.openKey(hsm.module, slot.slotId, '01', Buffer.from(PIN));
  const doc = randomBytes(1024 * 1024);
  const small = randomBytes(200);
  const samples = Math.max(runs * 4, 20);
  await key.sign(small); // warm-up
  await signCms(doc, key, { detached: true });
  const raw = await timeEach(samples, () => key.sign(small));
  const cms = await timeEach(samples, () => signCms(doc, key, { detached: true }));
  report.add('sign.cms_overhead_ms', Math.max(0, cms - raw), 'ms', raw);
  await key.close();
  await local.close();

  // Through the worker, as the app: one login, 100 documents.
  const docs = Array.from({ length: 100 }, (_, i) =>
    Buffer.from(`<ApplicationDocument id="bench-${i}">${'x'.repeat(1500)}</ApplicationDocument>`),
  );
  const client = new Pkcs11Client();
  await client.listTokens(hsm.module);
  const batch = await timeEach(Math.max(runs, 3), async () => {
    const k = await client.openKey(hsm.module, slot.slotId, '01', Buffer.from(PIN));
    for (const d of docs) await signCms(d, k, { detached: true });
    await k.close();
  });
  const rawBatch = await timeEach(Math.max(runs, 3), async () => {
    const k = await client.openKey(hsm.module, slot.slotId, '01', Buffer.from(PIN));
    for (const d of docs) await k.sign(d.subarray(0, 64));
    await k.close();
  });
  report.add('sign.batch100_s', batch / 1000, 's', rawBatch / 1000);
  await client.close();

  // Verification with a cached CRL.
  const trustDir = join(dir, 'trust');
  mkdirSync(trustDir, { recursive: true });
  writeFileSync(join(trustDir, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trustDir, 'ca.pem'), pki.ca.certPem);
  const signer = await Signer.create({ trustDirs: [trustDir], crlDir: join(dir, 'crl'), online: () => false });
  const update = await signer.crls.update(pki.crl(24));
  if (!update.accepted) throw new Error('bench: the CRL was not accepted');
  const signing = softwareKey({ key: head.keyPem, certificate: head.certDer, label: 'bench' });
  const content = Buffer.from('<ApplicationDocument>verify</ApplicationDocument>');
  const signature = await signCms(content, signing, { detached: false });
  const n = 2000;
  await signer.verify(signature); // warm-up
  const tFull = performance.now();
  for (let i = 0; i < n; i++) await signer.verify(signature);
  const fullPerS = n / ((performance.now() - tFull) / 1000);
  const tCrypto = performance.now();
  for (let i = 0; i < n; i++) {
    const [r] = verifyCmsSignatures(signature);
    if (!r?.ok) throw new Error('bench: the signature does not verify');
  }
  const cryptoPerS = n / ((performance.now() - tCrypto) / 1000);
  report.add('verify.cms_per_s', fullPerS, '/s', cryptoPerS);
  await signer.close();
}
