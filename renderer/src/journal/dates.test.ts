import { describe, expect, it } from 'vitest';
import { isoToDayMonthYear, parseDayMonthYear } from './dates';

describe('dd.mm.yyyy in date fields', () => {
  it('reads the ways people type a date', () => {
    expect(parseDayMonthYear('07.03.2026')).toBe('2026-03-07');
    expect(parseDayMonthYear('7.3.2026')).toBe('2026-03-07');
    expect(parseDayMonthYear(' 07/03/2026 ')).toBe('2026-03-07');
    expect(parseDayMonthYear('07-03-2026')).toBe('2026-03-07');
    expect(parseDayMonthYear('07032026')).toBe('2026-03-07');
    expect(parseDayMonthYear('29.02.2028')).toBe('2028-02-29');
  });

  it('treats an empty field as no date', () => {
    expect(parseDayMonthYear('  ')).toBe('');
  });

  it('refuses what is not a real day', () => {
    for (const bad of [
      '31.02.2026',
      '29.02.2026',
      '00.01.2026',
      '12.13.2026',
      '2026-03-07',
      '7.3.26',
      'вчера',
      '1.1.1800',
    ]) {
      expect(parseDayMonthYear(bad), bad).toBeNull();
    }
  });

  it('shows ISO dates as dd.mm.yyyy', () => {
    expect(isoToDayMonthYear('2026-03-07')).toBe('07.03.2026');
    expect(isoToDayMonthYear('')).toBe('');
  });
});
