/**
 * signature.add against the server's own state and trust: a signature is
 * taken only over the document the server rebuilds for the application it is
 * recorded for, by a signer whose revocation (the whole chain's) the server
 * can tell, judged at a verified timestamp or at the server's receipt.
 *
 * The handler is called directly with an ApplyContext (as push.ts applyBatch
 * builds one), so these checks stand apart from how a change proves its author.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applicationXml, type ApplicationDocumentRow } from '#core/workflow/signed-document.js';
import { signCms, Signer, signXml, softwareKey, type SigningKey } from '#signing/index.js';
import type { Issued, Person } from '#signing/testing/pki.js';
import { startTsa, type Tsa } from '#signing/testing/responders.js';
import { LoginCertificates } from '../auth/certificates.js';
import { importCrl } from '../auth/crls.js';
import { PROVIDER_BIN, PROVIDER_ID, seedDirectory, testDatabases, type TestUser } from '../auth/testing.js';
import { FeedBuffer } from '../feed.js';
import type { Sql } from '../postgres/sql.js';
import { trustedPki, type TrustedPki } from '../testing/pki.js';
import { ApplyCache, Deferral, Rejection, ServiceDefinitions, type ApplyContext } from './common.js';
import { addSignature } from './signatures.js';
import { ApplicationState } from './state.js';

const DAY = 86_400_000;
const HEAD: TestUser = {
  id: 'u-head',
  login: 'head',
  fullName: 'Әбілқасымова Гүлнар Серікқызы',
  iin: '850315400015',
  password: null,
  roles: [{ role: 'head', providerId: PROVIDER_ID }],
};
/** The provider's Russian name as seedDirectory writes it (the document carries it). */
const PROVIDER_NAME_RU = 'Отдел занятости';

let trusted: TrustedPki;
let tsa: Tsa;
let dir: string;
/** The root's CRL before any CA was revoked (the intermediate test revokes the intermediate). */
let cleanRootCrl: Buffer;
let revokedRootCrl: Buffer | null = null;
let people = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-signatures-'));
  trusted = trustedPki();
  cleanRootCrl = trusted.pki.rootCrl(24 * 7);
  tsa = await startTsa(trusted.pki);
}, 60_000);

afterAll(async () => {
  await tsa?.close();
  trusted?.remove();
  rmSync(dir, { recursive: true, force: true });
});

/** A head's signing certificate from the trusted CA (its own, so a revocation touches no other test). */
function headCertificate(): Person {
  const [surname, firstName, patronymic] = HEAD.fullName.toUpperCase().split(' ');
  return trusted.pki.issue({
    name: `head-${++people}`,
    surname: surname!,
    firstName: firstName!,
    patronymic: patronymic!,
    iin: HEAD.iin,
    bin: PROVIDER_BIN,
    purpose: 'sign',
    roles: ['legalEntity', 'head'],
  });
}

const keyOf = (p: Issued): SigningKey => softwareKey({ key: p.keyPem, certificate: p.certDer, label: p.name });
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

interface App {
  id: string;
  number: string;
  decision: 'positive' | 'negative';
  refusalReasonCode: string | null;
  refusalText: string | null;
  formData: Record<string, unknown>;
}

/** The document as the workstation builds it from its row (the same builder, its own inputs). */
function documentOf(app: App, change: Partial<ApplicationDocumentRow> = {}): string {
  return applicationXml({
    id: app.id,
    number: app.number,
    portalNumber: null,
    serviceCode: 'svc-1',
    providerBin: PROVIDER_BIN,
    providerName: PROVIDER_NAME_RU,
    applicantIin: '900101300017',
    applicantBin: null,
    applicantName: 'Тестов Тест',
    status: 'on_signing',
    decision: app.decision,
    refusalReasonCode: app.refusalReasonCode,
    refusalText: app.refusalText,
    submittedAt: Date.UTC(2026, 10, 2, 5),
    formData: app.formData,
    ...change,
  });
}

async function insertApplication(sql: Sql, app: App): Promise<void> {
  await sql.query(
    `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
       applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
       submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
       server_version)
     VALUES ($1, $2, NULL, $3, 'svc-1', 'office', '900101300017', NULL, 'Тестов Тест', '750000000', 'Алматы',
       'on_signing', $4, NULL, 'sign', $5, $5, NULL, $6::jsonb, $7, $8, NULL, 1)`,
    [
      app.id,
      app.number,
      PROVIDER_ID,
      app.decision,
      Date.UTC(2026, 10, 2, 5),
      JSON.stringify(app.formData),
      app.refusalReasonCode,
      app.refusalText,
    ],
  );
}

/** A legacy XMLDSig with SHA-1 (digest and RSA-SHA1) made by xmlsec1 over `xml`. */
function xmlsecSha1(xml: string, person: Issued): string {
  const template =
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>` +
    `<ds:Reference URI=""><ds:Transforms>` +
    `<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
    `<ds:Transform Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><ds:DigestValue/></ds:Reference>` +
    `</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>`;
  const input = join(dir, `${randomUUID()}.xml`);
  const output = `${input}.signed`;
  writeFileSync(input, xml.replace('</ApplicationDocument>', `${template}</ApplicationDocument>`));
  const r = spawnSync(
    'xmlsec1',
    ['--sign', '--privkey-pem', `${person.keyPath},${person.certPath}`, '--output', output, input],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`xmlsec1: ${r.stderr}`);
  return readFileSync(output, 'utf8');
}

describe.each(testDatabases())('signature.add on $name', (db) => {
  let sql: Sql;
  let signers: LoginCertificates;
  const A: App = {
    id: 'app-a',
    number: 'A-1',
    decision: 'positive',
    refusalReasonCode: null,
    refusalText: null,
    // Nested values: jsonb stores their keys in its own order; the document must not depend on it.
    formData: { resultNumber: 'R-1', protocol: { members: ['Б', 'А'], chair: 'Серік', date: '2026-11-20' } },
  };
  const B: App = {
    id: 'app-b',
    number: 'B-1',
    decision: 'negative',
    refusalReasonCode: 'incomplete',
    refusalText: 'Құжаттар толық емес',
    formData: { resultNumber: 'R-2' },
  };

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [HEAD]);
    await insertApplication(sql, A);
    await insertApplication(sql, B);
  }, 60_000);

  afterAll(async () => {
    await db.close();
  });

  beforeEach(async () => {
    // Each test starts with no CRL on the server and a trust of its own (its own CRL store).
    await sql.query('DELETE FROM crls');
    signers = new LoginCertificates({ trustDirs: [trusted.trustDir], crlDir: null });
  });

  async function importCrls(...crls: Buffer[]): Promise<void> {
    for (const crl of crls) await importCrl(sql, crl);
  }
  const importFresh = () => importCrls(cleanRootCrl, trusted.pki.crl(24 * 7));

  interface Push {
    applicationId: string;
    format: 'cms' | 'xmldsig';
    signed: Uint8Array;
    certificate: Uint8Array;
    documentSha256: string;
    signedAt?: number;
  }

  /** signature.add through its handler in a transaction of its own, at the server's clock `now`; the signature id. */
  async function push(p: Push, now = Date.now()): Promise<string> {
    const id = randomUUID();
    await sql.tx(async (tx) => {
      const c: ApplyContext = {
        sql: tx,
        device: { deviceId: randomUUID(), providerId: PROVIDER_ID, partitions: [] },
        change: {
          seq: 1,
          op: 'signature.add',
          entity: 'signature',
          entityId: id,
          payload: {
            id,
            applicationId: p.applicationId,
            format: p.format,
            documentSha256: p.documentSha256,
            certificateSha256: sha256(p.certificate),
            signedAt: p.signedAt ?? now,
            signed: Buffer.from(p.signed).toString('base64'),
            userId: HEAD.id,
          },
          protocolVersion: 2,
          schemaVersion: 1,
          createdAt: now,
          signature: null,
          auth: null,
        },
        author: HEAD.id,
        now,
        feed: new FeedBuffer(),
        cache: new ApplyCache(new ServiceDefinitions()),
        applications: new ApplicationState(),
        signers,
      };
      const write = await addSignature(c);
      await write();
    });
    return id;
  }

  async function refused(p: Push, now?: number): Promise<Rejection> {
    try {
      await push(p, now);
    } catch (err) {
      if (err instanceof Rejection) return err;
      throw err;
    }
    throw new Error('the signature was taken');
  }

  async function deferred(p: Push, now?: number): Promise<Deferral> {
    try {
      await push(p, now);
    } catch (err) {
      if (err instanceof Deferral) return err;
      throw err;
    }
    throw new Error('the signature was judged');
  }

  async function stored(id: string) {
    const [row] = await sql.query<{ applicationId: string; timestampedAt: string | null }>(
      'SELECT application_id AS "applicationId", timestamped_at AS "timestampedAt" FROM signatures WHERE id = $1',
      [id],
    );
    return row ?? null;
  }

  async function cms(doc: string, person: Issued): Promise<Push> {
    const signed = await signCms(Buffer.from(doc), keyOf(person), { detached: true });
    return { applicationId: '', format: 'cms', signed, certificate: person.certDer, documentSha256: sha256(doc) };
  }

  async function xml(doc: string, person: Issued): Promise<Push> {
    const signed = Buffer.from(await signXml(doc, keyOf(person)));
    return { applicationId: '', format: 'xmldsig', signed, certificate: person.certDer, documentSha256: sha256(doc) };
  }

  it('the honest signature applies: CMS and XMLDSig over the document of the application as the server has it', async () => {
    await importFresh();
    const head = headCertificate();
    const cmsId = await push({ ...(await cms(documentOf(A), head)), applicationId: A.id });
    expect(await stored(cmsId)).toEqual({ applicationId: A.id, timestampedAt: null });
    const xmlId = await push({ ...(await xml(documentOf(B), head)), applicationId: B.id });
    expect(await stored(xmlId)).toMatchObject({ applicationId: B.id });
  });

  it('attack: a head’s CMS signature of A pushed as B’s signature — refused', async () => {
    await importFresh();
    const head = headCertificate();
    const detached = await cms(documentOf(A), head);
    const attached = { ...detached, signed: await signCms(Buffer.from(documentOf(A)), keyOf(head)) };
    const onB = async () => (await sql.query('SELECT id FROM signatures WHERE application_id = $1', [B.id])).length;
    const before = await onB();
    for (const ofA of [detached, attached]) {
      // As the workstation sent it (A's digest), and with the claimed digest made B's: neither makes B signed.
      const asIs = await refused({ ...ofA, applicationId: B.id });
      expect(asIs.reason).toBe('invalid');
      expect(asIs.message).toContain('documentSha256');
      const claimed = await refused({ ...ofA, applicationId: B.id, documentSha256: sha256(documentOf(B)) });
      expect(claimed.reason).toBe('invalid');
    }
    expect(await onB()).toBe(before);
  });

  it('attack: an XML signature over a document with another decision or refusal text than the server’s — refused', async () => {
    await importFresh();
    const head = headCertificate();
    for (const other of [
      documentOf(B, { refusalText: 'Басқа негіздеме' }),
      documentOf(B, { decision: 'positive', refusalReasonCode: null, refusalText: null }),
    ]) {
      const forged = await xml(other, head);
      const asIs = await refused({ ...forged, applicationId: B.id });
      expect(asIs.reason).toBe('invalid');
      const claimed = await refused({ ...forged, applicationId: B.id, documentSha256: sha256(documentOf(B)) });
      expect(claimed.reason).toBe('invalid');
      expect(claimed.message).toContain('signed document is not');
    }
  });

  it('attack: documentSha256 is the server’s document’s but the signed content differs — refused', async () => {
    await importFresh();
    const head = headCertificate();
    const other = documentOf(A, { refusalText: 'x' });
    // Detached CMS over another document, and an attached one carrying it.
    const detached = await cms(other, head);
    const attached = await signCms(Buffer.from(other), keyOf(head));
    for (const p of [detached, { ...detached, signed: attached }]) {
      const r = await refused({ ...p, applicationId: A.id, documentSha256: sha256(documentOf(A)) });
      expect(r.reason).toBe('invalid');
    }
  });

  it('attack: a signer whose issuer has no CRL — deferred (revocationUnknown), accepted once the CRLs are imported', async () => {
    const p = { ...(await cms(documentOf(A), headCertificate())), applicationId: A.id };
    expect((await deferred(p)).reason).toBe('revocationUnknown');
    // The intermediate's CRL alone: the intermediate's own revocation (the root's CRL) is still unknown.
    await importCrls(trusted.pki.crl(24 * 7));
    expect((await deferred(p)).reason).toBe('revocationUnknown');
    await importCrls(cleanRootCrl);
    expect(await stored(await push(p))).toMatchObject({ applicationId: A.id });
  });

  it('attack: a CRL past its nextUpdate — deferred, not judged with stale data', async () => {
    await importFresh();
    const p = { ...(await cms(documentOf(A), headCertificate())), applicationId: A.id };
    expect((await deferred(p, Date.now() + 8 * DAY)).reason).toBe('revocationUnknown');
  });

  it('attack: a certificate revoked yesterday, signedAt claimed before the revocation, no timestamp — refused', async () => {
    const now = Date.now() + 2 * DAY;
    const head = headCertificate();
    trusted.pki.revoke(head, 'keyCompromise', new Date(now - DAY));
    await importCrls(cleanRootCrl, trusted.pki.crl(24 * 7));
    const p = { ...(await cms(documentOf(A), head)), applicationId: A.id, signedAt: now - 2 * DAY };
    const r = await refused(p, now);
    expect(r.reason).toBe('forbidden');
    expect(r.message).toContain('certRevoked');
  });

  it('the same with a valid timestamp older than the revocation — accepted, judged at the timestamp', async () => {
    const now = Date.now() + 2 * DAY;
    const head = headCertificate();
    // The workstation's signer with a TSA: the CMS carries the token over its signature value.
    const signer = await Signer.create({
      crlDir: mkdtempSync(join(dir, 'ws-crl-')),
      trustDirs: [trusted.trustDir],
      tsaUrl: tsa.url,
      ocsp: false,
      fetchCrl: false,
      online: () => true,
    });
    const doc = documentOf(A);
    const signed = await signer.sign('cms', Buffer.from(doc), keyOf(head));
    expect(signed.timestampedAt).not.toBeNull();
    trusted.pki.revoke(head, 'keyCompromise', new Date(now - DAY));
    await importCrls(cleanRootCrl, trusted.pki.crl(24 * 7));
    const p: Push = {
      applicationId: A.id,
      format: 'cms',
      signed: signed.signed,
      certificate: head.certDer,
      documentSha256: sha256(doc),
      signedAt: now - 2 * DAY,
    };
    const row = await stored(await push(p, now));
    expect(row).toMatchObject({ applicationId: A.id });
    expect(Number(row!.timestampedAt)).toBeLessThan(now - DAY);
  }, 30_000);

  it('attack: a SHA-1 XMLDSig (digest and signature method) — refused', async () => {
    await importFresh();
    const head = headCertificate();
    const doc = documentOf(A);
    const signed = Buffer.from(xmlsecSha1(doc, head));
    const r = await refused({
      applicationId: A.id,
      format: 'xmldsig',
      signed,
      certificate: head.certDer,
      documentSha256: sha256(doc),
    });
    expect(r.reason).toBe('invalid');
    expect(r.message).toContain('SHA-1');
  });

  it('attack: a certificate under a revoked intermediate CA — refused', async () => {
    const head = headCertificate();
    if (!revokedRootCrl) {
      trusted.pki.revokeCa(trusted.pki.ca, 'cACompromise', new Date(Date.now() - DAY));
      revokedRootCrl = trusted.pki.rootCrl(24 * 7);
    }
    await importCrls(revokedRootCrl, trusted.pki.crl(24 * 7));
    const r = await refused({ ...(await cms(documentOf(A), head)), applicationId: A.id });
    expect(r.reason).toBe('forbidden');
    expect(r.message).toContain('certRevoked');
  });
});
