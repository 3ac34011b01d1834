/**
 * The words of login and permissions: main/auth/i18n.json (merged by the lead
 * into renderer/src/i18n/*.json) has kk, ru and en for every key, with the
 * same placeholders; every message key main/auth answers with and every key
 * the auth screens use is worded there or in the catalogues; nothing in it is
 * unused; and the provider guide's two login messages keep their own words.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '#preload/api.js';
import { PASSWORD_RULES } from '#preload/contract/auth.js';

const ROOT = join(import.meta.dirname, '..', '..');
type Entry = { kk: string; ru: string; en: string };
const own = JSON.parse(readFileSync(join(import.meta.dirname, 'i18n.json'), 'utf8')) as Record<string, Entry>;
const catalogue = (lang: string) =>
  JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Record<string, string>;
const catalogues = { kk: catalogue('kk'), ru: catalogue('ru'), en: catalogue('en') };

function sources(dir: string, pattern: RegExp): string {
  return readdirSync(dir)
    .filter((f) => pattern.test(f) && !f.includes('.test.'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n');
}
const mainCode = sources(join(ROOT, 'main', 'auth'), /\.ts$/);
const screenCode = sources(join(ROOT, 'renderer', 'src', 'auth'), /\.tsx?$/);

const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
const worded = (key: string) => key in own || key in catalogues.en;
const KEY = /'((?:errors|messages|auth|admin|sign|role|app|common)\.[A-Za-z0-9.]+)'/g;
const channels = new Set<string>(CHANNELS);
/** The catalogue keys a source names in quotes (contract channel names look alike and are left out). */
const keysIn = (code: string) =>
  [...new Set([...code.matchAll(KEY)].map((m) => m[1]!))].filter((k) => !channels.has(k));

describe('main/auth/i18n.json', () => {
  it('words every key in kk, ru and en, with the same placeholders', () => {
    for (const [key, e] of Object.entries(own)) {
      expect(Object.keys(e).sort(), key).toEqual(['en', 'kk', 'ru']);
      for (const lang of ['kk', 'ru', 'en'] as const) expect(e[lang].trim(), `${lang} ${key}`).not.toBe('');
      expect(placeholders(e.kk), key).toEqual(placeholders(e.en));
      expect(placeholders(e.ru), key).toEqual(placeholders(e.en));
    }
  });

  it('does not reword a key the catalogues already have (merged or not, the texts agree)', () => {
    for (const [key, e] of Object.entries(own)) {
      if (key in catalogues.en) {
        expect({ kk: catalogues.kk[key], ru: catalogues.ru[key], en: catalogues.en[key] }, key).toEqual(e);
      }
    }
  });

  it('words every message key main/auth answers with', () => {
    const keys = [
      ...keysIn(mainCode).filter((k) => k.startsWith('errors.') || k.startsWith('messages.')),
      ...PASSWORD_RULES.map((r) => `errors.auth.password.${r}`),
    ];
    expect(keys.length).toBeGreaterThan(20);
    expect(keys.filter((k) => !worded(k))).toEqual([]);
  });

  it('words every key the login, lock, password and users screens use', () => {
    const keys = keysIn(screenCode);
    expect(keys).toEqual(expect.arrayContaining(['auth.login.title', 'auth.lock.title', 'admin.users.title']));
    expect(keys.filter((k) => !worded(k))).toEqual([]);
  });

  it('holds no key that nothing uses', () => {
    const used = new Set([
      ...keysIn(mainCode),
      ...keysIn(screenCode),
      ...PASSWORD_RULES.map((r) => `errors.auth.password.${r}`),
    ]);
    expect(Object.keys(own).filter((k) => !used.has(k))).toEqual([]);
  });

  it('reuses the provider guide’s own words for the two login messages (DOMAIN.md §8)', () => {
    expect(mainCode).toContain("'messages.wrongLoginOrPassword'");
    expect(mainCode).toContain("'messages.userNotFound'");
    expect(catalogues.kk['messages.wrongLoginOrPassword']).toBe('Логин немесе құпия сөз қате енгізілді');
    expect(catalogues.kk['messages.userNotFound']).toBe('Пайдаланушы жүйеде табылмады');
    expect(catalogues.en['messages.wrongLoginOrPassword']).toBe('Wrong login or password');
    expect(catalogues.en['messages.userNotFound']).toBe('User not found in the system');
  });
});
