/**
 * signature.add: a signature of an application, verified, its signer read
 * from its own certificate and checked against the server's trust.
 */
import { createHash } from 'node:crypto';
import { parseCertificate, parseCms, verifyCmsSignatures, verifyXml } from '#signing/index.js';
import { providerPartition } from '../feed.js';
import { signatureAddPayload } from '#core/protocol.js';
import type { SignatureFormat } from '#core/vocabulary.js';
import type { SignatureData } from '../rows.js';
import { activeActor, payloadOf, Rejection, type OpHandler } from './common.js';

/** The signer's certificate of a signature that verifies, or the rejection `invalid`. */
function verifiedSigner(format: SignatureFormat, signed: Buffer, documentSha256: string): Uint8Array {
  try {
    if (format === 'xmldsig') {
      const v = verifyXml(signed.toString('utf8'));
      if (!v.ok) throw new Rejection('invalid', `the signature does not verify (${v.code})`);
      return v.certificate;
    }
    const checks = verifyCmsSignatures(signed);
    const failed = checks.find((ch) => !ch.ok);
    const first = checks[0];
    if (!first || failed || !first.ok) throw new Rejection('invalid', 'the signature does not verify');
    const content = parseCms(signed).content;
    if (content && createHash('sha256').update(content).digest('hex') !== documentSha256) {
      throw new Rejection('invalid', 'the signed content is not the document named');
    }
    return first.certificate;
  } catch (err) {
    if (err instanceof Rejection) throw err;
    throw new Rejection(
      'invalid',
      `the signature cannot be read (${err instanceof Error ? err.message : String(err)})`,
    );
  }
}

export const addSignature: OpHandler = async (c) => {
  const p = payloadOf(signatureAddPayload, c.change.payload);
  if (p.id !== c.change.entityId) throw new Rejection('invalid', 'the change names another signature');
  const held = await c.applications.get(c.sql, p.applicationId);
  if (!held) throw new Rejection('notFound', `no application ${p.applicationId}`);
  const app = held.row;
  const signed = Buffer.from(p.signed, 'base64');
  const certificate = verifiedSigner(p.format, signed, p.documentSha256);
  const facts = parseCertificate(certificate);
  if (facts.sha256 !== p.certificateSha256) throw new Rejection('invalid', 'the certificate is not the one named');
  // A signature that verifies proves only that the certificate's key made it: the certificate must be one the
  // server trusts, a signing key, valid (and not revoked) when it signed. Else anyone could make one with a head's IIN.
  const trusted = await c.signers.checkSigner(c.sql, certificate, p.signedAt, c.now);
  if (!trusted.ok) throw new Rejection('forbidden', `the signer's certificate is refused (${trusted.code})`);
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
  const mayAdd = actor.grants.some(
    (g) => (g.role === 'head' && g.providerId === app.providerId) || g.role === 'operator',
  );
  if (!mayAdd) throw new Rejection('forbidden', `${actor.id} does not sign for ${app.providerId}`);
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
      timestampedAt: p.timestampedAt ?? null,
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
