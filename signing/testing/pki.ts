/**
 * The tests' own certification authority, built with the openssl command
 * line: a root, an intermediate that issues people's certificates the way the
 * Kazakh national CA writes them (CN, SURNAME, GIVENNAME, SERIALNUMBER=IIN…,
 * O, OU=BIN…, C=KZ; NCA role OIDs in the extended key usage; NCA policies),
 * an OCSP responder certificate, a TSA certificate, revocation and CRLs, and
 * PKCS#12 key files. Test code only: nothing here ships in the app.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { derFrom } from '../der.js';

export interface Issued {
  readonly name: string;
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly certDer: Buffer;
  readonly keyPem: string;
}

export type TestRole = 'individual' | 'legalEntity' | 'head' | 'maySign' | 'financial' | 'hr' | 'employee';

const ROLE_OIDS: Record<TestRole, string> = {
  individual: '1.2.398.3.3.4.1.1',
  legalEntity: '1.2.398.3.3.4.1.2',
  head: '1.2.398.3.3.4.1.2.1',
  maySign: '1.2.398.3.3.4.1.2.2',
  financial: '1.2.398.3.3.4.1.2.3',
  hr: '1.2.398.3.3.4.1.2.4',
  employee: '1.2.398.3.3.4.1.2.5',
};

export interface PersonOptions {
  /** File-name-safe handle, unique in this PKI. */
  name: string;
  surname: string;
  firstName: string;
  patronymic?: string;
  iin: string;
  bin?: string;
  organisation?: string;
  purpose: 'auth' | 'sign';
  roles?: TestRole[];
  key?: 'rsa' | 'ec';
  notBefore?: Date;
  notAfter?: Date;
}

export interface Person extends Issued {
  readonly options: PersonOptions;
}

export interface PkiOptions {
  /** AIA OCSP address written into people's certificates. */
  ocspUrl?: string;
  /** CRL distribution point written into people's certificates. */
  crlUrl?: string;
}

function run(args: string[], cwd: string): string {
  return execFileSync('openssl', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** openssl ca's date form: YYYYMMDDHHMMSSZ. */
function caDate(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

export class TestPki {
  readonly root: Issued;
  readonly ca: Issued;
  readonly ocsp: Issued;
  readonly tsa: Issued;
  private serial = 0x1000;
  private readonly caDir: string;
  /** The root's own index: the CA certificates it revoked, for its CRL. */
  private readonly rootDir: string;

  constructor(
    readonly dir: string,
    private readonly options: PkiOptions = {},
  ) {
    mkdirSync(dir, { recursive: true });
    this.caDir = join(dir, 'ca-db');
    mkdirSync(join(this.caDir, 'new'), { recursive: true });
    writeFileSync(join(this.caDir, 'index.txt'), '');
    writeFileSync(join(this.caDir, 'index.txt.attr'), 'unique_subject = no\n');
    writeFileSync(join(this.caDir, 'crlnumber'), '1000\n');
    this.rootDir = join(dir, 'root-db');
    mkdirSync(join(this.rootDir, 'new'), { recursive: true });
    writeFileSync(join(this.rootDir, 'index.txt'), '');
    writeFileSync(join(this.rootDir, 'index.txt.attr'), 'unique_subject = no\n');
    writeFileSync(join(this.rootDir, 'crlnumber'), '1000\n');

    const now = Date.now();
    const years = (n: number) => new Date(now + n * 365 * 86400_000);
    this.root = this.selfSigned('root', '/C=KZ/CN=QYZMET TEST ROOT (RSA)', years(-2), years(20));
    this.ca = this.issueWithExt(
      'ca',
      '/C=KZ/CN=QYZMET TEST CA (RSA)',
      this.root,
      'basicConstraints = critical, CA:TRUE, pathlen:0\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
      years(-2),
      years(10),
      'rsa',
    );
    this.ocsp = this.issueWithExt(
      'ocsp',
      '/C=KZ/CN=QYZMET TEST OCSP',
      this.ca,
      'basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\nextendedKeyUsage = critical, OCSPSigning\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
      years(-1),
      years(5),
      'rsa',
    );
    this.tsa = this.issueWithExt(
      'tsa',
      '/C=KZ/CN=QYZMET TEST TSA',
      this.ca,
      'basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, nonRepudiation\nextendedKeyUsage = critical, timeStamping\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n',
      years(-1),
      years(5),
      'rsa',
    );
  }

  /** The CA chain as PEM (intermediate then root), e.g. for `openssl cms -verify -CAfile`. */
  get chainPath(): string {
    const path = join(this.dir, 'chain.pem');
    writeFileSync(path, this.ca.certPem + this.root.certPem);
    return path;
  }

  /** The openssl ca index (for `openssl ocsp -index`). */
  get indexPath(): string {
    return join(this.caDir, 'index.txt');
  }

  /** Issues a person's certificate from the intermediate CA. */
  issue(o: PersonOptions): Person {
    const subject = [
      `/CN=${o.surname} ${o.firstName}`,
      `/SN=${o.surname}`,
      ...(o.patronymic ? [`/GN=${o.patronymic}`] : []),
      `/serialNumber=IIN${o.iin}`,
      '/C=KZ',
      ...(o.organisation ? [`/O=${o.organisation}`] : []),
      ...(o.bin ? [`/OU=BIN${o.bin}`] : []),
    ].join('');
    const roles = (o.roles ?? ['individual']).map((r) => ROLE_OIDS[r]);
    const ext = [
      'basicConstraints = CA:FALSE',
      o.purpose === 'sign'
        ? 'keyUsage = critical, digitalSignature, nonRepudiation'
        : 'keyUsage = critical, digitalSignature, keyEncipherment',
      `extendedKeyUsage = ${o.purpose === 'sign' ? 'emailProtection' : 'clientAuth'}, ${roles.join(', ')}`,
      `certificatePolicies = ${o.purpose === 'sign' ? '1.2.398.3.3.2.3' : '1.2.398.3.3.2.4'}`,
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid',
      ...(this.options.ocspUrl ? [`authorityInfoAccess = OCSP;URI:${this.options.ocspUrl}`] : []),
      ...(this.options.crlUrl ? [`crlDistributionPoints = URI:${this.options.crlUrl}`] : []),
    ].join('\n');
    const now = Date.now();
    const issued = this.issueWithExt(
      o.name,
      subject,
      this.ca,
      ext + '\n',
      o.notBefore ?? new Date(now - 30 * 86400_000),
      o.notAfter ?? new Date(now + 365 * 86400_000),
      o.key ?? 'rsa',
    );
    return { ...issued, options: o };
  }

  /**
   * Revokes a certificate in the CA's index (the next CRL and the OCSP
   * responder see it), as of `at` (default now: the CRL gives that time).
   */
  revoke(cert: Issued, reason = 'keyCompromise', at?: Date): void {
    run(['ca', '-config', this.config(this.ca), '-revoke', cert.certPath, '-crl_reason', reason], this.dir);
    if (at) this.setRevocationTime(this.caDir, cert, at);
  }

  /** Revokes a CA certificate the root issued (the intermediate by default): the root's next CRL lists it. */
  revokeCa(cert: Issued = this.ca, reason = 'cACompromise', at?: Date): void {
    run(
      ['ca', '-config', this.config(this.root, this.rootDir), '-revoke', cert.certPath, '-crl_reason', reason],
      this.dir,
    );
    if (at) this.setRevocationTime(this.rootDir, cert, at);
  }

  /** A CRL of the root (DER), valid for `hours` from now: the CA certificates revoked with `revokeCa`. */
  rootCrl(hours = 24): Buffer {
    return this.gencrl(this.root, this.rootDir, hours, 'root-crl');
  }

  /** A CRL of the intermediate CA (DER), valid for `hours` from now (negative: already stale). */
  crl(hours = 24): Buffer {
    return this.gencrl(this.ca, this.caDir, hours, 'crl');
  }

  /** The revocation time of `cert` in an index, rewritten (openssl ca always writes the present). */
  private setRevocationTime(db: string, cert: Issued, at: Date): void {
    const serial = new X509Certificate(cert.certPem).serialNumber.replace(/^0+/, '').toUpperCase();
    const index = join(db, 'index.txt');
    const utc = caDate(at).slice(2); // UTCTime: YYMMDDHHMMSSZ
    const lines = readFileSync(index, 'utf8')
      .split('\n')
      .map((line) => {
        const f = line.split('\t');
        if (f[0] !== 'R' || f[3]?.replace(/^0+/, '').toUpperCase() !== serial) return line;
        const reason = f[2]?.split(',')[1];
        f[2] = reason ? `${utc},${reason}` : utc;
        return f.join('\t');
      });
    writeFileSync(index, lines.join('\n'));
  }

  private gencrl(issuer: Issued, db: string, hours: number, name: string): Buffer {
    const pem = join(this.dir, `${name}.pem`);
    const der = join(this.dir, `${name}.der`);
    const args = ['ca', '-config', this.config(issuer, db), '-gencrl', '-out', pem];
    if (hours > 0) args.push('-crlhours', String(hours));
    else args.push('-crlsec', '1');
    run(args, this.dir);
    run(['crl', '-in', pem, '-outform', 'DER', '-out', der], this.dir);
    return readFileSync(der);
  }

  /**
   * A PKCS#12 key file of `person` protected by `password`. `legacy` uses the
   * 3DES/SHA-1 scheme older key files (and the NCA's) use; otherwise OpenSSL 3's
   * AES-256/PBKDF2 default.
   */
  p12(
    person: Issued,
    password: string,
    options: { legacy?: boolean; alias?: string; withChain?: boolean } = {},
  ): Buffer {
    const out = join(this.dir, `${person.name}${options.legacy ? '-legacy' : ''}.p12`);
    const passFile = join(this.dir, `${person.name}.pass`);
    writeFileSync(passFile, password, { mode: 0o600 });
    const args = [
      'pkcs12',
      '-export',
      '-inkey',
      person.keyPath,
      '-in',
      person.certPath,
      '-out',
      out,
      '-passout',
      `file:${passFile}`,
      '-name',
      options.alias ?? person.name,
    ];
    if (options.withChain !== false) args.push('-certfile', this.chainPath);
    if (options.legacy) args.push('-keypbe', 'PBE-SHA1-3DES', '-certpbe', 'PBE-SHA1-3DES', '-macalg', 'sha1');
    run(args, this.dir);
    return readFileSync(out);
  }

  private config(issuer: Issued, database = this.caDir): string {
    const path = join(this.dir, `ca-${issuer.name}.cnf`);
    const db = database.replace(/\\/g, '/');
    writeFileSync(
      path,
      [
        '[ ca ]',
        'default_ca = test_ca',
        '[ test_ca ]',
        `dir = ${db}`,
        'database = $dir/index.txt',
        'new_certs_dir = $dir/new',
        `certificate = ${issuer.certPath}`,
        `private_key = ${issuer.keyPath}`,
        'serial = $dir/serial',
        'crlnumber = $dir/crlnumber',
        'default_md = sha256',
        'default_crl_days = 1',
        'policy = policy_any',
        'preserve = yes',
        'email_in_dn = no',
        'unique_subject = no',
        'copy_extensions = none',
        'utf8 = yes',
        'string_mask = utf8only',
        '[ policy_any ]',
        'commonName = supplied',
        'surname = optional',
        'givenName = optional',
        'serialNumber = optional',
        'countryName = optional',
        'organizationName = optional',
        'organizationalUnitName = optional',
        '',
      ].join('\n'),
    );
    return path;
  }

  private newKey(name: string, kind: 'rsa' | 'ec'): string {
    const keyPath = join(this.dir, `${name}.key`);
    const args =
      kind === 'rsa'
        ? ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyPath]
        : ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyPath];
    run(args, this.dir);
    return keyPath;
  }

  private load(name: string, certPath: string, keyPath: string): Issued {
    const certPem = readFileSync(certPath, 'utf8');
    const pem = certPem.slice(certPem.indexOf('-----BEGIN CERTIFICATE-----'));
    writeFileSync(certPath, pem);
    return {
      name,
      certPath,
      keyPath,
      certPem: pem,
      certDer: Buffer.from(derFrom(pem)),
      keyPem: readFileSync(keyPath, 'utf8'),
    };
  }

  private selfSigned(name: string, subject: string, notBefore: Date, notAfter: Date): Issued {
    const keyPath = this.newKey(name, 'rsa');
    const csr = join(this.dir, `${name}.csr`);
    const certPath = join(this.dir, `${name}.pem`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(
      ext,
      'basicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\nsubjectKeyIdentifier = hash\n',
    );
    run(['req', '-new', '-utf8', '-key', keyPath, '-subj', subject, '-out', csr], this.dir);
    writeFileSync(join(this.caDir, 'serial'), (this.serial++).toString(16) + '\n');
    // Self-signing through `openssl ca -selfsign` so the dates can be set.
    const cfg = this.config({ name, certPath, keyPath, certPem: '', certDer: Buffer.alloc(0), keyPem: '' });
    run(
      [
        'ca',
        '-batch',
        '-selfsign',
        '-notext',
        '-config',
        cfg,
        '-keyfile',
        keyPath,
        '-in',
        csr,
        '-out',
        certPath,
        '-startdate',
        caDate(notBefore),
        '-enddate',
        caDate(notAfter),
        '-extfile',
        ext,
      ],
      this.dir,
    );
    // The root is not in the intermediate's index: start that index clean.
    writeFileSync(join(this.caDir, 'index.txt'), '');
    return this.load(name, certPath, keyPath);
  }

  private issueWithExt(
    name: string,
    subject: string,
    issuer: Issued,
    extText: string,
    notBefore: Date,
    notAfter: Date,
    kind: 'rsa' | 'ec',
  ): Issued {
    const keyPath = this.newKey(name, kind);
    const csr = join(this.dir, `${name}.csr`);
    const certPath = join(this.dir, `${name}.pem`);
    const ext = join(this.dir, `${name}.ext`);
    writeFileSync(ext, extText);
    run(['req', '-new', '-utf8', '-key', keyPath, '-subj', subject, '-out', csr], this.dir);
    writeFileSync(join(this.caDir, 'serial'), (this.serial++).toString(16) + '\n');
    run(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        this.config(issuer),
        '-in',
        csr,
        '-out',
        certPath,
        '-startdate',
        caDate(notBefore),
        '-enddate',
        caDate(notAfter),
        '-extfile',
        ext,
      ],
      this.dir,
    );
    return this.load(name, certPath, keyPath);
  }
}

/** A PKI with the people most tests need. */
export function standardPeople(pki: TestPki) {
  const day = 86400_000;
  const now = Date.now();
  return {
    /** An individual's authentication key (AUTH_RSA256_…). */
    auth: pki.issue({
      name: 'auth',
      surname: 'ТЕСТОВ',
      firstName: 'ТЕСТ',
      patronymic: 'ТЕСТОВИЧ',
      iin: '900101300017',
      purpose: 'auth',
      roles: ['individual'],
    }),
    /** The same person's signing key (RSA256_…). */
    sign: pki.issue({
      name: 'sign',
      surname: 'ТЕСТОВ',
      firstName: 'ТЕСТ',
      patronymic: 'ТЕСТОВИЧ',
      iin: '900101300017',
      purpose: 'sign',
      roles: ['individual'],
    }),
    /** A provider's head: an organisation's signing key. */
    head: pki.issue({
      name: 'head',
      surname: 'ӘБІЛҚАСЫМОВА',
      firstName: 'ГҮЛНАР',
      patronymic: 'СЕРІКҚЫЗЫ',
      iin: '850315400015',
      bin: '050140000011',
      organisation: 'ГУ "Отдел занятости и социальных программ"',
      purpose: 'sign',
      roles: ['legalEntity', 'head'],
    }),
    /** An executor of the same provider, with an EC key. */
    employeeEc: pki.issue({
      name: 'employee-ec',
      surname: 'СЕРГЕЕВ',
      firstName: 'АРТЁМ',
      iin: '920704300019',
      bin: '050140000011',
      organisation: 'ГУ "Отдел занятости и социальных программ"',
      purpose: 'sign',
      roles: ['legalEntity', 'employee'],
      key: 'ec',
    }),
    expired: pki.issue({
      name: 'expired',
      surname: 'ЕСКІ',
      firstName: 'КІЛТ',
      iin: '900101300017',
      purpose: 'sign',
      notBefore: new Date(now - 400 * day),
      notAfter: new Date(now - 10 * day),
    }),
    notYetValid: pki.issue({
      name: 'not-yet-valid',
      surname: 'ЖАҢА',
      firstName: 'КІЛТ',
      iin: '900101300017',
      purpose: 'sign',
      notBefore: new Date(now + 10 * day),
      notAfter: new Date(now + 400 * day),
    }),
  };
}
