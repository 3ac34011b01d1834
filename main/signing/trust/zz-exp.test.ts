import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkijs from 'pkijs';
import { it, expect } from 'vitest';
import { TestPki } from '../testing/pki.js';
import { startTsa } from '../testing/responders.js';
import { requestTimestamp } from './tsp.js';

it('exp', async () => {
  const pki = new TestPki(mkdtempSync(join(tmpdir(), 'exp-')));
  const tsa = await startTsa(pki);
  const r = await requestTimestamp(tsa.url, new Uint8Array([1]));
  await tsa.close();
  expect(r.token).not.toBeNull();
  const sd = new pkijs.SignedData({ schema: pkijs.ContentInfo.fromBER(r.token!).content });
  console.log(sd.signerInfos[0]!.signedAttrs!.attributes.map(a => a.type), sd.certificates?.length, sd.signerInfos[0]!.signatureAlgorithm.algorithmId, sd.signerInfos[0]!.sid.constructor.name);
});
