/**
 * Checking a paper end to end: documents signed with the test PKI, their
 * codes drawn into page images, JPEGs and Chromium PDFs, then read and
 * verified offline with the cached CRL; and every way a paper can be wrong.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeDocumentCode } from '#core/documents/code.js';
import { Signer } from '#signing/index.js';
import { standardPeople, TestPki, type Person } from '#signing/testing/pki.js';
import { paperCheckHandlers } from './check-handlers.js';
import { checkCodes, checkPaper, documentData } from './check.js';
import {
  chromiumPdf,
  composePage,
  grayToJpeg,
  grayToPng,
  pngToGray,
  qrPng,
  sampleDocumentXml,
  signAs,
} from './paper-testing.js';

const DAY = 86400_000;

describe('checking a paper', () => {
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-check-'));
  let signer: Signer;
  let people: ReturnType<typeof standardPeople>;
  let revokedHead: Person;
  let formerHead: Person;
  let signedXml: string;
  let codes: string[];
  let pagePng: Buffer;

  const options = () => ({ verifier: signer });
  const pageOf = async (texts: readonly string[]) =>
    composePage(await Promise.all(texts.map(async (t) => pngToGray(await qrPng(t)))), 1654, 2339);

  beforeAll(async () => {
    const pki = new TestPki(join(dir, 'pki'));
    people = standardPeople(pki);
    const headOptions = people.head.options;
    revokedHead = pki.issue({ ...headOptions, name: 'revoked-head' });
    pki.revoke(revokedHead);
    formerHead = pki.issue({
      ...headOptions,
      name: 'former-head',
      notBefore: new Date(Date.now() - 400 * DAY),
      notAfter: new Date(Date.now() - 10 * DAY),
    });
    const crlDir = join(dir, 'crl');
    mkdirSync(crlDir);
    writeFileSync(join(crlDir, 'ca.crl'), pki.crl(24));
    signer = await Signer.create({
      trustFiles: [pki.chainPath],
      crlDir,
      online: () => false,
      ocsp: false,
      fetchCrl: false,
    });
    signedXml = await signAs(people.head, sampleDocumentXml({ signedAt: new Date() }));
    codes = encodeDocumentCode(signedXml);
    pagePng = grayToPng(await pageOf(codes));
  }, 120_000);
  afterAll(async () => {
    await signer.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads and verifies a page with several codes, and shows the data and the signer', async () => {
    // The signer's certificate travels in the signature: even a short document takes several codes.
    expect(codes.length).toBeGreaterThan(2);
    const r = await checkPaper(pagePng, options());
    expect(r).toMatchObject({ ok: true, codes: { read: codes.length, count: codes.length }, warnings: [] });
    expect(r.problem).toBeUndefined();
    expect(r.data?.number).toBe('KZ-2026-000123');
    expect(r.data?.type).toBe('ResultDocument');
    expect(r.data?.fields).toContainEqual({ name: 'Provider@bin', value: '050140000011' });
    expect(r.data?.fields).toContainEqual({ name: 'Applicant', value: 'ТЕСТОВ ТЕСТ ТЕСТОВИЧ' });
    expect(r.data?.fields.some((f) => f.name.startsWith('Signature'))).toBe(false);
    expect(r.signer).toMatchObject({ iin: '850315400015', bin: '050140000011', roles: ['legalEntity', 'head'] });
    expect(r.signedAt).not.toBeNull();
  });

  it('reads a JPEG of the paper', async () => {
    const r = await checkPaper(grayToJpeg(pngToGray(pagePng), 80), options());
    expect(r.ok).toBe(true);
  });

  it('reads a PDF printed by Chromium with the codes as images', async (ctx) => {
    const pdf = await chromiumPdf(dir, await Promise.all(codes.map((t) => qrPng(t))));
    if (!pdf) {
      console.log('skipped: /usr/bin/chromium is absent');
      ctx.skip();
      return;
    }
    const r = await checkPaper(pdf, options());
    expect(r).toMatchObject({ ok: true, codes: { read: codes.length, count: codes.length } });
  });

  it('says noCode for a page with no code', async () => {
    const r = await checkPaper(grayToPng(composePage([])), options());
    expect(r).toMatchObject({ ok: false, problem: 'noCode', data: null });
  });

  it('says partial, with the counts, when one code is missing', async () => {
    const r = await checkPaper(grayToPng(await pageOf(codes.filter((_, i) => i !== 1))), options());
    expect(r).toMatchObject({
      ok: false,
      problem: 'partial',
      codes: { read: codes.length - 1, count: codes.length },
      data: null,
    });
  });

  it('says mixed for codes of two documents', async () => {
    const other = encodeDocumentCode(await signAs(people.head, sampleDocumentXml({ number: 'KZ-2026-000999' })));
    const r = await checkCodes([...codes.slice(0, 2), other[0]!], options());
    expect(r).toMatchObject({ ok: false, problem: 'mixed' });
  });

  it('attack: a printed document whose data was changed after signing and re-encoded — signatureInvalid', async () => {
    const forged = signedXml.replace('KZ-2026-000123', 'KZ-2026-000124').replace('positive', 'negative');
    const page = grayToPng(await pageOf(encodeDocumentCode(forged)));
    const r = await checkPaper(page, options());
    expect(r).toMatchObject({ ok: false, problem: 'signatureInvalid', signer: null });
    // The claimed data is shown for comparison, never as verified.
    expect(r.data?.number).toBe('KZ-2026-000124');
  });

  it('attack: a document with no signature at all — signatureInvalid', async () => {
    const r = await checkCodes(encodeDocumentCode(sampleDocumentXml()), options());
    expect(r).toMatchObject({ ok: false, problem: 'signatureInvalid' });
  });

  it('attack: a result signed by an employee without the head role — signerNotAllowed', async () => {
    const xml = await signAs(people.employeeEc, sampleDocumentXml({ signedAt: new Date() }));
    const r = await checkPaper(grayToPng(await pageOf(encodeDocumentCode(xml))), options());
    expect(r).toMatchObject({ ok: false, problem: 'signerNotAllowed', signer: { roles: ['legalEntity', 'employee'] } });
  });

  it('attack: a result signed with an individual key (no organisation) — signerNotAllowed', async () => {
    const xml = await signAs(people.sign, sampleDocumentXml({ signedAt: new Date() }));
    expect(await checkCodes(encodeDocumentCode(xml), options())).toMatchObject({ problem: 'signerNotAllowed' });
  });

  it("attack: a head of another organisation signs a document naming this provider's BIN — signerNotAllowed", async () => {
    const xml = await signAs(people.head, sampleDocumentXml({ bin: '990140000012', signedAt: new Date() }));
    expect(await checkCodes(encodeDocumentCode(xml), options())).toMatchObject({ problem: 'signerNotAllowed' });
  });

  it('attack: a result signed by a head whose certificate is revoked — signerRevoked', async () => {
    const xml = await signAs(revokedHead, sampleDocumentXml({ signedAt: new Date() }));
    const r = await checkPaper(grayToPng(await pageOf(encodeDocumentCode(xml))), options());
    expect(r).toMatchObject({
      ok: false,
      problem: 'signerRevoked',
      signer: { commonName: revokedHead.options.surname + ' ' + revokedHead.options.firstName },
    });
  });

  it('attack: a revoked key backdating its document to before the revocation — still signerRevoked', async () => {
    const xml = await signAs(revokedHead, sampleDocumentXml({ signedAt: new Date(Date.now() - 5 * DAY) }));
    expect(await checkCodes(encodeDocumentCode(xml), options())).toMatchObject({ problem: 'signerRevoked' });
  });

  it("a paper signed while the head's certificate was valid still verifies after it expired, with a warning", async () => {
    const xml = await signAs(formerHead, sampleDocumentXml({ signedAt: new Date(Date.now() - 20 * DAY) }));
    const r = await checkCodes(encodeDocumentCode(xml), options());
    expect(r).toMatchObject({ ok: true, warnings: ['certificateExpiredSince'] });
  });

  it('attack: a document dated after its signer certificate expired — signerExpired', async () => {
    const xml = await signAs(formerHead, sampleDocumentXml({ signedAt: new Date(Date.now() - DAY) }));
    expect(await checkCodes(encodeDocumentCode(xml), options())).toMatchObject({ problem: 'signerExpired' });
  });

  it('attack: a truncated PNG — unreadableFile', async () => {
    const r = await checkPaper(pagePng.subarray(0, pagePng.length - 5000), options());
    expect(r).toMatchObject({ ok: false, problem: 'unreadableFile' });
  });

  it('documents.check answers the check of the file to a logged-in user, and nothing without a session', async () => {
    const file = pagePng.toString('base64');
    const handlers = paperCheckHandlers(signer, () => ({ id: 'u1' }));
    const out = await handlers['documents.check']({ file }, undefined as never);
    expect(out).toMatchObject({ ok: true, data: { number: 'KZ-2026-000123' } });
    const none = paperCheckHandlers(signer, () => null);
    await expect(none['documents.check']({ file }, undefined as never)).rejects.toMatchObject({ code: 'noSession' });
  });

  it('documentData keeps attributes, named fields and the stated date, and refuses what is not XML', () => {
    const d = documentData(
      '<D xmlns="urn:x" id="7"><Number>N-1</Number><Form><Field name="city">Астана</Field></Form><SignedAt>2026-01-02T03:04:05Z</SignedAt></D>',
    );
    expect(d?.data.fields).toEqual([
      { name: '@id', value: '7' },
      { name: 'Number', value: 'N-1' },
      { name: 'Form/Field[city]', value: 'Астана' },
      { name: 'SignedAt', value: '2026-01-02T03:04:05Z' },
    ]);
    expect(d?.signedAt?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(documentData('<not xml')).toBeNull();
    // The output documents' shape: both languages' content told apart, the issuer's BIN on Provider.
    const out = documentData(
      '<OutputDocument xmlns="urn:y"><Number>R-1</Number><Provider bin="050140000011"><Name lang="kk">Орталық</Name></Provider><Content lang="kk"><Title>Анықтама</Title></Content><Content lang="ru"><Title>Справка</Title></Content></OutputDocument>',
    );
    expect(out?.issuerBin).toBe('050140000011');
    expect(out?.data.number).toBe('R-1');
    expect(out?.data.fields).toContainEqual({ name: 'Content[kk]/Title', value: 'Анықтама' });
    expect(out?.data.fields).toContainEqual({ name: 'Content[ru]/Title', value: 'Справка' });
    expect(out?.data.fields).toContainEqual({ name: 'Provider/Name[kk]', value: 'Орталық' });
  });
});
