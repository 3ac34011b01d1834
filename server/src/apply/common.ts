/**
 * What every op's handler shares: the context it runs in (the open
 * transaction of its change), business rejections, the acting user with
 * their roles read from the server's own tables, and the service
 * definitions (parsed once per version).
 */
import type { z } from 'zod';
import { serviceDefinition, type ServiceDefinition } from '../../../main/catalogue/schema.js';
import type { Role } from '../../../db/schema.js';
import type { Sql } from '../db/sql.js';
import type { DeviceIdentity } from '../http.js';
import type { Change } from '../protocol.js';

/** The reasons a change is rejected with (protocol.ts pushResult.reason). */
export type RejectReason =
  | 'reassigned'
  | 'notAllowed'
  | 'notFound'
  | 'forbidden'
  | 'invalid'
  | 'stale'
  | 'unknownOp'
  | 'userBlocked'
  | 'schemaUnsupported';

/** A business rejection: recorded, answered, and the queue goes on. Anything else thrown is a failure of the request. */
export class Rejection extends Error {
  constructor(
    readonly reason: RejectReason,
    message: string,
  ) {
    super(message);
    this.name = 'Rejection';
  }
}

export interface ApplyContext {
  /** The change's transaction (its device row is locked). */
  sql: Sql;
  device: DeviceIdentity;
  change: Change;
  now: number;
  services: ServiceDefinitions;
}

/** Applies one change; returns the highest feed version it wrote, or null when it wrote none. */
export type OpHandler = (c: ApplyContext) => Promise<number | null>;

/** The payload as `schema` reads it, or the rejection `invalid` naming what does not fit. */
export function payloadOf<T>(schema: z.ZodType<T>, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new Rejection('invalid', `the payload does not fit: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export interface Grant {
  role: Role;
  providerId: string;
}

export interface Actor {
  id: string;
  blocked: boolean;
  grants: Grant[];
}

/** A user with all their role grants, or null. `lock` takes the user's row lock (for changes to the user). */
export async function loadActor(sql: Sql, userId: string, lock = false): Promise<Actor | null> {
  const [user] = await sql.query<{ id: string; blocked: boolean }>(
    `SELECT id, blocked FROM users WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [userId],
  );
  if (!user) return null;
  const grants = await sql.query<{ role: Role; providerId: string }>(
    'SELECT role, provider_id AS "providerId" FROM user_roles WHERE user_id = $1 ORDER BY role, provider_id',
    [userId],
  );
  return { id: user.id, blocked: user.blocked, grants };
}

/** The acting user, refused when unknown (forbidden) or blocked (userBlocked). */
export async function activeActor(sql: Sql, userId: string): Promise<Actor> {
  const actor = await loadActor(sql, userId);
  if (!actor) throw new Rejection('forbidden', `no user ${userId}`);
  if (actor.blocked) throw new Rejection('userBlocked', `user ${userId} is blocked`);
  return actor;
}

/** The actor's roles at one provider. */
export function rolesAt(actor: Actor, providerId: string): Set<Role> {
  return new Set(actor.grants.filter((g) => g.providerId === providerId).map((g) => g.role));
}

/**
 * Service definitions from the `services` table, parsed with the
 * catalogue's schema once per content (an md5 of the stored definition) and
 * kept for the life of the server; a changed definition is read again.
 */
export class ServiceDefinitions {
  private readonly cache = new Map<string, { tag: string; def: ServiceDefinition }>();

  async get(sql: Sql, code: string): Promise<ServiceDefinition | null> {
    const [row] = await sql.query<{ tag: string }>('SELECT md5(definition::text) AS tag FROM services WHERE code = $1', [
      code,
    ]);
    if (!row) return null;
    const hit = this.cache.get(code);
    if (hit && hit.tag === row.tag) return hit.def;
    const [full] = await sql.query<{ tag: string; definition: unknown }>(
      'SELECT md5(definition::text) AS tag, definition FROM services WHERE code = $1',
      [code],
    );
    if (!full) return null;
    const parsed = serviceDefinition.safeParse(full.definition);
    if (!parsed.success) return null;
    this.cache.set(code, { tag: full.tag, def: parsed.data });
    return parsed.data;
  }
}
