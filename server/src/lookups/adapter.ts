/**
 * Look-ups of individuals, legal entities and powers of attorney behind one
 * interface: in production the state databases (ГБД ФЛ / ГБД ЮЛ) and the
 * notary system (ЕНИС) reached through the e-government gateway; here the
 * server's own tables (`individuals`, `legal_entities`, `powers_of_attorney`,
 * migration 0002) stand in for them. Callers validate IINs and BINs first.
 */
import type { z } from 'zod';
import type { Sql } from '../postgres/sql.js';
import type { individualAnswer, legalEntityAnswer, powerOfAttorney } from '#core/protocol.js';

export type Individual = Omit<z.infer<typeof individualAnswer>, 'serverTime'>;
export type LegalEntity = Omit<z.infer<typeof legalEntityAnswer>, 'serverTime'>;
export type PowerOfAttorney = z.infer<typeof powerOfAttorney>;

/** Powers of attorney by exactly one of: the principal's IIN, the agent's IIN, the number. */
export type PowerOfAttorneyQuery = { principal: string } | { agent: string } | { number: string };

export interface LookupAdapter {
  /** The person with `iin`, or null when the state database has none. */
  individual(iin: string): Promise<Individual | null>;
  /** The legal entity with `bin`, or null. */
  legalEntity(bin: string): Promise<LegalEntity | null>;
  /** The matching powers of attorney, revoked and expired ones included (each says so), newest first. */
  powersOfAttorney(query: PowerOfAttorneyQuery): Promise<PowerOfAttorney[]>;
}

/** At most this many powers of attorney in one answer. */
export const MAX_POWERS_OF_ATTORNEY = 100;

interface PowerRow extends Record<string, unknown> {
  number: string;
  principal_iin: string;
  agent_iin: string;
  scope: string;
  issued_at: string;
  valid_until: string;
  revoked: boolean;
  notary: string;
}

/** The adapter over the server's own tables. */
export class SqlLookupAdapter implements LookupAdapter {
  constructor(private readonly sql: Sql) {}

  async individual(iin: string): Promise<Individual | null> {
    const [row] = await this.sql.query<{
      iin: string;
      surname: string;
      given_name: string;
      patronymic: string | null;
      birth_date: string;
      sex: 'male' | 'female';
      address: string | null;
    }>('SELECT iin, surname, given_name, patronymic, birth_date, sex, address FROM individuals WHERE iin = $1', [iin]);
    if (!row) return null;
    return {
      iin: row.iin,
      surname: row.surname,
      givenName: row.given_name,
      patronymic: row.patronymic,
      birthDate: row.birth_date,
      sex: row.sex,
      address: row.address,
    };
  }

  async legalEntity(bin: string): Promise<LegalEntity | null> {
    const [row] = await this.sql.query<{
      bin: string;
      name_kk: string;
      name_ru: string;
      head_iin: string | null;
      head_name: string | null;
      address: string | null;
      registered_at: string;
    }>('SELECT bin, name_kk, name_ru, head_iin, head_name, address, registered_at FROM legal_entities WHERE bin = $1', [
      bin,
    ]);
    if (!row) return null;
    return {
      bin: row.bin,
      nameKk: row.name_kk,
      nameRu: row.name_ru,
      headIin: row.head_iin,
      headName: row.head_name,
      address: row.address,
      registeredAt: row.registered_at,
    };
  }

  async powersOfAttorney(query: PowerOfAttorneyQuery): Promise<PowerOfAttorney[]> {
    const [column, value] =
      'principal' in query
        ? ['principal_iin', query.principal]
        : 'agent' in query
          ? ['agent_iin', query.agent]
          : ['number', query.number];
    const rows = await this.sql.query<PowerRow>(
      `SELECT number, principal_iin, agent_iin, scope, issued_at, valid_until, revoked, notary
         FROM powers_of_attorney WHERE ${column} = $1
        ORDER BY issued_at DESC, number LIMIT ${MAX_POWERS_OF_ATTORNEY}`,
      [value],
    );
    return rows.map((r) => ({
      number: r.number,
      principalIin: r.principal_iin,
      agentIin: r.agent_iin,
      scope: r.scope,
      issuedAt: r.issued_at,
      validUntil: r.valid_until,
      revoked: r.revoked,
      notary: r.notary,
    }));
  }
}
