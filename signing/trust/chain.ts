/**
 * The certificate's own checks: a chain to a trusted root (every signature
 * checked, every issuer a CA allowed to issue), validity at a time, the key
 * usage for the act (signing or logging in), and whose certificate it is
 * (IIN / BIN). Each failure is a SigningError with the code the interface
 * explains.
 */
import type { X509Certificate } from 'node:crypto';
import { SigningError } from '../errors.js';
import { certView, issuedBy, OID, sameEntity, subjectIdentity, type CertInput, type CertView } from './x509.js';

export { subjectIdentity };
export type { CertInput };

export interface TrustMaterial {
  /** Certificates that may link the leaf to a root: not trusted themselves (e.g. from the CMS or the key file). */
  intermediates: readonly CertInput[];
  /** The trust anchors (the national CA's roots). */
  trustedRoots: readonly CertInput[];
}

/** What a key may be used for here: a signature, or logging in (authentication). */
export type KeyAct = 'sign' | 'auth';

const MAX_DEPTH = 8;

/**
 * The chain from `leaf` to a trusted root, leaf first, root last. Each link's
 * signature is checked with its issuer's key, each issuer must be a CA
 * (basicConstraints cA, keyCertSign when key usage is present, path length
 * respected). Tries every candidate issuer (cross-certificates, re-issued
 * CAs) before giving up with 'chainUntrusted'.
 */
export function buildChain(leaf: CertInput, trust: TrustMaterial): X509Certificate[] {
  return buildChainViews(leaf, trust).map((v) => v.x509);
}

/** buildChain with the parsed views (for the other trust modules). */
export function buildChainViews(leaf: CertInput | CertView, trust: TrustMaterial | PreparedTrust): CertView[] {
  const prepared = trust instanceof PreparedTrust ? trust : PreparedTrust.from(trust);
  let start: CertView;
  try {
    start = certView(leaf);
  } catch (cause) {
    throw new SigningError('chainUntrusted', {}, { cause });
  }
  const found = prepared.extend([start]);
  if (!found) throw new SigningError('chainUntrusted');
  return found;
}

/** Trust material parsed once, for a checker that builds many chains. */
export class PreparedTrust {
  private constructor(
    private readonly roots: readonly CertView[],
    private readonly intermediates: readonly CertView[],
  ) {}

  static from(trust: TrustMaterial): PreparedTrust {
    return new PreparedTrust(parseAll(trust.trustedRoots), parseAll(trust.intermediates));
  }

  /** The same trust with more intermediates (e.g. those a signature carries). */
  with(extra: readonly CertInput[]): PreparedTrust {
    return extra.length === 0 ? this : new PreparedTrust(this.roots, [...parseAll(extra), ...this.intermediates]);
  }

  isAnchor(cert: CertView): boolean {
    return this.roots.some((root) => sameEntity(root, cert));
  }

  extend(path: CertView[]): CertView[] | null {
    const current = path[path.length - 1];
    if (!current) return null;
    if (this.isAnchor(current)) return path;
    if (path.length >= MAX_DEPTH) return null;
    const below = path.length - 1; // CA certificates under the next issuer, leaf excluded
    for (const candidate of [...this.roots, ...this.intermediates]) {
      if (path.some((p) => p.fingerprint === candidate.fingerprint)) continue;
      if (current.issuerKey !== candidate.subjectKey) continue;
      if (!mayIssue(candidate, below)) continue;
      if (!issuedBy(current, candidate)) continue;
      const done = this.extend([...path, candidate]);
      if (done) return done;
    }
    return null;
  }
}

function parseAll(inputs: readonly CertInput[]): CertView[] {
  const out: CertView[] = [];
  for (const input of inputs) {
    try {
      out.push(certView(input));
    } catch {
      // An unreadable certificate among the helpers links nothing: skip it.
    }
  }
  return out;
}

function mayIssue(ca: CertView, caCertsBelow: number): boolean {
  if (!ca.basicConstraints?.ca) return false;
  if (ca.keyUsage && !ca.keyUsage.has('keyCertSign')) return false;
  const pathLen = ca.basicConstraints.pathLen;
  return pathLen === null || caCertsBelow <= pathLen;
}

/** Throws 'certNotYetValid' (details.notBefore) or 'certExpired' (details.notAfter) when `cert` isn't valid at `at`. */
export function checkValidity(cert: CertInput | CertView, at: Date): void {
  const view = certView(cert);
  if (at.getTime() < view.notBefore.getTime()) {
    throw new SigningError('certNotYetValid', { notBefore: view.notBefore.toISOString() });
  }
  if (at.getTime() > view.notAfter.getTime()) {
    throw new SigningError('certExpired', { notAfter: view.notAfter.toISOString() });
  }
}

/** checkValidity for every certificate of a chain, leaf first. */
export function checkChainValidity(chain: readonly (CertInput | CertView)[], at: Date): void {
  for (const cert of chain) checkValidity(cert, at);
}

/**
 * Throws 'wrongKeyUsage' (details.needed) unless the key may be used for `act`:
 * - sign: key usage nonRepudiation, or extended key usage emailProtection
 *   (how the national CA marks signing keys); a key usage that forbids
 *   signatures altogether fails either way;
 * - auth: extended key usage clientAuth; without an extended key usage, key
 *   usage digitalSignature on a key that isn't marked for non-repudiation.
 */
export function checkKeyUsage(cert: CertInput | CertView, act: KeyAct): void {
  const view = certView(cert);
  const ku = view.keyUsage;
  const eku = view.extKeyUsage;
  let ok: boolean;
  if (act === 'sign') {
    const signs = ku === null || ku.has('digitalSignature') || ku.has('nonRepudiation');
    ok = signs && (ku?.has('nonRepudiation') === true || eku?.includes(OID.ekuEmailProtection) === true);
  } else if (eku !== null) {
    ok = eku.includes(OID.ekuClientAuth) && (ku === null || ku.has('digitalSignature'));
  } else {
    ok = ku !== null && ku.has('digitalSignature') && !ku.has('nonRepudiation');
  }
  if (!ok) throw new SigningError('wrongKeyUsage', { needed: act });
}

/**
 * Throws 'iinMismatch' (details.expected, details.actual, details.field:
 * 'iin' | 'bin') when the certificate isn't the expected person's or
 * organisation's. A missing value in the certificate is a mismatch (actual '').
 */
export function checkIdentity(cert: CertInput | CertView, expect: { iin?: string; bin?: string }): void {
  const actual = subjectIdentity(certView(cert));
  if (expect.iin !== undefined && actual.iin !== expect.iin) {
    throw new SigningError('iinMismatch', { expected: expect.iin, actual: actual.iin ?? '', field: 'iin' });
  }
  if (expect.bin !== undefined && actual.bin !== expect.bin) {
    throw new SigningError('iinMismatch', { expected: expect.bin, actual: actual.bin ?? '', field: 'bin' });
  }
}
