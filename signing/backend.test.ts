/**
 * The signer put together (backend.ts): a CMS gets an RFC 3161 timestamp from
 * a TSA on loopback when one is set and reachable, and goes without one (and
 * says why) when none is set, the workstation is offline or the TSA is down;
 * trust folders are read; XML and CMS verify through the same entry.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTrust, looksLikeXml, Signer } from './backend.js';
import { parseCms } from './cms.js';
import { softwareKey } from './software-key.js';
import { startBrokenServer, startTsa, type BrokenServer, type Tsa } from './testing/responders.js';
import { standardPeople, TestPki } from './testing/pki.js';
import { parseTimestampToken } from './trust/tsp.js';
import type { SigningKey } from './types.js';

let dir: string;
let pki: TestPki;
let trustDir: string;
let tsa: Tsa;
let broken: BrokenServer;
let key: SigningKey;
const document = Buffer.from('<?xml version="1.0"?><Result no="1">Оң шешім</Result>');

async function signer(tsaUrl: string | null, online = true): Promise<Signer> {
  return Signer.create({
    trustDirs: [trustDir],
    crlDir: join(dir, `crl-${Math.random().toString(36).slice(2)}`),
    tsaUrl,
    online: () => online,
    ocsp: false,
    fetchCrl: false,
    timeoutMs: 2000,
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-backend-'));
  pki = new TestPki(join(dir, 'pki'));
  const people = standardPeople(pki);
  key = softwareKey({ key: people.head.keyPem, certificate: people.head.certDer, label: 'head' });
  trustDir = join(dir, 'trust');
  mkdirSync(trustDir);
  // Both CA certificates in one file, as administrators often get them.
  writeFileSync(join(trustDir, 'nca.pem'), pki.ca.certPem + pki.root.certPem);
  writeFileSync(join(trustDir, 'notes.txt'), 'not a certificate');
  tsa = await startTsa(pki);
  broken = await startBrokenServer('status500');
}, 60_000);

afterAll(async () => {
  await tsa?.close();
  await broken?.close();
});

describe('signer backend', () => {
  it('reads the trust folder: self-signed certificates are roots, the others intermediates', () => {
    const trust = loadTrust([trustDir, join(dir, 'no-such-folder')]);
    expect(trust.roots).toHaveLength(1);
    expect(trust.intermediates).toHaveLength(1);
  });

  it('a CMS gets a timestamp from the TSA over its signature value', async () => {
    const s = await signer(tsa.url);
    const signed = await s.sign('cms', document, key);
    expect(signed.timestampNote).toBe('none');
    expect(signed.timestampedAt).not.toBeNull();
    const token = parseCms(signed.signed).signers[0]?.timestampToken;
    expect(token).toBeTruthy();
    const info = parseTimestampToken(token!);
    expect(Math.abs(info.genTime.getTime() - Date.now())).toBeLessThan(60_000);
    await s.close();
  });

  it('no TSA set, offline, or the TSA failing: the signature goes without a timestamp and says why', async () => {
    const none = await signer(null);
    expect(await none.sign('cms', document, key)).toMatchObject({
      timestampedAt: null,
      timestampNote: 'notConfigured',
    });
    const offline = await signer(tsa.url, false);
    expect(await offline.sign('cms', document, key)).toMatchObject({
      timestampedAt: null,
      timestampNote: 'unreachable',
    });
    const failing = await signer(broken.url);
    const result = await failing.sign('cms', document, key);
    expect(result).toMatchObject({ timestampedAt: null, timestampNote: 'unreachable' });
    expect(parseCms(result.signed).signers[0]?.timestampToken).toBeNull();
  });

  it('XMLDSig and CMS both verify through verify(); a stale CRL is a warning, a missing one refuses', async () => {
    const s = await signer(null, false);
    const xml = await s.sign('xmldsig', document, key);
    expect(looksLikeXml(xml.signed)).toBe(true);
    // No CRL cached and offline: revocation cannot be known.
    await expect(s.verify(xml.signed)).rejects.toMatchObject({ code: 'revocationUnknown' });
    expect((await s.crls.update(pki.crl(-1))).accepted).toBe(true);
    // That CRL's next update is one second after its issue: a few seconds later it is stale.
    const verified = await s.verify(xml.signed, { now: new Date(Date.now() + 5000) });
    expect(verified.format).toBe('xmldsig');
    expect(verified.signers[0]?.warnings).toContain('crlStale');
    const cms = await s.sign('cms', document, key);
    await expect(s.verify(cms.signed)).rejects.toMatchObject({ code: 'contentMissing' });
    expect((await s.verify(cms.signed, { content: document })).format).toBe('cms');
  });
});
