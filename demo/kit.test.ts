/** The demo start's key file signs, offline, against the demo CA and its CRL; openssl reads what it makes. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_HEAD } from './generate.js';
import { openKeyFile, Signer } from '#signing/index.js';
import { DEMO_KEY_PASSWORD, ensureDemoKit, readDemoKeyFile, serial } from './kit.js';

describe('demo signing kit', () => {
  it('makes a key file the signer opens, checks offline and signs with; made once', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'qyzmet-demo-kit-'));
    const kit = await ensureDemoKit(dataDir, { ...DEMO_HEAD, bin: '050140000011', organisation: 'ГУ "Демо"' });
    expect(kit.created).toBe(true);
    expect((await ensureDemoKit(dataDir, DEMO_HEAD)).created).toBe(false);

    const key = openKeyFile(readDemoKeyFile(kit), Buffer.from(DEMO_KEY_PASSWORD));
    const signer = await Signer.create({
      trustDirs: [join(dataDir, 'trusted')],
      crlDir: join(dataDir, 'crl'),
      online: () => false,
    });
    const facts = signer.facts(key.certificate);
    expect(facts).toMatchObject({
      iin: DEMO_HEAD.iin,
      iinChecksumValid: true,
      purpose: 'sign',
      roles: ['legalEntity', 'head'],
    });
    expect(facts.commonName).toBe('СӘРСЕНБАЕВА ӘЙГЕРІМ');
    const checked = await signer.check(key.certificate, {
      act: 'sign',
      at: new Date(),
      expect: { iin: DEMO_HEAD.iin },
    });
    expect(checked.revocation).toMatchObject({ status: 'good', source: 'crl', stale: false });

    const signed = await signer.sign('xmldsig', Buffer.from('<Demo>Қол қою</Demo>'), key);
    expect((await signer.verify(signed.signed)).signers[0]?.certificate.iin).toBe(DEMO_HEAD.iin);
    await signer.close();

    // A third party reads the key file with the same password.
    const text = execFileSync(
      'openssl',
      ['pkcs12', '-in', kit.keyFile, '-passin', `pass:${DEMO_KEY_PASSWORD}`, '-nokeys', '-legacy'],
      { encoding: 'utf8' },
    );
    expect(text).toContain('BEGIN CERTIFICATE');
  }, 30_000);

  it('draws serial numbers that are positive and minimally encoded, as OpenSSL requires of DER', () => {
    // One serial in 256 began with a zero byte before a byte below 0x80: OpenSSL then refused the demo CA.
    for (let i = 0; i < 2000; i++) {
      const v = new Uint8Array(serial().valueBlock.valueHexView);
      expect(v.length).toBe(12);
      expect(v[0]! & 0x80).toBe(0);
      expect(v[0]).not.toBe(0);
    }
  });
});
