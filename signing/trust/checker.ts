/**
 * All the checks of a certificate before its key signs or logs in, and when
 * a signature is verified, in one order: chain, validity, key usage,
 * identity, revocation. The first failure is thrown as its SigningError.
 *
 * Revocation: online, OCSP first (when enabled), falling back to the CRL
 * (downloaded from the certificate's distribution point when the cached one
 * is missing or stale); offline, the cached CRL only. A stale CRL is used,
 * with the warning 'crlStale'. Neither a fresh OCSP answer nor a CRL:
 * 'revocationUnknown'. With `strictRevocation` a stale CRL is no answer
 * either, and the intermediate CAs are checked as the leaf is.
 */
import type { X509Certificate } from 'node:crypto';
import { SigningError } from '../errors.js';
import {
  buildChainViews,
  checkChainValidity,
  checkIdentity,
  checkKeyUsage,
  PreparedTrust,
  type KeyAct,
} from './chain.js';
import type { CrlStore, RevocationReason } from './crl.js';
import { checkOcsp, type OcspProblem } from './ocsp.js';
import type { CertInput, CertView } from './x509.js';

export interface CheckerConfig {
  trustedRoots: readonly CertInput[];
  intermediates: readonly CertInput[];
  crlStore: CrlStore;
  ocsp?: {
    enabled: boolean;
    /** The responder; without it, the certificate's AIA address. */
    url?: string;
    timeoutMs: number;
    /** CertID hash (default 'sha1'). */
    hash?: 'sha1' | 'sha256';
  };
  /** Download a missing or stale CRL from the certificate's distribution point when online (default true). */
  fetchCrl?: boolean;
  /** Whether the network may be used now. */
  online: () => boolean;
}

export interface CheckOptions {
  /** The time the certificate must have been valid and unrevoked at: now for a new act, the signing time for a verification. */
  at: Date;
  act: KeyAct;
  /** The person or organisation the certificate must belong to. */
  expect?: { iin?: string; bin?: string };
  /** The clock (default: the real one). */
  now?: Date;
  /** A new signature or login: the certificate must also be valid now, not only at `at`. */
  newAct?: boolean;
  /** More intermediates (those a signature or a key file carries). */
  intermediates?: readonly CertInput[];
  /**
   * Revocation must be known, for the whole chain: a CRL past its nextUpdate
   * counts as none ('revocationUnknown' rather than the warning 'crlStale'),
   * and every CA certificate below the trust anchor is looked up on its
   * issuer's CRL (or OCSP) like the leaf. For a judge that must not guess
   * (the server accepting a signature); the workstation, offline, lives with
   * the warning.
   */
  strictRevocation?: boolean;
}

export type Warning = 'crlStale' | `ocsp:${OcspProblem}` | 'revokedAfterSigning' | 'crlFetchFailed';

export interface RevocationOutcome {
  source: 'ocsp' | 'crl' | 'none';
  status: 'good' | 'revoked' | 'unknown';
  stale: boolean;
  /** When this check was made. */
  checkedAt: Date;
  /** The time the revocation data speaks for (OCSP thisUpdate, CRL thisUpdate). */
  asOf?: Date;
  revokedAt?: Date;
  reason?: RevocationReason | null;
}

export interface CheckResult {
  /** Leaf first, trusted root last. */
  chain: X509Certificate[];
  revocation: RevocationOutcome;
  warnings: Warning[];
}

export class CertificateChecker {
  private readonly trust: PreparedTrust;

  constructor(private readonly config: CheckerConfig) {
    this.trust = PreparedTrust.from({ trustedRoots: config.trustedRoots, intermediates: config.intermediates });
  }

  async check(certificate: CertInput, options: CheckOptions): Promise<CheckResult> {
    const now = options.now ?? new Date();
    const chain = buildChainViews(certificate, this.trust.with(options.intermediates ?? []));
    checkChainValidity(chain, options.at);
    if (options.newAct) checkChainValidity(chain, now);
    const [leaf, issuer] = chain;
    if (!leaf) throw new SigningError('chainUntrusted');
    checkKeyUsage(leaf, options.act);
    if (options.expect) checkIdentity(leaf, options.expect);

    const warnings: Warning[] = [];
    const chainOut = chain.map((c) => c.x509);
    if (!issuer) {
      // The certificate is a trust anchor itself: nobody above it to ask.
      return {
        chain: chainOut,
        revocation: { source: 'none', status: 'good', stale: false, checkedAt: now },
        warnings,
      };
    }

    const strict = options.strictRevocation === true;
    const revocation = await this.revocationOf(leaf, issuer, now, strict, warnings);
    if (revocation.status === 'revoked' && revocation.revokedAt) {
      if (revocation.revokedAt.getTime() <= options.at.getTime()) {
        throw new SigningError('certRevoked', {
          revokedAt: revocation.revokedAt.toISOString(),
          reason: revocation.reason ?? 'unspecified',
        });
      }
      // Revoked since: a signature made before still stands, but say so.
      warnings.push('revokedAfterSigning');
    }
    if (strict) {
      // The CAs between the leaf and the anchor: a revoked intermediate takes its certificates with it.
      for (let i = 1; i + 1 < chain.length; i++) {
        const ca = chain[i]!;
        const above = chain[i + 1]!;
        if (this.trust.isAnchor(ca)) break;
        const status = await this.revocationOf(ca, above, now, true, warnings);
        if (status.status === 'revoked' && status.revokedAt && status.revokedAt.getTime() <= options.at.getTime()) {
          throw new SigningError('certRevoked', {
            revokedAt: status.revokedAt.toISOString(),
            reason: status.reason ?? 'unspecified',
            which: 'issuer',
          });
        }
        if (status.status === 'revoked') warnings.push('revokedAfterSigning');
      }
    }

    return { chain: chainOut, revocation, warnings };
  }

  /** The revocation state of `cert` (issued by `issuer`): OCSP when online and enabled, else the CRL. */
  private async revocationOf(
    cert: CertView,
    issuer: CertView,
    now: Date,
    strict: boolean,
    warnings: Warning[],
  ): Promise<RevocationOutcome> {
    const online = this.config.online();
    if (online && this.config.ocsp?.enabled) {
      const answer = await checkOcsp(cert, issuer, {
        timeoutMs: this.config.ocsp.timeoutMs,
        now,
        ...(this.config.ocsp.url ? { url: this.config.ocsp.url } : {}),
        ...(this.config.ocsp.hash ? { hash: this.config.ocsp.hash } : {}),
      });
      if (answer.status === 'unknown') warnings.push(`ocsp:${answer.problem}`);
      else {
        return {
          source: 'ocsp',
          status: answer.status,
          stale: false,
          checkedAt: now,
          asOf: answer.thisUpdate,
          ...(answer.status === 'revoked' ? { revokedAt: answer.revokedAt, reason: answer.reason } : {}),
        };
      }
    }

    let crl = this.config.crlStore.status(cert, issuer, now);
    if (online && this.config.fetchCrl !== false && (crl.status === 'unknown' || crl.stale)) {
      let fetched = false;
      for (const url of cert.crlUrls) {
        const got = await this.config.crlStore.fetch(url);
        if (got.ok && (got.update.accepted || got.update.reason === 'notNewer')) {
          fetched = true;
          break;
        }
      }
      if (!fetched && cert.crlUrls.length > 0) warnings.push('crlFetchFailed');
      crl = this.config.crlStore.status(cert, issuer, now);
    }
    if (crl.status === 'unknown') throw new SigningError('revocationUnknown');
    if (crl.stale && strict) throw new SigningError('revocationUnknown', { problem: 'crlStale' });
    if (crl.stale) warnings.push('crlStale');
    return {
      source: 'crl',
      status: crl.status,
      stale: crl.stale,
      checkedAt: now,
      ...(crl.thisUpdate ? { asOf: crl.thisUpdate } : {}),
      ...(crl.status === 'revoked' ? { revokedAt: crl.revokedAt, reason: crl.reason ?? null } : {}),
    };
  }
}
