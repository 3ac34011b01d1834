/**
 * The one rule of the law that moves days off by itself (Law "On holidays in
 * the Republic of Kazakhstan" No. 267-II, art. 5): when a holiday falls on a
 * day off, the next working day after the holiday becomes a day off. The
 * religious holidays (Orthodox Christmas, the first day of Kurban Ait; Labour
 * Code art. 84 para. 5) are days off without that move.
 *
 * The year files list the moved days explicitly; this rule checks them
 * (schema.ts) and builds the moved days of years no file covers (workdays.ts).
 */
import { isoWeekday } from './dates.js';

export interface RuleHoliday {
  /** Day number (dates.ts). */
  day: number;
  religious: boolean;
}

/**
 * For each non-religious holiday on a weekend day, in date order, the day its
 * day off moves to: the first following day that is neither a weekend day, a
 * holiday nor already taken by an earlier move. Nauryz 2026 (Sat 21, Sun 22,
 * Mon 23 March) gives 21 → Tue 24 and 22 → Wed 25.
 */
export function lawTransfers(holidays: ReadonlyArray<RuleHoliday>, weekend: ReadonlySet<number>): Map<number, number> {
  const off = new Set(holidays.map((h) => h.day));
  const taken = new Set<number>();
  const moves = new Map<number, number>();
  const sorted = [...holidays].sort((a, b) => a.day - b.day);
  for (const h of sorted) {
    if (h.religious || !weekend.has(isoWeekday(h.day)) || moves.has(h.day)) continue;
    let d = h.day + 1;
    while (weekend.has(isoWeekday(d)) || off.has(d) || taken.has(d)) d++;
    taken.add(d);
    moves.set(h.day, d);
  }
  return moves;
}
