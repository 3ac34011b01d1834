/** The language of the interface as a React context, and `useI18n()` to word things in it. */
import { createContext, useContext, useMemo, type ReactNode } from 'react';
import {
  formatDate,
  formatDateTime,
  formatNumber,
  formatRecent,
  pluralKey,
  translate,
  type Language,
  type MessageKey,
  type Params,
  type PluralBase,
} from './i18n';

export interface I18n {
  language: Language;
  /** The text of `key` with `{placeholders}` filled from `params`. */
  t(key: MessageKey, params?: Params): string;
  /** The plural form of `base` for `count` (`{count}` is filled too). */
  tp(base: PluralBase, count: number, params?: Params): string;
  dateTime(ms: number): string;
  /** HH:MM if today, else dd.mm.yyyy HH:MM. */
  recent(ms: number, now: number): string;
  date(ms: number): string;
  number(value: number): string;
}

function makeI18n(language: Language): I18n {
  return {
    language,
    t: (key, params) => translate(language, key, params),
    tp: (base, count, params) => translate(language, pluralKey(language, base, count), { count, ...params }),
    dateTime: (ms) => formatDateTime(language, ms),
    recent: (ms, now) => formatRecent(language, ms, now),
    date: (ms) => formatDate(language, ms),
    number: (value) => formatNumber(language, value),
  };
}

const I18nContext = createContext<I18n>(makeI18n('kk'));

export function I18nProvider({ language, children }: { language: Language; children: ReactNode }) {
  const value = useMemo(() => makeI18n(language), [language]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  return useContext(I18nContext);
}
