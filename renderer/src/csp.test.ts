/**
 * The page runs under `script-src 'self'; style-src 'self'` (main/common/csp.ts):
 * no inline script or style in the HTML, no style props or injected HTML in
 * the components. (The built dist/renderer/index.html is checked after
 * `vite build` the same way: see renderer/README.md.)
 */
import { describe, expect, it } from 'vitest';
import html from '../index.html?raw';

const sources = import.meta.glob(['./**/*.tsx', './**/*.ts', '!./**/*.test.ts'], {
  query: '?raw',
  import: 'default',
  eager: true,
}) as Record<string, string>;

export function inlineScriptOrStyle(page: string): string[] {
  const found: string[] = [];
  for (const m of page.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
    if (!/\bsrc=/.test(m[1] ?? '') || (m[2] ?? '').trim() !== '') found.push(m[0]);
  }
  for (const m of page.matchAll(/<style\b[^>]*>/gi)) found.push(m[0]);
  for (const m of page.matchAll(/\sstyle\s*=/gi)) found.push(m[0]);
  for (const m of page.matchAll(/\son[a-z]+\s*=/gi)) found.push(m[0]);
  return found;
}

describe('content security policy', () => {
  it('index.html has no inline script, style or handler', () => {
    expect(inlineScriptOrStyle(html)).toEqual([]);
  });

  it('finds inline script and style when there are some', () => {
    expect(inlineScriptOrStyle('<script>x()</script><style>a{}</style><p style="">')).toHaveLength(3);
  });

  it('components use no style props and inject no HTML', () => {
    expect(Object.keys(sources).length).toBeGreaterThan(5);
    for (const [file, text] of Object.entries(sources)) {
      expect(/\bstyle=\{/.test(text), `${file}: style prop`).toBe(false);
      expect(text.includes('dangerouslySetInnerHTML'), `${file}: dangerouslySetInnerHTML`).toBe(false);
    }
  });
});
