/**
 * Certificate revocation lists: reading one (DER or PEM), checking it was
 * signed by its CA, and a store that keeps the newest CRL of each CA on disk
 * and in memory so that a revocation lookup is one Map access — the offline
 * answer to "is this certificate revoked?".
 *
 * Only full CRLs are stored: a delta CRL (deltaCRLIndicator) is refused, as
 * is a CRL whose signature can't be checked here (GOST): an unverifiable CRL
 * could hide a revocation.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { SigningError } from '../errors.js';
import { copyBytes, derFrom, serialKey } from '../der.js';
import { httpExchange, type HttpProblem } from './http.js';
import { verifySignature, type SignatureCheck } from './signature.js';
import { distinguishedName, nameKey } from '../certificate.js';
import { certView, OID, type CertInput, type CertView } from './x509.js';

/** CRLReason names by code (RFC 5280 §5.3.1; 7 is unused). */
export const REVOCATION_REASONS = [
  'unspecified',
  'keyCompromise',
  'cACompromise',
  'affiliationChanged',
  'superseded',
  'cessationOfOperation',
  'certificateHold',
  'unused7',
  'removeFromCRL',
  'privilegeWithdrawn',
  'aACompromise',
] as const;

export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export function reasonName(code: number): RevocationReason | null {
  return REVOCATION_REASONS[code] ?? null;
}

export interface RevokedEntry {
  /** Normal-form serial (lower-case hex, no leading zeros). */
  readonly serial: string;
  readonly revokedAt: Date;
  readonly reason: RevocationReason | null;
}

export interface ParsedCrl {
  readonly der: Uint8Array;
  /** The issuer for people: "CN=ҰКО 3.0 (RSA TEST), C=KZ". */
  readonly issuer: string;
  /** The issuer in comparable form (see nameKey). */
  readonly issuerKey: string;
  readonly authorityKeyId: string | null;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | null;
  readonly crlNumber: bigint | null;
  readonly isDelta: boolean;
  readonly signatureAlgorithm: string;
  /** Revoked serials (normal form) for O(1) lookup. */
  readonly revoked: ReadonlyMap<string, RevokedEntry>;
  /** What the signature covers, the signature and its algorithm. */
  readonly tbs: Uint8Array;
  readonly signatureValue: Uint8Array;
  readonly signatureAlgorithmId: pkijs.AlgorithmIdentifier;
}

const CRL_NUMBER = '2.5.29.20';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const CRL_REASON = '2.5.29.21';

/** Reads a CRL. Throws SigningError 'revocationUnknown' (details.problem 'crlMalformed') on anything else. */
export function parseCrl(input: Uint8Array | string): ParsedCrl {
  const der = derFrom(input);
  let crl: pkijs.CertificateRevocationList;
  try {
    crl = pkijs.CertificateRevocationList.fromBER(der);
  } catch (cause) {
    throw new SigningError('revocationUnknown', { problem: 'crlMalformed' }, { cause });
  }
  const revoked = new Map<string, RevokedEntry>();
  for (const entry of crl.revokedCertificates ?? []) {
    const serial = serialKey(entry.userCertificate.valueBlock.valueHexView);
    const reasonExt = entry.crlEntryExtensions?.extensions.find((e) => e.extnID === CRL_REASON);
    const code = reasonExt ? enumeratedValue(reasonExt) : null;
    revoked.set(serial, {
      serial,
      revokedAt: entry.revocationDate.value,
      reason: code === null ? null : reasonName(code),
    });
  }
  const extensions = crl.crlExtensions?.extensions ?? [];
  const numberExt = extensions.find((e) => e.extnID === CRL_NUMBER);
  const akiExt = extensions.find((e) => e.extnID === OID.authorityKeyIdentifier);
  const aki = akiExt?.parsedValue as pkijs.AuthorityKeyIdentifier | undefined;
  return {
    der,
    issuer: distinguishedName(crl.issuer),
    issuerKey: nameKey(crl.issuer),
    authorityKeyId: aki?.keyIdentifier ? Buffer.from(aki.keyIdentifier.valueBlock.valueHexView).toString('hex') : null,
    thisUpdate: crl.thisUpdate.value,
    nextUpdate: crl.nextUpdate?.value ?? null,
    crlNumber: numberExt ? integerValue(numberExt) : null,
    isDelta: extensions.some((e) => e.extnID === DELTA_CRL_INDICATOR),
    signatureAlgorithm: crl.signatureAlgorithm.algorithmId,
    revoked,
    tbs: copyBytes(crl.tbsView),
    signatureValue: copyBytes(crl.signatureValue.valueBlock.valueHexView),
    signatureAlgorithmId: crl.signatureAlgorithm,
  };
}

function enumeratedValue(ext: pkijs.Extension): number | null {
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result;
  return parsed instanceof asn1js.Enumerated ? parsed.valueBlock.valueDec : null;
}

function integerValue(ext: pkijs.Extension): bigint | null {
  const parsed = asn1js.fromBER(ext.extnValue.valueBlock.valueHexView).result;
  if (!(parsed instanceof asn1js.Integer)) return null;
  const bytes = parsed.valueBlock.valueHexView;
  return bytes.length === 0 ? 0n : BigInt('0x' + Buffer.from(bytes).toString('hex'));
}

/**
 * Checks that `issuer` signed `crl`: names and key identifiers agree, the
 * issuer may sign CRLs, the signature checks. 'unsupported' for GOST.
 */
export function verifyCrl(crl: ParsedCrl, issuer: CertInput | CertView): SignatureCheck {
  const ca = certView(issuer);
  if (crl.issuerKey !== ca.subjectKey) return 'invalid';
  if (crl.authorityKeyId && ca.subjectKeyId && crl.authorityKeyId !== ca.subjectKeyId) return 'invalid';
  if (ca.keyUsage && !ca.keyUsage.has('cRLSign')) return 'invalid';
  return verifySignature(crl.signatureAlgorithmId, crl.tbs, crl.signatureValue, ca);
}

/** True when `a` supersedes `b`: a higher CRL number when both have one, else a later thisUpdate. */
export function isNewer(a: ParsedCrl, b: ParsedCrl): boolean {
  if (a.crlNumber !== null && b.crlNumber !== null && a.crlNumber !== b.crlNumber) return a.crlNumber > b.crlNumber;
  return a.thisUpdate.getTime() > b.thisUpdate.getTime();
}

export type CrlUpdate =
  | { accepted: true; issuer: string; thisUpdate: Date; nextUpdate: Date | null }
  | {
      accepted: false;
      reason: 'malformed' | 'delta' | 'issuerUnknown' | 'signatureInvalid' | 'signatureUnsupported' | 'notNewer';
    };

export type CrlFetch =
  { ok: true; update: CrlUpdate } | { ok: false; problem: HttpProblem; message: string; httpStatus?: number };

export interface CrlStatus {
  /** 'unknown': no CRL of this certificate's CA in the store. */
  status: 'good' | 'revoked' | 'unknown';
  /** The CRL is past its nextUpdate: it is still used, with a warning. */
  stale: boolean;
  revokedAt?: Date;
  reason?: RevocationReason | null;
  thisUpdate?: Date;
  nextUpdate?: Date | null;
}

export interface CrlStoreOptions {
  /** The folder of the cached CRLs (one file per CA). */
  dir: string;
  /** The CA certificates (roots and intermediates) whose CRLs may be kept: each CRL must check against one. */
  issuers: readonly CertInput[];
  /** Deadline of a download (default 15 s) and its size cap (default 64 MiB). */
  timeoutMs?: number;
  maxBytes?: number;
}

interface Entry {
  readonly crl: ParsedCrl;
  readonly file: string;
}

/**
 * The newest verified CRL of each CA, on disk (`<dir>/<issuer name hash>-<key id>.crl`)
 * and in memory. `status` is synchronous and a Map lookup.
 */
export class CrlStore {
  private readonly entries = new Map<string, Entry>();
  private readonly issuers: CertView[];
  private readonly keys = new WeakMap<CertView, string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(private readonly options: CrlStoreOptions) {
    this.issuers = options.issuers.map((c) => certView(c));
  }

  /** Opens the store: creates the folder and loads (and re-verifies) the CRLs cached there. */
  static async open(options: CrlStoreOptions): Promise<CrlStore> {
    const store = new CrlStore(options);
    await mkdir(options.dir, { recursive: true });
    await store.load();
    return store;
  }

  /** Reloads the folder. Files that no longer verify are left alone and reported. */
  async load(): Promise<{ loaded: number; rejected: string[] }> {
    const names = (await readdir(this.options.dir)).filter((n) => n.endsWith('.crl'));
    const rejected: string[] = [];
    let loaded = 0;
    for (const name of names) {
      const result = this.accept(await readFile(join(this.options.dir, name)));
      if (!result.ok) {
        rejected.push(name);
        continue;
      }
      const current = this.entries.get(result.key);
      if (!current || isNewer(result.crl, current.crl)) {
        this.entries.set(result.key, { crl: result.crl, file: join(this.options.dir, `${result.key}.crl`) });
        loaded++;
      }
    }
    return { loaded, rejected };
  }

  /** Adds a CRL if it verifies against a known CA and is newer than the one kept; writes it to disk. */
  update(input: Uint8Array | string): Promise<CrlUpdate> {
    // One update at a time, so that two downloads finishing together can't put the older last.
    const next = this.queue.then(() => this.updateNow(input));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async updateNow(input: Uint8Array | string): Promise<CrlUpdate> {
    const result = this.accept(input);
    if (!result.ok) return { accepted: false, reason: result.reason };
    const current = this.entries.get(result.key);
    if (current && !isNewer(result.crl, current.crl)) return { accepted: false, reason: 'notNewer' };
    const file = join(this.options.dir, `${result.key}.crl`);
    const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temp, result.crl.der);
    await rename(temp, file);
    this.entries.set(result.key, { crl: result.crl, file });
    return {
      accepted: true,
      issuer: result.crl.issuer,
      thisUpdate: result.crl.thisUpdate,
      nextUpdate: result.crl.nextUpdate,
    };
  }

  /** Downloads a CRL (GET) and offers it to update(). A failure is reported, never thrown. */
  async fetch(url: string): Promise<CrlFetch> {
    const answer = await httpExchange(url, {
      method: 'GET',
      accept: 'application/pkix-crl, application/x-pkcs7-crl, */*',
      timeoutMs: this.options.timeoutMs ?? 15_000,
      maxBytes: this.options.maxBytes ?? 64 * 1024 * 1024,
    });
    if (!answer.ok) return answer;
    return { ok: true, update: await this.update(answer.body) };
  }

  /** The CRL kept for `issuer`, if any. */
  get(issuer: CertInput | CertView): ParsedCrl | null {
    return this.entries.get(this.keyOf(certView(issuer)))?.crl ?? null;
  }

  /** Is `cert` (issued by `issuer`) on its CA's CRL? `now` decides staleness. */
  status(cert: CertInput | CertView, issuer: CertInput | CertView, now: Date = new Date()): CrlStatus {
    const leaf = certView(cert);
    const ca = certView(issuer);
    const entry = leaf.issuerKey === ca.subjectKey ? this.entries.get(this.keyOf(ca)) : undefined;
    if (!entry) return { status: 'unknown', stale: false };
    const { crl } = entry;
    const stale = crl.nextUpdate !== null && now.getTime() > crl.nextUpdate.getTime();
    const base = { stale, thisUpdate: crl.thisUpdate, nextUpdate: crl.nextUpdate };
    const hit = crl.revoked.get(leaf.serial);
    if (!hit || hit.reason === 'removeFromCRL') return { status: 'good', ...base };
    return { status: 'revoked', revokedAt: hit.revokedAt, reason: hit.reason, ...base };
  }

  private accept(
    input: Uint8Array | string,
  ):
    | { ok: true; key: string; crl: ParsedCrl }
    | { ok: false; reason: Exclude<CrlUpdate, { accepted: true }>['reason'] } {
    let crl: ParsedCrl;
    try {
      crl = parseCrl(input);
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (crl.isDelta) return { ok: false, reason: 'delta' };
    const candidates = this.issuers.filter((ca) => ca.subjectKey === crl.issuerKey);
    if (candidates.length === 0) return { ok: false, reason: 'issuerUnknown' };
    let unsupported = false;
    for (const ca of candidates) {
      const check = verifyCrl(crl, ca);
      if (check === 'valid') return { ok: true, key: this.keyOf(ca), crl };
      if (check === 'unsupported') unsupported = true;
    }
    return { ok: false, reason: unsupported ? 'signatureUnsupported' : 'signatureInvalid' };
  }

  /** The store key of a CA: its name's hash and its key identifier (or its key's hash). */
  private keyOf(ca: CertView): string {
    const cached = this.keys.get(ca);
    if (cached) return cached;
    const nameHash = createHash('sha256').update(ca.subjectKey).digest('hex').slice(0, 32);
    const keyId = ca.subjectKeyId ?? createHash('sha1').update(ca.publicKeyBits).digest('hex');
    const key = `${nameHash}-${keyId}`;
    this.keys.set(ca, key);
    return key;
  }
}
