/**
 * The words of login and permissions live once, in the interface catalogues
 * (renderer/src/i18n/{kk,ru,en}.json): every message key main/auth answers
 * with and every key the auth screens use is worded there in kk, ru and en,
 * with the same placeholders; no auth key in them is unused; and the provider
 * guide's two login messages keep their own words.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHANNELS } from '#preload/api.js';
import { PASSWORD_RULES } from '#preload/contract/auth.js';

const ROOT = join(import.meta.dirname, '..', '..');
const LANGS = ['kk', 'ru', 'en'] as const;
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
const KEY = /'((?:errors|messages|auth|admin|sign|role|app|common)\.[A-Za-z0-9.]+)'/g;
const channels = new Set<string>(CHANNELS);
/** The catalogue keys a source names in quotes (contract channel names look alike and are left out). */
const keysIn = (code: string) =>
  [...new Set([...code.matchAll(KEY)].map((m) => m[1]!))].filter((k) => !channels.has(k));
const passwordRuleKeys = PASSWORD_RULES.map((r) => `errors.auth.password.${r}`);

/** The keys that are not worded, with the same placeholders, in all three catalogues. */
function unworded(keys: readonly string[]): string[] {
  return keys.filter((key) => {
    const texts = LANGS.map((lang) => catalogues[lang][key]);
    if (texts.some((t) => typeof t !== 'string' || t.trim() === '')) return true;
    const en = placeholders(catalogues.en[key]!);
    return texts.some((t) => placeholders(t!).join() !== en.join());
  });
}

describe('the auth words in the renderer catalogues', () => {
  it('words every message key main/auth answers with in kk, ru and en, with the same placeholders', () => {
    const keys = [
      ...keysIn(mainCode).filter((k) => k.startsWith('errors.') || k.startsWith('messages.')),
      ...passwordRuleKeys,
    ];
    expect(keys.length).toBeGreaterThan(20);
    expect(unworded(keys)).toEqual([]);
  });

  it('words every key the login, lock, password and users screens use in kk, ru and en, with the same placeholders', () => {
    const keys = keysIn(screenCode);
    expect(keys).toEqual(expect.arrayContaining(['auth.login.title', 'auth.lock.title', 'admin.users.title']));
    expect(unworded(keys)).toEqual([]);
  });

  it('holds no auth key that nothing uses', () => {
    const used = new Set([...keysIn(mainCode), ...keysIn(screenCode), ...passwordRuleKeys]);
    const auth = Object.keys(catalogues.en).filter(
      (k) => k.startsWith('auth.') || k.startsWith('errors.auth.') || k.startsWith('admin.users.'),
    );
    expect(auth.length).toBeGreaterThan(90);
    expect(auth.filter((k) => !used.has(k))).toEqual([]);
  });

  it('reuses the provider guide’s own words for the two login messages (docs/domain.md#system-messages)', () => {
    expect(mainCode).toContain("'messages.wrongLoginOrPassword'");
    expect(mainCode).toContain("'messages.userNotFound'");
    expect(catalogues.kk['messages.wrongLoginOrPassword']).toBe('Логин немесе құпия сөз қате енгізілді');
    expect(catalogues.kk['messages.userNotFound']).toBe('Пайдаланушы жүйеде табылмады');
    expect(catalogues.en['messages.wrongLoginOrPassword']).toBe('Wrong login or password');
    expect(catalogues.en['messages.userNotFound']).toBe('User not found in the system');
  });
});
