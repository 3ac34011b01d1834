/**
 * The demo's directory: regions, providers and their staff with roles (per
 * provider a head, a clerk and 2–3 executors; centre operators, a monitoring
 * officer and a system administrator bound to none), as the sync protocol's
 * rows. The first provider is the demo head's, with the well-known demo users.
 */
import type { z } from 'zod';
import { makeBin, makeIin, type Sex } from '#core/identity/iin.js';
import type { providerData, regionData, staffData, userData } from '#core/protocol.js';
import type { Role } from '#core/vocabulary.js';
import { makePersonName, phone } from './people.js';
import { POSITIONS, PROVIDERS, REGIONS, transliterate, type Position, type ProviderSeed } from './names.js';
import type { Rng } from './random.js';
import { localDate, YEAR } from './time.js';

export type RegionRow = z.infer<typeof regionData>;
export type ProviderRow = z.infer<typeof providerData>;
/** A user with the roles they hold. */
export type UserRow = z.infer<typeof userData>;
/** A user on a provider's staff list. */
export type StaffRow = z.infer<typeof staffData>;

export interface DemoDirectory {
  regions: RegionRow[];
  providers: ProviderRow[];
  users: UserRow[];
  staff: StaffRow[];
}

/** A provider as its applications need it: who takes and works them, where applicants live, its next number. */
export interface DemoProvider {
  seed: ProviderSeed;
  bin: string;
  clerkId: string;
  /** Active executors, the ones a head assigns. */
  executorIds: string[];
  /** Next sequence number of the provider's application numbers. */
  seq: number;
  localities: readonly string[];
}

/** Well-known demo users (ids and logins), so the app and tests have someone to log in as. */
export const DEMO_USERS = {
  head: { id: 'user-head-demo', login: 'head.demo' },
  clerk: { id: 'user-clerk-demo', login: 'clerk.demo' },
  executor: { id: 'user-executor-demo', login: 'executor.demo' },
  operator: { id: 'user-operator-demo', login: 'operator.demo' },
  monitoring: { id: 'user-monitoring-demo', login: 'monitoring.demo' },
  admin: { id: 'user-admin-demo', login: 'admin.demo' },
} as const;

/** The demo head's identity: fixed, so that tests can issue a certificate in her name. */
export const DEMO_HEAD = {
  fullName: 'Сәрсенбаева Әйгерім Қанатқызы',
  iin: makeIin(new Date(Date.UTC(1984, 2, 12)), 'female', 4521),
} as const;

interface StaffMember {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  position: Position;
  roles: { role: Role; providerId: string }[];
  /** Provider whose staff list holds this user, if any. */
  providerId: string | null;
  active: boolean;
}

interface Identity {
  fullName: string;
  iin: string;
  login: string;
}

function loginFor(given: string, surname: string, taken: Set<string>): string {
  const base = `${transliterate(given).charAt(0)}.${transliterate(surname)}`.toLowerCase().replace(/[^a-z.]/g, '');
  let login = base;
  for (let n = 2; taken.has(login); n++) login = `${base}${n}`;
  taken.add(login);
  return login;
}

/** The staff as it is drawn: people of working age, each with a position and roles. */
class StaffList {
  readonly members: StaffMember[] = [];
  private readonly taken = new Set<string>(Object.values(DEMO_USERS).map((u) => u.login));

  constructor(
    private readonly rng: Rng,
    private readonly now: number,
  ) {}

  /** A new person of working age; a well-known demo user keeps its login. */
  person(fixed?: { login: string }): Identity {
    const rng = this.rng;
    const sex: Sex = rng.chance(0.55) ? 'female' : 'male';
    const { name, given } = makePersonName(rng, sex, 0);
    const surname = name.split(' ')[0] ?? name;
    const birth = Math.floor(this.now - (24 + rng.float() * 36) * YEAR);
    const iin = makeIin(localDate(birth), sex, rng.int(0, 9999));
    const login = fixed?.login ?? loginFor(given, surname, this.taken);
    return { fullName: name, iin, login };
  }

  /** Roles for `providerId` ('' for none); on its staff list when bound to a provider. */
  add(id: string, who: Identity, position: Position, roles: readonly Role[], providerId: string | null, active = true) {
    const bound = roles.map((role) => ({ role, providerId: providerId ?? '' }));
    this.members.push({ id, ...who, position, roles: bound, providerId, active });
  }
}

/**
 * A provider's BIN and staff: its head (the first provider's is head.demo, also
 * its administrator), a clerk, 2–3 executors (3 for a busy one), and for the
 * first provider a former executor, blocked and inactive.
 */
function staffProvider(
  list: StaffList,
  rng: Rng,
  p: ProviderSeed,
  first: boolean,
  usedBins: Set<string>,
): DemoProvider {
  const short = p.id.replace(/^prov-/, '');
  let bin = makeBin(p.registered, 4, 0, rng.int(0, 99999));
  while (usedBins.has(bin)) bin = makeBin(p.registered, 4, 0, rng.int(0, 99999));
  usedBins.add(bin);

  const headPosition = p.level === 'district' ? POSITIONS.headDistrict : POSITIONS.headDepartment;
  if (first) {
    list.add(DEMO_USERS.head.id, { ...DEMO_HEAD, login: DEMO_USERS.head.login }, headPosition, ['head', 'admin'], p.id);
  } else {
    list.add(`user-${short}-head`, list.person(), headPosition, ['head'], p.id);
  }

  const clerkId = first ? DEMO_USERS.clerk.id : `user-${short}-clerk`;
  list.add(clerkId, list.person(first ? DEMO_USERS.clerk : undefined), POSITIONS.clerk, ['clerk'], p.id);

  const executorIds: string[] = [];
  const executors = p.weight >= 8 ? 3 : rng.int(2, 3);
  for (let i = 1; i <= executors; i++) {
    const fixed = first && i === 1 ? DEMO_USERS.executor : undefined;
    const id = fixed?.id ?? `user-${short}-executor-${i}`;
    const position = i === 1 ? POSITIONS.chiefSpecialist : POSITIONS.leadingSpecialist;
    list.add(id, list.person(fixed), position, ['executor'], p.id);
    executorIds.push(id);
  }
  if (first) {
    const former = list.person();
    list.add(`user-${short}-executor-former`, former, POSITIONS.leadingSpecialist, ['executor'], p.id, false);
  }

  const region = REGIONS.find((r) => r.kato === p.regionKato);
  return {
    seed: p,
    bin,
    clerkId,
    executorIds,
    seq: rng.int(1, 2500),
    // City providers serve their city; regional ones the region's settlements, mostly the centre.
    localities: region && region.localities.includes(p.localityRu) ? region.localities : [p.localityRu],
  };
}

/** Centre operators, the monitoring officer and the system administrator: not bound to a provider. */
function staffCentral(list: StaffList): void {
  for (let i = 1; i <= 3; i++) {
    const fixed = i === 1 ? DEMO_USERS.operator : undefined;
    list.add(fixed?.id ?? `user-operator-${i}`, list.person(fixed), POSITIONS.operator, ['operator'], null);
  }
  list.add(DEMO_USERS.monitoring.id, list.person(DEMO_USERS.monitoring), POSITIONS.monitoring, ['monitoring'], null);
  list.add(DEMO_USERS.admin.id, list.person(DEMO_USERS.admin), POSITIONS.admin, ['admin'], null);
}

/** The directory's rows, the providers as the applications need them, and the centre operators. */
export function makeDirectory(
  rng: Rng,
  now: number,
): { directory: DemoDirectory; providers: DemoProvider[]; operatorIds: string[] } {
  const list = new StaffList(rng, now);
  const usedBins = new Set<string>();
  const providers = PROVIDERS.map((p, index) => staffProvider(list, rng, p, index === 0, usedBins));
  staffCentral(list);
  const staff = list.members;
  const directory: DemoDirectory = {
    regions: REGIONS.map((r) => ({ kato: r.kato, nameKk: r.nameKk, nameRu: r.nameRu, nameEn: r.nameEn })),
    providers: providers.map(({ seed: s, bin }) => ({
      id: s.id,
      bin,
      nameKk: s.nameKk,
      nameRu: s.nameRu,
      nameEn: s.nameEn,
      regionKato: s.regionKato,
      localityKk: s.localityKk,
      localityRu: s.localityRu,
      localityEn: s.localityEn,
    })),
    // Each user's phone is drawn after all the staff, in this order.
    users: staff.map((u) => ({
      id: u.id,
      login: u.login,
      fullName: u.fullName,
      iin: u.iin,
      email: `${u.login}@example.com`,
      phone: phone(rng),
      positionKk: u.position.kk,
      positionRu: u.position.ru,
      blocked: !u.active,
      mustChangePassword: false,
      roles: u.roles,
    })),
    staff: staff.flatMap(({ id: userId, providerId, position, active }) =>
      providerId === null ? [] : [{ providerId, userId, positionKk: position.kk, positionRu: position.ru, active }],
    ),
  };
  const operatorIds = staff.filter((u) => u.roles.some((r) => r.role === 'operator')).map((u) => u.id);
  return { directory, providers, operatorIds };
}
