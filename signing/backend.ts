/**
 * The signer put together: tokens (PKCS#11 in a worker), key files, the
 * certificate checks (chain, validity, key usage, identity, revocation from
 * OCSP and the cached CRLs), the formats (XMLDSig, CMS) and the RFC 3161
 * timestamp. The app's signing service, the CLI and the benchmarks use it.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseCertificate, certificateDer } from './certificate.js';
import { addTimestampToken, signCms, signatureValueOf, verifyCmsSignatures, parseCms } from './cms.js';
import { pemBlocks } from './der.js';
import { SigningError } from './errors.js';
import { openKeyFile } from './keyfile.js';
import type { Pkcs11Api, TokenSlot } from './pkcs11/api.js';
import { existingModules, modulePaths } from './pkcs11/modules.js';
import { CertificateChecker, type CheckResult } from './trust/checker.js';
import { CrlStore } from './trust/crl.js';
import { requestTimestamp } from './trust/tsp.js';
import type {
  CertificateFacts,
  CheckOutcome,
  OpenedKey,
  SignatureFormat,
  SignedDocument,
  SignerBackend,
  SigningKey,
  TokenList,
} from './types.js';
import { signXml, verifyXml } from './xmldsig.js';

export interface SigningConfig {
  /** PKCS#11 libraries the administrator configured (tried before the built-in locations). */
  modules?: readonly string[];
  includeDefaultModules?: boolean;
  /** Folders of trusted CA certificates (.pem, .cer, .crt, .der): self-signed ones are roots, the rest intermediates. */
  trustDirs?: readonly string[];
  /** Certificate files to trust, read the same way (the CLI's --trust). */
  trustFiles?: readonly string[];
  /** Where CRLs are cached for offline use. */
  crlDir: string;
  /** The RFC 3161 time-stamping service; null: none. */
  tsaUrl?: string | null;
  /** Ask OCSP responders when online (default true). */
  ocsp?: boolean;
  ocspUrl?: string;
  timeoutMs?: number;
  /** Download missing or stale CRLs from the certificates' distribution points when online (default true). */
  fetchCrl?: boolean;
  /** Whether the network may be used now (the sync service knows). */
  online: () => boolean;
  /** The token source; without it, tokens are not offered (verification only). */
  pkcs11?: Pkcs11Api;
}

/** Every certificate of a file: each CERTIFICATE block of a PEM bundle, or the one certificate it holds. */
function certificatesIn(bytes: Buffer): Uint8Array[] {
  const blocks = pemBlocks(bytes.toString('latin1')).filter((b) => b.label === 'CERTIFICATE');
  return blocks.length ? blocks.map((b) => certificateDer(b.base64)) : [certificateDer(new Uint8Array(bytes))];
}

/** Reads every certificate in the folders and files; self-issued ones become roots. */
export function loadTrust(
  dirs: readonly string[],
  files: readonly string[] = [],
): { roots: Uint8Array[]; intermediates: Uint8Array[] } {
  const roots: Uint8Array[] = [];
  const intermediates: Uint8Array[] = [];
  const add = (der: Uint8Array) => {
    const f = parseCertificate(der);
    (f.subject === f.issuer ? roots : intermediates).push(der);
  };
  for (const file of files) certificatesIn(readFileSync(file)).forEach(add);
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!/\.(pem|cer|crt|der)$/i.test(name)) continue;
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      certificatesIn(readFileSync(path)).forEach(add);
    }
  }
  return { roots, intermediates };
}

function tokenId(slot: TokenSlot): string {
  return JSON.stringify([slot.modulePath, slot.slotId]);
}

function parseTokenId(id: string): { modulePath: string; slotId: string } {
  try {
    const v: unknown = JSON.parse(id);
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string') {
      return { modulePath: v[0], slotId: v[1] };
    }
  } catch {
    // fall through
  }
  throw new SigningError('tokenNotFound');
}

export class Signer implements SignerBackend {
  private constructor(
    private readonly config: SigningConfig,
    readonly checker: CertificateChecker,
    readonly crls: CrlStore,
    readonly trust: { roots: Uint8Array[]; intermediates: Uint8Array[] },
  ) {}

  static async create(config: SigningConfig): Promise<Signer> {
    const trust = loadTrust(config.trustDirs ?? [], config.trustFiles ?? []);
    const crls = await CrlStore.open({ dir: config.crlDir, issuers: [...trust.roots, ...trust.intermediates] });
    const checker = new CertificateChecker({
      trustedRoots: trust.roots,
      intermediates: trust.intermediates,
      crlStore: crls,
      ocsp: {
        enabled: config.ocsp !== false,
        timeoutMs: config.timeoutMs ?? 5000,
        ...(config.ocspUrl ? { url: config.ocspUrl } : {}),
      },
      fetchCrl: config.fetchCrl !== false,
      online: config.online,
    });
    return new Signer(config, checker, crls, trust);
  }

  /** The configured module paths that exist on this machine, each library once (a symlink and its target are one). */
  modules(): string[] {
    const seen = new Set<string>();
    return this.existingModules().filter((path) => {
      let real = path;
      try {
        real = realpathSync(path);
      } catch {
        // keep the path as it is
      }
      if (seen.has(real)) return false;
      seen.add(real);
      return true;
    });
  }

  private existingModules(): string[] {
    return existingModules(
      modulePaths({
        ...(this.config.modules ? { modules: this.config.modules } : {}),
        ...(this.config.includeDefaultModules === false ? { includeDefaults: false } : {}),
      }),
    );
  }

  private get pkcs11(): Pkcs11Api {
    if (!this.config.pkcs11) throw new SigningError('moduleNotLoaded', { module: '' });
    return this.config.pkcs11;
  }

  async listTokens(): Promise<TokenList> {
    const out: TokenList = { tokens: [], modules: [] };
    if (!this.config.pkcs11) return out;
    for (const modulePath of this.modules()) {
      let slots: TokenSlot[];
      try {
        slots = await this.pkcs11.listTokens(modulePath, { rescan: true });
        out.modules.push({ path: modulePath, loaded: true, code: null });
      } catch (err) {
        out.modules.push({
          path: modulePath,
          loaded: false,
          code: err instanceof SigningError ? err.code : 'internal',
        });
        continue;
      }
      for (const slot of slots) {
        // A token that cannot list its objects (pulled out meanwhile) shows with no keys.
        const keys = await this.pkcs11.listKeys(modulePath, slot.slotId).catch(() => []);
        out.tokens.push({
          id: tokenId(slot),
          module: modulePath,
          slotId: slot.slotId,
          label: slot.label,
          manufacturer: slot.manufacturer,
          model: slot.model,
          serial: slot.serial,
          protectedAuthPath: slot.flags.protectedAuthenticationPath,
          pinCountLow: slot.flags.userPinCountLow,
          pinFinalTry: slot.flags.userPinFinalTry,
          pinLocked: slot.flags.userPinLocked,
          keys: keys
            .filter((k) => k.algorithm !== 'unsupported')
            .flatMap((k) => {
              try {
                return [{ keyId: k.id, label: k.label, certificate: parseCertificate(k.certificate) }];
              } catch {
                return [];
              }
            }),
        });
      }
    }
    return out;
  }

  async openToken(id: string, keyIdHex: string, pin: Uint8Array): Promise<OpenedKey> {
    const { modulePath, slotId } = parseTokenId(id);
    const key = await this.pkcs11.openKey(modulePath, slotId, keyIdHex, pin.length > 0 ? pin : null);
    return { key, close: () => key.close() };
  }

  openKeyFile(data: Uint8Array, password: Uint8Array, alias?: string): Promise<OpenedKey> {
    const key = openKeyFile(data, password, alias ? { alias } : {});
    return Promise.resolve({ key, close: () => Promise.resolve() });
  }

  facts(certificate: Uint8Array): CertificateFacts {
    return parseCertificate(certificate);
  }

  async checkFull(
    certificate: Uint8Array,
    options: {
      act: 'sign' | 'auth';
      at: Date;
      newAct?: boolean;
      expect?: { iin?: string; bin?: string };
      intermediates?: readonly Uint8Array[];
      now?: Date;
    },
  ): Promise<CheckResult> {
    return this.checker.check(certificate, {
      at: options.at,
      ...(options.now ? { now: options.now } : {}),
      act: options.act,
      newAct: options.newAct ?? false,
      ...(options.expect ? { expect: options.expect } : {}),
      ...(options.intermediates ? { intermediates: options.intermediates } : {}),
    });
  }

  async check(
    certificate: Uint8Array,
    options: { act: 'sign' | 'auth'; at: Date; expect?: { iin?: string; bin?: string } },
  ): Promise<CheckOutcome> {
    const result = await this.checkFull(certificate, { ...options, newAct: true });
    if (result.revocation.status === 'revoked') {
      throw new SigningError('certRevoked', { revokedAt: result.revocation.revokedAt?.toISOString() ?? '' });
    }
    const r = result.revocation;
    return {
      revocation: { status: r.status, source: r.source, stale: r.stale, checkedAt: r.checkedAt.getTime() },
      warnings: [...result.warnings],
    };
  }

  async sign(format: SignatureFormat, document: Uint8Array, key: SigningKey): Promise<SignedDocument> {
    if (format === 'xmldsig') {
      const xml = await signXml(Buffer.from(document).toString('utf8'), key);
      // XMLDSig here has no timestamp (that would be XAdES-T): say so only when a TSA is configured.
      return { signed: Buffer.from(xml, 'utf8'), timestampedAt: null, timestampNote: 'none' };
    }
    let cms = await signCms(document, key, { detached: true, includeChain: true });
    const tsa = this.config.tsaUrl;
    if (!tsa) return { signed: cms, timestampedAt: null, timestampNote: 'notConfigured' };
    if (!this.config.online()) return { signed: cms, timestampedAt: null, timestampNote: 'unreachable' };
    const stamp = await requestTimestamp(tsa, signatureValueOf(cms, 0), {
      timeoutMs: this.config.timeoutMs ?? 5000,
      trust: { trustedRoots: this.trust.roots, intermediates: this.trust.intermediates },
    });
    if (!stamp.token) return { signed: cms, timestampedAt: null, timestampNote: 'unreachable' };
    cms = addTimestampToken(cms, 0, stamp.token);
    return { signed: cms, timestampedAt: stamp.info.genTime.getTime(), timestampNote: 'none' };
  }

  /**
   * Verifies a signature: its cryptography, then each signer's certificate
   * at its signing time (chain, key usage for signing, revocation), and the
   * expected IIN/BIN when given. Throws the first SigningError.
   */
  async verify(
    signature: Uint8Array,
    options: { content?: Uint8Array; expect?: { iin?: string; bin?: string }; now?: Date } = {},
  ): Promise<VerifiedSignature> {
    const isXml = looksLikeXml(signature);
    const signers: { certificate: Uint8Array; signingTime: Date | null; warnings: string[] }[] = [];
    let carried: Uint8Array[] = [];
    if (isXml) {
      const r = verifyXml(Buffer.from(signature).toString('utf8'));
      if (!r.ok) throw new SigningError(r.code);
      // A legacy SHA-1 signature still verifies, and says so ('xml:sha1').
      signers.push({ certificate: r.certificate, signingTime: null, warnings: r.warnings.map((w) => `xml:${w}`) });
    } else {
      const parsed = parseCms(signature);
      carried = parsed.certificates;
      if (parsed.detached && !options.content) throw new SigningError('contentMissing');
      const checks = verifyCmsSignatures(signature, options.content ? { content: options.content } : {});
      for (const c of checks) {
        if (!c.ok) throw new SigningError(c.code);
        signers.push({ certificate: c.certificate, signingTime: c.signingTime, warnings: [] });
      }
    }
    const now = options.now ?? new Date();
    const out: VerifiedSignature = { format: isXml ? 'xmldsig' : 'cms', signers: [] };
    for (const s of signers) {
      const at = s.signingTime ?? now;
      const result = await this.checkFull(s.certificate, {
        act: 'sign',
        at,
        ...(options.expect ? { expect: options.expect } : {}),
        intermediates: carried,
        now,
      });
      if (result.revocation.status === 'revoked') {
        const revokedAt = result.revocation.revokedAt;
        if (!revokedAt || revokedAt <= at) {
          throw new SigningError('certRevoked', { revokedAt: revokedAt?.toISOString() ?? '' });
        }
      }
      if (result.revocation.status === 'unknown') throw new SigningError('revocationUnknown');
      out.signers.push({
        certificate: parseCertificate(s.certificate),
        signingTime: s.signingTime?.toISOString() ?? null,
        revocation: {
          status: result.revocation.status,
          source: result.revocation.source,
          stale: result.revocation.stale,
        },
        warnings: [...s.warnings, ...result.warnings],
      });
    }
    return out;
  }

  async close(): Promise<void> {
    await this.config.pkcs11?.close();
  }
}

export interface VerifiedSignature {
  format: SignatureFormat;
  signers: {
    certificate: CertificateFacts;
    signingTime: string | null;
    revocation: { status: string; source: string; stale: boolean };
    warnings: string[];
  }[];
}

export function looksLikeXml(bytes: Uint8Array): boolean {
  let i = 0;
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return bytes[i] === 0x3c; // '<'
}
