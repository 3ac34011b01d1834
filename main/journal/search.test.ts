import { describe, expect, it } from 'vitest';
import {
  ftsPhrase,
  indexedName,
  nameMatch,
  parseSearch,
  prefixEnd,
  searchCondition,
  trigrams,
  wordNeedle,
} from './search.js';

describe('parseSearch', () => {
  it('reads digits as IIN, BIN, portal or number prefixes, dashes as an application number', () => {
    expect(parseSearch('880503400250')).toEqual({ kind: 'digits', digits: '880503400250' });
    expect(parseSearch(' 8805 ')).toEqual({ kind: 'digits', digits: '8805' });
    expect(parseSearch('2065-15-11-18')).toEqual({ kind: 'number', prefix: '2065-15-11-18' });
    expect(parseSearch('2065-')).toEqual({ kind: 'number', prefix: '2065-' });
    expect(parseSearch('')).toBeNull();
    expect(parseSearch('   ')).toBeNull();
    expect(parseSearch(undefined)).toBeNull();
  });

  it('reads anything else as name words, folded, split at spaces and hyphens', () => {
    expect(parseSearch('ӘБДІҒАППАРОВ  Нұрлан')).toEqual({ kind: 'name', words: ['абдигаппаров', 'нурлан'] });
    expect(parseSearch('Мухамед-Али')).toEqual({ kind: 'name', words: ['мухамед', 'али'] });
    expect(parseSearch('Пётр')).toEqual({ kind: 'name', words: ['петр'] });
    // Nothing but hyphens finds nothing rather than everything.
    expect(parseSearch('--')).toEqual({ kind: 'name', words: ['-'] });
  });
});

describe('pieces of the index', () => {
  it('computes the end of a prefix range', () => {
    expect(prefixEnd('8805')).toBe('8806');
    expect(prefixEnd('219')).toBe('21:');
    expect(prefixEnd('12-')).toBe('12.');
    expect(prefixEnd('а')).toBe('б');
  });

  it('keeps spaces around the indexed name and hyphens as spaces', () => {
    expect(indexedName('мухамед-али усенов')).toBe(' мухамед али усенов ');
    expect(wordNeedle('нур')).toBe('нур');
    expect(wordNeedle('ну')).toBe(' ну');
    expect(wordNeedle('н')).toBe(' н');
  });

  it('quotes phrases and lists trigrams once', () => {
    expect(ftsPhrase('a"b')).toBe('"a""b"');
    expect(trigrams('ананас')).toEqual(['ана', 'нан', 'нас']);
    expect(trigrams('аб')).toEqual([]);
  });
});

describe('nameMatch', () => {
  const none = () => [];
  it('is one exact phrase for one word', () => {
    expect(nameMatch(['абдигаппаров'], none)).toEqual({ match: 'name : "абдигаппаров"', exact: true });
    expect(nameMatch(['аб'], none)).toEqual({ match: 'name : " аб"', exact: true });
  });

  it('takes the rarest trigram of each long word when there are several words', () => {
    const rarity = (t: string) => (t === 'рла' ? 0 : t === 'рик' ? 1 : 5);
    expect(nameMatch(['нурлан', 'серик', 'ай'], none, rarity)).toEqual({
      match: 'name : "рла" AND name : "рик" AND name : " ай"',
      exact: false,
    });
    // Words of three letters or fewer stay exact.
    expect(nameMatch(['нур', 'ай'], none)).toEqual({ match: 'name : "нур" AND name : " ай"', exact: true });
  });

  it('turns one letter into the tokens that start a word with it, and nothing when there are none', () => {
    const tokens = (prefix: string) => (prefix === ' а' ? [' аб', ' ай'] : []);
    expect(nameMatch(['а'], tokens)).toEqual({ match: 'name : (" аб" OR " ай")', exact: true });
    expect(nameMatch(['я'], tokens)).toBeNull();
  });
});

describe('searchCondition', () => {
  it('checks every column a digit search covers, with ranges', () => {
    const c = searchCondition({ kind: 'digits', digits: '8805' });
    expect(c.sql).toContain('a.applicant_iin >= @sLo AND a.applicant_iin < @sHi');
    expect(c.sql).toContain('a.applicant_bin');
    expect(c.sql).toContain('a.portal_number');
    expect(c.sql).toContain('a.number');
    expect(c.params).toEqual({ sLo: '8805', sHi: '8806' });
  });

  it('checks long words anywhere and short ones at the start of a word', () => {
    const c = searchCondition({ kind: 'name', words: ['нурлан', 'ай'] });
    expect(c.sql).toBe(
      "(instr(a.applicant_name_norm, @sW0) > 0 AND instr(' ' || replace(a.applicant_name_norm, '-', ' '), @sW1) > 0)",
    );
    expect(c.params).toEqual({ sW0: 'нурлан', sW1: ' ай' });
  });
});
