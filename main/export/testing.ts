/** Sheet words for tests of the export (the renderer takes them from its catalogues). */
import { DECISIONS, STATUSES } from '#core/vocabulary.js';
import { EXPORT_COLUMNS, type ExportLabels } from '#preload/contract/export.js';

/** Labels in `lang`: each word is its key, prefixed with the language (enough to tell them apart). */
export function exportLabels(lang: 'kk' | 'ru' | 'en' = 'en'): ExportLabels {
  const words = <K extends string>(keys: readonly K[]) =>
    Object.fromEntries(keys.map((k) => [k, `${lang}:${k}`])) as Record<K, string>;
  return {
    sheet: `${lang}:journal`,
    columns: words(EXPORT_COLUMNS),
    status: words(STATUSES),
    decision: words(DECISIONS),
    meta: { period: 'Period', exportedAt: 'Exported', filters: 'Filters', rows: 'Applications', any: '…' },
    filters: '',
  };
}
