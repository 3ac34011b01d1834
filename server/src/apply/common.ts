/**
 * What every op's handler shares: the context it runs in (the open
 * transaction of its change, the applications it holds), business rejections, the acting user with
 * their roles read from the server's own tables, and the service
 * definitions (parsed once per stored version).
 */
import type { z } from 'zod';
import { serviceDefinition, type ServiceDefinition } from '#core/catalogue/schema.js';
import type { RoleGrant } from '#core/auth/grants.js';
import type { RejectionReason, Role } from '#core/vocabulary.js';
import type { Sql } from '../postgres/sql.js';
import type { DeviceIdentity } from '../http.js';
import type { FeedBuffer } from '../feed.js';
import type { Change } from '#core/protocol.js';
import type { ApplicationState } from './state.js';

/** The reasons a change is rejected with (protocol.ts pushResult.reason). */
export type RejectReason = RejectionReason;

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

/**
 * Not now: the change cannot be judged yet for a reason that may pass (the
 * signer's revocation cannot be checked). The push answers it `deferred`
 * with the reason, moves the device's last seq only up to the change before
 * it, and leaves the rest of the batch for a later push.
 */
export class Deferral extends Error {
  constructor(
    readonly reason: string,
    message: string,
    /** When it is worth sending again. */
    readonly retryAfterMs = 60_000,
  ) {
    super(message);
    this.name = 'Deferral';
  }
}

export interface ApplyContext {
  /** The transaction the change runs in (its device row is locked). */
  sql: Sql;
  device: DeviceIdentity;
  change: Change;
  /**
   * The user the change's MAC proves made it (push.ts checked the key: this
   * device's, live, and its user the author the payload names).
   */
  author: string;
  now: number;
  /** Where the change's feed rows go (written with their versions when the transaction ends). */
  feed: FeedBuffer;
  /** Service definitions, acting users and assignable executors, read once per transaction. */
  cache: ApplyCache;
  /** The applications of the transaction, read, checked and changed in memory, written together. */
  applications: ApplicationState;
  /** The trust a signature's certificate is checked against. */
  signers: SignerTrust;
}

/**
 * Whether a certificate could make a signature received at `now`, judged at
 * the time of the verified timestamp it carries or else at `now`
 * (server/src/auth/certificates.ts LoginCertificates; code 'revocationUnknown': not judged).
 */
export interface SignerTrust {
  checkSigner(
    sql: Sql,
    certificate: Uint8Array,
    evidence: { timestamp: { token: Uint8Array; signatureValue: Uint8Array } | null },
    now: number,
  ): Promise<{ ok: true; at: number; timestampedAt: number | null } | { ok: false; code: string }>;
}

/**
 * What the server does for an op, in two steps: the handler checks the
 * change against the server's state (reading, never writing) and throws a
 * Rejection when it does not hold; then the write it returns makes the
 * change. So a rejected change has written nothing.
 */
export type Write = () => Promise<void>;
export type OpHandler = (c: ApplyContext) => Promise<Write>;

/** Reads shared by the changes of one transaction. */
export class ApplyCache {
  private readonly services = new Map<string, Promise<ServiceDefinition | null>>();
  private readonly actors = new Map<string, Promise<Actor | null>>();
  private readonly executors = new Map<string, Promise<Set<string>>>();
  private readonly providers = new Map<string, Promise<boolean>>();

  constructor(private readonly definitions: ServiceDefinitions) {}

  service(sql: Sql, code: string): Promise<ServiceDefinition | null> {
    let hit = this.services.get(code);
    if (!hit) {
      hit = this.definitions.get(sql, code);
      this.services.set(code, hit);
    }
    return hit;
  }

  actor(sql: Sql, userId: string): Promise<Actor | null> {
    let hit = this.actors.get(userId);
    if (!hit) {
      hit = loadActor(sql, userId);
      this.actors.set(userId, hit);
    }
    return hit;
  }

  /** Whether the provider exists. */
  providerExists(sql: Sql, providerId: string): Promise<boolean> {
    let hit = this.providers.get(providerId);
    if (!hit) {
      hit = sql.query('SELECT 1 FROM providers WHERE id = $1', [providerId]).then((rows) => rows.length > 0);
      this.providers.set(providerId, hit);
    }
    return hit;
  }

  /** Whether the user is an active, unblocked executor on the provider's staff (the staff read once per provider). */
  async assignable(sql: Sql, providerId: string, userId: string): Promise<boolean> {
    let hit = this.executors.get(providerId);
    if (!hit) {
      hit = sql
        .query<{ userId: string }>(
          `SELECT s.user_id AS "userId" FROM provider_staff s
             JOIN users u ON u.id = s.user_id AND NOT u.blocked
             JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
            WHERE s.provider_id = $1 AND s.active`,
          [providerId],
        )
        .then((rows) => new Set(rows.map((r) => r.userId)));
      this.executors.set(providerId, hit);
    }
    return (await hit).has(userId);
  }

  /** A user changed (roles, blocked…): read again when next asked, and who is assignable with them. */
  forget(userId: string): void {
    this.actors.delete(userId);
    this.executors.clear();
  }
}

/** The payload as `schema` reads it, or the rejection `invalid` naming what does not fit. */
export function payloadOf<T>(schema: z.ZodType<T>, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
    throw new Rejection('invalid', `the payload does not fit: ${issues.join('; ')}`);
  }
  return parsed.data;
}

export interface Actor {
  id: string;
  blocked: boolean;
  grants: RoleGrant[];
}

/** A user with all their role grants, or null. `lock` takes the user's row lock (for changes to the user). */
export async function loadActor(sql: Sql, userId: string, lock = false): Promise<Actor | null> {
  const [user] = await sql.query<{ id: string; blocked: boolean; grants: RoleGrant[] | null }>(
    `SELECT u.id, u.blocked,
            (SELECT jsonb_agg(jsonb_build_object('role', r.role, 'providerId', r.provider_id) ORDER BY r.role, r.provider_id)
               FROM user_roles r WHERE r.user_id = u.id) AS grants
       FROM users u WHERE u.id = $1${lock ? ' FOR UPDATE OF u' : ''}`,
    [userId],
  );
  return user ? { id: user.id, blocked: user.blocked, grants: user.grants ?? [] } : null;
}

/** The acting user, refused when unknown (forbidden) or blocked (userBlocked). */
export async function activeActor(c: Pick<ApplyContext, 'sql' | 'cache'>, userId: string): Promise<Actor> {
  const actor = await c.cache.actor(c.sql, userId);
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
 * catalogue's schema once per stored row version (its `xmin`, which every
 * update of the row changes) and kept for the life of the server.
 */
export class ServiceDefinitions {
  private readonly cache = new Map<string, { tag: string; def: ServiceDefinition }>();

  async get(sql: Sql, code: string): Promise<ServiceDefinition | null> {
    const [row] = await sql.query<{ tag: string }>('SELECT xmin::text AS tag FROM services WHERE code = $1', [code]);
    if (!row) return null;
    const hit = this.cache.get(code);
    if (hit && hit.tag === row.tag) return hit.def;
    const [full] = await sql.query<{ tag: string; definition: unknown }>(
      'SELECT xmin::text AS tag, definition FROM services WHERE code = $1',
      [code],
    );
    if (!full) return null;
    const parsed = serviceDefinition.safeParse(full.definition);
    if (!parsed.success) return null;
    this.cache.set(code, { tag: full.tag, def: parsed.data });
    return parsed.data;
  }
}
