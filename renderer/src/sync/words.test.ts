import { describe, expect, it } from 'vitest';
import type { I18n } from '../i18n/I18nProvider';
import {
  catalogues,
  formatDate,
  formatDateTime,
  formatNumber,
  formatRecent,
  isMessageKey,
  LANGUAGES,
  pluralKey,
  translate,
  type Language,
} from '../i18n/i18n';
import {
  ageText,
  CHANGE_OPS,
  durationParts,
  ENTITIES,
  isRunning,
  opText,
  partitionProvider,
  partitionText,
  PHASES,
  reasonText,
  REJECTION_REASONS,
  skewText,
  splitSyncError,
  subjectText,
  syncErrorText,
} from './words';

/** The same I18n the provider makes, without React. */
function i18nOf(language: Language): I18n {
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

const en = i18nOf('en');
const ru = i18nOf('ru');
const kk = i18nOf('kk');
const MIN = 60_000;
const HOUR = 60 * MIN;

describe('the words of sync', () => {
  it('names every rejection reason, kind of change, phase and entity in kk, ru and en', () => {
    const keys = [
      ...REJECTION_REASONS.map((r) => `sync.reason.${r}`),
      ...CHANGE_OPS.map((o) => `sync.op.${o}`),
      ...PHASES.map((p) => `sync.phase.${p}`),
      ...ENTITIES.map((e) => `sync.entity.${e}`),
    ];
    for (const key of keys) {
      expect(isMessageKey(key), key).toBe(true);
      if (!isMessageKey(key)) continue;
      for (const lang of LANGUAGES) expect(catalogues[lang][key].trim(), `${lang} ${key}`).not.toBe('');
    }
  });

  it('words the sync keys in Kazakh and Russian, not in English left over', () => {
    const cyrillic = /[а-яёәғқңөұүһі]/i;
    const syncKeys = Object.keys(catalogues.en).filter((k) => k.startsWith('sync.') && k !== 'sync.errorCode');
    expect(syncKeys.length).toBeGreaterThan(100);
    for (const key of syncKeys) {
      if (!isMessageKey(key)) continue;
      expect(catalogues.ru[key], `ru ${key}`).toMatch(cyrillic);
      expect(catalogues.kk[key], `kk ${key}`).toMatch(cyrillic);
      expect(catalogues.ru[key], `ru ${key}`).not.toBe(catalogues.en[key]);
    }
    // Kazakh, not Russian under another name: the reasons use the Kazakh letters.
    for (const reason of REJECTION_REASONS) {
      expect(kk.t(`sync.reason.${reason}`), reason).toMatch(/[әғқңөұүһі]/);
      expect(kk.t(`sync.reason.${reason}`)).not.toBe(ru.t(`sync.reason.${reason}`));
    }
  });

  it('gives each reason its own words, and a code it does not know in a generic sentence', () => {
    const texts = REJECTION_REASONS.map((r) => reasonText(en, r));
    expect(new Set(texts).size).toBe(REJECTION_REASONS.length);
    expect(reasonText(en, 'reassigned')).toBe('The application was reassigned to someone else meanwhile');
    expect(reasonText(ru, 'quotaExceeded')).toBe('Отклонено сервером (код quotaExceeded)');
    expect(reasonText(en, 'toString')).toBe('Rejected by the server (code toString)');
  });

  it('words the kind of change, with an unknown one named by its code', () => {
    expect(opText(en, 'application.transition')).toBe('Action on an application');
    expect(opText(kk, 'change.discard')).toBe('Қабылданбаған өзгерістен бас тарту');
    expect(opText(en, 'document.scan')).toBe('Change of kind document.scan');
  });

  it('words the last error by its code, known or not', () => {
    expect(syncErrorText(ru, 'server_unreachable')).toBe('Сервер не отвечает');
    expect(syncErrorText(kk, 'timeout: no answer from the server within 30000 ms')).toBe(
      'Сервер уақытында жауап бермеді',
    );
    expect(syncErrorText(en, 'rejected-request: the server refused the request (400 bad_request)')).toBe(
      'The server refused the request',
    );
    expect(syncErrorText(en, 'http_418')).toBe('Sync error (http_418)');
    expect(syncErrorText(en, 'odd: thing')).toBe('Sync error (odd: thing)');
  });

  it("splits the engine's last error into its code and detail", () => {
    expect(splitSyncError('network: cannot reach the server: ECONNREFUSED')).toEqual({
      code: 'network',
      detail: 'cannot reach the server: ECONNREFUSED',
    });
    expect(splitSyncError('server_unreachable')).toEqual({ code: 'server_unreachable', detail: null });
    expect(splitSyncError('revoked:')).toEqual({ code: 'revoked', detail: null });
    expect(splitSyncError('Not a code: at all')).toEqual({ code: 'Not a code: at all', detail: null });
  });

  it('names what a change concerns: an application by its number, anything else by entity and id', () => {
    expect(subjectText(ru, { entity: 'application', entityId: 'app-1', applicationNumber: 'KZ-0001' })).toBe(
      'Заявление KZ-0001',
    );
    expect(subjectText(kk, { entity: 'application', entityId: 'app-1', applicationNumber: 'KZ-0001' })).toBe(
      'KZ-0001 өтінімі',
    );
    expect(subjectText(en, { entity: 'signature', entityId: 'sig-9', applicationNumber: null })).toBe(
      'Signature sig-9',
    );
    expect(subjectText(en, { entity: 'gadget', entityId: 'g-1', applicationNumber: null })).toBe('gadget g-1');
  });

  it('names the partitions', () => {
    expect(partitionProvider('provider:prov-astana')).toBe('prov-astana');
    expect(partitionProvider('global')).toBeNull();
    const name = (id: string) => (id === 'prov-astana' ? 'Astana employment office' : id);
    expect(partitionText(en, 'global', name)).toBe('Reference data (users, services, calendars)');
    expect(partitionText(en, 'provider:prov-astana', name)).toBe('Applications: Astana employment office');
    expect(partitionText(en, 'provider:prov-other', name)).toBe('Applications: prov-other');
    expect(partitionText(en, 'archive-2024', name)).toBe('archive-2024');
  });

  it('tells work from a backoff', () => {
    expect(PHASES.filter(isRunning)).toEqual(['pushing', 'pulling', 'snapshot']);
  });
});

describe('durations', () => {
  it('takes the largest whole unit, rounded down', () => {
    expect(durationParts(0)).toEqual({ unit: 'seconds', count: 0 });
    expect(durationParts(59_999)).toEqual({ unit: 'seconds', count: 59 });
    expect(durationParts(MIN)).toEqual({ unit: 'minutes', count: 1 });
    expect(durationParts(HOUR - 1)).toEqual({ unit: 'minutes', count: 59 });
    expect(durationParts(3 * HOUR + 59 * MIN)).toEqual({ unit: 'hours', count: 3 });
    expect(durationParts(24 * HOUR)).toEqual({ unit: 'days', count: 1 });
    expect(durationParts(-90_000)).toEqual({ unit: 'minutes', count: 1 });
  });

  it('says how long the oldest change has waited, in each language', () => {
    const now = Date.UTC(2026, 2, 7, 12, 0);
    expect(ageText(en, now - 3 * HOUR - 5 * MIN, now)).toBe('3 h');
    expect(ageText(ru, now - 3 * HOUR, now)).toBe('3 ч');
    expect(ageText(kk, now - 3 * HOUR, now)).toBe('3 сағ');
    expect(ageText(en, now - 2 * 24 * HOUR, now)).toBe('2 d');
    expect(ageText(en, now - 30_000, now)).toBe('< 1 min');
    // A change stamped by a clock ahead of this one has not waited at all.
    expect(ageText(en, now + 5 * MIN, now)).toBe('< 1 min');
    expect(en.t('sync.oldest', { age: ageText(en, now - 3 * HOUR, now) })).toBe('oldest 3 h');
  });

  it('says how far the clock is off, and which way', () => {
    expect(skewText(en, null)).toBe('not measured yet');
    expect(skewText(en, 400)).toBe('in step with the server');
    expect(skewText(en, 7 * MIN)).toBe('7 min ahead of the server');
    expect(skewText(en, -24 * HOUR)).toBe('1 d behind the server');
    expect(skewText(ru, -24 * HOUR)).toBe('отстают от сервера на 1 дн.');
  });
});
