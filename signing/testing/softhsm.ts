/**
 * A SoftHSM2 token store in a directory, for the token tests: its own
 * configuration file, tokens initialized with softhsm2-util, keys and
 * certificates written with OpenSC's pkcs11-tool (as a separate process, so
 * the test's own PKCS#11 state stays untouched). Test code only.
 *
 * SoftHSM2 reads SOFTHSM2_CONF when the library is C_Initialize'd, and reads
 * its token directory then too: `createSoftHsm` sets process.env.SOFTHSM2_CONF
 * (which a worker thread's native code sees as well), so call it before the
 * first C_Initialize of the process, and rescan (C_Finalize + C_Initialize)
 * to see tokens created afterwards.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const SOFTHSM_MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

function runs(command: string, args: string[]): boolean {
  const r = spawnSync(command, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** Why the SoftHSM2 tests cannot run here, or null when they can. */
export function softHsmMissing(): string | null {
  if (!SOFTHSM_MODULE_CANDIDATES.some((p) => existsSync(p))) {
    return `no libsofthsm2.so in ${SOFTHSM_MODULE_CANDIDATES.join(', ')} (apt-get install softhsm2)`;
  }
  if (!runs('softhsm2-util', ['--version'])) return 'softhsm2-util is not on PATH (apt-get install softhsm2)';
  if (!runs('pkcs11-tool', ['--help'])) return 'pkcs11-tool is not on PATH (apt-get install opensc)';
  return null;
}

/** SoftHSM2, softhsm2-util and pkcs11-tool are all there. */
export function hasSoftHsm(): boolean {
  return softHsmMissing() === null;
}

export interface SoftHsmObject {
  /** The private key, PEM (PKCS#8, PKCS#1 or SEC1): what TestPki gives. */
  keyPem: string;
  certDer: Uint8Array;
  /** CKA_ID, hex. */
  id: string;
  label: string;
}

export interface SoftHsm {
  readonly dir: string;
  /** The SOFTHSM2_CONF file. */
  readonly conf: string;
  readonly tokenDir: string;
  /** The PKCS#11 library path. */
  readonly module: string;
  /** Initializes a token in the free slot; returns its slot id (decimal, as listTokens shows it). */
  initToken(label: string, soPin: string, userPin: string): string;
  /** Writes a private key (CKA_PRIVATE, sensitive) and its certificate with the same CKA_ID and label. */
  importKey(tokenLabel: string, userPin: string, object: SoftHsmObject): void;
  /** Writes a certificate alone (e.g. the CA's, the chain). */
  importCertificate(
    tokenLabel: string,
    userPin: string,
    cert: { certDer: Uint8Array; id: string; label: string },
  ): void;
  /** softhsm2-util --delete-token: the files go, as if the token were pulled out. */
  deleteToken(label: string): void;
}

export function createSoftHsm(dir: string): SoftHsm {
  const module = SOFTHSM_MODULE_CANDIDATES.find((p) => existsSync(p)) ?? SOFTHSM_MODULE_CANDIDATES[0]!;
  const tokenDir = join(dir, 'tokens');
  mkdirSync(tokenDir, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    [
      `directories.tokendir = ${tokenDir}`,
      'objectstore.backend = file',
      'log.level = ERROR',
      'slots.removable = false',
      'slots.mechanisms = ALL',
      '',
    ].join('\n'),
  );
  process.env.SOFTHSM2_CONF = conf;
  const env = { ...process.env, SOFTHSM2_CONF: conf };
  const run = (command: string, args: string[]) =>
    execFileSync(command, args, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let files = 0;
  const tmp = (name: string, data: Uint8Array) => {
    const path = join(dir, `${++files}-${name}`);
    writeFileSync(path, data, { mode: 0o600 });
    return path;
  };
  const write = (
    tokenLabel: string,
    userPin: string,
    file: string,
    type: 'privkey' | 'cert',
    id: string,
    label: string,
  ) =>
    run('pkcs11-tool', [
      '--module',
      module,
      '--token-label',
      tokenLabel,
      '--login',
      '--pin',
      userPin,
      '--write-object',
      file,
      '--type',
      type,
      '--id',
      id,
      '--label',
      label,
    ]);

  return {
    dir,
    conf,
    tokenDir,
    module,
    initToken(label, soPin, userPin) {
      const out = run('softhsm2-util', [
        '--init-token',
        '--free',
        '--label',
        label,
        '--so-pin',
        soPin,
        '--pin',
        userPin,
      ]);
      const slot = /reassigned to slot (\d+)/.exec(out)?.[1];
      if (!slot) throw new Error(`softhsm2-util did not say which slot: ${out}`);
      return slot;
    },
    importKey(tokenLabel, userPin, object) {
      const der = createPrivateKey(object.keyPem).export({ format: 'der', type: 'pkcs8' });
      write(tokenLabel, userPin, tmp('key.der', der), 'privkey', object.id, object.label);
      write(tokenLabel, userPin, tmp('cert.der', object.certDer), 'cert', object.id, object.label);
    },
    importCertificate(tokenLabel, userPin, cert) {
      write(tokenLabel, userPin, tmp('cert.der', cert.certDer), 'cert', cert.id, cert.label);
    },
    deleteToken(label) {
      run('softhsm2-util', ['--delete-token', '--token', label]);
    },
  };
}
