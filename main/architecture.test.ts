/**
 * The process boundaries, checked over the source tree: only main/shell and
 * the preload's entry import 'electron'; the renderer imports nothing from
 * main/, db/ or server/ and no Node built-ins.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', 'release', '.git', '.data', 'test-results', 'playwright-report']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (/\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name)) out.push(relative(ROOT, full));
  }
  return out;
}

/** Every module specifier a file names: static imports, re-exports, dynamic import() and require(). */
export function specifiers(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) if (m[1]) found.push(m[1]);
  return found;
}

const ELECTRON_ALLOWED = [/^main\/shell\//, /^preload\/index\.ts$/, /^scripts\/start-electron\.ts$/];
const files = sources(ROOT).filter((f) => !f.endsWith('architecture.test.ts'));

describe('process boundaries', () => {
  it('finds the specifiers of every import form', () => {
    const code = `import a from 'electron';\nimport type { B } from "electron/main";\nconst c = await import('electron');\nconst d = require("electron");\nexport { e } from 'electron';\nimport 'side';`;
    expect(specifiers(code)).toEqual(
      expect.arrayContaining(['electron', 'electron/main', 'electron', 'electron', 'electron', 'side']),
    );
  });

  it('scans the real source tree', () => {
    expect(files).toContain('main/shell/main.ts');
    expect(files.some((f) => f.startsWith('renderer/src/'))).toBe(true);
  });

  it("lets only main/shell and the preload import 'electron'", () => {
    const offenders = files.filter(
      (f) =>
        !ELECTRON_ALLOWED.some((re) => re.test(f)) &&
        specifiers(readFileSync(join(ROOT, f), 'utf8')).some((s) => s === 'electron' || s.startsWith('electron/')),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps main/shell the only part of main that needs Electron', () => {
    const shellImporters = files.filter(
      (f) =>
        !f.startsWith('main/shell/') &&
        specifiers(readFileSync(join(ROOT, f), 'utf8')).some((s) => /(^|\/)shell\/main(\.js)?$/.test(s)),
    );
    expect(shellImporters).toEqual([]);
  });

  it('keeps the renderer away from main, db, server and Node', () => {
    const offenders: string[] = [];
    for (const f of files.filter((x) => x.startsWith('renderer/') && !x.endsWith('vite.config.ts'))) {
      for (const s of specifiers(readFileSync(join(ROOT, f), 'utf8'))) {
        if (/(^|\/)(main|db|server)\//.test(s) || s.startsWith('node:') || s === 'electron')
          offenders.push(`${f}: ${s}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
