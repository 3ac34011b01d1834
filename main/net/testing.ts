/**
 * Test code only: a CA for the central server's TLS made with the openssl
 * command line at test time (nothing committed), and server certificates
 * from it with the host names, addresses and validity a test asks for.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsTestCert {
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
}

export interface TlsTestCa {
  /** The CA's certificate (PEM): what a workstation pins. */
  caFile: string;
  /** A server certificate for `sans` (e.g. ['IP:127.0.0.1', 'DNS:localhost']), valid now unless told otherwise. */
  issue(name: string, sans: string[], validity?: { notBefore: Date; notAfter: Date }): TlsTestCert;
}

const DAY = 24 * 60 * 60 * 1000;

const openssl = (args: string[], cwd: string) => execFileSync('openssl', args, { cwd, stdio: 'pipe' });

/** openssl ca's time form: YYYYMMDDHHMMSSZ. */
const asn1Time = (d: Date) =>
  d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');

export function tlsTestCa(dir: string, commonName = 'Qyzmet TLS Test CA'): TlsTestCa {
  mkdirSync(join(dir, 'issued'), { recursive: true });
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  openssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      caKey,
      '-out',
      caFile,
      '-days',
      '30',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  writeFileSync(join(dir, 'index.txt'), '');
  writeFileSync(join(dir, 'serial'), '1000\n');
  const config = join(dir, 'ca.cnf');
  writeFileSync(
    config,
    [
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${join(dir, 'index.txt')}`,
      `new_certs_dir = ${join(dir, 'issued')}`,
      `serial = ${join(dir, 'serial')}`,
      `certificate = ${caFile}`,
      `private_key = ${caKey}`,
      'default_md = sha256',
      'policy = any_name',
      'unique_subject = no',
      'copy_extensions = none',
      '[ any_name ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );

  return {
    caFile,
    issue(name, sans, validity = { notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 30 * DAY) }) {
      const keyFile = join(dir, `${name}.key`);
      const csr = join(dir, `${name}.csr`);
      const certFile = join(dir, `${name}.pem`);
      const ext = join(dir, `${name}.ext`);
      openssl(
        [
          'req',
          '-new',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:P-256',
          '-nodes',
          '-keyout',
          keyFile,
          '-out',
          csr,
          '-subj',
          `/CN=${name}`,
        ],
        dir,
      );
      writeFileSync(
        ext,
        [
          '[ server ]',
          'basicConstraints = critical, CA:FALSE',
          'keyUsage = critical, digitalSignature, keyEncipherment',
          'extendedKeyUsage = serverAuth',
          `subjectAltName = ${sans.join(', ')}`,
          '',
        ].join('\n'),
      );
      openssl(
        [
          'ca',
          '-batch',
          '-notext',
          '-config',
          config,
          '-in',
          csr,
          '-out',
          certFile,
          '-startdate',
          asn1Time(validity.notBefore),
          '-enddate',
          asn1Time(validity.notAfter),
          '-extfile',
          ext,
          '-extensions',
          'server',
        ],
        dir,
      );
      return { certFile, keyFile, cert: readFileSync(certFile), key: readFileSync(keyFile) };
    },
  };
}
