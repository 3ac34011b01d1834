/**
 * Typed dates of the filters: people here write dd.mm.yyyy whatever the
 * Windows locale says, so the date fields are text in that form (with the
 * native calendar as a helper), converted to and from ISO YYYY-MM-DD.
 */

/** "7.3.2026", "07.03.2026", "07/03/2026", "07-03-2026", "07032026" → "2026-03-07"; '' → ''; otherwise null. */
export function parseDayMonthYear(text: string): string | null {
  const s = text.trim();
  if (s === '') return '';
  const m = /^(\d{1,2})[./\- ](\d{1,2})[./\- ](\d{4})$/.exec(s) ?? /^(\d{2})(\d{2})(\d{4})$/.exec(s);
  if (!m) return null;
  const day = Number(m[1]);
  const month = Number(m[2]);
  const year = Number(m[3]);
  if (year < 1900 || year > 2999 || month < 1 || month > 12 || day < 1) return null;
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCMonth() !== month - 1) return null; // 31.02 and the like
  return `${m[3]}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** "2026-03-07" → "07.03.2026"; anything else → ''. */
export function isoToDayMonthYear(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : '';
}
