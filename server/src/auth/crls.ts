/**
 * The CRLs the server keeps current for the workstations' offline checks
 * (and its own EDS login checks): `importCrl` stores one (read with the
 * workstation's CRL parser, verified against the CA certificates when they
 * are given) and publishes it in the global partition's feed; the older
 * CRLs of the same issuer go, each with its tombstone, so the table and the
 * feed hold the newest CRL of each CA.
 */
import { createHash } from 'node:crypto';
import { type CertInput, isNewer, parseCrl, type ParsedCrl, verifyCrl } from '#signing/index.js';
import type { Sql } from '../postgres/sql.js';
import { bytes } from '../postgres/sql.js';
import { GLOBAL_PARTITION, publish, type FeedWrite } from '../feed.js';
import type { crlData } from '#core/protocol.js';
import type { z } from 'zod';

export type CrlData = z.infer<typeof crlData>;

export type CrlImport =
  | { imported: true; crl: CrlData; replaced: string[]; version: number }
  /** exists: this very CRL is stored; notNewer: a newer one of its CA is. */
  | { imported: false; reason: 'exists' | 'notNewer'; crl: CrlData };

export class CrlRefused extends Error {
  constructor(readonly reason: 'malformed' | 'delta' | 'signatureInvalid') {
    super(`CRL refused: ${reason}`);
    this.name = 'CrlRefused';
  }
}

export interface ImportCrlOptions {
  /** CA certificates one of which must have signed the CRL; absent: not verified here (workstations verify it). */
  issuers?: readonly CertInput[];
}

function dataOf(sha256: string, crl: ParsedCrl): CrlData {
  return {
    sha256,
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate.getTime(),
    nextUpdate: crl.nextUpdate ? crl.nextUpdate.getTime() : null,
    size: crl.der.length,
  };
}

/** Stores the CRL `der` (DER or PEM) and publishes it; older CRLs of its issuer are deleted with tombstones. */
export async function importCrl(
  sql: Sql,
  der: Uint8Array | string,
  options: ImportCrlOptions = {},
): Promise<CrlImport> {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(der);
  } catch {
    throw new CrlRefused('malformed');
  }
  if (crl.isDelta) throw new CrlRefused('delta');
  if (options.issuers && !options.issuers.some((ca) => verifyCrl(crl, ca) === 'valid')) {
    throw new CrlRefused('signatureInvalid');
  }
  const sha256 = createHash('sha256').update(crl.der).digest('hex');
  const data = dataOf(sha256, crl);

  return sql.tx(async (tx) => {
    // One importer of an issuer's CRLs at a time (two instances, two downloads).
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`crl:${crl.issuer}`]);
    const stored = await tx.query<{ sha256: string; der: unknown }>('SELECT sha256, der FROM crls WHERE issuer = $1', [
      crl.issuer,
    ]);
    if (stored.some((s) => s.sha256 === sha256)) return { imported: false, reason: 'exists', crl: data };
    const older: string[] = [];
    for (const s of stored) {
      if (!isNewer(crl, parseCrl(bytes(s.der)))) return { imported: false, reason: 'notNewer', crl: data };
      older.push(s.sha256);
    }
    if (older.length > 0) await tx.query('DELETE FROM crls WHERE sha256 = ANY($1::text[])', [older]);
    await tx.query('INSERT INTO crls (sha256, issuer, this_update, next_update, der) VALUES ($1, $2, $3, $4, $5)', [
      sha256,
      crl.issuer,
      data.thisUpdate,
      data.nextUpdate,
      Buffer.from(crl.der),
    ]);
    const rows: FeedWrite[] = [
      ...older.map((id): FeedWrite => ({ entity: 'crl', id, op: 'delete', data: null })),
      { entity: 'crl', id: sha256, op: 'upsert', data },
    ];
    const version = await publish(tx, GLOBAL_PARTITION, rows);
    return { imported: true, crl: data, replaced: older, version };
  });
}

/** The stored CRLs in the feed's shape, newest first per issuer. */
export async function listCrls(sql: Sql): Promise<CrlData[]> {
  return sql.query<CrlData>(
    `SELECT sha256, issuer, this_update AS "thisUpdate", next_update AS "nextUpdate", length(der) AS size
       FROM crls ORDER BY issuer, this_update DESC`,
  );
}

/** The DER of the stored CRL `sha256`, or null. */
export async function crlDer(sql: Sql, sha256: string): Promise<Buffer | null> {
  const [row] = await sql.query<{ der: unknown }>('SELECT der FROM crls WHERE sha256 = $1', [sha256]);
  return row ? bytes(row.der) : null;
}
