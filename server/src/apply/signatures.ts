/**
 * signature.add: a signature of an application, verified, bound to the
 * application it is recorded for, its signer read from its own certificate
 * and checked against the server's trust.
 *
 * Binding: the server builds the signed document again from ITS state of the
 * application (core/workflow/signed-document.ts, the builder the workstation
 * signs with) and the signature must be over exactly that: a CMS's
 * messageDigest is checked against it (detached, or the attached content must
 * be it), an XMLDSig's signed document must canonicalise to it. So a head's
 * signature of A is not B's, and a signature of a document the server's state
 * does not say (another decision, another refusal text) is refused, whatever
 * documentSha256 the payload claims.
 *
 * Time and revocation: the certificate is judged at a verified timestamp's
 * time, else at the server's receipt (never at the client's signedAt); a
 * signer whose revocation cannot be told now is not judged: the change is
 * deferred (Deferral 'revocationUnknown') and comes again.
 */
import { createHash } from 'node:crypto';
import { parseCertificate, parseCms, signatureValueOf, verifyCmsSignatures, verifyXml } from '#signing/index.js';
import { applicationXml } from '#core/workflow/signed-document.js';
import { actorFor, planSteps } from '#core/workflow/machine.js';
import { providerPartition } from '../feed.js';
import { signatureAddPayload } from '#core/protocol.js';
import type { SignatureFormat } from '#core/vocabulary.js';
import type { ApplicationData, SignatureData } from '../rows.js';
import type { Sql } from '../postgres/sql.js';
import { activeActor, Deferral, payloadOf, Rejection, type OpHandler } from './common.js';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * The document the workstation signs for `app`, as the server's state of it
 * says (for the `sign` action too: the signature it names must be of this).
 */
export async function rebuiltDocument(sql: Sql, app: ApplicationData): Promise<string> {
  const [provider] = await sql.query<{ bin: string; name: string }>(
    'SELECT bin, name_ru AS name FROM providers WHERE id = $1',
    [app.providerId],
  );
  if (!provider) throw new Rejection('notFound', `no provider ${app.providerId}`);
  return applicationXml({
    id: app.id,
    number: app.number,
    portalNumber: app.portalNumber,
    serviceCode: app.serviceCode,
    providerBin: provider.bin,
    providerName: provider.name,
    applicantIin: app.applicantIin,
    applicantBin: app.applicantBin,
    applicantName: app.applicantName,
    status: app.status,
    decision: app.decision,
    refusalReasonCode: app.refusalReasonCode,
    refusalText: app.refusalText,
    submittedAt: Number(app.submittedAt),
    formData: app.formData,
  });
}

/** The SHA-256 (hex) of the application's document as the server would rebuild it now. */
export async function documentDigest(sql: Sql, app: ApplicationData): Promise<string> {
  return sha256(await rebuiltDocument(sql, app));
}

interface Verified {
  certificate: Uint8Array;
  /** The RFC 3161 token the (CMS) signature carries, with the signature value it must stamp. */
  timestamp: { token: Uint8Array; signatureValue: Uint8Array } | null;
}

const isSha1 = (name: string) => /sha-?1(?![0-9])/i.test(name) || name === '1.3.14.3.2.26';

/** The signer of a signature over `document` that verifies, or the rejection `invalid` naming what does not hold. */
function verifiedSigner(format: SignatureFormat, signed: Buffer, document: string): Verified {
  try {
    if (format === 'xmldsig') {
      const v = verifyXml(signed.toString('utf8'), { allowSha1: false, document });
      if (!v.ok) {
        throw new Rejection(
          'invalid',
          v.code === 'contentMismatch'
            ? `the signed document is not this application's as the server has it (${v.reason})`
            : `the signature does not verify (${v.code}: ${v.reason})`,
        );
      }
      return { certificate: v.certificate, timestamp: null };
    }
    const bytes = Buffer.from(document, 'utf8');
    const cms = parseCms(signed);
    if (cms.content && !Buffer.from(cms.content).equals(bytes)) {
      throw new Rejection('invalid', "the signed content is not this application's document as the server has it");
    }
    const first = cms.signers[0];
    if (!first) throw new Rejection('invalid', 'the signature has no signer');
    if (cms.signers.some((s) => isSha1(s.digestAlgorithm) || isSha1(s.signatureAlgorithm))) {
      throw new Rejection('invalid', 'SHA-1 is not accepted for a new signature');
    }
    // The messageDigest of each signer against the rebuilt document (detached: given here; attached: equal to it).
    const checks = verifyCmsSignatures(signed, { content: bytes });
    const failed = checks.find((ch) => !ch.ok);
    if (failed && !failed.ok) {
      throw new Rejection(
        'invalid',
        failed.code === 'contentMismatch'
          ? "the signature's messageDigest is not of this application's document as the server has it"
          : `the signature does not verify (${failed.code})`,
      );
    }
    const check = checks[0];
    if (!check?.ok) throw new Rejection('invalid', 'the signature does not verify');
    return {
      certificate: check.certificate,
      timestamp: first.timestampToken
        ? { token: first.timestampToken, signatureValue: signatureValueOf(signed, 0) }
        : null,
    };
  } catch (err) {
    if (err instanceof Rejection) throw err;
    // The parser's own words stay here: they may quote the bytes sent.
    throw new Rejection('invalid', 'the signature cannot be read');
  }
}

export const addSignature: OpHandler = async (c) => {
  const p = payloadOf(signatureAddPayload, c.change.payload);
  if (p.id !== c.change.entityId) throw new Rejection('invalid', 'the change names another signature');
  const held = await c.applications.get(c.sql, p.applicationId);
  if (!held) throw new Rejection('notFound', `no application ${p.applicationId}`);
  const app = held.row;
  const signed = Buffer.from(p.signed, 'base64');
  const document = await rebuiltDocument(c.sql, app);
  if (sha256(document) !== p.documentSha256) {
    throw new Rejection('invalid', "documentSha256 is not of this application's document as the server has it");
  }
  const verified = verifiedSigner(p.format, signed, document);
  const facts = parseCertificate(verified.certificate);
  if (facts.sha256 !== p.certificateSha256) throw new Rejection('invalid', 'the certificate is not the one named');
  // A signature that verifies proves only that the certificate's key made it: the certificate must be one the
  // server trusts, a signing key, valid (and not revoked, nor its CAs) when it signed. Else anyone could make one
  // with a head's IIN.
  const trusted = await c.signers.checkSigner(c.sql, verified.certificate, { timestamp: verified.timestamp }, c.now);
  if (!trusted.ok) {
    if (trusted.code === 'revocationUnknown') {
      throw new Deferral('revocationUnknown', "the signer's revocation cannot be checked now");
    }
    throw new Rejection('forbidden', `the signer's certificate is refused (${trusted.code})`);
  }
  if (!facts.iin) throw new Rejection('forbidden', 'the certificate names no IIN');

  // The signer is the certificate's holder: the named user must be them; unnamed, the holder among the users.
  const [holder] = await c.sql.query<{ id: string }>(
    `SELECT u.id FROM users u WHERE u.iin = $1 AND ($2::text IS NULL OR u.id = $2)
      ORDER BY EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = 'head' AND r.provider_id = $3) DESC, u.id
      LIMIT 1`,
    [facts.iin, p.userId ?? null, app.providerId],
  );
  if (!holder) throw new Rejection('forbidden', 'the certificate is not a registered user’s');
  const actor = await activeActor(c, holder.id);
  // Where the service's executor issues the result itself, its responsible executor signs it (core's actorFor).
  const def = await c.cache.service(c.sql, app.serviceCode);
  const signer = actorFor('sign', def ? planSteps(def, app.channel) : null);
  const executorSigns = signer.role === 'executor' && app.responsibleUserId === actor.id;
  const mayAdd = actor.grants.some(
    (g) =>
      (g.role === 'head' && g.providerId === app.providerId) ||
      (executorSigns && g.role === 'executor' && g.providerId === app.providerId) ||
      g.role === 'operator',
  );
  if (!mayAdd) throw new Rejection('forbidden', `${actor.id} does not sign for ${app.providerId}`);
  // A provider's workstation records signatures of its own applications only (a centre's operators sign intake for any).
  if (app.providerId !== c.device.providerId && !actor.grants.some((g) => g.role === 'operator')) {
    throw new Rejection('forbidden', `this workstation does not serve ${app.providerId}`);
  }
  const [exists] = await c.sql.query('SELECT 1 FROM signatures WHERE id = $1', [p.id]);
  if (exists) throw new Rejection('invalid', `signature ${p.id} exists`);

  return async () => {
    const data: SignatureData = {
      id: p.id,
      applicationId: app.id,
      format: p.format,
      signed: signed.toString('base64'),
      documentSha256: p.documentSha256,
      signerIin: facts.iin,
      signerBin: facts.bin,
      signerName: facts.commonName,
      certificateSha256: facts.sha256,
      keySource: p.keySource ?? 'unknown',
      userId: actor.id,
      signedAt: p.signedAt,
      // The time the server verified, not the one the client claims.
      timestampedAt: trusted.timestampedAt,
    };
    // The application may be one this transaction created and has not written yet.
    await c.applications.writeEvents(c.sql);
    await c.sql.query(
      `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin, signer_name,
         certificate_sha256, key_source, user_id, signed_at, timestamped_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        data.id,
        data.applicationId,
        data.format,
        signed,
        data.documentSha256,
        data.signerIin,
        data.signerBin,
        data.signerName,
        data.certificateSha256,
        data.keySource,
        data.userId,
        data.signedAt,
        data.timestampedAt,
      ],
    );
    c.feed.write(providerPartition(app.providerId), { entity: 'signature', id: p.id, op: 'upsert', data });
  };
};
