/**
 * The interface's words: three catalogues (kk, ru, en) with the same flat,
 * dotted keys, typed from en.json. `translate` fills `{placeholders}`;
 * `pluralKey` picks the `.one/.few/.many/.other` form a language needs;
 * dates and times follow the catalogue's `format.*` patterns (dd.mm.yyyy HH:MM),
 * in the workstation's time zone. Pure functions: React is in I18nProvider.tsx.
 */
import { LANGUAGES, type Language } from '#preload/api.js';
import en from './en.json';
import kk from './kk.json';
import ru from './ru.json';

export type MessageKey = keyof typeof en;
export type Catalogue = Record<MessageKey, string>;
export type Params = Readonly<Record<string, string | number>>;

export const catalogues: Readonly<Record<Language, Catalogue>> = { kk, ru, en };
export { LANGUAGES, type Language };

/** BCP 47 locale of each language, for plural rules and sorting. */
export const LOCALES: Readonly<Record<Language, string>> = { kk: 'kk-KZ', ru: 'ru-RU', en: 'en-GB' };

/**
 * Locale for numbers. Chromium's (and so Electron's) ICU data formats kk with
 * en-US separators ("5,000"); Kazakh writes numbers like Russian ("5 000",
 * decimal comma), so kk borrows ru's number format.
 */
const NUMBER_LOCALES: Readonly<Record<Language, string>> = { kk: 'ru-RU', ru: 'ru-RU', en: 'en-GB' };

const PLACEHOLDER = /\{(\w+)\}/g;

export function isLanguage(value: unknown): value is Language {
  return typeof value === 'string' && (LANGUAGES as readonly string[]).includes(value);
}

export function isMessageKey(key: unknown): key is MessageKey {
  return typeof key === 'string' && Object.hasOwn(en, key);
}

/** The `{name}` placeholders of a text, sorted and without repeats. */
export function placeholders(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(PLACEHOLDER), (m) => m[1] ?? ''))].sort();
}

const numberFormats = new Map<Language, Intl.NumberFormat>();
function formatNumber(language: Language, value: number): string {
  let f = numberFormats.get(language);
  if (!f) {
    f = new Intl.NumberFormat(NUMBER_LOCALES[language], { maximumFractionDigits: 2 });
    numberFormats.set(language, f);
  }
  return f.format(value);
}

/** The text of `key` in `language` with its placeholders filled; numbers get the language's grouping. */
export function translate(language: Language, key: MessageKey, params?: Params): string {
  const text = catalogues[language][key] ?? catalogues.en[key] ?? key;
  if (!params) return text;
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === 'number' ? formatNumber(language, value) : value;
  });
}

/** Keys that come in plural forms: `<base>.one`, `.few`, `.many`, `.other`. */
export type PluralBase = {
  [K in MessageKey]: K extends `${infer B}.other` ? (`${B}.one` extends MessageKey ? B : never) : never;
}[MessageKey];

const PLURAL_CATEGORIES = ['one', 'few', 'many', 'other'] as const;
const pluralRules = new Map<Language, Intl.PluralRules>();

/** The key of the plural form of `base` that `count` takes in `language` (`.other` when a form is missing). */
export function pluralKey(language: Language, base: PluralBase, count: number): MessageKey {
  let rules = pluralRules.get(language);
  if (!rules) {
    rules = new Intl.PluralRules(LOCALES[language]);
    pluralRules.set(language, rules);
  }
  const category = rules.select(count);
  const key = `${base}.${category}`;
  return (PLURAL_CATEGORIES as readonly string[]).includes(category) && isMessageKey(key)
    ? key
    : (`${base}.other` as MessageKey);
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

function datePattern(language: Language, key: 'format.date' | 'format.dateTime', ms: number): string {
  const d = new Date(ms);
  return translate(language, key, {
    dd: pad(d.getDate()),
    mm: pad(d.getMonth() + 1),
    yyyy: pad(d.getFullYear(), 4),
    HH: pad(d.getHours()),
    MM: pad(d.getMinutes()),
  });
}

/** dd.mm.yyyy HH:MM in the workstation's time zone. */
export function formatDateTime(language: Language, ms: number): string {
  return datePattern(language, 'format.dateTime', ms);
}

/** HH:MM when `ms` is today (by `now`), otherwise dd.mm.yyyy HH:MM: for "last sync" and the like. */
export function formatRecent(language: Language, ms: number, now: number): string {
  const d = new Date(ms);
  const n = new Date(now);
  const today = d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return today ? `${pad(d.getHours())}:${pad(d.getMinutes())}` : formatDateTime(language, ms);
}

/** dd.mm.yyyy in the workstation's time zone. */
export function formatDate(language: Language, ms: number): string {
  return datePattern(language, 'format.date', ms);
}

export { formatNumber };
