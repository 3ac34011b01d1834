/**
 * The library's boundary: code outside signing/ reaches it through signing/index.ts (and tests, benchmarks and
 * tools through the test kit in signing/testing/), never through a file the library keeps to itself.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PUBLIC = /^#signing\/(index\.js|testing\/[\w-]+\.js)$/;
const SPECIFIER = /(?:from\s+|import\s*\(\s*|import\s+)'(#signing\/[^']*)'/g;

function outsideFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed
    .split('\n')
    .filter((f) => /\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(f) && !f.startsWith('signing/'))
    .filter((f) => !f.startsWith('node_modules/') && !f.startsWith('dist/'));
}

describe('the signer library’s public surface', () => {
  it('is the only way in from outside signing/', () => {
    const wrong: string[] = [];
    for (const file of outsideFiles()) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'utf8');
      } catch {
        continue; // deleted in the working tree
      }
      for (const m of text.matchAll(SPECIFIER)) {
        if (!PUBLIC.test(m[1]!)) wrong.push(`${file}: ${m[1]}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('sees a planted import past it', () => {
    const planted = `import { certView } from '#signing/trust/x509.js';`;
    const found = [...planted.matchAll(SPECIFIER)].map((m) => m[1]!);
    expect(found).toEqual(['#signing/trust/x509.js']);
    expect(found.some((s) => !PUBLIC.test(s))).toBe(true);
  });
});
