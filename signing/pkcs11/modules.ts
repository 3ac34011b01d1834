/**
 * Which PKCS#11 libraries (modules) to try: the ones the configuration names
 * first, then the usual install locations of the tokens used in Kazakhstan
 * and of the generic middleware, per platform. `existingModules` keeps those
 * whose file is there; loading them is token.ts's job.
 *
 * The file names come from the vendors' installers as far as they are known
 * here; the KAZTOKEN names in particular should be checked against a real
 * installation (the list is configuration: a wrong default only costs a
 * missing-file check). On 64-bit Windows, System32 holds the 64-bit DLLs an
 * x64 Electron can load (SysWOW64's 32-bit ones cannot be loaded).
 */
import { existsSync } from 'node:fs';

export interface ModuleCandidate {
  /** Who makes it, for the interface and the logs. */
  vendor: string;
  path: string;
}

type Platform = 'win32' | 'linux' | 'darwin';

function system32(env: NodeJS.ProcessEnv): string {
  const root = env.SystemRoot ?? env.windir ?? 'C:\\Windows';
  return `${root.replace(/\\+$/, '')}\\System32`;
}

function windowsCandidates(env: NodeJS.ProcessEnv): ModuleCandidate[] {
  const sys = system32(env);
  const programFiles = env.ProgramFiles ?? 'C:\\Program Files';
  return [
    // KAZTOKEN (the national token, NCALayer's "KAZTOKEN" store).
    { vendor: 'KAZTOKEN', path: `${sys}\\kztoken.dll` },
    { vendor: 'KAZTOKEN', path: `${sys}\\kaztoken.dll` },
    { vendor: 'KAZTOKEN', path: `${sys}\\kzpkcs11.dll` },
    // Aladdin R.D. JaCarta (JaCarta PKI / GOST, JC-Client / Unified Client).
    { vendor: 'JaCarta', path: `${sys}\\jcPKCS11-2.dll` },
    { vendor: 'JaCarta', path: `${sys}\\jcPKCS11.dll` },
    // SafeNet / Thales eToken (SafeNet Authentication Client) and IDPrime.
    { vendor: 'SafeNet eToken', path: `${sys}\\eTPKCS11.dll` },
    { vendor: 'Thales IDPrime', path: `${sys}\\IDPrimePKCS11.dll` },
    // Aktiv Rutoken.
    { vendor: 'Rutoken', path: `${sys}\\rtPKCS11ECP.dll` },
    { vendor: 'Rutoken', path: `${sys}\\rtPKCS11.dll` },
    // Generic middleware.
    { vendor: 'OpenSC', path: `${sys}\\opensc-pkcs11.dll` },
    { vendor: 'OpenSC', path: `${programFiles}\\OpenSC Project\\OpenSC\\pkcs11\\opensc-pkcs11.dll` },
    { vendor: 'SoftHSM2', path: 'C:\\SoftHSM2\\lib\\softhsm2-x64.dll' },
  ];
}

const LINUX: ModuleCandidate[] = [
  { vendor: 'KAZTOKEN', path: '/usr/lib/libkztoken.so' },
  { vendor: 'KAZTOKEN', path: '/usr/lib/x86_64-linux-gnu/libkztoken.so' },
  { vendor: 'JaCarta', path: '/usr/lib/libjcPKCS11-2.so' },
  { vendor: 'JaCarta', path: '/usr/lib/x86_64-linux-gnu/libjcPKCS11-2.so' },
  { vendor: 'JaCarta', path: '/usr/lib64/libjcPKCS11-2.so' },
  { vendor: 'SafeNet eToken', path: '/usr/lib/libeTPkcs11.so' },
  { vendor: 'SafeNet eToken', path: '/usr/lib64/libeTPkcs11.so' },
  { vendor: 'Thales IDPrime', path: '/usr/lib/libIDPrimePKCS11.so' },
  { vendor: 'Rutoken', path: '/usr/lib/librtpkcs11ecp.so' },
  { vendor: 'Rutoken', path: '/usr/lib/x86_64-linux-gnu/librtpkcs11ecp.so' },
  { vendor: 'Rutoken', path: '/usr/lib64/librtpkcs11ecp.so' },
  { vendor: 'OpenSC', path: '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so' },
  { vendor: 'OpenSC', path: '/usr/lib64/opensc-pkcs11.so' },
  { vendor: 'OpenSC', path: '/usr/lib/opensc-pkcs11.so' },
  { vendor: 'SoftHSM2', path: '/usr/lib/softhsm/libsofthsm2.so' },
  { vendor: 'SoftHSM2', path: '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so' },
  { vendor: 'SoftHSM2', path: '/usr/lib64/pkcs11/libsofthsm2.so' },
  { vendor: 'SoftHSM2', path: '/usr/local/lib/softhsm/libsofthsm2.so' },
];

const DARWIN: ModuleCandidate[] = [
  { vendor: 'JaCarta', path: '/Library/AladdinRD/JaCarta/lib/libjcPKCS11-2.dylib' },
  { vendor: 'JaCarta', path: '/usr/local/lib/libjcPKCS11-2.dylib' },
  { vendor: 'SafeNet eToken', path: '/usr/local/lib/libeTPkcs11.dylib' },
  { vendor: 'Thales IDPrime', path: '/usr/local/lib/libIDPrimePKCS11.dylib' },
  { vendor: 'Rutoken', path: '/Library/Frameworks/rtpkcs11ecp.framework/rtpkcs11ecp' },
  { vendor: 'OpenSC', path: '/Library/OpenSC/lib/opensc-pkcs11.so' },
  { vendor: 'SoftHSM2', path: '/opt/homebrew/lib/softhsm/libsofthsm2.so' },
  { vendor: 'SoftHSM2', path: '/usr/local/lib/softhsm/libsofthsm2.so' },
];

/** The built-in candidates for a platform, most specific (national tokens) first. */
export function defaultModules(
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): ModuleCandidate[] {
  const p = platform as Platform;
  if (p === 'win32') return windowsCandidates(env);
  if (p === 'darwin') return DARWIN;
  if (p === 'linux') return LINUX;
  return [];
}

export interface ModuleConfig {
  /** Library paths the administrator configured, tried first. */
  modules?: readonly string[];
  /** Also try the built-in locations (default true). */
  includeDefaults?: boolean;
}

/** The configured paths, then the defaults; duplicates dropped (case-insensitively on Windows). */
export function modulePaths(
  config: ModuleConfig = {},
  platform: NodeJS.Platform = process.platform,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const paths = [
    ...(config.modules ?? []).map((p) => p.trim()).filter((p) => p.length > 0),
    ...(config.includeDefaults === false ? [] : defaultModules(platform, env).map((m) => m.path)),
  ];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const path of paths) {
    const key = platform === 'win32' ? path.toLowerCase() : path;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(path);
  }
  return out;
}

/** The paths whose file exists (a symlink counts when its target does). */
export function existingModules(paths: readonly string[], exists: (path: string) => boolean = existsSync): string[] {
  return paths.filter((p) => {
    try {
      return exists(p);
    } catch {
      return false;
    }
  });
}
