/**
 * The applications a push's transaction works on, held in memory: read and
 * locked together, changed in memory, written together.
 *
 * A batch of changes touches its applications many times (a week of
 * reassignments is thousands of transitions); reading, checking and writing
 * each change with its own statements costs several round trips to the
 * database per change. Here instead:
 *
 * - `lock` reads the applications the batch names in one statement that
 *   locks them (SELECT … FOR UPDATE, in id order, so two transactions
 *   locking overlapping sets take the locks in the same order and never
 *   deadlock on them), then their last events (the chain heads) in a second
 *   statement: under READ COMMITTED a statement sees what was committed when
 *   it began, so the heads are read only once the locks are held and include
 *   the events of whoever held them before;
 * - handlers check a change against the state here (`get`): a change later
 *   in the batch sees what an earlier one did to the same application (its
 *   status, responsible executor, chain head);
 * - a change that passes its checks records its effect here (`create`,
 *   `update`): the new row and the next event of the application's hash
 *   chain (core/workflow/chain.ts hashing), nothing written yet;
 * - at the end, `writeEvents` inserts the new applications and all the
 *   events in one statement, and once the feed's versions are taken (feed.ts
 *   FeedBuffer.flush), `writeRows` writes every application changed, once,
 *   in its latest state and with its server_version, in one more.
 *
 * Everything runs inside the push's transaction: a failure anywhere rolls
 * the whole batch back, the state included (it lives for one transaction).
 */
import { eventHash, GENESIS_HASH, type EventFields, type JsonValue } from '#core/workflow/chain.js';
import type { Sql } from '../postgres/sql.js';
import { APPLICATION_COLUMNS, type ApplicationData, type EventData } from '../rows.js';

/** An event a handler appends: the chain's fields without its place in the chain, and the device that made it. */
export type NewServerEvent = Omit<EventFields, 'seq' | 'prevHash' | 'payload'> & {
  payload: unknown;
  deviceId: string | null;
  deviceSeq: number | null;
};

export type LastEvent = { seq: number; hash: string } | null;

/** The server's next event of an application after `last` (null: its first): seq, previous hash, own hash. */
export function nextEvent(e: NewServerEvent, last: LastEvent): EventData {
  // What is hashed is what is read back: the payload after a JSON round trip.
  const payload =
    e.payload === null || e.payload === undefined ? null : (JSON.parse(JSON.stringify(e.payload)) as JsonValue);
  const fields: EventFields = {
    applicationId: e.applicationId,
    seq: (last?.seq ?? 0) + 1,
    at: e.at,
    actorUserId: e.actorUserId,
    action: e.action,
    fromStatus: e.fromStatus,
    toStatus: e.toStatus,
    decision: e.decision,
    comment: e.comment,
    payload,
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  return { ...fields, hash: eventHash(fields), deviceId: e.deviceId, deviceSeq: e.deviceSeq };
}

interface Entry {
  row: ApplicationData;
  lastEvent: LastEvent;
  /** Created in this transaction and not inserted yet. */
  insert: boolean;
  /** Changed (or inserted) in this transaction, and its row not written in its latest state yet. */
  update: boolean;
}

/** An application as a handler checks it: its row and its chain head. */
export interface HeldApplication {
  row: ApplicationData;
  lastEvent: LastEvent;
}

const numberKey = (providerId: string, number: string) => `${providerId}\0${number}`;

export class ApplicationState {
  /** Applications read (and locked) in this transaction; null: looked for, not there. */
  private readonly entries = new Map<string, Entry | null>();
  /** Events recorded and not inserted yet, in order. */
  private pending: EventData[] = [];
  /** Every event recorded in this transaction, per application (inserted or not). */
  private readonly recorded = new Map<string, EventData[]>();
  /** (provider, number) of the applications created in this transaction. */
  private readonly numbers = new Set<string>();
  /** (provider, number) looked up in the table: whether an application there has it. */
  private readonly stored = new Map<string, boolean>();

  /**
   * Reads and locks the applications of `ids` not read yet: rows in one
   * statement (locked in id order), then their last events. Ids with no
   * application are remembered as such.
   */
  async lock(sql: Sql, ids: Iterable<string>): Promise<void> {
    const wanted = [...new Set(ids)].filter((id) => !this.entries.has(id));
    if (wanted.length === 0) return;
    const rows = await sql.query<ApplicationData>(
      `SELECT ${APPLICATION_COLUMNS} FROM applications WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`,
      [wanted],
    );
    const heads =
      rows.length === 0
        ? []
        : await sql.query<{ applicationId: string; seq: number; hash: string }>(
            // One backward step on the primary key (application_id, seq) per application.
            `SELECT w.id AS "applicationId", e.seq, e.hash
               FROM unnest($1::text[]) AS w(id)
               CROSS JOIN LATERAL (SELECT seq, hash FROM application_events
                                    WHERE application_id = w.id ORDER BY seq DESC LIMIT 1) e`,
            [rows.map((r) => r.id)],
          );
    const headOf = new Map(heads.map((h) => [h.applicationId, { seq: Number(h.seq), hash: h.hash }]));
    for (const id of wanted) this.entries.set(id, null);
    for (const row of rows) {
      this.entries.set(row.id, { row, lastEvent: headOf.get(row.id) ?? null, insert: false, update: false });
    }
  }

  /** The application as this transaction sees it (locked), or null when there is none. */
  async get(sql: Sql, id: string): Promise<HeldApplication | null> {
    await this.lock(sql, [id]);
    const entry = this.entries.get(id);
    return entry ? { row: entry.row, lastEvent: entry.lastEvent } : null;
  }

  /** Looks up in one statement which of these (provider, number) pairs the table holds. */
  async readNumbers(sql: Sql, pairs: Iterable<{ providerId: string; number: string }>): Promise<void> {
    const wanted = new Map<string, { providerId: string; number: string }>();
    for (const p of pairs) {
      const key = numberKey(p.providerId, p.number);
      if (!this.stored.has(key)) wanted.set(key, p);
    }
    if (wanted.size === 0) return;
    const list = [...wanted.values()];
    const rows = await sql.query<{ providerId: string; number: string }>(
      `SELECT a.provider_id AS "providerId", a.number
         FROM applications a JOIN unnest($1::text[], $2::text[]) AS w(provider_id, number)
           ON a.provider_id = w.provider_id AND a.number = w.number`,
      [list.map((p) => p.providerId), list.map((p) => p.number)],
    );
    for (const key of wanted.keys()) this.stored.set(key, false);
    for (const r of rows) this.stored.set(numberKey(r.providerId, r.number), true);
  }

  /** Whether an application at the provider has this number: stored, or created in this transaction. */
  async numberTaken(sql: Sql, providerId: string, number: string): Promise<boolean> {
    const key = numberKey(providerId, number);
    if (this.numbers.has(key)) return true;
    await this.readNumbers(sql, [{ providerId, number }]);
    return this.stored.get(key) === true;
  }

  /** A new application with its first event; the event. Its row must not exist (checked by the caller). */
  create(row: ApplicationData, event: NewServerEvent): EventData {
    const logged = nextEvent(event, null);
    this.entries.set(row.id, { row, lastEvent: logged, insert: true, update: false });
    this.numbers.add(numberKey(row.providerId, row.number));
    this.log(logged);
    return logged;
  }

  /** The application's row after a change, with the change's event chained after its head; the event. */
  update(row: ApplicationData, event: NewServerEvent): EventData {
    const entry = this.entries.get(row.id);
    if (!entry) throw new Error(`ApplicationState: application ${row.id} was not read`);
    const logged = nextEvent(event, entry.lastEvent);
    entry.row = row;
    entry.lastEvent = logged;
    if (!entry.insert) entry.update = true;
    this.log(logged);
    return logged;
  }

  /** The events this transaction recorded for the application (written or not), in order. */
  eventsOf(id: string): readonly EventData[] {
    return this.recorded.get(id) ?? [];
  }

  /**
   * Inserts the applications created and the events recorded since the last
   * call, in one statement. The changed applications' rows wait for
   * `writeRows` (with their feed versions); what is inserted here is what
   * other statements of the transaction may need to find meanwhile (a
   * signature's application).
   */
  async writeEvents(sql: Sql): Promise<void> {
    const inserts: ApplicationData[] = [];
    for (const entry of this.entries.values()) {
      if (entry?.insert) inserts.push(entry.row);
    }
    if (this.pending.length === 0 && inserts.length === 0) return;
    await sql.query(
      `WITH created AS (
         INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
           applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
           submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
           server_version)
         SELECT id, number, "portalNumber", "providerId", "serviceCode", channel, "applicantIin", "applicantBin",
                "applicantName", "regionKato", locality, status, decision, "responsibleUserId", "currentStep",
                "submittedAt", "statusChangedAt", "dueAt", "formData", "refusalReasonCode", "refusalText",
                "reworkComment", 0
           FROM jsonb_to_recordset($1::jsonb) AS r(id text, number text, "portalNumber" text, "providerId" text,
                "serviceCode" text, channel text, "applicantIin" text, "applicantBin" text, "applicantName" text,
                "regionKato" text, locality text, status text, decision text, "responsibleUserId" text,
                "currentStep" text, "submittedAt" bigint, "statusChangedAt" bigint, "dueAt" bigint, "formData" jsonb,
                "refusalReasonCode" text, "refusalText" text, "reworkComment" text)
       )
       INSERT INTO application_events (application_id, seq, at, actor_user_id, action, from_status, to_status,
         decision, comment, payload, device_id, device_seq, prev_hash, hash)
       SELECT "applicationId", seq, at, "actorUserId", action, "fromStatus", "toStatus", decision, comment, payload,
              "deviceId", "deviceSeq", "prevHash", hash
         FROM jsonb_to_recordset($2::jsonb) AS r("applicationId" text, seq integer, at bigint, "actorUserId" text,
              action text, "fromStatus" text, "toStatus" text, decision text, comment text, payload jsonb,
              "deviceId" uuid, "deviceSeq" bigint, "prevHash" text, hash text)`,
      [JSON.stringify(inserts), JSON.stringify(this.pending)],
    );
    for (const entry of this.entries.values()) {
      if (entry?.insert) {
        entry.insert = false;
        // Its row as inserted may have changed since (a transition in the same batch): written with the others.
        entry.update = true;
      }
    }
    this.pending = [];
  }

  /**
   * Writes the rows of the applications changed (or created) in this
   * transaction, each once in its latest state, with `versions` (id → the
   * feed version that holds it) as their server_version, in one statement.
   * Call after `writeEvents`, once the feed's versions are taken.
   */
  async writeRows(sql: Sql, versions: ReadonlyMap<string, number>): Promise<void> {
    if (this.pending.length > 0 || [...this.entries.values()].some((e) => e?.insert)) {
      throw new Error('ApplicationState: writeRows before writeEvents');
    }
    const rows: (ApplicationData & { v: number | null })[] = [];
    for (const [id, entry] of this.entries) {
      if (entry?.update || (entry && versions.has(id))) rows.push({ ...entry.row, v: versions.get(id) ?? null });
    }
    const unknown = [...versions.keys()].filter((id) => !this.entries.get(id));
    if (unknown.length > 0)
      throw new Error(`ApplicationState: versions for applications not held: ${unknown.join(', ')}`);
    if (rows.length === 0) return;
    await sql.query(
      `UPDATE applications a SET status = r.status, decision = r.decision, responsible_user_id = r."responsibleUserId",
              current_step = r."currentStep", due_at = r."dueAt", form_data = r."formData",
              refusal_reason_code = r."refusalReasonCode", refusal_text = r."refusalText",
              rework_comment = r."reworkComment", status_changed_at = r."statusChangedAt",
              server_version = coalesce(r.v, a.server_version)
         FROM jsonb_to_recordset($1::jsonb) AS r(id text, status text, decision text, "responsibleUserId" text,
              "currentStep" text, "dueAt" bigint, "formData" jsonb, "refusalReasonCode" text, "refusalText" text,
              "reworkComment" text, "statusChangedAt" bigint, v bigint)
        WHERE a.id = r.id`,
      [JSON.stringify(rows)],
    );
    for (const entry of this.entries.values()) {
      if (entry) entry.update = false;
    }
  }

  private log(event: EventData): void {
    this.pending.push(event);
    const list = this.recorded.get(event.applicationId);
    if (list) list.push(event);
    else this.recorded.set(event.applicationId, [event]);
  }
}
