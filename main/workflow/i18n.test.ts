/**
 * Every message key the workflow answers with is worded: either already in
 * the renderer's catalogues or in main/workflow/i18n.json (merged into them
 * by the lead), in kk, ru and en, with the same placeholders.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './testing.js';

const HERE = join(ROOT, 'main', 'workflow');
const own = JSON.parse(readFileSync(join(HERE, 'i18n.json'), 'utf8')) as Record<string, Record<string, unknown>>;
const en = JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', 'en.json'), 'utf8')) as Record<string, string>;

function placeholders(s: string): string[] {
  return [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '').sort();
}

describe('workflow i18n', () => {
  it('words every key in kk, ru and en, with the same placeholders', () => {
    for (const [key, texts] of Object.entries(own)) {
      expect(Object.keys(texts).sort(), key).toEqual(['en', 'kk', 'ru']);
      for (const lang of ['kk', 'ru', 'en']) {
        const text = texts[lang];
        expect(typeof text === 'string' && text.trim() !== '', `${key} ${lang}`).toBe(true);
        expect(placeholders(String(text)), `${key} ${lang}`).toEqual(placeholders(String(texts.en)));
      }
    }
  });

  it('does not reword keys the catalogues already have', () => {
    expect(Object.keys(own).filter((k) => k in en)).toEqual([]);
  });

  it('has a wording for every message key the workflow code answers with', () => {
    const sources = readdirSync(HERE).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    const keys = new Set<string>();
    for (const file of sources) {
      for (const m of readFileSync(join(HERE, file), 'utf8').matchAll(/'((?:errors|messages)\.[a-zA-Z.]+)'/g)) {
        if (m[1]) keys.add(m[1]);
      }
    }
    expect(keys.size).toBeGreaterThan(20);
    const unworded = [...keys].filter((k) => !(k in own) && !(k in en));
    expect(unworded).toEqual([]);
  });
});
