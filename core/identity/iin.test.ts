import { describe, expect, it } from 'vitest';
import { checksumDigit, isValidBin, isValidIin, makeBin, makeIin, parseBin, parseIin } from './iin.js';

// Worked by hand (weights W1 = 1..11, W2 = 3,4,5,6,7,8,9,10,11,1,2; sum mod 11):
//
// 900101 3 0001 ?  digits 9 0 0 1 0 1 3 0 0 0 1
//   W1: 9 + 0 + 0 + 4 + 0 + 6 + 21 + 0 + 0 + 0 + 11 = 51;  51 mod 11 = 7    → 900101300017
//   (male, born 1990-01-01)
// 050315 6 0123 ?  digits 0 5 0 3 1 5 6 0 1 2 3
//   W1: 0 + 10 + 0 + 12 + 5 + 30 + 42 + 0 + 9 + 20 + 33 = 161;  161 mod 11 = 7 → 050315601237
//   (female, born 2005-03-15)
// 771225 4 0020 ?  digits 7 7 1 2 2 5 4 0 0 2 0
//   W1: 7 + 14 + 3 + 8 + 10 + 30 + 28 + 0 + 0 + 20 + 0 = 120;  120 mod 11 = 10 → second pass
//   W2: 21 + 28 + 5 + 12 + 14 + 40 + 36 + 0 + 0 + 2 + 0 = 158;  158 mod 11 = 4 → 771225400204
// 771225 4 0023 ?  W1: 120 + 33 = 153 → 10;  W2: 158 + 6 = 164 → 10: never issued
// 771225 4 0024 ?  W1: 120 + 44 = 164 → 10;  W2: 158 + 8 = 166 → 1         → 771225400241
// NCA test IIN 123456789011: digits 1 2 3 4 5 6 7 8 9 0 1
//   W1: 1 + 4 + 9 + 16 + 25 + 36 + 49 + 64 + 81 + 0 + 11 = 296 → 10
//   W2: 3 + 8 + 15 + 24 + 35 + 48 + 63 + 80 + 99 + 0 + 2 = 377 → 3, not 1: invalid
// NCA test BIN 123456789021: W1: 296 - 11 + 22 = 307 → 10;  W2: 377 - 2 + 4 = 379 → 5, not 1: invalid
//
// BIN 0403 4 0 00012 ?  digits 0 4 0 3 4 0 0 0 0 1 2
//   W1: 0 + 8 + 0 + 12 + 20 + 0 + 0 + 0 + 0 + 10 + 22 = 72;  72 mod 11 = 6 → 040340000126
//   (registered March 2004, resident legal entity, head organisation)
// BIN 1012 5 1 00034 ?  digits 1 0 1 2 5 1 0 0 0 3 4
//   W1: 1 + 0 + 3 + 8 + 25 + 6 + 0 + 0 + 0 + 30 + 44 = 117;  117 mod 11 = 7 → 101251000347
//   (registered December 2010, non-resident legal entity, branch)

describe('checksumDigit', () => {
  it('computes the first pass', () => {
    expect(checksumDigit('90010130001')).toBe(7);
    expect(checksumDigit('05031560123')).toBe(7);
    expect(checksumDigit('04034000012')).toBe(6);
  });

  it('falls back to the second weights when the first pass gives 10', () => {
    expect(checksumDigit('77122540020')).toBe(4);
    expect(checksumDigit('12345678901')).toBe(3);
  });

  it('returns null when both passes give 10 (number not issued)', () => {
    expect(checksumDigit('77122540023')).toBeNull();
  });

  it('returns null for anything but 11 digits', () => {
    expect(checksumDigit('7712254002')).toBeNull();
    expect(checksumDigit('771225400200')).toBeNull();
    expect(checksumDigit('7712254002a')).toBeNull();
    expect(checksumDigit('')).toBeNull();
  });
});

describe('isValidIin / parseIin', () => {
  it('accepts numbers computed by hand', () => {
    expect(isValidIin('900101300017')).toBe(true);
    expect(isValidIin('050315601237')).toBe(true);
    expect(isValidIin('771225400204')).toBe(true);
    expect(isValidIin('771225400241')).toBe(true);
  });

  it('parses birth date and sex from the century digit', () => {
    expect(parseIin('900101300017')).toEqual({ birthDate: '1990-01-01', year: 1990, month: 1, day: 1, sex: 'male' });
    expect(parseIin('050315601237')).toEqual({ birthDate: '2005-03-15', year: 2005, month: 3, day: 15, sex: 'female' });
    expect(parseIin('771225400204')?.sex).toBe('female');
  });

  it('refuses a wrong checksum', () => {
    for (const d of '012345689') expect(isValidIin(`90010130001${d}`)).toBe(false);
    expect(isValidIin('771225400203')).toBe(false);
  });

  it('refuses the NCA test IIN 123456789011 by its checksum', () => {
    expect(checksumDigit('12345678901')).toBe(3);
    expect(isValidIin('123456789011')).toBe(false);
    expect(parseIin('123456789011')).toBeNull();
  });

  it('refuses impossible dates', () => {
    // Same serial, checksum made right, so only the date is wrong.
    const withCheck = (first11: string) => first11 + String(checksumDigit(first11));
    expect(isValidIin(withCheck('90023130001'))).toBe(false); // 31 February
    expect(isValidIin(withCheck('90130130001'))).toBe(false); // month 13
    expect(isValidIin(withCheck('90000130001'))).toBe(false); // month 00
    expect(isValidIin(withCheck('90010030001'))).toBe(false); // day 00
    expect(isValidIin(withCheck('01022950001'))).toBe(false); // 2001-02-29, not a leap year
    expect(isValidIin(withCheck('00022950001'))).toBe(true); // 2000-02-29, leap year
    expect(isValidIin(withCheck('00022930001'))).toBe(false); // 1900-02-29, not a leap year
  });

  it('refuses century digits other than 1–6', () => {
    const withCheck = (first11: string) => first11 + String(checksumDigit(first11));
    expect(isValidIin(withCheck('90010100001'))).toBe(false);
    expect(isValidIin(withCheck('90010170001'))).toBe(false);
    expect(parseIin(withCheck('90010110002'))?.year).toBe(1890);
  });

  it('refuses anything but 12 digits', () => {
    expect(isValidIin('90010130001')).toBe(false);
    expect(isValidIin('9001013000170')).toBe(false);
    expect(isValidIin(' 900101300017')).toBe(false);
    expect(isValidIin('90010130001x')).toBe(false);
    expect(isValidIin('')).toBe(false);
  });
});

describe('isValidBin / parseBin', () => {
  it('accepts numbers computed by hand', () => {
    expect(isValidBin('040340000126')).toBe(true);
    expect(parseBin('040340000126')).toEqual({ yy: 4, month: 3, type: 4, unit: 0 });
    expect(parseBin('101251000347')).toEqual({ yy: 10, month: 12, type: 5, unit: 1 });
  });

  it('refuses a wrong checksum and the NCA test BIN 123456789021', () => {
    expect(isValidBin('040340000125')).toBe(false);
    expect(isValidBin('123456789021')).toBe(false);
  });

  it('checks the legal type digit (4, 5, 6) and the unit digit (0–3)', () => {
    const withCheck = (first11: string) => first11 + String(checksumDigit(first11) ?? 'x');
    expect(isValidBin(withCheck('04036000012'))).toBe(true); // joint individual entrepreneurship
    expect(isValidBin(withCheck('04033000012'))).toBe(false); // type 3
    expect(isValidBin(withCheck('04037000012'))).toBe(false); // type 7
    expect(isValidBin(withCheck('04034300012'))).toBe(true); // peasant farm
    expect(isValidBin(withCheck('04034400012'))).toBe(false); // unit 4
    expect(isValidBin(withCheck('04134000012'))).toBe(false); // month 13
    // An IIN is not a BIN (its 5th digit is a day digit, rarely 4–6 with a valid month).
    expect(isValidBin('900101300017')).toBe(false);
  });
});

describe('makeIin / makeBin', () => {
  it('builds the hand-computed numbers', () => {
    expect(makeIin(new Date(Date.UTC(1990, 0, 1)), 'male', 1)).toBe('900101300017');
    expect(makeIin(new Date(Date.UTC(2005, 2, 15)), 'female', 123)).toBe('050315601237');
    expect(makeBin({ year: 2004, month: 3 }, 4, 0, 12)).toBe('040340000126');
    expect(makeBin({ year: 2010, month: 12 }, 5, 1, 34)).toBe('101251000347');
  });

  it('takes the next serial when the checksum would be 10 twice', () => {
    expect(makeIin(new Date(Date.UTC(1977, 11, 25)), 'female', 23)).toBe('771225400241');
  });

  it('encodes the century and sex', () => {
    expect(makeIin(new Date(Date.UTC(1899, 5, 1)), 'female', 5).charAt(6)).toBe('2');
    expect(makeIin(new Date(Date.UTC(1960, 5, 1)), 'male', 5).charAt(6)).toBe('3');
    expect(makeIin(new Date(Date.UTC(2012, 5, 1)), 'male', 5).charAt(6)).toBe('5');
    expect(() => makeIin(new Date(Date.UTC(2100, 0, 1)), 'male', 1)).toThrow(RangeError);
  });

  it('always returns valid numbers', () => {
    for (let serial = 0; serial < 2000; serial++) {
      const birth = new Date(Date.UTC(1950 + (serial % 70), serial % 12, 1 + (serial % 28)));
      const sex = serial % 2 === 0 ? 'male' : 'female';
      const iin = makeIin(birth, sex, serial * 7);
      expect(parseIin(iin)?.sex).toBe(sex);
      expect(parseIin(iin)?.birthDate).toBe(birth.toISOString().slice(0, 10));
      expect(isValidBin(makeBin({ year: 1995 + (serial % 30), month: 1 + (serial % 12) }, 4, 0, serial * 31))).toBe(
        true,
      );
    }
  });
});
