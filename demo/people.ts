/** Demo people: names in the mix of the country's, IINs that match birth date and sex, phones. */
import { makeIin, type Sex } from '#core/identity/iin.js';
import {
  feminineSurname,
  kazakhPatronymic,
  KAZAKH_FEMALE_NAMES,
  KAZAKH_MALE_NAMES,
  KAZAKH_RU_PATRONYMICS,
  KAZAKH_SURNAMES,
  PHONE_CODES,
  RUSSIAN_FEMALE_NAMES,
  RUSSIAN_MALE_NAMES,
  RUSSIAN_PATRONYMICS,
  RUSSIAN_SURNAMES,
  transliterate,
} from './names.js';
import type { Rng } from './random.js';
import { localDate, two, YEAR } from './time.js';

export interface Person {
  name: string;
  /** The male-form surname in Cyrillic, for relatives. */
  surname: string;
  iin: string;
  sex: Sex;
  birth: number;
  kazakh: boolean;
}

/** A full name: two in three Kazakh (some with a Russian-style patronymic), a share `latinRate` of those in Latin letters. */
export function makePersonName(
  rng: Rng,
  sex: Sex,
  latinRate: number,
): { name: string; surname: string; given: string; kazakh: boolean } {
  const female = sex === 'female';
  if (rng.chance(0.66)) {
    const maleSurname = rng.pick(KAZAKH_SURNAMES);
    const surname = female ? feminineSurname(maleSurname) : maleSurname;
    const given = rng.pick(female ? KAZAKH_FEMALE_NAMES : KAZAKH_MALE_NAMES);
    const p = rng.float();
    let patronymic = '';
    if (p < 0.5 && !maleSurname.endsWith('ұлы')) {
      patronymic = kazakhPatronymic(rng.pick(KAZAKH_MALE_NAMES), female);
    } else if (p < 0.9) {
      const pair = rng.pick(KAZAKH_RU_PATRONYMICS);
      patronymic = female ? pair[1] : pair[0];
    }
    const name = patronymic ? `${surname} ${given} ${patronymic}` : `${surname} ${given}`;
    // A few names arrive in Latin transliteration (foreign documents, typed by the applicant).
    if (rng.chance(latinRate)) {
      return { name: transliterate(name), surname: maleSurname, given, kazakh: true };
    }
    return { name, surname: maleSurname, given, kazakh: true };
  }
  const maleSurname = rng.pick(RUSSIAN_SURNAMES);
  const surname = female ? feminineSurname(maleSurname) : maleSurname;
  const given = rng.pick(female ? RUSSIAN_FEMALE_NAMES : RUSSIAN_MALE_NAMES);
  const pair = rng.pick(RUSSIAN_PATRONYMICS);
  return { name: `${surname} ${given} ${female ? pair[1] : pair[0]}`, surname: maleSurname, given, kazakh: false };
}

/** A person aged within [minAge, maxAge] years at time `at`, with an IIN that matches birth date and sex. */
export function makePerson(rng: Rng, sex: Sex, minAge: number, maxAge: number, at: number): Person {
  const { name, surname, kazakh } = makePersonName(rng, sex, 0.05);
  const birth = Math.floor(at - (minAge + rng.float() * (maxAge - minAge)) * YEAR);
  const iin = makeIin(localDate(birth), sex, rng.int(0, 9999));
  return { name, surname, iin, sex, birth, kazakh };
}

export function phone(rng: Rng): string {
  return `+7 ${rng.pick(PHONE_CODES)} ${rng.int(100, 999)} ${two(rng.int(0, 99))} ${two(rng.int(0, 99))}`;
}
