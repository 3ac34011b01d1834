/**
 * Kazakhstan's individual and business identification numbers (IIN / BIN,
 * ru ИИН / БИН, kk ЖСН / БСН): 12 digits, the last one a checksum.
 *
 * IIN: YYMMDD (birth date) · C (century and sex) · NNNN (serial) · K
 *   C = 1/2: born 1800–1899, 3/4: 1900–1999, 5/6: 2000–2099; odd male, even female.
 * BIN: YYMM (registration) · T (type) · U (unit) · NNNNN (serial) · K
 *   T = 4 resident legal entity, 5 non-resident legal entity, 6 joint individual entrepreneurship;
 *   U = 0 head organisation, 1 branch, 2 representative office, 3 peasant (farm) enterprise.
 *
 * Checksum: sum of the first 11 digits times weights 1..11, mod 11. If that is
 * 10, again with weights 3,4,5,6,7,8,9,10,11,1,2, mod 11. If it is 10 again,
 * no number is issued with these first 11 digits.
 *
 * Pure functions, no I/O: used by main and by the renderer's form checks.
 */

export type Sex = 'male' | 'female';

/** The 5th digit of a BIN. */
export type BinType = 4 | 5 | 6;
/** The 6th digit of a BIN. */
export type BinUnit = 0 | 1 | 2 | 3;

export interface IinInfo {
  /** ISO date, YYYY-MM-DD. */
  birthDate: string;
  year: number;
  month: number;
  day: number;
  sex: Sex;
}

export interface BinInfo {
  /** Two-digit year of registration (a BIN does not encode the century). */
  yy: number;
  month: number;
  type: BinType;
  unit: BinUnit;
}

const WEIGHTS_1 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] as const;
const WEIGHTS_2 = [3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2] as const;

const ELEVEN_DIGITS = /^\d{11}$/;
const TWELVE_DIGITS = /^\d{12}$/;

function weightedSum(first11: string, weights: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < 11; i++) {
    // Digits were checked by the caller; charCodeAt avoids allocating.
    sum += (first11.charCodeAt(i) - 48) * (weights[i] ?? 0);
  }
  return sum % 11;
}

/**
 * The check digit for the first 11 digits of an IIN or BIN, or null when
 * the input is not 11 digits or no number can be issued with them (the
 * second pass gives 10 too).
 */
export function checksumDigit(first11: string): number | null {
  if (!ELEVEN_DIGITS.test(first11)) return null;
  const first = weightedSum(first11, WEIGHTS_1);
  if (first !== 10) return first;
  const second = weightedSum(first11, WEIGHTS_2);
  return second === 10 ? null : second;
}

function hasValidChecksum(s: string): boolean {
  const expected = checksumDigit(s.slice(0, 11));
  return expected !== null && expected === s.charCodeAt(11) - 48;
}

function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || day > 31) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC maps years 0–99 to 1900–1999; our years are always ≥ 1800.
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

function centuryStart(centuryDigit: number): number | null {
  switch (centuryDigit) {
    case 1:
    case 2:
      return 1800;
    case 3:
    case 4:
      return 1900;
    case 5:
    case 6:
      return 2000;
    default:
      return null;
  }
}

/** Birth date and sex of a valid IIN (format, real date, century digit, checksum), or null. */
export function parseIin(s: string): IinInfo | null {
  if (!TWELVE_DIGITS.test(s)) return null;
  const centuryDigit = s.charCodeAt(6) - 48;
  const century = centuryStart(centuryDigit);
  if (century === null) return null;
  const year = century + Number(s.slice(0, 2));
  const month = Number(s.slice(2, 4));
  const day = Number(s.slice(4, 6));
  if (!isRealDate(year, month, day)) return null;
  if (!hasValidChecksum(s)) return null;
  return {
    birthDate: `${String(year).padStart(4, '0')}-${s.slice(2, 4)}-${s.slice(4, 6)}`,
    year,
    month,
    day,
    sex: centuryDigit % 2 === 1 ? 'male' : 'female',
  };
}

export function isValidIin(s: string): boolean {
  return parseIin(s) !== null;
}

/** Registration month, type and unit of a valid BIN, or null. */
export function parseBin(s: string): BinInfo | null {
  if (!TWELVE_DIGITS.test(s)) return null;
  const month = Number(s.slice(2, 4));
  if (month < 1 || month > 12) return null;
  const type = s.charCodeAt(4) - 48;
  if (type !== 4 && type !== 5 && type !== 6) return null;
  const unit = s.charCodeAt(5) - 48;
  if (unit !== 0 && unit !== 1 && unit !== 2 && unit !== 3) return null;
  if (!hasValidChecksum(s)) return null;
  return { yy: Number(s.slice(0, 2)), month, type, unit };
}

export function isValidBin(s: string): boolean {
  return parseBin(s) !== null;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

function withChecksum(prefix: string, serial: number, serialWidth: number, what: string): string {
  const modulo = 10 ** serialWidth;
  if (!Number.isInteger(serial) || serial < 0) {
    throw new RangeError(`${what}: serial must be a non-negative integer, got ${serial}`);
  }
  // A few serials give "10 then 10": take the next serial until one works.
  for (let i = 0; i < modulo; i++) {
    const first11 = prefix + pad((serial + i) % modulo, serialWidth);
    const check = checksumDigit(first11);
    if (check !== null) return first11 + String(check);
  }
  throw new RangeError(`${what}: no serial gives a valid checksum for prefix ${prefix}`);
}

/**
 * A valid IIN for a birth date (its UTC calendar date), sex and serial
 * (0–9999, taken modulo 10000). When the serial's checksum cannot be issued,
 * the next serial is used.
 */
export function makeIin(birthDate: Date, sex: Sex, serial: number): string {
  const year = birthDate.getUTCFullYear();
  if (!(year >= 1800 && year <= 2099)) {
    throw new RangeError(`makeIin: birth year ${year} outside 1800–2099`);
  }
  const century = Math.floor((year - 1800) / 100); // 0, 1, 2
  const centuryDigit = century * 2 + (sex === 'male' ? 1 : 2);
  const prefix =
    pad(year % 100, 2) + pad(birthDate.getUTCMonth() + 1, 2) + pad(birthDate.getUTCDate(), 2) + String(centuryDigit);
  return withChecksum(prefix, serial % 10000, 4, 'makeIin');
}

/**
 * A valid BIN for a registration year and month, legal type, unit and serial
 * (0–99999, taken modulo 100000). When the serial's checksum cannot be
 * issued, the next serial is used.
 */
export function makeBin(
  registered: { year: number; month: number },
  type: BinType,
  unit: BinUnit,
  serial: number,
): string {
  if (!(registered.month >= 1 && registered.month <= 12)) {
    throw new RangeError(`makeBin: month ${registered.month} outside 1–12`);
  }
  const prefix = pad(((registered.year % 100) + 100) % 100, 2) + pad(registered.month, 2) + String(type) + String(unit);
  return withChecksum(prefix, serial % 100000, 5, 'makeBin');
}
