/**
 * The pull feed written into the local tables: each row validated with
 * protocol.ts FEED_DATA[entity] and upserted (or, for a tombstone, deleted)
 * with plain prepared statements, inside the caller's SQLite transaction (a
 * pull page with its cursor, a snapshot batch).
 *
 * What is not applied at once:
 * - a row whose local copy has a change the server has not acknowledged
 *   (outbox 'pending'), or a 'sent' change whose server version is above the
 *   row's and the page's (the row predates it): held in sync_deferred until
 *   that has passed, then applied if nothing newer came meanwhile;
 * - a row that refers to one not here yet (a foreign key: a staff position
 *   of a user a later page brings): kept in sync_deferred until it is;
 * - a row that does not fit (validation, a unique key taken locally): skipped
 *   and recorded in sync_errors, and the page goes on. One bad row must not
 *   stop an office's sync; when the server changes the row it comes again.
 *
 * Local columns the feed does not carry are never overwritten: a user's
 * password_hash (refreshed by online logins) and last online login, an
 * attachment's upload time.
 */
import type Database from 'better-sqlite3';
import type { z } from 'zod';
import { FEED_DATA, type FeedRow, type PullEntity } from '#core/protocol.js';
import { calendarYear } from '#core/calendar/schema.js';
import { serviceDefinition } from '#core/catalogue/schema.js';
import { foldForSearch } from '#core/identity/text.js';
import { canonicalJson } from '#core/workflow/chain.js';

/** Parents before children; tombstones go the other way. */
const RANK: Readonly<Record<PullEntity, number>> = {
  region: 0,
  provider: 1,
  user: 2,
  staff: 3,
  service: 4,
  calendar: 5,
  crl: 6,
  application: 7,
  event: 8,
  signature: 9,
  attachment: 10,
};

/** Feed entities a local change can be waiting for (outbox.entity names them the same). */
const LOCAL_ENTITIES: ReadonlySet<string> = new Set(['application', 'user', 'signature']);

/** sync_errors keeps the newest this many. */
const MAX_ERRORS = 1000;

export interface ApplyStats {
  applied: number;
  deferred: number;
  /** Older than what is here already. */
  stale: number;
  errors: number;
}

type Outcome = 'applied' | 'stale' | 'local' | 'parent' | 'error';

interface Blocker {
  pending: boolean;
  sentVersion: number | null;
}

type Data<E extends PullEntity> = z.infer<(typeof FEED_DATA)[E]>;

/** A row could not be written for a reason of its own (not the database failing). */
class RowProblem extends Error {
  constructor(
    readonly outcome: 'parent' | 'error',
    message: string,
  ) {
    super(message);
  }
}

function constraintOf(e: unknown): string | null {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT') ? code : null;
}

export function emptyStats(): ApplyStats {
  return { applied: 0, deferred: 0, stale: 0, errors: 0 };
}

export function addStats(into: ApplyStats, more: ApplyStats): ApplyStats {
  into.applied += more.applied;
  into.deferred += more.deferred;
  into.stale += more.stale;
  into.errors += more.errors;
  return into;
}

export class FeedApplier {
  private readonly st;

  constructor(
    private readonly sqlite: Database.Database,
    private readonly now: () => number = Date.now,
  ) {
    const p = (sql: string) => sqlite.prepare(sql);
    this.st = {
      blockers: p(`SELECT entity, entity_id AS id, max(state = 'pending') AS pending,
          max(CASE WHEN state = 'sent' THEN server_version END) AS sentVersion
        FROM outbox WHERE state = 'pending' OR (state = 'sent' AND server_version > ?) GROUP BY entity, entity_id`),
      deferredCount: p('SELECT count(*) AS n FROM sync_deferred'),
      deferredVersion: p('SELECT version FROM sync_deferred WHERE entity = ? AND id = ?').pluck(),
      defer:
        p(`INSERT INTO sync_deferred (entity, id, partition, version, op, data, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (entity, id) DO UPDATE SET partition = excluded.partition, version = excluded.version, op = excluded.op,
          data = excluded.data, reason = excluded.reason, at = excluded.at
        WHERE excluded.version >= sync_deferred.version`),
      undefer: p('DELETE FROM sync_deferred WHERE entity = ? AND id = ?'),
      allDeferred: p('SELECT entity, id, partition, version, op, data FROM sync_deferred ORDER BY version'),
      partitionVersion: p('SELECT version FROM sync_state WHERE partition = ?').pluck(),
      baseCount: p('SELECT count(*) AS n FROM sync_base'),
      dropBase: p('DELETE FROM sync_base WHERE application_id = ?'),
      error: p('INSERT INTO sync_errors (partition, entity, entity_id, version, error, at) VALUES (?, ?, ?, ?, ?, ?)'),
      trimErrors: p('DELETE FROM sync_errors WHERE id <= (SELECT max(id) FROM sync_errors) - ?'),

      region: p(`INSERT INTO regions (kato, name_kk, name_ru, name_en) VALUES (?, ?, ?, ?)
        ON CONFLICT (kato) DO UPDATE SET name_kk = excluded.name_kk, name_ru = excluded.name_ru, name_en = excluded.name_en`),
      provider: p(`INSERT INTO providers (id, bin, name_kk, name_ru, name_en, region_kato, locality_kk, locality_ru,
          locality_en, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET bin = excluded.bin, name_kk = excluded.name_kk, name_ru = excluded.name_ru,
          name_en = excluded.name_en, region_kato = excluded.region_kato, locality_kk = excluded.locality_kk,
          locality_ru = excluded.locality_ru, locality_en = excluded.locality_en, updated_at = excluded.updated_at`),
      user: p(`INSERT INTO users (id, login, full_name, iin, email, phone, position_kk, position_ru,
          must_change_password, blocked, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET login = excluded.login, full_name = excluded.full_name, iin = excluded.iin,
          email = excluded.email, phone = excluded.phone, position_kk = excluded.position_kk,
          position_ru = excluded.position_ru, must_change_password = excluded.must_change_password,
          blocked = excluded.blocked, updated_at = excluded.updated_at`),
      dropRoles: p('DELETE FROM user_roles WHERE user_id = ?'),
      role: p('INSERT OR IGNORE INTO user_roles (user_id, role, provider_id) VALUES (?, ?, ?)'),
      staff:
        p(`INSERT INTO provider_staff (provider_id, user_id, position_kk, position_ru, active) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (provider_id, user_id) DO UPDATE SET position_kk = excluded.position_kk,
          position_ru = excluded.position_ru, active = excluded.active`),
      service: p(`INSERT INTO services (code, version, name_kk, name_ru, name_en, definition, source_file, loaded_at)
          VALUES (?, ?, ?, ?, ?, ?, 'server', ?)
        ON CONFLICT (code) DO UPDATE SET version = excluded.version, name_kk = excluded.name_kk,
          name_ru = excluded.name_ru, name_en = excluded.name_en, definition = excluded.definition,
          source_file = excluded.source_file, loaded_at = excluded.loaded_at`),
      calendar: p(`INSERT INTO sync_calendars (year, definition, server_version) VALUES (?, ?, ?)
        ON CONFLICT (year) DO UPDATE SET definition = excluded.definition, server_version = excluded.server_version
        WHERE excluded.server_version > sync_calendars.server_version`),
      crl: p(`INSERT INTO sync_crls (sha256, issuer, this_update, next_update, size, der, server_version)
          VALUES (?, ?, ?, ?, ?, NULL, ?)
        ON CONFLICT (sha256) DO UPDATE SET issuer = excluded.issuer, this_update = excluded.this_update,
          next_update = excluded.next_update, size = excluded.size, server_version = excluded.server_version
        WHERE excluded.server_version > sync_crls.server_version`),
      // Plain INSERT and UPDATE, no upsert: an upsert's conflict clause would override the
      // INSERT OR IGNORE inside the journal's triggers (migration 0003) and fail on journal_tags.
      insertApplication: p(`INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel,
          applicant_iin, applicant_bin, applicant_name, applicant_name_norm, region_kato, locality, status, decision,
          responsible_user_id, current_step, submitted_at, status_changed_at, due_at, form_data, refusal_reason_code,
          refusal_text, rework_comment, server_version, created_at, updated_at, version)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`),
      updateApplication: p(`UPDATE applications SET number = ?, portal_number = ?, provider_id = ?,
          service_code = ?, channel = ?, applicant_iin = ?, applicant_bin = ?, applicant_name = ?,
          applicant_name_norm = ?, region_kato = ?, locality = ?, status = ?, decision = ?, responsible_user_id = ?,
          current_step = ?, submitted_at = ?, status_changed_at = ?, due_at = ?, form_data = ?,
          refusal_reason_code = ?, refusal_text = ?, rework_comment = ?, server_version = ?, updated_at = ?,
          version = version + 1
        WHERE id = ?`),
      applicationVersion: p('SELECT server_version FROM applications WHERE id = ?').pluck(),
      applicationContent: p(`SELECT number, portal_number, provider_id, service_code, channel, applicant_iin,
          applicant_bin, applicant_name, applicant_name_norm, region_kato, locality, status, decision,
          responsible_user_id, current_step, submitted_at, status_changed_at, due_at, form_data,
          refusal_reason_code, refusal_text, rework_comment FROM applications WHERE id = ?`).raw(),
      touchApplication: p('UPDATE applications SET server_version = ? WHERE id = ?'),
      event: p(`INSERT INTO server_events (id, application_id, seq, at, actor_user_id, action, from_status, to_status,
          decision, comment, payload, device_id, device_seq, prev_hash, hash, server_version)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET application_id = excluded.application_id, seq = excluded.seq, at = excluded.at,
          actor_user_id = excluded.actor_user_id, action = excluded.action, from_status = excluded.from_status,
          to_status = excluded.to_status, decision = excluded.decision, comment = excluded.comment,
          payload = excluded.payload, device_id = excluded.device_id, device_seq = excluded.device_seq,
          prev_hash = excluded.prev_hash, hash = excluded.hash, server_version = excluded.server_version
        WHERE excluded.server_version > server_events.server_version`),
      signature: p(`INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin,
          signer_name, certificate_sha256, key_source, user_id, signed_at, timestamped_at)
          -- The signer may work elsewhere (a centre operator): not in this office's directory, the row keeps
          -- their IIN and name and no user.
          VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT id FROM users WHERE id = ?), ?, ?)
        ON CONFLICT (id) DO UPDATE SET application_id = excluded.application_id, format = excluded.format,
          signed = excluded.signed, document_sha256 = excluded.document_sha256, signer_iin = excluded.signer_iin,
          signer_bin = excluded.signer_bin, signer_name = excluded.signer_name,
          certificate_sha256 = excluded.certificate_sha256, key_source = excluded.key_source,
          user_id = excluded.user_id, signed_at = excluded.signed_at, timestamped_at = excluded.timestamped_at`),
      attachment:
        p(`INSERT INTO attachments (id, application_id, document_code, file_name, mime, size, sha256, created_at)
          VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET application_id = excluded.application_id,
          document_code = excluded.document_code, file_name = excluded.file_name, mime = excluded.mime,
          size = excluded.size, sha256 = excluded.sha256, created_at = excluded.created_at`),

      deleteRegion: p('DELETE FROM regions WHERE kato = ?'),
      deleteProvider: p('DELETE FROM providers WHERE id = ?'),
      deleteUserStaff: p('DELETE FROM provider_staff WHERE user_id = ?'),
      deleteUser: p('DELETE FROM users WHERE id = ?'),
      blockUser: p('UPDATE users SET blocked = 1, updated_at = ? WHERE id = ?'),
      deleteStaff: p("DELETE FROM provider_staff WHERE provider_id || ':' || user_id = ?"),
      deleteService: p("DELETE FROM services WHERE code = ? AND source_file = 'server'"),
      deleteCalendar: p('DELETE FROM sync_calendars WHERE year = ?'),
      deleteCrl: p('DELETE FROM sync_crls WHERE sha256 = ?'),
      deleteApplication: p('DELETE FROM applications WHERE id = ?'),
      deleteEvent: p('DELETE FROM server_events WHERE id = ?'),
      deleteSignature: p('DELETE FROM signatures WHERE id = ?'),
      deleteAttachment: p('DELETE FROM attachments WHERE id = ?'),

      base: p('SELECT data FROM sync_base WHERE application_id = ?').pluck(),
      restore: p(`UPDATE applications SET status = json_extract(@data, '$.status'),
          decision = json_extract(@data, '$.decision'), responsible_user_id = json_extract(@data, '$.responsibleUserId'),
          current_step = json_extract(@data, '$.currentStep'), status_changed_at = json_extract(@data, '$.statusChangedAt'),
          due_at = json_extract(@data, '$.dueAt'), form_data = json_extract(@data, '$.formData'),
          refusal_reason_code = json_extract(@data, '$.refusalReasonCode'),
          refusal_text = json_extract(@data, '$.refusalText'), rework_comment = json_extract(@data, '$.reworkComment'),
          version = version + 1, updated_at = @now
        WHERE id = @id`),
      unacknowledged: p(`SELECT count(*) FROM outbox WHERE entity = 'application' AND entity_id = ?
          AND (state = 'pending' OR (state = 'sent' AND server_version > coalesce((SELECT s.version FROM sync_state s
            JOIN applications a ON s.partition = 'provider:' || a.provider_id WHERE a.id = ?), 0)))`).pluck(),
      isDeferred: p("SELECT 1 FROM sync_deferred WHERE entity = 'application' AND id = ?").pluck(),
    };
  }

  /**
   * Applies rows of one partition (inside the caller's transaction).
   * `pageVersion`: the version a pull page reaches; null in a snapshot,
   * where each row's own version is all that is known. `after`: the
   * partition's version before these rows (sent changes at or below it have
   * passed already).
   */
  applyRows(partition: string, rows: readonly FeedRow[], pageVersion: number | null, after = 0): ApplyStats {
    const stats = emptyStats();
    if (rows.length === 0) return stats;
    const blockers = this.blockers(after);
    const tracking = { deferred: this.count(this.st.deferredCount) > 0, base: this.count(this.st.baseCount) > 0 };
    for (const row of ordered(rows)) {
      if (tracking.deferred) {
        const held = this.st.deferredVersion.get(row.entity, row.id) as number | undefined;
        if (held !== undefined && held > row.version) {
          stats.stale += 1;
          continue;
        }
      }
      const outcome = this.applyOne(partition, row, pageVersion, blockers, tracking);
      this.count_(stats, outcome);
    }
    if (stats.errors > 0) this.st.trimErrors.run(MAX_ERRORS);
    return stats;
  }

  /** Held and waiting rows whose cause has passed, applied now (inside a transaction); the rest stay. */
  releaseDeferred(): ApplyStats {
    const stats = emptyStats();
    const rows = this.st.allDeferred.all() as {
      entity: PullEntity;
      id: string;
      partition: string;
      version: number;
      op: 'upsert' | 'delete';
      data: string | null;
    }[];
    if (rows.length === 0) return stats;
    const blockers = this.blockers(0);
    const tracking = { deferred: true, base: this.count(this.st.baseCount) > 0 };
    const feedRows = rows.map((r) => ({
      partition: r.partition,
      row: {
        entity: r.entity,
        id: r.id,
        version: r.version,
        op: r.op,
        data: r.data === null ? null : (JSON.parse(r.data) as unknown),
      },
    }));
    feedRows.sort((a, b) => RANK[a.row.entity] - RANK[b.row.entity] || a.row.version - b.row.version);
    for (const { partition, row } of feedRows) {
      const reached = (this.st.partitionVersion.get(partition) as number | null | undefined) ?? null;
      const outcome = this.applyOne(partition, row, reached, blockers, tracking);
      // Still held or still waiting: applyOne kept it (the same version).
      if (outcome === 'local' || outcome === 'parent') continue;
      this.count_(stats, outcome);
    }
    if (stats.errors > 0) this.st.trimErrors.run(MAX_ERRORS);
    return stats;
  }

  /**
   * After the server rejected changes to these applications: where no other
   * change waits for the server, nothing newer is coming from it and no held
   * row will replace it, the server's state kept before the local changes
   * (sync_base) is put back. Inside a transaction. Returns how many.
   */
  restoreBases(applicationIds: Iterable<string>): number {
    let restored = 0;
    for (const id of new Set(applicationIds)) {
      const data = this.st.base.get(id) as string | undefined;
      if (data === undefined) continue;
      if ((this.st.unacknowledged.get(id, id) as number) > 0) continue;
      if (this.st.isDeferred.get(id) !== undefined) continue;
      this.st.restore.run({ data, now: this.now(), id });
      this.st.dropBase.run(id);
      restored += 1;
    }
    return restored;
  }

  private count(stmt: Database.Statement): number {
    return (stmt.get() as { n: number }).n;
  }

  private count_(stats: ApplyStats, outcome: Outcome): void {
    if (outcome === 'applied') stats.applied += 1;
    else if (outcome === 'stale') stats.stale += 1;
    else if (outcome === 'error') stats.errors += 1;
    else stats.deferred += 1;
  }

  private blockers(after: number): Map<string, Blocker> {
    const map = new Map<string, Blocker>();
    for (const r of this.st.blockers.all(after) as {
      entity: string;
      id: string;
      pending: number;
      sentVersion: number | null;
    }[]) {
      map.set(`${r.entity}\u0000${r.id}`, { pending: r.pending === 1, sentVersion: r.sentVersion });
    }
    return map;
  }

  private applyOne(
    partition: string,
    row: FeedRow,
    pageVersion: number | null,
    blockers: Map<string, Blocker>,
    tracking: { deferred: boolean; base: boolean },
  ): Outcome {
    if (LOCAL_ENTITIES.has(row.entity)) {
      const b = blockers.get(`${row.entity}\u0000${row.id}`);
      if (b && (b.pending || (b.sentVersion !== null && b.sentVersion > Math.max(row.version, pageVersion ?? 0)))) {
        this.defer(partition, row, 'local');
        tracking.deferred = true;
        return 'local';
      }
    }
    let outcome: 'applied' | 'stale';
    try {
      outcome = row.op === 'delete' ? this.remove(row) : this.upsert(row);
    } catch (e) {
      if (e instanceof RowProblem) {
        if (e.outcome === 'parent') {
          this.defer(partition, row, 'parent');
          tracking.deferred = true;
          return 'parent';
        }
        this.recordError(partition, row, e.message);
      } else {
        const constraint = constraintOf(e);
        if (!constraint) throw e;
        if (constraint === 'SQLITE_CONSTRAINT_FOREIGNKEY' && row.op === 'upsert') {
          this.defer(partition, row, 'parent');
          tracking.deferred = true;
          return 'parent';
        }
        this.recordError(partition, row, `${constraint}: ${(e as Error).message}`);
      }
      if (tracking.deferred) this.st.undefer.run(row.entity, row.id);
      return 'error';
    }
    if (tracking.deferred) this.st.undefer.run(row.entity, row.id);
    if (outcome === 'applied' && row.entity === 'application' && tracking.base) this.st.dropBase.run(row.id);
    return outcome;
  }

  private defer(partition: string, row: FeedRow, reason: 'local' | 'parent'): void {
    const data = row.data === null || row.data === undefined ? null : JSON.stringify(row.data);
    this.st.defer.run(row.entity, row.id, partition, row.version, row.op, data, reason, this.now());
  }

  private recordError(partition: string, row: FeedRow, error: string): void {
    this.st.error.run(partition, row.entity, row.id, row.version, error.slice(0, 2000), this.now());
  }

  private upsert(row: FeedRow): 'applied' | 'stale' {
    const s = this.st;
    const now = this.now();
    switch (row.entity) {
      case 'region': {
        const d = valid('region', row);
        s.region.run(d.kato, d.nameKk, d.nameRu, d.nameEn);
        return 'applied';
      }
      case 'provider': {
        const d = valid('provider', row);
        s.provider.run(
          d.id,
          d.bin,
          d.nameKk,
          d.nameRu,
          d.nameEn,
          d.regionKato,
          d.localityKk,
          d.localityRu,
          d.localityEn,
          now,
        );
        return 'applied';
      }
      case 'user': {
        const d = valid('user', row);
        this.sqlite.transaction(() => {
          s.user.run(
            d.id,
            d.login,
            d.fullName,
            d.iin,
            d.email,
            d.phone,
            d.positionKk,
            d.positionRu,
            d.mustChangePassword ? 1 : 0,
            d.blocked ? 1 : 0,
            now,
            now,
          );
          s.dropRoles.run(d.id);
          for (const r of d.roles) s.role.run(d.id, r.role, r.providerId);
        })();
        return 'applied';
      }
      case 'staff': {
        const d = valid('staff', row);
        s.staff.run(d.providerId, d.userId, d.positionKk, d.positionRu, d.active ? 1 : 0);
        return 'applied';
      }
      case 'service': {
        const d = valid('service', row);
        const def = serviceDefinition.safeParse(d.definition);
        if (!def.success) throw new RowProblem('error', `service ${d.code}: ${firstIssue(def.error)}`);
        if (def.data.code !== d.code)
          throw new RowProblem('error', `service ${d.code}: its definition is ${def.data.code}`);
        s.service.run(
          d.code,
          d.version,
          def.data.name.kk,
          def.data.name.ru,
          def.data.name.en,
          JSON.stringify(d.definition),
          now,
        );
        return 'applied';
      }
      case 'calendar': {
        const d = valid('calendar', row);
        const cal = calendarYear.safeParse(d.definition);
        if (!cal.success) throw new RowProblem('error', `calendar ${d.year}: ${firstIssue(cal.error)}`);
        return s.calendar.run(d.year, JSON.stringify(d.definition), row.version).changes > 0 ? 'applied' : 'stale';
      }
      case 'crl': {
        const d = valid('crl', row);
        return s.crl.run(d.sha256, d.issuer, d.thisUpdate, d.nextUpdate, d.size, row.version).changes > 0
          ? 'applied'
          : 'stale';
      }
      case 'application': {
        const d = valid('application', row);
        if (d.id !== row.id) throw new RowProblem('error', `application row ${row.id} carries id ${d.id}`);
        const here = s.applicationVersion.get(d.id) as number | null | undefined;
        if (here !== undefined && here !== null && here >= row.version) return 'stale';
        const values = [
          d.number,
          d.portalNumber,
          d.providerId,
          d.serviceCode,
          d.channel,
          d.applicantIin,
          d.applicantBin,
          d.applicantName,
          foldForSearch(d.applicantName),
          d.regionKato,
          d.locality,
          d.status,
          d.decision,
          d.responsibleUserId,
          d.currentStep,
          d.submittedAt,
          d.statusChangedAt,
          d.dueAt,
          JSON.stringify(d.formData),
          d.refusalReasonCode,
          d.refusalText,
          d.reworkComment,
          row.version,
        ];
        if (here === undefined) s.insertApplication.run(d.id, ...values, d.submittedAt, now);
        else if (sameContent(s.applicationContent.get(d.id) as unknown[] | undefined, values.slice(0, -1)))
          // This workstation's own change coming back: the row already says it. Only the server
          // version moves; the local version stays, so a card open on it is not made stale.
          s.touchApplication.run(row.version, d.id);
        else s.updateApplication.run(...values, now, d.id);
        return 'applied';
      }
      case 'event': {
        const d = valid('event', row);
        const changes = s.event.run(
          row.id,
          d.applicationId,
          d.seq,
          d.at,
          d.actorUserId,
          d.action,
          d.fromStatus,
          d.toStatus,
          d.decision,
          d.comment,
          d.payload === undefined ? null : JSON.stringify(d.payload),
          d.deviceId,
          d.deviceSeq,
          d.prevHash,
          d.hash,
          row.version,
        ).changes;
        return changes > 0 ? 'applied' : 'stale';
      }
      case 'signature': {
        const d = valid('signature', row);
        s.signature.run(
          d.id,
          d.applicationId,
          d.format,
          Buffer.from(d.signed, 'base64'),
          d.documentSha256,
          d.signerIin,
          d.signerBin,
          d.signerName,
          d.certificateSha256,
          d.keySource,
          d.userId,
          d.signedAt,
          d.timestampedAt,
        );
        return 'applied';
      }
      case 'attachment': {
        const d = valid('attachment', row);
        s.attachment.run(d.id, d.applicationId, d.documentCode, d.fileName, d.mime, d.size, d.sha256, d.createdAt);
        return 'applied';
      }
    }
  }

  /** A tombstone. Rows that local rows still refer to are kept (and the error recorded); a user is blocked instead. */
  private remove(row: FeedRow): 'applied' | 'stale' {
    const s = this.st;
    switch (row.entity) {
      case 'region':
        s.deleteRegion.run(row.id);
        break;
      case 'provider':
        s.deleteProvider.run(row.id);
        break;
      case 'user':
        try {
          this.sqlite.transaction(() => {
            s.dropRoles.run(row.id);
            s.deleteUserStaff.run(row.id);
            s.deleteUser.run(row.id);
          })();
        } catch (e) {
          if (constraintOf(e) !== 'SQLITE_CONSTRAINT_FOREIGNKEY') throw e;
          // Applications or signatures still name the user: keep the row, without roles, blocked.
          this.sqlite.transaction(() => {
            s.dropRoles.run(row.id);
            s.deleteUserStaff.run(row.id);
            s.blockUser.run(this.now(), row.id);
          })();
        }
        break;
      case 'staff':
        s.deleteStaff.run(row.id);
        break;
      case 'service':
        s.deleteService.run(row.id);
        break;
      case 'calendar':
        s.deleteCalendar.run(Number(row.id));
        break;
      case 'crl':
        s.deleteCrl.run(row.id);
        break;
      case 'application': {
        const local = s.applicationVersion.get(row.id) as number | null | undefined;
        if (local !== undefined && local !== null && local >= row.version) return 'stale';
        s.deleteApplication.run(row.id);
        s.dropBase.run(row.id);
        break;
      }
      case 'event':
        s.deleteEvent.run(row.id);
        break;
      case 'signature':
        s.deleteSignature.run(row.id);
        break;
      case 'attachment':
        s.deleteAttachment.run(row.id);
        break;
    }
    return 'applied';
  }
}

/** Upserts by rank (parents first), then tombstones by rank reversed (children first); by version within. */
function ordered(rows: readonly FeedRow[]): FeedRow[] {
  let sorted = true;
  for (let i = 1; i < rows.length && sorted; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    if (a.op === 'delete' || (b.op === 'upsert' && RANK[a.entity] > RANK[b.entity])) sorted = false;
  }
  if (sorted) return rows as FeedRow[];
  return [...rows].sort((a, b) => {
    if (a.op !== b.op) return a.op === 'upsert' ? -1 : 1;
    const byRank = a.op === 'upsert' ? RANK[a.entity] - RANK[b.entity] : RANK[b.entity] - RANK[a.entity];
    return byRank || a.version - b.version;
  });
}

function valid<E extends PullEntity>(entity: E, row: FeedRow): Data<E> {
  const parsed = (FEED_DATA[entity] as unknown as z.ZodType<Data<E>>).safeParse(row.data);
  if (!parsed.success) throw new RowProblem('error', `${entity} ${row.id} does not fit: ${firstIssue(parsed.error)}`);
  return parsed.data;
}

function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.join('.') || '(row)'}: ${issue.message}` : 'invalid';
}

/**
 * Whether a local application row (columns as `applicationContent` reads
 * them) holds what a feed row brings: the same values, form data compared as
 * data (the server's jsonb orders keys its own way).
 */
function sameContent(local: unknown[] | undefined, incoming: unknown[]): boolean {
  if (!local || local.length !== incoming.length) return false;
  const formAt = 18;
  for (let i = 0; i < incoming.length; i++) {
    if (i === formAt) {
      try {
        if (canonicalJson(JSON.parse(String(local[i]))) !== canonicalJson(JSON.parse(String(incoming[i]))))
          return false;
      } catch {
        return false;
      }
    } else if (local[i] !== incoming[i]) return false;
  }
  return true;
}
