import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultModules, existingModules, modulePaths } from './modules.js';

describe('module list', () => {
  it('Windows: the national and common tokens in System32, from %SystemRoot%', () => {
    const paths = defaultModules('win32', { SystemRoot: 'D:\\Win' }).map((m) => m.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'D:\\Win\\System32\\kztoken.dll',
        'D:\\Win\\System32\\jcPKCS11-2.dll',
        'D:\\Win\\System32\\eTPKCS11.dll',
        'D:\\Win\\System32\\rtPKCS11ECP.dll',
        'D:\\Win\\System32\\IDPrimePKCS11.dll',
      ]),
    );
    expect(defaultModules('win32', {})[0]?.path).toMatch(/^C:\\Windows\\System32\\/);
    // National tokens first.
    expect(defaultModules('win32', {})[0]?.vendor).toBe('KAZTOKEN');
  });

  it('Linux and macOS list SoftHSM2 among the rest; other platforms nothing', () => {
    expect(defaultModules('linux').map((m) => m.path)).toContain('/usr/lib/softhsm/libsofthsm2.so');
    expect(defaultModules('darwin').some((m) => m.vendor === 'SoftHSM2')).toBe(true);
    expect(defaultModules('aix')).toEqual([]);
  });

  it('configured paths come first; duplicates go (case-insensitively on Windows)', () => {
    const win = modulePaths({ modules: ['C:\\WINDOWS\\system32\\JCPKCS11-2.DLL', ' ', 'E:\\x.dll'] }, 'win32', {
      SystemRoot: 'C:\\Windows',
    });
    expect(win[0]).toBe('C:\\WINDOWS\\system32\\JCPKCS11-2.DLL');
    expect(win[1]).toBe('E:\\x.dll');
    expect(win.filter((p) => p.toLowerCase().endsWith('jcpkcs11-2.dll'))).toHaveLength(1);

    const linux = modulePaths({ modules: ['/opt/a.so', '/opt/a.so'], includeDefaults: false }, 'linux');
    expect(linux).toEqual(['/opt/a.so']);
  });

  it('existingModules keeps the files that are there', () => {
    const present = new Set(['/b.so']);
    expect(existingModules(['/a.so', '/b.so'], (p) => present.has(p))).toEqual(['/b.so']);
    expect(
      existingModules(['/a.so'], () => {
        throw new Error('EACCES');
      }),
    ).toEqual([]);
  });

  const softhsm = '/usr/lib/softhsm/libsofthsm2.so';
  if (process.platform !== 'linux' || !existsSync(softhsm)) {
    console.warn(`modules.test: ${softhsm} is not installed here; the real-file check is skipped`);
  }
  it.skipIf(process.platform !== 'linux' || !existsSync(softhsm))('finds the installed SoftHSM2 on the disk', () => {
    expect(existingModules(modulePaths({}, 'linux'))).toContain(softhsm);
  });
});
