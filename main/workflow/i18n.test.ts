/**
 * Every message key the workflow answers with is worded in the renderer's
 * catalogues, in kk, ru and en.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './testing.js';

/** The workflow's rules (core) and its service (main). */
const FOLDERS = [join(ROOT, 'core', 'workflow'), join(ROOT, 'main', 'workflow')];
const catalogue = (lang: string) =>
  JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;

describe('workflow i18n', () => {
  it('has a wording in every language for every message key the workflow code answers with', () => {
    const sources = FOLDERS.flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
        .map((f) => join(dir, f)),
    );
    const keys = new Set<string>();
    for (const file of sources) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'((?:errors|messages)\.[a-zA-Z.]+)'/g)) {
        if (m[1]) keys.add(m[1]);
      }
    }
    expect(keys.size).toBeGreaterThan(20);
    for (const lang of ['kk', 'ru', 'en']) {
      const words = catalogue(lang);
      expect(
        [...keys].filter((k) => !(k in words)),
        lang,
      ).toEqual([]);
    }
  });
});
