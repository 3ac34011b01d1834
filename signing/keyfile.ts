/**
 * PKCS#12 key files (the NCA's AUTH_RSA256_….p12 / RSA256_….p12 and what
 * OpenSSL or a browser exports): unlock with the password, show whose
 * certificates they hold, and hand out a SigningKey.
 *
 * The PKCS#12 structure is read here with asn1js rather than through
 * forge.pkcs12.pkcs12FromAsn1, because forge uses one password string for
 * everything, while the standard needs two encodings of it:
 * - the PKCS#12 key derivation (the MAC and the legacy PBE-SHA1-3DES /
 *   PBE-SHA1-RC2-40 ciphers of NCA and BouncyCastle files) takes the password
 *   as a BMPString (UTF-16BE), which forge builds from a JS string;
 * - PBES2/PBKDF2 (OpenSSL 3's default, AES-256-CBC + HMAC-SHA256) takes the
 *   password's UTF-8 bytes, given to node:crypto as they are.
 * With forge alone a Cyrillic password fails on OpenSSL 3 files. forge still
 * provides the PKCS#12 key derivation and the RC2/single-DES ciphers Node's
 * OpenSSL 3 no longer ships; node:crypto does PBKDF2, AES, 3DES and the HMAC.
 *
 * Private keys leave the file as PKCS#8 DER straight into node:crypto
 * KeyObjects (RSA and EC alike); the decrypted buffers are overwritten. The
 * password is wiped before any function here returns or throws: callers that
 * need it twice pass a copy. The intended flow asks for the password once:
 * `unlockKeyFile` → show `entries` (who will sign) → `signingKey(alias)`.
 */
import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  pbkdf2Sync,
  timingSafeEqual,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import forge from 'node-forge';
import { decodeCertificate, gostAlgorithmName, gostFamily, parseCertificate } from './certificate.js';
import { SigningError, isSigningError, wipe } from './errors.js';
import { softwareKey } from './software-key.js';
import type { CertificateFacts, SigningKey } from './types.js';

// ---------------------------------------------------------------------------
// Public shapes

export interface KeyFileEntry {
  /** The key's friendly name (or its localKeyId in hex when it has none): what `alias` selects. */
  readonly alias: string;
  /** The key's certificate, DER; null when the file holds none for it. */
  readonly certificate: Uint8Array | null;
  /** The file's other certificates (intermediates, root), DER, in file order. */
  readonly chain: readonly Uint8Array[];
  /** 'rsa', 'ec', 'gost2004', 'gost2015', another node key type, or the key's algorithm OID. */
  readonly algorithm: string;
  /** Null when this workstation can sign with the key; otherwise what it is, e.g. 'GOST 34.310-2004'. */
  readonly unsupportedAlgorithm: string | null;
}

export interface UnlockedKeyFile {
  /** One entry per private key, in file order. */
  readonly entries: readonly KeyFileEntry[];
  readonly aliases: readonly string[];
  /**
   * The SigningKey of `alias`. Without an alias the file must hold exactly one
   * key. Throws SigningError: 'aliasRequired' (details.aliases, comma-joined)
   * for a missing or unknown alias, 'keyNotFound' when the file holds no key,
   * 'unsupportedAlgorithm' (details.algorithm) for a GOST key, 'keyfileCorrupt'
   * when the key has no matching certificate.
   */
  signingKey(alias?: string): SigningKey;
}

export interface KeyFileInspection {
  readonly aliases: readonly {
    readonly alias: string;
    readonly certificate: Uint8Array | null;
    /** The certificate's facts (who will sign), or null without a readable certificate. */
    readonly facts: CertificateFacts | null;
    readonly algorithm: string;
    readonly unsupportedAlgorithm: string | null;
  }[];
}

// ---------------------------------------------------------------------------
// OIDs

const OID = {
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  safeContentsBag: '1.2.840.113549.1.12.10.1.6',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  pbmac1: '1.2.840.113549.1.5.14',
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
} as const;

/** PKCS#12 PBE ciphers (RFC 7292 appendix C): key and IV sizes in bytes. */
const PKCS12_PBE: Readonly<Record<string, { name: string; key: number; iv: number }>> = {
  '1.2.840.113549.1.12.1.3': { name: '3des', key: 24, iv: 8 },
  '1.2.840.113549.1.12.1.4': { name: '2des', key: 16, iv: 8 },
  '1.2.840.113549.1.12.1.5': { name: 'rc2-128', key: 16, iv: 8 },
  '1.2.840.113549.1.12.1.6': { name: 'rc2-40', key: 5, iv: 8 },
};

/** PBKDF2 PRFs: node digest names. */
const PBKDF2_PRF: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

/** PBES2 encryption schemes: key size in bytes. */
const PBES2_CIPHERS: Readonly<Record<string, { name: string; key: number }>> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', key: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', key: 24 },
  '2.16.840.1.101.3.4.1.42': { name: 'aes-256-cbc', key: 32 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', key: 24 },
  '1.3.14.3.2.7': { name: 'des-cbc', key: 8 },
};

/** MAC digests: node name, and the forge digest the PKCS#12 key derivation needs. */
const MAC_DIGESTS: Readonly<Record<string, { name: string; md: () => forge.md.MessageDigest }>> = {
  '1.3.14.3.2.26': { name: 'sha1', md: () => forge.md.sha1.create() },
  '2.16.840.1.101.3.4.2.1': { name: 'sha256', md: () => forge.md.sha256.create() },
  '2.16.840.1.101.3.4.2.2': { name: 'sha384', md: () => forge.md.sha384.create() },
  '2.16.840.1.101.3.4.2.3': { name: 'sha512', md: () => forge.md.sha512.create() },
  '1.2.840.113549.2.5': { name: 'md5', md: () => forge.md.md5.create() },
};

/** More rounds than any real key file uses: refuse rather than hang the main process. */
const MAX_ITERATIONS = 1_000_000;

// ---------------------------------------------------------------------------
// Errors inside this module

/** Decryption gave bad padding or content that is not the expected structure: a wrong password, or damage. */
class DecryptFailed extends Error {}

/** The structure is not what PKCS#12 says. */
class Malformed extends Error {}

function malformed(what: string): never {
  throw new Malformed(what);
}

// ---------------------------------------------------------------------------
// ASN.1 helpers

/** Decodes BER; `exact`: nothing may follow (inner structures), otherwise trailing bytes are ignored. */
function parse(bytes: Uint8Array, what: string, exact = true): asn1js.AsnType {
  const decoded = asn1js.fromBER(bytes);
  if (decoded.offset === -1 || (exact && decoded.offset !== bytes.byteLength)) malformed(what);
  return decoded.result;
}

function children(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (node instanceof asn1js.Sequence || node instanceof asn1js.Set || node instanceof asn1js.Constructed) {
    return node.valueBlock.value;
  }
  return malformed(what);
}

function oid(node: asn1js.AsnType | undefined, what: string): string {
  return node instanceof asn1js.ObjectIdentifier ? node.valueBlock.toString() : malformed(what);
}

/** Content octets of an OCTET STRING, also BER's constructed form and [n] IMPLICIT OCTET STRING. */
function octets(node: asn1js.AsnType | undefined, what: string): Uint8Array {
  if (!node) return malformed(what);
  if (node instanceof asn1js.OctetString) return new Uint8Array(node.getValue());
  if (node.idBlock.tagClass === 3) {
    if (node instanceof asn1js.Constructed) {
      const parts = node.valueBlock.value.map((part) => octets(part, what));
      return new Uint8Array(Buffer.concat(parts));
    }
    if (node instanceof asn1js.Primitive) return new Uint8Array(node.valueBlock.valueHexView);
  }
  return malformed(what);
}

/** The value inside a context-specific [0] EXPLICIT wrapper. */
function explicit0(node: asn1js.AsnType | undefined, what: string): asn1js.AsnType {
  if (node instanceof asn1js.Constructed && node.idBlock.tagClass === 3 && node.idBlock.tagNumber === 0) {
    return node.valueBlock.value[0] ?? malformed(what);
  }
  return malformed(what);
}

function smallInteger(node: asn1js.AsnType | undefined, what: string): number {
  if (!(node instanceof asn1js.Integer)) return malformed(what);
  const bytes = node.valueBlock.valueHexView;
  if (bytes.length > 6) return malformed(what);
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}

function iterations(node: asn1js.AsnType | undefined, what: string): number {
  const n = smallInteger(node, what);
  if (n < 1 || n > MAX_ITERATIONS) malformed(`${what}: ${n} iterations`);
  return n;
}

function byteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('binary');
}

function fromByteString(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'binary'));
}

function equalBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a !== null && b !== null && Buffer.compare(a, b) === 0;
}

// ---------------------------------------------------------------------------
// Detecting PKCS#12

/** Reads a TLV header; returns the offset of its content, or -1. */
function header(bytes: Uint8Array, at: number, tag: number): number {
  if (bytes[at] !== tag) return -1;
  const first = bytes[at + 1];
  if (first === undefined) return -1;
  if (first < 0x80 || first === 0x80) return at + 2; // short or indefinite length
  const count = first & 0x7f;
  return count <= 4 ? at + 2 + count : -1;
}

const PKCS7_ARC = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07];

/**
 * Whether `bytes` start like a PFX: SEQUENCE { INTEGER 3, SEQUENCE { OID
 * pkcs7-* …. Reads only the first few headers, so a truncated file still
 * counts as PKCS#12 (corrupt), while a PDF, a PEM or a certificate does not.
 */
function looksLikePfx(bytes: Uint8Array): boolean {
  const version = header(bytes, 0, 0x30);
  if (version < 0 || bytes[version] !== 0x02 || bytes[version + 1] !== 0x01 || bytes[version + 2] !== 0x03) {
    return false;
  }
  const contentInfo = header(bytes, version + 3, 0x30);
  if (contentInfo < 0) return false;
  return PKCS7_ARC.every((b, i) => bytes[contentInfo + i] === b);
}

// ---------------------------------------------------------------------------
// Password forms

interface PasswordForm {
  /** For the PKCS#12 key derivation (forge turns it into a BMPString); null: no password at all. */
  readonly bmp: string | null;
  /** For PBKDF2: the UTF-8 bytes as typed. */
  readonly utf8: Uint8Array;
}

/**
 * The readings of a password a key file may have been made with: the UTF-8
 * text (OpenSSL ≥ 1.1, Java, Windows); its bytes read as Latin-1 (older
 * OpenSSL) when it is not ASCII; an absent password when it is empty.
 */
function passwordForms(password: Uint8Array): PasswordForm[] {
  const text = new TextDecoder().decode(password);
  const forms: PasswordForm[] = [{ bmp: text, utf8: password }];
  if (password.some((b) => b > 0x7f)) forms.push({ bmp: byteString(password), utf8: password });
  if (password.length === 0) forms.push({ bmp: null, utf8: password });
  return forms;
}

// ---------------------------------------------------------------------------
// Decryption

function decipher(name: string, key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array {
  try {
    const d = createDecipheriv(name, key, iv);
    return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
  } catch (err) {
    throw new DecryptFailed(name, { cause: err });
  } finally {
    wipe(key);
  }
}

function forgeDecipher(cipher: forge.rc2.cipher | forge.cipher.BlockCipher, iv: string | null, data: Uint8Array) {
  if ('mode' in cipher) cipher.start({ iv: iv ?? '' });
  else cipher.start(iv);
  cipher.update(forge.util.createBuffer(byteString(data)));
  if (!cipher.finish()) throw new DecryptFailed('padding');
  return fromByteString(cipher.output.getBytes());
}

function pkcs12Pbe(
  spec: { name: string; key: number; iv: number },
  params: asn1js.AsnType | undefined,
  password: PasswordForm,
  data: Uint8Array,
): Uint8Array {
  const [saltNode, countNode] = children(params, 'PKCS#12 PBE parameters');
  const salt = forge.util.createBuffer(byteString(octets(saltNode, 'PBE salt')));
  const count = iterations(countNode, 'PBE iteration count');
  const derive = (id: 1 | 2, n: number) =>
    forge.pkcs12.generateKey(password.bmp, salt.copy(), id, count, n, forge.md.sha1.create()).getBytes();
  const key = derive(1, spec.key);
  const iv = derive(2, spec.iv);
  switch (spec.name) {
    case '3des':
      return decipher('des-ede3-cbc', fromByteString(key), fromByteString(iv), data);
    case '2des':
      return decipher('des-ede3-cbc', fromByteString(key + key.slice(0, 8)), fromByteString(iv), data);
    case 'rc2-128':
      return forgeDecipher(forge.rc2.createDecryptionCipher(key, 128), iv, data);
    default:
      return forgeDecipher(forge.rc2.createDecryptionCipher(key, 40), iv, data);
  }
}

function pbes2(params: asn1js.AsnType | undefined, password: PasswordForm, data: Uint8Array): Uint8Array {
  const [kdf, scheme] = children(params, 'PBES2 parameters');
  const [kdfOidNode, kdfParams] = children(kdf, 'PBES2 key derivation');
  const kdfOid = oid(kdfOidNode, 'PBES2 key derivation');
  if (kdfOid !== OID.pbkdf2) throw new SigningError('unsupportedAlgorithm', { algorithm: `PBES2 KDF ${kdfOid}` });
  const [saltNode, countNode, ...rest] = children(kdfParams, 'PBKDF2 parameters');
  const salt = octets(saltNode, 'PBKDF2 salt');
  const count = iterations(countNode, 'PBKDF2 iteration count');
  let prf = 'sha1';
  for (const node of rest) {
    if (node instanceof asn1js.Sequence) {
      const prfOid = oid(node.valueBlock.value[0], 'PBKDF2 PRF');
      prf = PBKDF2_PRF[prfOid] ?? '';
      if (!prf) throw new SigningError('unsupportedAlgorithm', { algorithm: `PBKDF2 PRF ${prfOid}` });
    }
  }
  const [encOidNode, ivNode] = children(scheme, 'PBES2 encryption scheme');
  const encOid = oid(encOidNode, 'PBES2 encryption scheme');
  const cipher = PBES2_CIPHERS[encOid];
  if (!cipher) throw new SigningError('unsupportedAlgorithm', { algorithm: `PBES2 cipher ${encOid}` });
  const iv = octets(ivNode, 'PBES2 IV');
  const key = new Uint8Array(pbkdf2Sync(password.utf8, salt, count, cipher.key, prf));
  if (cipher.name === 'des-cbc') {
    // Single DES is gone from Node's OpenSSL 3 default provider.
    const forgeKey = byteString(key);
    wipe(key);
    return forgeDecipher(forge.cipher.createDecipher('DES-CBC', forgeKey), byteString(iv), data);
  }
  return decipher(cipher.name, key, iv, data);
}

/** Decrypts `data` under an AlgorithmIdentifier (PKCS#12 PBE or PBES2). */
function decrypt(algorithm: asn1js.AsnType | undefined, data: Uint8Array, password: PasswordForm): Uint8Array {
  const [algOidNode, params] = children(algorithm, 'encryption algorithm');
  const algOid = oid(algOidNode, 'encryption algorithm');
  if (algOid === OID.pbes2) return pbes2(params, password, data);
  const spec = PKCS12_PBE[algOid];
  if (spec) return pkcs12Pbe(spec, params, password, data);
  throw new SigningError('unsupportedAlgorithm', {
    algorithm: gostAlgorithmName(algOid) ?? `PKCS#12 cipher ${algOid}`,
  });
}

/** Parses decrypted content; garbage from a wrong key counts as a failed decryption, not as damage. */
function parseDecrypted(bytes: Uint8Array, what: string): asn1js.AsnType {
  try {
    const node = parse(bytes, what);
    if (!(node instanceof asn1js.Sequence)) throw new DecryptFailed(what);
    return node;
  } catch (err) {
    if (err instanceof Malformed) throw new DecryptFailed(what, { cause: err });
    throw err;
  }
}

// ---------------------------------------------------------------------------
// PFX structure

interface Pfx {
  /** The AuthenticatedSafe's DER: what the MAC covers. */
  readonly authSafe: Uint8Array;
  readonly mac: {
    readonly digestOid: string;
    readonly digest: Uint8Array;
    readonly salt: Uint8Array;
    readonly iterations: number;
  } | null;
}

function readPfx(bytes: Uint8Array): Pfx {
  const [versionNode, contentInfo, macData] = children(parse(bytes, 'PFX', false), 'PFX');
  if (smallInteger(versionNode, 'PFX version') !== 3) malformed('PFX version');
  const [typeNode, content] = children(contentInfo, 'PFX authSafe');
  const type = oid(typeNode, 'PFX authSafe type');
  if (type === OID.signedData) {
    throw new SigningError('unsupportedAlgorithm', { algorithm: 'PKCS#12 public-key integrity mode' });
  }
  if (type !== OID.data) malformed('PFX authSafe type');
  const authSafe = octets(explicit0(content, 'PFX authSafe content'), 'PFX authSafe content');
  if (!macData) return { authSafe, mac: null };

  const [digestInfo, saltNode, countNode] = children(macData, 'PFX macData');
  const [algorithm, digestNode] = children(digestInfo, 'PFX MAC');
  const digestOid = oid(children(algorithm, 'PFX MAC algorithm')[0], 'PFX MAC algorithm');
  return {
    authSafe,
    mac: {
      digestOid,
      digest: octets(digestNode, 'PFX MAC digest'),
      salt: octets(saltNode, 'PFX MAC salt'),
      iterations: countNode === undefined ? 1 : iterations(countNode, 'PFX MAC iterations'),
    },
  };
}

function macMatches(pfx: Pfx, password: PasswordForm): boolean {
  const mac = pfx.mac;
  if (!mac) return true;
  if (mac.digestOid === OID.pbmac1) throw new SigningError('unsupportedAlgorithm', { algorithm: 'PKCS#12 PBMAC1' });
  const digest = MAC_DIGESTS[mac.digestOid];
  if (!digest) throw new SigningError('unsupportedAlgorithm', { algorithm: `PKCS#12 MAC ${mac.digestOid}` });
  const md = digest.md();
  const salt = forge.util.createBuffer(byteString(mac.salt));
  const key = fromByteString(
    forge.pkcs12.generateKey(password.bmp, salt, 3, mac.iterations, md.digestLength, md).getBytes(),
  );
  const actual = createHmac(digest.name, key).update(pfx.authSafe).digest();
  wipe(key);
  return actual.length === mac.digest.length && timingSafeEqual(actual, mac.digest);
}

// ---------------------------------------------------------------------------
// Bags

interface Bag {
  readonly friendlyName: string | null;
  readonly localKeyId: Uint8Array | null;
}
interface KeyBag extends Bag {
  /** PrivateKeyInfo DER (decrypted). */
  readonly pkcs8: Uint8Array;
}
interface CertBag extends Bag {
  readonly der: Uint8Array;
}
interface Contents {
  readonly keys: KeyBag[];
  readonly certs: CertBag[];
  /** How many encrypted parts decrypted into well-formed content. */
  decrypted: number;
}

function bagAttributes(node: asn1js.AsnType | undefined): Bag {
  let friendlyName: string | null = null;
  let localKeyId: Uint8Array | null = null;
  if (node instanceof asn1js.Set) {
    for (const attribute of node.valueBlock.value) {
      const [typeNode, values] = children(attribute, 'bag attribute');
      const type = oid(typeNode, 'bag attribute type');
      const value = children(values, 'bag attribute values')[0];
      if (type === OID.friendlyName && value instanceof asn1js.BaseStringBlock) friendlyName = value.valueBlock.value;
      if (type === OID.localKeyId && value) localKeyId = octets(value, 'localKeyId');
    }
  }
  return { friendlyName, localKeyId };
}

/** Checks that a PrivateKeyInfo decodes: SEQUENCE { INTEGER, AlgorithmIdentifier, OCTET STRING, … }. */
function checkPrivateKeyInfo(pkcs8: Uint8Array): void {
  const [version, algorithm, key] = children(parseDecrypted(pkcs8, 'PrivateKeyInfo'), 'PrivateKeyInfo');
  if (!(version instanceof asn1js.Integer) || !(algorithm instanceof asn1js.Sequence)) {
    throw new DecryptFailed('PrivateKeyInfo');
  }
  if (!(key instanceof asn1js.OctetString)) throw new DecryptFailed('PrivateKeyInfo');
}

function privateKeyOid(pkcs8: Uint8Array): string {
  const [, algorithm] = children(parse(pkcs8, 'PrivateKeyInfo'), 'PrivateKeyInfo');
  return oid(children(algorithm, 'PrivateKeyInfo algorithm')[0], 'PrivateKeyInfo algorithm');
}

function readSafeContents(bytes: Uint8Array, password: PasswordForm, into: Contents, encrypted: boolean): void {
  const safeContents = encrypted ? parseDecrypted(bytes, 'SafeContents') : parse(bytes, 'SafeContents');
  if (encrypted) into.decrypted++;
  for (const safeBag of children(safeContents, 'SafeContents')) {
    const [bagIdNode, bagValue, attributes] = children(safeBag, 'SafeBag');
    const bagId = oid(bagIdNode, 'SafeBag type');
    const value = explicit0(bagValue, 'SafeBag value');
    const attrs = bagAttributes(attributes);
    switch (bagId) {
      case OID.keyBag: {
        into.keys.push({ ...attrs, pkcs8: new Uint8Array(value.toBER(false)) });
        break;
      }
      case OID.pkcs8ShroudedKeyBag: {
        const [algorithm, encrypted] = children(value, 'EncryptedPrivateKeyInfo');
        const pkcs8 = decrypt(algorithm, octets(encrypted, 'EncryptedPrivateKeyInfo data'), password);
        try {
          checkPrivateKeyInfo(pkcs8);
        } catch (err) {
          wipe(pkcs8);
          throw err;
        }
        into.decrypted++;
        into.keys.push({ ...attrs, pkcs8 });
        break;
      }
      case OID.certBag: {
        const [certIdNode, certValue] = children(value, 'CertBag');
        if (oid(certIdNode, 'CertBag type') !== OID.x509Certificate) break; // SDSI certificates: not for us
        into.certs.push({ ...attrs, der: octets(explicit0(certValue, 'CertBag value'), 'CertBag value') });
        break;
      }
      case OID.safeContentsBag:
        readSafeContents(new Uint8Array(value.toBER(false)), password, into, false);
        break;
      default:
        break; // CRL and secret bags: nothing to sign with
    }
  }
}

/** Every bag of the AuthenticatedSafe, decrypted. Throws DecryptFailed, Malformed or SigningError. */
function readContents(authSafe: Uint8Array, password: PasswordForm): Contents {
  const contents: Contents = { keys: [], certs: [], decrypted: 0 };
  try {
    for (const contentInfo of children(parse(authSafe, 'AuthenticatedSafe'), 'AuthenticatedSafe')) {
      readContentInfo(contentInfo, password, contents);
    }
    return contents;
  } catch (err) {
    for (const key of contents.keys) wipe(key.pkcs8);
    throw err;
  }
}

function readContentInfo(contentInfo: asn1js.AsnType, password: PasswordForm, into: Contents): void {
  const [typeNode, content] = children(contentInfo, 'ContentInfo');
  const type = oid(typeNode, 'ContentInfo type');
  const inner = explicit0(content, 'ContentInfo content');
  if (type === OID.data) {
    readSafeContents(octets(inner, 'SafeContents data'), password, into, false);
  } else if (type === OID.encryptedData) {
    const [, encryptedContentInfo] = children(inner, 'EncryptedData');
    const [, algorithm, encrypted] = children(encryptedContentInfo, 'EncryptedContentInfo');
    if (!encrypted) return; // no content
    const plain = decrypt(algorithm, octets(encrypted, 'encrypted content'), password);
    readSafeContents(plain, password, into, true);
  } else if (type === OID.envelopedData) {
    throw new SigningError('unsupportedAlgorithm', { algorithm: 'PKCS#12 public-key privacy mode' });
  } else {
    malformed('ContentInfo type');
  }
}

/**
 * After a MAC mismatch: does anything encrypted in the file decrypt with this
 * password? Then the password is right and the file was altered.
 */
function decryptsWith(authSafe: Uint8Array, password: PasswordForm): boolean {
  let contentInfos: asn1js.AsnType[];
  try {
    contentInfos = children(parse(authSafe, 'AuthenticatedSafe'), 'AuthenticatedSafe');
  } catch {
    return false;
  }
  const probe: Contents = { keys: [], certs: [], decrypted: 0 };
  for (const contentInfo of contentInfos) {
    try {
      readContentInfo(contentInfo, password, probe);
    } catch {
      // A damaged part: the others may still tell.
    }
  }
  for (const key of probe.keys) wipe(key.pkcs8);
  return probe.decrypted > 0;
}

// ---------------------------------------------------------------------------
// Pairing keys with certificates

interface Paired {
  readonly entry: KeyFileEntry;
  readonly key: KeyObject | null;
}

function certificatePublicKey(der: Uint8Array): KeyObject | null {
  try {
    return new X509Certificate(der).publicKey;
  } catch {
    return null; // GOST and other keys OpenSSL does not know
  }
}

function certificateKeyOid(der: Uint8Array): string | null {
  try {
    return decodeCertificate(der).subjectPublicKeyInfo.algorithm.algorithmId;
  } catch {
    return null;
  }
}

function loadKey(pkcs8: Uint8Array): KeyObject | null {
  try {
    return createPrivateKey({
      key: Buffer.from(pkcs8.buffer, pkcs8.byteOffset, pkcs8.byteLength),
      format: 'der',
      type: 'pkcs8',
    });
  } catch {
    return null;
  }
}

const NODE_KEY_OIDS: readonly string[] = [OID.rsaEncryption, OID.ecPublicKey];

interface Loaded {
  readonly bag: KeyBag;
  readonly keyOid: string;
  readonly key: KeyObject | null;
}

/** Reads each key's algorithm and loads RSA/EC keys into KeyObjects; wipes every decrypted PKCS#8. */
function loadKeys(keys: readonly KeyBag[]): Loaded[] {
  try {
    return keys.map((bag) => {
      const keyOid = privateKeyOid(bag.pkcs8);
      return { bag, keyOid, key: gostFamily(keyOid) ? null : loadKey(bag.pkcs8) };
    });
  } finally {
    for (const bag of keys) wipe(bag.pkcs8);
  }
}

function pair(contents: Contents): Paired[] {
  const { certs } = contents;
  const loaded = loadKeys(contents.keys);
  const publicKeys = certs.map((c) => certificatePublicKey(c.der));
  const usedCerts = new Set<number>();
  const seenAliases = new Set<string>();

  const paired = loaded.map(({ bag, keyOid, key }, index) => {
    // The certificate: the one with the same public key (authoritative); else, where a public key
    // cannot be compared (GOST), the one with the same localKeyId; else the only one.
    let certIndex = -1;
    if (key) {
      const publicKey = createPublicKey(key); // the public half of the private KeyObject
      certIndex = publicKeys.findIndex((pk) => pk !== null && pk.equals(publicKey));
    }
    if (certIndex < 0 && bag.localKeyId) {
      certIndex = certs.findIndex(
        (c, i) => equalBytes(c.localKeyId, bag.localKeyId) && (key === null || publicKeys[i] === null),
      );
    }
    if (certIndex < 0 && key === null && loaded.length === 1 && certs.length === 1) certIndex = 0;
    if (certIndex >= 0) usedCerts.add(certIndex);
    const cert = certIndex >= 0 ? certs[certIndex] : undefined;

    const certOid = cert ? certificateKeyOid(cert.der) : null;
    const gostName = gostAlgorithmName(keyOid) ?? (certOid ? gostAlgorithmName(certOid) : null);
    let algorithm: string;
    let unsupported: string | null = null;
    if (gostName) {
      algorithm = gostFamily(keyOid) ?? (certOid ? gostFamily(certOid) : null) ?? keyOid;
      unsupported = gostName;
    } else if (key) {
      algorithm = key.asymmetricKeyType ?? keyOid;
      if (algorithm !== 'rsa' && algorithm !== 'ec') unsupported = algorithm;
    } else {
      // An RSA or EC key Node cannot load is damaged; anything else is an algorithm we lack.
      algorithm = keyOid;
      if (!NODE_KEY_OIDS.includes(keyOid)) unsupported = keyOid;
    }

    const base =
      (
        bag.friendlyName ??
        cert?.friendlyName ??
        (bag.localKeyId ? Buffer.from(bag.localKeyId).toString('hex') : '')
      ).trim() || `key${index + 1}`;
    let alias = base;
    for (let n = 2; seenAliases.has(alias); n++) alias = `${base} #${n}`;
    seenAliases.add(alias);

    return { alias, certIndex, key: unsupported ? null : key, algorithm, unsupported };
  });

  return paired.map((p) => ({
    key: p.key,
    entry: {
      alias: p.alias,
      certificate: p.certIndex >= 0 ? (certs[p.certIndex]?.der ?? null) : null,
      chain: certs.filter((_, i) => !usedCerts.has(i)).map((c) => c.der),
      algorithm: p.algorithm,
      unsupportedAlgorithm: p.unsupported,
    },
  }));
}

// ---------------------------------------------------------------------------
// Entry points

function unlock(bytes: Uint8Array, password: Uint8Array): Paired[] {
  if (!looksLikePfx(bytes)) throw new SigningError('keyfileNotPkcs12');
  const forms = passwordForms(password);
  try {
    const pfx = readPfx(bytes);
    let contents: Contents | null = null;
    if (pfx.mac) {
      const form = forms.find((f) => macMatches(pfx, f));
      if (!form) {
        // A MAC mismatch is a wrong password, or a damaged file the password still decrypts.
        throw new SigningError(forms.some((f) => decryptsWith(pfx.authSafe, f)) ? 'keyfileCorrupt' : 'wrongPassword');
      }
      try {
        contents = readContents(pfx.authSafe, form);
      } catch (err) {
        // The MAC holds, so the password is right: whatever fails now is the file's fault.
        if (err instanceof DecryptFailed) throw new SigningError('keyfileCorrupt', {}, { cause: err });
        throw err;
      }
    } else {
      for (const form of forms) {
        try {
          contents = readContents(pfx.authSafe, form);
          break;
        } catch (err) {
          if (!(err instanceof DecryptFailed)) throw err;
        }
      }
      if (!contents) throw new SigningError('wrongPassword');
    }
    return pair(contents);
  } catch (err) {
    if (isSigningError(err)) throw err;
    throw new SigningError('keyfileCorrupt', {}, { cause: err });
  }
}

/**
 * Opens a key file with its password: every key it holds, with its
 * certificate, ready to sign. The password is wiped before return.
 *
 * Throws SigningError: 'keyfileNotPkcs12' (not a PKCS#12 file at all),
 * 'keyfileCorrupt' (truncated or damaged), 'wrongPassword',
 * 'unsupportedAlgorithm' (a protection scheme this reader lacks).
 */
export function unlockKeyFile(bytes: Uint8Array, password: Uint8Array): UnlockedKeyFile {
  let paired: Paired[];
  try {
    paired = unlock(bytes, password);
  } finally {
    wipe(password);
  }
  const entries = paired.map((p) => p.entry);
  const aliases = entries.map((e) => e.alias);
  return {
    entries,
    aliases,
    signingKey(alias?: string): SigningKey {
      if (paired.length === 0) throw new SigningError('keyNotFound');
      const only = paired.length === 1 ? paired[0] : undefined;
      const chosen = alias === undefined ? only : paired.find((p) => p.entry.alias === alias);
      if (!chosen) throw new SigningError('aliasRequired', { aliases: aliases.join(',') });
      const { entry, key } = chosen;
      if (entry.unsupportedAlgorithm) {
        throw new SigningError('unsupportedAlgorithm', { algorithm: entry.unsupportedAlgorithm });
      }
      if (!key || !entry.certificate) throw new SigningError('keyfileCorrupt');
      return softwareKey({ key, certificate: entry.certificate, chain: entry.chain, label: entry.alias });
    },
  };
}

/** The aliases of the keys in a key file. Wipes the password. */
export function listKeyFileAliases(bytes: Uint8Array, password: Uint8Array): string[] {
  return [...unlockKeyFile(bytes, password).aliases];
}

/** Who will sign: each key's alias, certificate and its facts. Wipes the password. */
export function inspectKeyFile(bytes: Uint8Array, password: Uint8Array): KeyFileInspection {
  return {
    aliases: unlockKeyFile(bytes, password).entries.map((e) => ({
      alias: e.alias,
      certificate: e.certificate,
      facts: e.certificate ? factsOrNull(e.certificate) : null,
      algorithm: e.algorithm,
      unsupportedAlgorithm: e.unsupportedAlgorithm,
    })),
  };
}

function factsOrNull(der: Uint8Array): CertificateFacts | null {
  try {
    return parseCertificate(der);
  } catch {
    return null;
  }
}

/**
 * The SigningKey of a key file: the only key, or the one named `alias`.
 * Wipes the password. Throws the errors of `unlockKeyFile` and of
 * `UnlockedKeyFile.signingKey`.
 */
export function openKeyFile(bytes: Uint8Array, password: Uint8Array, options: { alias?: string } = {}): SigningKey {
  return unlockKeyFile(bytes, password).signingKey(options.alias);
}
