import { describe, expect, it } from 'vitest';
import { DECISION_VALUES, ROLE_VALUES, STATUS_VALUES } from '#preload/api.js';
import en from './en.json';
import kk from './kk.json';
import ru from './ru.json';
import {
  catalogues,
  formatDate,
  formatDateTime,
  formatRecent,
  isMessageKey,
  LANGUAGES,
  placeholders,
  pluralKey,
  translate,
} from './i18n';

const raw: Record<string, Record<string, unknown>> = { kk, ru, en };

describe('catalogues', () => {
  const enKeys = Object.keys(en).sort();

  it.each(['kk', 'ru'])('%s has exactly the keys of en', (lang) => {
    expect(Object.keys(raw[lang]!).sort()).toEqual(enKeys);
  });

  it.each(['kk', 'ru', 'en'])('%s has only non-empty strings', (lang) => {
    for (const [key, value] of Object.entries(raw[lang]!)) {
      expect(typeof value, `${lang} ${key}`).toBe('string');
      expect((value as string).trim(), `${lang} ${key}`).not.toBe('');
    }
  });

  it.each(['kk', 'ru'])('%s has the same {placeholders} as en, key by key', (lang) => {
    for (const key of enKeys) {
      expect(placeholders(String(raw[lang]![key])), `${lang} ${key}`).toEqual(
        placeholders(String((en as Record<string, string>)[key])),
      );
    }
  });

  it('names every status, decision and role', () => {
    for (const s of STATUS_VALUES) expect(isMessageKey(`status.${s}`), s).toBe(true);
    for (const d of DECISION_VALUES) expect(isMessageKey(`decision.${d}`), d).toBe(true);
    for (const r of ROLE_VALUES) expect(isMessageKey(`role.${r}`), r).toBe(true);
  });

  it('words the errors client.ts and main answer with', () => {
    for (const key of [
      'errors.internal',
      'errors.invalidInput',
      'errors.noTransport',
      'errors.unreachable',
      'errors.bridgeRefused',
    ]) {
      expect(isMessageKey(key), key).toBe(true);
    }
  });

  it('keeps the system messages of the provider guide (docs/domain.md#system-messages) in their own wording', () => {
    expect(catalogues.kk['messages.requiredField']).toBe('Толтыру үшін міндетті');
    expect(catalogues.ru['messages.requiredField']).toBe('Обязательно для заполнения');
    expect(catalogues.en['messages.requiredField']).toBe('Required field');
    expect(catalogues.kk['messages.responsibleAssigned']).toBe('Жауапты тұлға сәтті тағайындалды');
    expect(catalogues.ru['messages.responsibleAssigned']).toBe('Ответственное лицо успешно назначено');
    expect(catalogues.ru['status.received']).toBe('Получена');
    expect(catalogues.kk['status.received']).toBe('Келіп түсті');
    expect(catalogues.kk['decision.none']).toBe('Шешім жоқ');
  });

  it('has every plural form in every language', () => {
    const bases = new Set(
      Object.keys(en)
        .filter((k) => k.endsWith('.other'))
        .map((k) => k.slice(0, -'.other'.length)),
    );
    for (const base of bases) {
      for (const form of ['one', 'few', 'many', 'other'])
        expect(isMessageKey(`${base}.${form}`), `${base}.${form}`).toBe(true);
    }
  });
});

describe('translate', () => {
  it('fills placeholders and groups numbers per language', () => {
    expect(translate('en', 'journal.pagination.page', { page: 2, pages: 10 })).toBe('Page 2 of 10');
    expect(translate('kk', 'journal.pagination.page', { page: 2, pages: 10 })).toBe('10 беттің 2-беті');
    expect(translate('en', 'sync.queue', { count: 12345 })).toBe('Queue: 12,345');
    expect(translate('ru', 'sync.queue', { count: 12345 }).replace(/\s/g, ' ')).toBe('Очередь: 12 345');
  });

  it('leaves a placeholder without a value visible', () => {
    expect(translate('en', 'journal.select.row')).toBe('Select application {number}');
  });

  it('picks the plural form', () => {
    expect(translate('ru', pluralKey('ru', 'journal.total', 1), { count: 1 })).toBe('1 заявка');
    expect(translate('ru', pluralKey('ru', 'journal.total', 3), { count: 3 })).toBe('3 заявки');
    expect(translate('ru', pluralKey('ru', 'journal.total', 25), { count: 25 })).toBe('25 заявок');
    expect(translate('en', pluralKey('en', 'journal.total', 1), { count: 1 })).toBe('1 application');
    expect(translate('en', pluralKey('en', 'journal.total', 2), { count: 2 })).toBe('2 applications');
    expect(translate('kk', pluralKey('kk', 'journal.total', 7), { count: 7 })).toBe('7 өтінім');
  });

  it('formats dates as dd.mm.yyyy HH:MM in local time in every language', () => {
    const ms = new Date(2026, 2, 7, 9, 5).getTime();
    for (const lang of LANGUAGES) {
      expect(formatDateTime(lang, ms)).toBe('07.03.2026 09:05');
      expect(formatDate(lang, ms)).toBe('07.03.2026');
    }
  });

  it('shortens a time of today to HH:MM', () => {
    const now = new Date(2026, 2, 7, 18, 0).getTime();
    expect(formatRecent('ru', new Date(2026, 2, 7, 9, 5).getTime(), now)).toBe('09:05');
    expect(formatRecent('ru', new Date(2026, 2, 6, 9, 5).getTime(), now)).toBe('06.03.2026 09:05');
  });

  it('groups Kazakh numbers with spaces, as Russian does', () => {
    expect(translate('kk', 'journal.total.other', { count: 5000 }).replace(/\s/g, ' ')).toBe('5 000 өтінім');
  });

  it('knows which keys exist', () => {
    expect(isMessageKey('errors.internal')).toBe(true);
    expect(isMessageKey('errors.nope')).toBe(false);
    expect(isMessageKey('toString')).toBe(false);
  });
});
