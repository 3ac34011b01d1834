/**
 * What the journal's search box means (docs/domain.md#applications-journal and
 * docs/domain.md#name-search), as pure functions:
 * the kind of search, the SQL condition a row must meet, and the full-text
 * expression that finds the same rows in `applications_search`.
 *
 * - Digits only: the beginning of an IIN, a BIN, a portal number or an
 *   application number ("8805" finds IIN 880503400250 and number 8805-12-03-25;
 *   12 digits are a whole IIN or BIN).
 * - Digits with dashes: the beginning of an application number (2065-15-11).
 * - Anything else: a name. The text is folded like the stored name
 *   (foldForSearch: case, Kazakh letters, ё) and split into words at spaces
 *   and hyphens; every word must occur in the name, in any order. A word of
 *   three letters or more matches anywhere ("гаппар" finds Әбдіғаппаров), a
 *   shorter one only at the start of a word of the name ("ә" and "аб" find
 *   Әбдіғаппаров, "ов" does not find every Иванов), which is what a person
 *   typing the first letters of a name means and what an index can answer.
 */
import { foldForSearch } from '#core/identity/text.js';

export type SearchSpec =
  { kind: 'digits'; digits: string } | { kind: 'number'; prefix: string } | { kind: 'name'; words: readonly string[] };

/** Reads the search box; null when there is nothing to search for. */
export function parseSearch(search: string | undefined): SearchSpec | null {
  const s = (search ?? '').trim();
  if (s === '') return null;
  if (/^\d+$/.test(s)) return { kind: 'digits', digits: s };
  if (/^\d+(-\d*){1,3}$/.test(s)) return { kind: 'number', prefix: s };
  const words = foldForSearch(s)
    .split(/[\s-]+/)
    .filter((w) => w !== '');
  // Nothing but hyphens: no name consists of that; match nothing rather than everything.
  return { kind: 'name', words: words.length > 0 ? words : ['-'] };
}

/** The first string after every string that starts with `prefix` (binary order); `prefix` not empty. */
export function prefixEnd(prefix: string): string {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0) ?? 0;
  return chars.join('') + String.fromCodePoint(last + 1);
}

/** Words shorter than this match the start of a word only (trigrams need three characters). */
export const MIN_SUBSTRING = 3;

/** Length in characters (code points), as the trigram tokenizer counts. */
export function charLength(s: string): number {
  return [...s].length;
}

/** The text the full-text index holds for a folded name: spaces around, hyphens as spaces. */
export function indexedName(nameNorm: string): string {
  return ` ${nameNorm.replace(/-/g, ' ')} `;
}

/** What one name word must find in `indexedName(name)`. */
export function wordNeedle(word: string): string {
  return charLength(word) >= MIN_SUBSTRING ? word : ` ${word}`;
}

export interface SqlCondition {
  sql: string;
  params: Record<string, string>;
}

/**
 * The condition a row (alias `a`) must meet, evaluated on the row itself; the
 * same rows the index answers for. `key` keeps parameter names apart.
 */
export function searchCondition(spec: SearchSpec, key = 's'): SqlCondition {
  switch (spec.kind) {
    case 'digits': {
      const params = { [`${key}Lo`]: spec.digits, [`${key}Hi`]: prefixEnd(spec.digits) };
      const range = (col: string) => `(${col} >= @${key}Lo AND ${col} < @${key}Hi)`;
      return {
        sql: `(${range('a.applicant_iin')} OR ${range('a.applicant_bin')} OR ${range('a.portal_number')} OR ${range('a.number')})`,
        params,
      };
    }
    case 'number':
      return {
        sql: `(a.number >= @${key}Lo AND a.number < @${key}Hi)`,
        params: { [`${key}Lo`]: spec.prefix, [`${key}Hi`]: prefixEnd(spec.prefix) },
      };
    case 'name': {
      const params: Record<string, string> = {};
      const terms = spec.words.map((w, i) => {
        params[`${key}W${i}`] = wordNeedle(w);
        // A word of three letters or more has no space or hyphen: found in the
        // stored name exactly when found in its indexed form.
        return charLength(w) >= MIN_SUBSTRING
          ? `instr(a.applicant_name_norm, @${key}W${i}) > 0`
          : `instr(' ' || replace(a.applicant_name_norm, '-', ' '), @${key}W${i}) > 0`;
      });
      return { sql: `(${terms.join(' AND ')})`, params };
    }
  }
}

/** A string as an FTS5 phrase: in double quotes, inner quotes doubled. */
export function ftsPhrase(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** The distinct trigrams of a word of three characters or more. */
export function trigrams(word: string): string[] {
  const chars = [...word];
  const out = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(''));
  return [...out];
}

export interface NameMatch {
  /** FTS5 expression over the column `name` of `applications_search`. */
  match: string;
  /** Whether it finds exactly the rows of `searchCondition` (else a superset of them). */
  exact: boolean;
}

/**
 * The full-text expression of the name words. One word is one phrase: exact,
 * and its cost grows with the rows it finds. Several words: each word longer
 * than three letters is represented by its rarest trigram (`rarity`, smaller
 * is rarer): FTS5 answers an AND by skipping through the shortest lists, and
 * a phrase AND a phrase would read both lists to the end. That finds a few
 * candidates too many, which the check on the row removes. A word of one
 * letter becomes the OR of the index's tokens that start with " " and that
 * letter (`tokensStartingWith` reads the index's vocabulary). Null when
 * nothing can match.
 */
export function nameMatch(
  words: readonly string[],
  tokensStartingWith: (prefix: string) => string[],
  rarity: (token: string) => number = () => 0,
): NameMatch | null {
  const parts: string[] = [];
  let exact = true;
  for (const w of words) {
    const needle = wordNeedle(w);
    const length = charLength(needle);
    if (length === MIN_SUBSTRING || (length > MIN_SUBSTRING && words.length === 1)) {
      parts.push(`name : ${ftsPhrase(needle)}`);
    } else if (length > MIN_SUBSTRING) {
      const scored = trigrams(needle).map((t) => ({ t, r: rarity(t) }));
      const rarest = scored.reduce((a, b) => (b.r < a.r ? b : a));
      parts.push(`name : ${ftsPhrase(rarest.t)}`);
      exact = false;
    } else {
      const tokens = tokensStartingWith(needle);
      if (tokens.length === 0) return null;
      parts.push(`name : (${tokens.map(ftsPhrase).join(' OR ')})`);
    }
  }
  return { match: parts.join(' AND '), exact };
}
