/**
 * Dictionaries for the demo data generator: regions, providers, people's
 * names, organisations, addresses. Plain data, no logic beyond small helpers.
 *
 * Region codes are the first level of KATO (the classifier of administrative
 * territorial objects). Provider names follow the style of real local
 * executive bodies' departments but the BINs, staff and applicants are made up.
 */

export interface RegionSeed {
  kato: string;
  nameKk: string;
  nameRu: string;
  nameEn: string;
  /** Settlements (ru) a demo provider of the region serves: applicants' addresses and the `locality` column. */
  localities: readonly string[];
}

export const REGIONS: readonly RegionSeed[] = [
  {
    kato: '110000000',
    nameKk: 'Ақмола облысы',
    nameRu: 'Акмолинская область',
    nameEn: 'Akmola Region',
    localities: ['Кокшетау', 'Степногорск', 'Щучинск', 'Атбасар', 'Косшы'],
  },
  {
    kato: '150000000',
    nameKk: 'Ақтөбе облысы',
    nameRu: 'Актюбинская область',
    nameEn: 'Aktobe Region',
    localities: ['Актобе', 'Хромтау', 'Кандыагаш', 'Шалкар'],
  },
  {
    kato: '190000000',
    nameKk: 'Алматы облысы',
    nameRu: 'Алматинская область',
    nameEn: 'Almaty Region',
    localities: ['Конаев', 'Каскелен', 'Есик', 'Талгар'],
  },
  {
    kato: '230000000',
    nameKk: 'Атырау облысы',
    nameRu: 'Атырауская область',
    nameEn: 'Atyrau Region',
    localities: ['Атырау', 'Кульсары', 'Макат'],
  },
  {
    kato: '270000000',
    nameKk: 'Батыс Қазақстан облысы',
    nameRu: 'Западно-Казахстанская область',
    nameEn: 'West Kazakhstan Region',
    localities: ['Уральск', 'Аксай'],
  },
  {
    kato: '310000000',
    nameKk: 'Жамбыл облысы',
    nameRu: 'Жамбылская область',
    nameEn: 'Zhambyl Region',
    localities: ['Тараз', 'Шу', 'Каратау'],
  },
  {
    kato: '350000000',
    nameKk: 'Қарағанды облысы',
    nameRu: 'Карагандинская область',
    nameEn: 'Karaganda Region',
    localities: ['Караганда', 'Темиртау', 'Шахтинск', 'Балхаш', 'Сарань'],
  },
  {
    kato: '390000000',
    nameKk: 'Қостанай облысы',
    nameRu: 'Костанайская область',
    nameEn: 'Kostanay Region',
    localities: ['Костанай', 'Рудный', 'Лисаковск'],
  },
  {
    kato: '430000000',
    nameKk: 'Қызылорда облысы',
    nameRu: 'Кызылординская область',
    nameEn: 'Kyzylorda Region',
    localities: ['Кызылорда', 'Байконыр', 'Аральск'],
  },
  {
    kato: '470000000',
    nameKk: 'Маңғыстау облысы',
    nameRu: 'Мангистауская область',
    nameEn: 'Mangystau Region',
    localities: ['Актау', 'Жанаозен'],
  },
  {
    kato: '550000000',
    nameKk: 'Павлодар облысы',
    nameRu: 'Павлодарская область',
    nameEn: 'Pavlodar Region',
    localities: ['Павлодар', 'Экибастуз', 'Аксу'],
  },
  {
    kato: '590000000',
    nameKk: 'Солтүстік Қазақстан облысы',
    nameRu: 'Северо-Казахстанская область',
    nameEn: 'North Kazakhstan Region',
    localities: ['Тайынша', 'Келлеровка', 'Краснополянка', 'Чкалово'],
  },
  {
    kato: '630000000',
    nameKk: 'Шығыс Қазақстан облысы',
    nameRu: 'Восточно-Казахстанская область',
    nameEn: 'East Kazakhstan Region',
    localities: ['Усть-Каменогорск', 'Риддер', 'Алтай'],
  },
  { kato: '710000000', nameKk: 'Астана қаласы', nameRu: 'город Астана', nameEn: 'Astana City', localities: ['Астана'] },
  { kato: '750000000', nameKk: 'Алматы қаласы', nameRu: 'город Алматы', nameEn: 'Almaty City', localities: ['Алматы'] },
  {
    kato: '790000000',
    nameKk: 'Шымкент қаласы',
    nameRu: 'город Шымкент',
    nameEn: 'Shymkent City',
    localities: ['Шымкент'],
  },
];

export const SERVICE_CODES = [
  'grant-small-business',
  'industrial-infrastructure',
  'unemployed-certificate',
  'home-schooling-compensation',
  'education-document-duplicate',
] as const;
export type DemoServiceCode = (typeof SERVICE_CODES)[number];

export type ProviderKind = 'entrepreneurship' | 'employment' | 'education';

export const SERVICES_BY_KIND: Readonly<Record<ProviderKind, readonly DemoServiceCode[]>> = {
  entrepreneurship: ['grant-small-business', 'industrial-infrastructure'],
  employment: ['unemployed-certificate', 'home-schooling-compensation'],
  education: ['education-document-duplicate'],
};

export interface ProviderSeed {
  id: string;
  kind: ProviderKind;
  regionKato: string;
  nameKk: string;
  nameRu: string;
  nameEn: string;
  localityKk: string;
  localityRu: string;
  localityEn: string;
  /** Relative volume of applications (a capital city gets more than a district). */
  weight: number;
  /** Year and month the provider's BIN was registered. */
  registered: { year: number; month: number };
  /** Head's position: a regional/city department (басқарма) or a district one (бөлім). */
  level: 'department' | 'district';
}

/** The first provider is the one `head.demo` heads. */
export const PROVIDERS: readonly ProviderSeed[] = [
  {
    id: 'prov-astana-employment',
    kind: 'employment',
    regionKato: '710000000',
    nameKk: 'Астана қаласының Жұмыспен қамту және әлеуметтік бағдарламалар басқармасы',
    nameRu: 'Управление занятости и социальных программ города Астаны',
    nameEn: 'Department of Employment and Social Programmes of Astana',
    localityKk: 'Астана',
    localityRu: 'Астана',
    localityEn: 'Astana',
    weight: 10,
    registered: { year: 2004, month: 3 },
    level: 'department',
  },
  {
    id: 'prov-astana-entrepreneurship',
    kind: 'entrepreneurship',
    regionKato: '710000000',
    nameKk: 'Астана қаласының Кәсіпкерлік және өнеркәсіп басқармасы',
    nameRu: 'Управление предпринимательства и промышленности города Астаны',
    nameEn: 'Department of Entrepreneurship and Industry of Astana',
    localityKk: 'Астана',
    localityRu: 'Астана',
    localityEn: 'Astana',
    weight: 8,
    registered: { year: 2010, month: 7 },
    level: 'department',
  },
  {
    id: 'prov-astana-education',
    kind: 'education',
    regionKato: '710000000',
    nameKk: 'Астана қаласының Білім басқармасы',
    nameRu: 'Управление образования города Астаны',
    nameEn: 'Department of Education of Astana',
    localityKk: 'Астана',
    localityRu: 'Астана',
    localityEn: 'Astana',
    weight: 9,
    registered: { year: 1999, month: 11 },
    level: 'department',
  },
  {
    id: 'prov-almaty-entrepreneurship',
    kind: 'entrepreneurship',
    regionKato: '750000000',
    nameKk: 'Алматы қаласының Кәсіпкерлік және инвестициялар басқармасы',
    nameRu: 'Управление предпринимательства и инвестиций города Алматы',
    nameEn: 'Department of Entrepreneurship and Investment of Almaty',
    localityKk: 'Алматы',
    localityRu: 'Алматы',
    localityEn: 'Almaty',
    weight: 10,
    registered: { year: 2008, month: 2 },
    level: 'department',
  },
  {
    id: 'prov-shymkent-employment',
    kind: 'employment',
    regionKato: '790000000',
    nameKk: 'Шымкент қаласының Жұмыспен қамту және әлеуметтік қорғау басқармасы',
    nameRu: 'Управление занятости и социальной защиты города Шымкент',
    nameEn: 'Department of Employment and Social Protection of Shymkent',
    localityKk: 'Шымкент',
    localityRu: 'Шымкент',
    localityEn: 'Shymkent',
    weight: 9,
    registered: { year: 2018, month: 8 },
    level: 'department',
  },
  {
    id: 'prov-aktobe-entrepreneurship',
    kind: 'entrepreneurship',
    regionKato: '150000000',
    nameKk: 'Ақтөбе облысының Кәсіпкерлік және индустриялық-инновациялық даму басқармасы',
    nameRu: 'Управление предпринимательства и индустриально-инновационного развития Актюбинской области',
    nameEn: 'Department of Entrepreneurship and Industrial-Innovative Development of Aktobe Region',
    localityKk: 'Ақтөбе',
    localityRu: 'Актобе',
    localityEn: 'Aktobe',
    weight: 5,
    registered: { year: 2015, month: 1 },
    level: 'department',
  },
  {
    id: 'prov-almaty-region-entrepreneurship',
    kind: 'entrepreneurship',
    regionKato: '190000000',
    nameKk: 'Алматы облысының Кәсіпкерлік және индустриялық-инновациялық даму басқармасы',
    nameRu: 'Управление предпринимательства и индустриально-инновационного развития Алматинской области',
    nameEn: 'Department of Entrepreneurship and Industrial-Innovative Development of Almaty Region',
    localityKk: 'Қонаев',
    localityRu: 'Конаев',
    localityEn: 'Konaev',
    weight: 5,
    registered: { year: 2015, month: 4 },
    level: 'department',
  },
  {
    id: 'prov-atyrau-employment',
    kind: 'employment',
    regionKato: '230000000',
    nameKk: 'Атырау облысының Жұмыспен қамтуды үйлестіру және әлеуметтік бағдарламалар басқармасы',
    nameRu: 'Управление координации занятости и социальных программ Атырауской области',
    nameEn: 'Department of Employment Coordination and Social Programmes of Atyrau Region',
    localityKk: 'Атырау',
    localityRu: 'Атырау',
    localityEn: 'Atyrau',
    weight: 5,
    registered: { year: 2006, month: 5 },
    level: 'department',
  },
  {
    id: 'prov-tayynsha-employment',
    kind: 'employment',
    regionKato: '590000000',
    nameKk: 'Тайынша ауданы әкімдігінің Жұмыспен қамту және әлеуметтік бағдарламалар бөлімі',
    nameRu: 'Отдел занятости и социальных программ акимата Тайыншинского района',
    nameEn: 'Employment and Social Programmes Division of the Tayynsha District Akimat',
    localityKk: 'Тайынша',
    localityRu: 'Тайынша',
    localityEn: 'Tayynsha',
    weight: 2,
    registered: { year: 2005, month: 1 },
    level: 'district',
  },
  {
    id: 'prov-karaganda-education',
    kind: 'education',
    regionKato: '350000000',
    nameKk: 'Қарағанды облысының Білім басқармасы',
    nameRu: 'Управление образования Карагандинской области',
    nameEn: 'Department of Education of Karaganda Region',
    localityKk: 'Қарағанды',
    localityRu: 'Караганда',
    localityEn: 'Karaganda',
    weight: 6,
    registered: { year: 2001, month: 9 },
    level: 'department',
  },
  {
    id: 'prov-akmola-education',
    kind: 'education',
    regionKato: '110000000',
    nameKk: 'Ақмола облысының Білім басқармасы',
    nameRu: 'Управление образования Акмолинской области',
    nameEn: 'Department of Education of Akmola Region',
    localityKk: 'Көкшетау',
    localityRu: 'Кокшетау',
    localityEn: 'Kokshetau',
    weight: 4,
    registered: { year: 2002, month: 6 },
    level: 'department',
  },
];

// ---------------------------------------------------------------- people ---

/** Kazakh surnames in the male form; the female form is derived by `feminineSurname`. */
export const KAZAKH_SURNAMES: readonly string[] = [
  'Әбдіғаппаров',
  'Ахметов',
  'Әлиев',
  'Бейсенбаев',
  'Байжігітов',
  'Жұмабеков',
  'Жаңабаев',
  'Ғабдуллин',
  'Ермеков',
  'Ерғалиев',
  'Иманғалиев',
  'Іскаков',
  'Қасымов',
  'Құдайбергенов',
  'Қуанышев',
  'Мұхамеджанов',
  'Мақашев',
  'Нұрғалиев',
  'Нұрланов',
  'Омаров',
  'Оспанов',
  'Өмірзақов',
  'Өтегенов',
  'Сәрсенбаев',
  'Серікбаев',
  'Сұлтанбеков',
  'Төлеуов',
  'Тұрсынов',
  'Ұлықбеков',
  'Үсенов',
  'Шәріпов',
  'Шаймерденов',
  'Есенғазиев',
  'Қожахметов',
  'Дәулетов',
  'Бекмұхамбетов',
  'Әбілқасымов',
  'Жақсылықов',
  'Рахымжанов',
  'Мырзахметов',
  'Тілеубердин',
  'Нұрмағамбетов',
  'Әміров',
  'Байғабылов',
  'Кенжебаев',
  'Сейітқазин',
  // Surnames in the "-ұлы" form; female: "-қызы".
  'Нұрланұлы',
  'Серікұлы',
  'Асқарұлы',
  'Бағдатұлы',
  'Жандосұлы',
];

export const KAZAKH_MALE_NAMES: readonly string[] = [
  'Нұрлан',
  'Ерлан',
  'Серік',
  'Қанат',
  'Асқар',
  'Бауыржан',
  'Дәурен',
  'Ержан',
  'Мұрат',
  'Айдос',
  'Нұрсұлтан',
  'Ғалым',
  'Жандос',
  'Әділет',
  'Бекзат',
  'Дәулет',
  'Мақсат',
  'Еркін',
  'Арман',
  'Талғат',
  'Өркен',
  'Ілияс',
  'Ақжол',
  'Әлихан',
  'Бағдат',
  'Ерболат',
  'Жасұлан',
  'Қайрат',
  'Мейірхан',
  'Нұржан',
  'Рүстем',
  'Санжар',
  'Темірлан',
  'Ұлан',
  'Шыңғыс',
  'Марат',
];

export const KAZAKH_FEMALE_NAMES: readonly string[] = [
  'Әсел',
  'Айгүл',
  'Гүлнар',
  'Жұлдыз',
  'Дана',
  'Айжан',
  'Мөлдір',
  'Балжан',
  'Ақмарал',
  'Динара',
  'Сәуле',
  'Назгүл',
  'Әйгерім',
  'Гүлмира',
  'Аружан',
  'Ұлжан',
  'Іңкәр',
  'Жанар',
  'Меруерт',
  'Қарлығаш',
  'Салтанат',
  'Томирис',
  'Ботагөз',
  'Гүлжан',
  'Ләззат',
  'Мәдина',
  'Нұргүл',
  'Перизат',
  'Раушан',
  'Сабина',
  'Тоғжан',
  'Шолпан',
  'Үміт',
  'Айнұр',
  'Дильназ',
];

/** Russian-style patronymics as often written for Kazakhs: [male, female]. */
export const KAZAKH_RU_PATRONYMICS: readonly (readonly [string, string])[] = [
  ['Нурланович', 'Нурлановна'],
  ['Серикович', 'Сериковна'],
  ['Канатович', 'Канатовна'],
  ['Ерланович', 'Ерлановна'],
  ['Муратович', 'Муратовна'],
  ['Болатович', 'Болатовна'],
  ['Асхатович', 'Асхатовна'],
  ['Бауржанович', 'Бауржановна'],
  ['Маратович', 'Маратовна'],
  ['Жумабекович', 'Жумабековна'],
  ['Талгатович', 'Талгатовна'],
  ['Кайратович', 'Кайратовна'],
];

export const RUSSIAN_SURNAMES: readonly string[] = [
  'Иванов',
  'Смирнов',
  'Кузнецов',
  'Попов',
  'Соколов',
  'Лебедев',
  'Козлов',
  'Новиков',
  'Морозов',
  'Петров',
  'Волков',
  'Соловьёв',
  'Васильев',
  'Зайцев',
  'Павлов',
  'Семёнов',
  'Голубев',
  'Виноградов',
  'Богданов',
  'Воробьёв',
  'Фёдоров',
  'Михайлов',
  'Беляев',
  'Тарасов',
  'Белов',
  'Королёв',
  'Ковалёв',
  'Киселёв',
  'Шевченко',
  'Бондаренко',
  'Ткаченко',
  'Гончаренко',
  'Никитин',
  'Ильин',
  'Щербаков',
  'Журавлёв',
];

export const RUSSIAN_MALE_NAMES: readonly string[] = [
  'Пётр',
  'Алексей',
  'Сергей',
  'Андрей',
  'Дмитрий',
  'Михаил',
  'Николай',
  'Артём',
  'Фёдор',
  'Семён',
  'Владимир',
  'Евгений',
  'Игорь',
  'Олег',
  'Виктор',
  'Александр',
  'Денис',
  'Максим',
  'Константин',
  'Юрий',
];

export const RUSSIAN_FEMALE_NAMES: readonly string[] = [
  'Анна',
  'Елена',
  'Ольга',
  'Наталья',
  'Татьяна',
  'Светлана',
  'Ирина',
  'Алёна',
  'Дарья',
  'Екатерина',
  'Юлия',
  'Мария',
  'Людмила',
  'Валентина',
  'Ксения',
  'Фёкла',
  'Надежда',
  'Галина',
  'Оксана',
  'Виктория',
];

/** [male, female] patronymics from Russian given names. */
export const RUSSIAN_PATRONYMICS: readonly (readonly [string, string])[] = [
  ['Петрович', 'Петровна'],
  ['Алексеевич', 'Алексеевна'],
  ['Сергеевич', 'Сергеевна'],
  ['Андреевич', 'Андреевна'],
  ['Дмитриевич', 'Дмитриевна'],
  ['Михайлович', 'Михайловна'],
  ['Николаевич', 'Николаевна'],
  ['Артёмович', 'Артёмовна'],
  ['Фёдорович', 'Фёдоровна'],
  ['Семёнович', 'Семёновна'],
  ['Владимирович', 'Владимировна'],
  ['Евгеньевич', 'Евгеньевна'],
  ['Игоревич', 'Игоревна'],
  ['Олегович', 'Олеговна'],
  ['Викторович', 'Викторовна'],
  ['Александрович', 'Александровна'],
  ['Юрьевич', 'Юрьевна'],
];

/** The female form of a surname: -ов/-ев/-ёв/-ин → +а, -ұлы → -қызы, others unchanged. */
export function feminineSurname(male: string): string {
  if (male.endsWith('ұлы')) return `${male.slice(0, -3)}қызы`;
  if (/(ов|ев|ёв|ин)$/.test(male)) return `${male}а`;
  return male;
}

/** Kazakh patronymic from the father's given name: Серік → Серікұлы / Серікқызы. */
export function kazakhPatronymic(fatherName: string, female: boolean): string {
  return fatherName + (female ? 'қызы' : 'ұлы');
}

const TRANSLIT: Readonly<Record<string, string>> = {
  а: 'a',
  ә: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  ғ: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'i',
  к: 'k',
  қ: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  ң: 'n',
  о: 'o',
  ө: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ұ: 'u',
  ү: 'u',
  ф: 'f',
  х: 'kh',
  һ: 'h',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: '',
  ы: 'y',
  і: 'i',
  ь: '',
  э: 'e',
  ю: 'iu',
  я: 'ia',
};

/** Passport-style Latin transliteration of a Cyrillic (Kazakh or Russian) name, case kept per word start. */
export function transliterate(s: string): string {
  let out = '';
  for (const ch of s) {
    const lower = ch.toLowerCase();
    const t = TRANSLIT[lower];
    if (t === undefined) {
      out += ch;
    } else if (lower !== ch && t.length > 0) {
      out += t.charAt(0).toUpperCase() + t.slice(1);
    } else {
      out += t;
    }
  }
  return out;
}

// ------------------------------------------------------------ positions ---

export interface Position {
  kk: string;
  ru: string;
}

export const POSITIONS = {
  headDepartment: { kk: 'Басқарма басшысы', ru: 'Руководитель управления' },
  headDistrict: { kk: 'Бөлім басшысы', ru: 'Руководитель отдела' },
  clerk: { kk: 'Кеңсе қызметкері', ru: 'Сотрудник канцелярии' },
  chiefSpecialist: { kk: 'Бас маман', ru: 'Главный специалист' },
  leadingSpecialist: { kk: 'Жетекші маман', ru: 'Ведущий специалист' },
  operator: { kk: 'ХҚКО операторы', ru: 'Оператор ЦОН' },
  monitoring: { kk: 'Білім басқармасының қызметкері', ru: 'Сотрудник управления образования' },
  admin: { kk: 'Әкімші', ru: 'Администратор' },
} as const satisfies Record<string, Position>;

// -------------------------------------------------------- organisations ---

export const ORG_WORDS_1: readonly string[] = [
  'Ақ Бидай',
  'Алтын Дән',
  'Береке',
  'Сарыарқа',
  'Жаңа Өнім',
  'Дала',
  'Қазақ Тоқыма',
  'Нұр',
  'Шұғыла',
  'Атамекен',
  'Көктем',
  'Ырыс',
  'Тұлпар',
  'Самұрық',
  'Altyn',
  'Steppe',
  'Ертіс',
  'Жетісу',
  'Ұлытау',
  'Іргетас',
  'Таңшолпан',
  'Сібір',
  'Восток',
  'Кайнар',
];
export const ORG_WORDS_2: readonly string[] = [
  'Агро',
  'Құрылыс',
  'Сервис',
  'Трейд',
  'Өнім',
  'Group',
  'Тех',
  'Строй',
  'Фуд',
  'Plast',
  'Металл',
  'Сүт',
  'Логистик',
  'Print',
];

export const GRANT_PROJECTS: readonly string[] = [
  'Открытие мини-пекарни',
  'Цех по производству брусчатки',
  'Швейный цех',
  'Производство кумыса',
  'Тепличное хозяйство',
  'Ремонт сельскохозяйственной техники',
  'Производство корпусной мебели',
  'Услуги 3D-печати',
  'Мини-гостиница',
  'Стоматологический кабинет',
  'Производство полуфабрикатов',
  'Шағын наубайхана ашу',
  'Киіз үй жасау шеберханасы',
  'Сүт өнімдерін өндіру',
];

export const INFRASTRUCTURE_PROJECTS: readonly string[] = [
  'Подведение электроснабжения к производственному цеху',
  'Строительство подъездной автомобильной дороги',
  'Газификация производственной площадки',
  'Подведение водоснабжения и канализации',
  'Строительство подстанции 10/0,4 кВ',
  'Өндірістік алаңға кіреберіс жол салу',
];

export const SCHOOLS: readonly string[] = [
  'СОШ № 12',
  'Школа-гимназия № 45',
  'Школа-лицей № 8',
  '№ 3 жалпы білім беретін мектеп',
  '№ 27 мектеп-гимназия',
  'СОШ № 61',
  'Специальная школа № 2',
];

export const INSTITUTIONS: readonly string[] = [
  'Евразийский национальный университет им. Л.Н. Гумилёва',
  'Карагандинский университет им. академика Е.А. Букетова',
  'Кокшетауский университет им. Ш. Уалиханова',
  'Казахский национальный университет им. аль-Фараби',
  'Ақтөбе өңірлік университеті',
  'Высший колледж Astana Polytechnic',
  'Карагандинский высший политехнический колледж',
  'СОШ № 24 г. Караганды',
  '№ 5 мектеп-лицей, Көкшетау',
];

export const EDUCATION_DOCUMENTS: readonly Position[] = [
  { kk: 'жалпы орта білім туралы аттестат', ru: 'аттестат об общем среднем образовании' },
  { kk: 'жоғары білім туралы диплом', ru: 'диплом о высшем образовании' },
  { kk: 'техникалық және кәсіптік білім туралы диплом', ru: 'диплом о техническом и профессиональном образовании' },
  { kk: 'негізгі орта білім туралы куәлік', ru: 'свидетельство об основном среднем образовании' },
];

export const EDUCATION_LEVELS: readonly string[] = [
  'высшее',
  'среднее специальное',
  'общее среднее',
  'техническое и профессиональное',
  'жоғары',
];

export const STREETS: readonly string[] = [
  'ул. Абая',
  'пр. Республики',
  'ул. Жамбыла',
  'ул. Сейфуллина',
  'ул. Кенесары',
  'пр. Бауыржана Момышулы',
  'ул. Толе би',
  'ул. Ауэзова',
  'ул. Сатпаева',
  'ул. Пушкина',
  'Қабанбай батыр даңғылы',
  'Сарыарқа даңғылы',
  'ул. Байтурсынова',
  'ул. Гагарина',
  'мкр. Самал',
  'ул. Бейбітшілік',
  'ул. Желтоқсан',
];

export const PHONE_CODES: readonly string[] = [
  '701',
  '702',
  '705',
  '707',
  '708',
  '747',
  '771',
  '775',
  '776',
  '777',
  '778',
];

export const REWORK_COMMENTS: readonly string[] = [
  'Приложите читаемую скан-копию удостоверения личности',
  'Исправьте сумму в выходном документе',
  'Уточните адрес услугополучателя по данным ГБД ФЛ',
  'Қорытынды құжаттағы мекенжайды түзетіңіз',
  'Бас тарту себебін толығырақ негіздеңіз',
  'Не указан номер решения комиссии',
];
