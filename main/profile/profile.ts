/**
 * The user's own profile (docs/domain.md#profile): name, e-mail, position in kk and
 * ru, phone. The IIN is shown, not edited here: it ties the user to their EDS
 * certificates, so only an administrator changes it. A change is written with
 * an outbox row for the central server, in one transaction.
 */
import type Database from 'better-sqlite3';
import type { CallOutput } from '#preload/api.js';
import { ServiceError } from '../rpc.js';

export type Profile = CallOutput<'profile.get'>;

interface Row {
  id: string;
  login: string;
  fullName: string;
  iin: string;
  email: string | null;
  phone: string | null;
  positionKk: string | null;
  positionRu: string | null;
}

export class ProfileService {
  constructor(
    private readonly sqlite: Database.Database,
    private readonly userId: () => string | null,
    private readonly now: () => number = Date.now,
  ) {}

  private id(): string {
    const id = this.userId();
    if (!id) throw new ServiceError('noSession', 'errors.sessionUnavailable');
    return id;
  }

  get(): Profile {
    const row = this.sqlite
      .prepare(
        `SELECT id, login, full_name AS fullName, iin, email, phone, position_kk AS positionKk, position_ru AS positionRu
           FROM users WHERE id = ?`,
      )
      .get(this.id()) as Row | undefined;
    if (!row) throw new ServiceError('noSession', 'errors.sessionUnavailable');
    const { id: _id, ...profile } = row;
    return profile;
  }

  update(change: {
    fullName: string;
    email: string | null;
    phone: string | null;
    positionKk: string | null;
    positionRu: string | null;
  }): Profile {
    const id = this.id();
    const now = this.now();
    this.sqlite.transaction(() => {
      this.sqlite
        .prepare(
          `UPDATE users SET full_name = ?, email = ?, phone = ?, position_kk = ?, position_ru = ?, updated_at = ? WHERE id = ?`,
        )
        .run(change.fullName, change.email, change.phone, change.positionKk, change.positionRu, now, id);
      this.sqlite
        .prepare(
          `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
           VALUES ('user.profile', 'user', ?, ?, 1, 1, ?)`,
        )
        .run(id, JSON.stringify({ id, ...change, updatedAt: now }), now);
    })();
    return this.get();
  }
}
