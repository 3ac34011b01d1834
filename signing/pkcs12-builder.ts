/**
 * Builds PKCS#12 files with node-forge's ASN.1 for shapes `openssl pkcs12
 * -export` cannot make: several keys in one file, keys OpenSSL cannot read
 * (GOST), BouncyCastle's layout. The tests use it for such files, and the demo
 * start for its key file (certificates go in byte for byte, as signed).
 *
 * Layout (as NCA/BouncyCastle key files): one Data ContentInfo with the
 * pkcs8ShroudedKeyBags, one EncryptedData ContentInfo with the certBags, and
 * a MAC over the AuthenticatedSafe. Keys are paired with their certificates by
 * localKeyId and named by friendlyName.
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import forge from 'node-forge';

const { asn1 } = forge;
type Asn1 = forge.asn1.Asn1;

export interface Pkcs12BuildEntry {
  /** PrivateKeyInfo, DER. */
  readonly pkcs8: Uint8Array;
  /** The key's certificate, DER. */
  readonly certificate: Uint8Array;
  /** friendlyName of both bags; none when omitted. */
  readonly alias?: string;
  /** localKeyId of both bags; random when omitted, none when null. */
  readonly localKeyId?: Uint8Array | null;
}

export interface Pkcs12BuildOptions {
  readonly password: string;
  readonly entries: readonly Pkcs12BuildEntry[];
  /** Further certificates (the chain), DER. */
  readonly extraCertificates?: readonly Uint8Array[];
  /** How key bags are protected: PKCS#12 PBE with 3DES (the default), or plain keyBags. */
  readonly keyEncryption?: '3des' | 'none';
  /** How the certificates are protected: RC2-40 (BouncyCastle's default), 3DES, or not at all. */
  readonly certEncryption?: 'rc2-40' | '3des' | 'none';
  /** The MAC digest; 'none' leaves the MAC out. */
  readonly mac?: 'sha1' | 'sha256' | 'none';
  /** Iterations of every key derivation. */
  readonly iterations?: number;
  /** Put the certificate bags before the key bags. */
  readonly certificatesFirst?: boolean;
}

const OIDS = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1Rc240: '1.2.840.113549.1.12.1.6',
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
};

const bin = (bytes: Uint8Array) => Buffer.from(bytes).toString('binary');

const seq = (items: Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const set = (items: Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, items);
const oid = (dotted: string) =>
  asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(dotted).getBytes());
const octets = (bytes: Uint8Array) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bin(bytes));
const int = (n: number) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const explicit0 = (inner: Asn1) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [inner]);
const implicit0 = (bytes: Uint8Array) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, false, bin(bytes));
const der = (node: Asn1) => new Uint8Array(Buffer.from(asn1.toDer(node).getBytes(), 'binary'));

/** A BMPString: forge writes each UTF-16 code unit of the JS string as two bytes. */
const bmp = (text: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, text);

/** PKCS#12 key derivation (RFC 7292 appendix B) with SHA-1, via forge. */
function pkcs12Key(password: string, salt: Uint8Array, id: 1 | 2 | 3, iterations: number, n: number, md = 'sha1') {
  const digest = md === 'sha256' ? forge.md.sha256.create() : forge.md.sha1.create();
  const key = forge.pkcs12.generateKey(password, forge.util.createBuffer(bin(salt)), id, iterations, n, digest);
  return Buffer.from(key.getBytes(), 'binary');
}

/** PKCS#12 PBE (3DES or RC2-40): the AlgorithmIdentifier and the ciphertext. */
function pbeEncrypt(
  scheme: '3des' | 'rc2-40',
  plain: Uint8Array,
  password: string,
  iterations: number,
): { algorithm: Asn1; encrypted: Uint8Array } {
  const salt = randomBytes(8);
  let encrypted: Uint8Array;
  if (scheme === '3des') {
    const cipher = createCipheriv(
      'des-ede3-cbc',
      pkcs12Key(password, salt, 1, iterations, 24),
      pkcs12Key(password, salt, 2, iterations, 8),
    );
    encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  } else {
    const key = pkcs12Key(password, salt, 1, iterations, 5).toString('binary');
    const iv = pkcs12Key(password, salt, 2, iterations, 8).toString('binary');
    const cipher = forge.rc2.createEncryptionCipher(key, 40);
    cipher.start(iv);
    cipher.update(forge.util.createBuffer(bin(plain)));
    cipher.finish();
    encrypted = Buffer.from(cipher.output.getBytes(), 'binary');
  }
  const algorithm = seq([
    oid(scheme === '3des' ? OIDS.pbeSha1TripleDes : OIDS.pbeSha1Rc240),
    seq([octets(salt), int(iterations)]),
  ]);
  return { algorithm, encrypted };
}

function attributes(alias: string | undefined, localKeyId: Uint8Array | null): Asn1[] {
  const attrs: Asn1[] = [];
  if (alias !== undefined) attrs.push(seq([oid(OIDS.friendlyName), set([bmp(alias)])]));
  if (localKeyId) attrs.push(seq([oid(OIDS.localKeyId), set([octets(localKeyId)])]));
  return attrs;
}

function safeBag(type: string, value: Asn1, attrs: Asn1[]): Asn1 {
  return seq([oid(type), explicit0(value), ...(attrs.length ? [set(attrs)] : [])]);
}

function dataContentInfo(safeContents: Uint8Array): Asn1 {
  return seq([oid(OIDS.data), explicit0(octets(safeContents))]);
}

/** A PKCS#12 file (DER) holding `entries` and `extraCertificates`. */
export function buildPkcs12(options: Pkcs12BuildOptions): Buffer {
  const iterations = options.iterations ?? 2048;
  const { password } = options;
  const keyIds = options.entries.map((e) => (e.localKeyId === undefined ? randomBytes(20) : e.localKeyId));

  const keyBags = options.entries.map((entry, i) => {
    const attrs = attributes(entry.alias, keyIds[i] ?? null);
    if (options.keyEncryption === 'none') return safeBag(OIDS.keyBag, asn1.fromDer(bin(entry.pkcs8)), attrs);
    const { algorithm, encrypted } = pbeEncrypt('3des', entry.pkcs8, password, iterations);
    return safeBag(OIDS.pkcs8ShroudedKeyBag, seq([algorithm, octets(encrypted)]), attrs);
  });
  const certBag = (certificate: Uint8Array, attrs: Asn1[]) =>
    safeBag(OIDS.certBag, seq([oid(OIDS.x509Certificate), explicit0(octets(certificate))]), attrs);
  const certBags = [
    ...options.entries.map((entry, i) => certBag(entry.certificate, attributes(entry.alias, keyIds[i] ?? null))),
    ...(options.extraCertificates ?? []).map((c) => certBag(c, [])),
  ];

  const keysInfo = dataContentInfo(der(seq(keyBags)));
  const certContents = der(seq(certBags));
  let certsInfo: Asn1;
  if ((options.certEncryption ?? 'rc2-40') === 'none') {
    certsInfo = dataContentInfo(certContents);
  } else {
    const scheme = options.certEncryption === '3des' ? '3des' : 'rc2-40';
    const { algorithm, encrypted } = pbeEncrypt(scheme, certContents, password, iterations);
    certsInfo = seq([
      oid(OIDS.encryptedData),
      explicit0(seq([int(0), seq([oid(OIDS.data), algorithm, implicit0(encrypted)])])),
    ]);
  }
  const authSafe = der(seq(options.certificatesFirst ? [certsInfo, keysInfo] : [keysInfo, certsInfo]));

  const pfx: Asn1[] = [int(3), dataContentInfo(authSafe)];
  const mac = options.mac ?? 'sha1';
  if (mac !== 'none') {
    const salt = randomBytes(8);
    const key = pkcs12Key(password, salt, 3, iterations, mac === 'sha256' ? 32 : 20, mac);
    const digest = createHmac(mac, key).update(authSafe).digest();
    pfx.push(
      seq([
        seq([
          seq([
            oid(mac === 'sha256' ? OIDS.sha256 : OIDS.sha1),
            asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
          ]),
          octets(digest),
        ]),
        octets(salt),
        int(iterations),
      ]),
    );
  }
  return Buffer.from(der(seq(pfx)));
}
