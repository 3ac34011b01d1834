/**
 * The certificate of an EDS login, checked on the server with the
 * workstation's own trust code (signing/trust): a chain to the trusted
 * roots of `trustDirs`, valid now, an authentication key (not a signing
 * key), not revoked. Revocation comes from the CRLs in `crlDir` and from the
 * server's `crls` table (every instance reads the table, so a CRL imported
 * through one is used by all); OCSP and CRL downloads only when `online`.
 * The same trust decides whether a pushed signature's certificate could sign
 * (`checkSigner`), more strictly: revocation must be known for the whole
 * chain, and the time judged is one the server can vouch for.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateChecker,
  CrlStore,
  isSigningError,
  loadTrust,
  subjectIdentity,
  verifyTimestampToken,
} from '#signing/index.js';
import type { Sql } from '../postgres/sql.js';

export interface LoginTrustOptions {
  /** Folders of trusted CA certificates: self-signed ones are roots, the rest intermediates. */
  trustDirs: readonly string[];
  /** Where CRLs are kept (read at start, newer ones from the database written there); null: a temporary folder of this process. */
  crlDir: string | null;
  /** Ask OCSP responders and download CRLs from distribution points (default false: the stored CRLs only). */
  online?: boolean;
  /** The OCSP responder to ask instead of the certificate's own (with `online`). */
  ocspUrl?: string;
  timeoutMs?: number;
}

export type CertificateVerdict =
  | { ok: true; iin: string | null; bin: string | null }
  /** `code`: the signer's error code (certExpired, certRevoked, wrongKeyUsage, chainUntrusted, revocationUnknown…). */
  | { ok: false; code: string };

/** What a signature brings that bears on when it was made. */
export interface SignatureEvidence {
  /** The RFC 3161 token the signature carries, and the signature value it must stamp (CMS: the SignerInfo's). */
  timestamp: { token: Uint8Array; signatureValue: Uint8Array } | null;
}

export type SignerVerdict =
  /** `at`: the time judged (the timestamp's, else the receipt); `timestampedAt`: the verified timestamp's time. */
  | { ok: true; iin: string | null; bin: string | null; at: number; timestampedAt: number | null }
  | { ok: false; code: string };

let scratch: string | null = null;

/** A folder of this process's own for a store without a CRL folder; removed when the process exits. */
function scratchCrlDir(): string {
  if (!scratch) {
    const root = mkdtempSync(join(tmpdir(), 'qyzmet-server-crl-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    scratch = root;
  }
  return mkdtempSync(join(scratch, 'store-'));
}

interface Ready {
  checker: CertificateChecker;
  store: CrlStore;
  trust: { trustedRoots: Uint8Array[]; intermediates: Uint8Array[] };
}

export class LoginCertificates {
  private ready: Promise<Ready> | null = null;
  /** CRLs of the table already offered to the store (accepted or not). */
  private readonly offered = new Set<string>();
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: LoginTrustOptions) {}

  private open(): Promise<Ready> {
    this.ready ??= (async () => {
      const trust = loadTrust(this.options.trustDirs);
      const dir = this.options.crlDir ?? scratchCrlDir();
      const store = await CrlStore.open({ dir, issuers: [...trust.roots, ...trust.intermediates] });
      const online = this.options.online === true;
      const checker = new CertificateChecker({
        trustedRoots: trust.roots,
        intermediates: trust.intermediates,
        crlStore: store,
        ocsp: {
          enabled: online,
          timeoutMs: this.options.timeoutMs ?? 5_000,
          ...(this.options.ocspUrl ? { url: this.options.ocspUrl } : {}),
        },
        fetchCrl: online,
        online: () => online,
      });
      return { checker, store, trust: { trustedRoots: trust.roots, intermediates: trust.intermediates } };
    })();
    return this.ready;
  }

  /** Offers the store the table's CRLs it has not seen yet (one sync at a time). */
  private syncCrls(sql: Sql, store: CrlStore): Promise<void> {
    const run = this.syncing.then(async () => {
      const rows = await sql.query<{ sha256: string }>('SELECT sha256 FROM crls');
      for (const { sha256 } of rows) {
        if (this.offered.has(sha256)) continue;
        const [row] = await sql.query<{ der: Uint8Array }>('SELECT der FROM crls WHERE sha256 = $1', [sha256]);
        if (row) await store.update(new Uint8Array(row.der));
        this.offered.add(sha256);
      }
    });
    this.syncing = run.catch(() => undefined);
    return run;
  }

  /**
   * Whether `certificate` could make a signature the server receives at
   * `now`: a chain to the trusted roots, a signing key, valid and not revoked
   * (nor any CA of its chain) at the time judged. That time is the
   * timestamp's when the signature carries one that verifies against the
   * trusted roots and stamps its signature value, else `now`: what the client
   * says of its signing time proves nothing, so a key revoked before the
   * server saw its signature is refused. When revocation cannot be told (no
   * CRL of an issuer, one past its nextUpdate, OCSP unreachable) the verdict
   * is `revocationUnknown`: not judged, for the caller to wait on.
   */
  async checkSigner(
    sql: Sql,
    certificate: Uint8Array,
    evidence: SignatureEvidence,
    now: number,
  ): Promise<SignerVerdict> {
    const { checker, store, trust } = await this.open();
    await this.syncCrls(sql, store);
    const timestampedAt = evidence.timestamp ? trustedTime(evidence.timestamp, trust) : null;
    const at = timestampedAt === null ? now : Math.min(timestampedAt, now);
    try {
      const result = await checker.check(certificate, {
        at: new Date(at),
        now: new Date(now),
        act: 'sign',
        strictRevocation: true,
      });
      const leaf = result.chain[0];
      if (!leaf) return { ok: false, code: 'chainUntrusted' };
      return { ok: true, ...subjectIdentity(leaf), at, timestampedAt };
    } catch (err) {
      if (isSigningError(err)) return { ok: false, code: err.code };
      throw err;
    }
  }

  /** Whether `certificate` may log in at `now`, and whose it is. */
  async check(sql: Sql, certificate: Uint8Array, now: number): Promise<CertificateVerdict> {
    const { checker, store } = await this.open();
    await this.syncCrls(sql, store);
    try {
      const at = new Date(now);
      const result = await checker.check(certificate, { at, now: at, act: 'auth', newAct: true });
      if (result.revocation.status === 'revoked') return { ok: false, code: 'certRevoked' };
      const leaf = result.chain[0];
      if (!leaf) return { ok: false, code: 'chainUntrusted' };
      return { ok: true, ...subjectIdentity(leaf) };
    } catch (err) {
      if (isSigningError(err)) return { ok: false, code: err.code };
      throw err;
    }
  }
}

/** The time a timestamp token vouches for, when it verifies against `trust` and stamps the signature value; else null. */
function trustedTime(
  timestamp: NonNullable<SignatureEvidence['timestamp']>,
  trust: { trustedRoots: Uint8Array[]; intermediates: Uint8Array[] },
): number | null {
  const verdict = verifyTimestampToken(timestamp.token, { data: timestamp.signatureValue, trust });
  return verdict.ok ? verdict.info.genTime.getTime() : null;
}
