import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'vitest';
import { TestPki, standardPeople } from '../testing/pki.js';
import { CertificateChecker } from './checker.js';
import { CrlStore } from './crl.js';

it('perf', async () => {
  const d = mkdtempSync(join(tmpdir(), 'perf-'));
  const pki = new TestPki(join(d, 'p'));
  const people = standardPeople(pki);
  const store = await CrlStore.open({ dir: join(d, 's'), issuers: [pki.ca.certDer] });
  await store.update(pki.crl(24));
  const c = new CertificateChecker({ trustedRoots: [pki.root.certDer], intermediates: [pki.ca.certDer], crlStore: store, online: () => false });
  for (const n of [100, 2000]) {
    const t = performance.now();
    for (let i = 0; i < n; i++) await c.check(people.sign.certDer, { at: new Date(), act: 'sign' });
    console.log(n, 'checks/s', (n / ((performance.now() - t) / 1000)).toFixed(0));
  }
  const { X509Certificate } = await import('node:crypto');
  const t = performance.now();
  for (let i = 0; i < 2000; i++) await c.check(new X509Certificate(people.sign.certDer), { at: new Date(), act: 'sign' });
  console.log('fresh X509 objects checks/s', (2000 / ((performance.now() - t) / 1000)).toFixed(0));
});
