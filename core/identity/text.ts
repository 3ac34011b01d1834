/**
 * Text helpers shared by main and the renderer.
 *
 * `foldForSearch` turns a name (or what a person typed into a search box)
 * into the form stored in `applications.applicant_name_norm`, so that
 * "абдигаппаров" finds "Әбдіғаппаров" and "петр" finds "Пётр" (docs/domain.md#name-search).
 * Both sides of a comparison must go through the same function.
 */

/** Kazakh letters (and ё) folded to the letter people type instead. */
const LETTER_FOLD: Readonly<Record<string, string>> = {
  ә: 'а',
  қ: 'к',
  ө: 'о',
  ұ: 'у',
  ү: 'у',
  і: 'и', // U+0456, the Kazakh і
  ң: 'н',
  ғ: 'г',
  һ: 'х',
  ё: 'е',
};
const LETTER_FOLD_RE = /[әқөұүіңғһё]/g;

/**
 * Latin letters that look like Cyrillic ones (after lower-casing), as typed
 * by mistake inside a Cyrillic word: "Нурлaн" with a Latin "a", "Әбдiғаппаров"
 * with a Latin "i" for "і". Folded only inside words that also contain
 * Cyrillic letters; all-Latin words (transliterations) stay as they are.
 */
const HOMOGLYPH_FOLD: Readonly<Record<string, string>> = {
  a: 'а',
  c: 'с',
  e: 'е',
  h: 'н', // from a capital H typed for Н
  i: 'и', // Latin i typed for the Kazakh і
  k: 'к',
  m: 'м',
  o: 'о',
  p: 'р',
  t: 'т',
  x: 'х',
  y: 'у',
};
const CYRILLIC_RE = /[\u0400-\u04ff]/;
const LATIN_RE = /[a-z]/;
const MIXED_WORD_RE = /[^\s]*[\u0400-\u04ff][^\s]*/g;
const HOMOGLYPH_RE = /[acehikmoptxy]/g;
const SPACES_RE = /\s+/g;

function foldMixedWord(word: string): string {
  return LATIN_RE.test(word) ? word.replace(HOMOGLYPH_RE, (ch) => HOMOGLYPH_FOLD[ch] ?? ch) : word;
}

/**
 * Lower case, Kazakh letters and ё folded to their plain Cyrillic
 * counterparts (ә→а, қ→к, ө→о, ұ/ү→у, і→и, ң→н, ғ→г, һ→х, ё→е), Latin
 * look-alikes inside Cyrillic words folded to Cyrillic, runs of white space
 * collapsed to one space, trimmed. Latin words are only lower-cased.
 */
export function foldForSearch(s: string): string {
  let out = s.normalize('NFC').toLowerCase();
  out = out.replace(LETTER_FOLD_RE, (ch) => LETTER_FOLD[ch] ?? ch);
  if (LATIN_RE.test(out) && CYRILLIC_RE.test(out)) {
    out = out.replace(MIXED_WORD_RE, foldMixedWord);
  }
  return out.replace(SPACES_RE, ' ').trim();
}
