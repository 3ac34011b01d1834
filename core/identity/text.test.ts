import { describe, expect, it } from 'vitest';
import { foldForSearch } from './text.js';

/** What a search does: fold both sides, then look for a substring. */
const finds = (stored: string, typed: string) => foldForSearch(stored).includes(foldForSearch(typed));

describe('foldForSearch', () => {
  it('finds Kazakh names typed without Kazakh letters', () => {
    expect(finds('Әбдіғаппаров Нұрлан Серікұлы', 'абдигаппаров')).toBe(true);
    expect(finds('Әбдіғаппаров Нұрлан Серікұлы', 'нурлан серикулы')).toBe(true);
    expect(finds('Өмірзақова Іңкәр', 'омирзакова инкар')).toBe(true);
    expect(finds('Үсенов Ғалым', 'УСЕНОВ галым')).toBe(true);
    expect(finds('Шаһмаран', 'шахмаран')).toBe(true);
  });

  it('finds ё from е', () => {
    expect(finds('Пётр', 'петр')).toBe(true);
    expect(finds('СОЛОВЬЁВ Фёдор', 'соловьев')).toBe(true);
  });

  it('folds both upper and lower case Kazakh letters', () => {
    expect(foldForSearch('ӘҚӨҰҮІҢҒҺЁ')).toBe('акоууингхе');
    expect(foldForSearch('әқөұүіңғһё')).toBe('акоууингхе');
  });

  it('folds a decomposed ё (е + combining diaeresis)', () => {
    expect(foldForSearch('Пе\u0308тр')).toBe('петр');
  });

  it('collapses and trims white space', () => {
    expect(foldForSearch('  Әбдіғаппаров \t Нұрлан\n')).toBe('абдигаппаров нурлан');
  });

  it('only lower-cases Latin transliteration', () => {
    expect(foldForSearch('ABDIGAPPAROV Nurlan')).toBe('abdigapparov nurlan');
    expect(finds('Abdigapparov Nurlan', 'abdigap')).toBe(true);
  });

  it('folds Latin look-alikes typed inside Cyrillic words', () => {
    // Latin "i" for the Kazakh "і", Latin "a" and capital "H" inside a Cyrillic word.
    expect(finds('Әбдіғаппаров', 'Әбдiғаппаров')).toBe(true);
    expect(foldForSearch('Hурлaн')).toBe('нурлан');
    // A Latin word beside a Cyrillic one is left alone.
    expect(foldForSearch('ТОО «Altyn Агро»')).toBe('тоо «altyn агро»');
  });

  it('leaves other Cyrillic letters and punctuation alone', () => {
    expect(foldForSearch('Ким-Ли Ирина Юрьевна')).toBe('ким-ли ирина юрьевна');
    expect(foldForSearch('')).toBe('');
  });
});
