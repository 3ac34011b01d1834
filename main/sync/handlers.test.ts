/**
 * Who may retry or discard a rejected change (the sync handlers, before the
 * engine acts): its author, named in the change's payload by the server's
 * rule (changeAuthorOf), or a head of the workstation's office; nobody
 * without a session.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '#db/connection.js';
import { ServiceError, type CallContext, type Principal } from '../rpc.js';
import type { SyncEngine } from './engine.js';
import { syncHandlers } from './handlers.js';
import { changeAuthor } from './outbox.js';
import type { SyncStatusService } from './status.js';

let database: OpenedDatabase;
const acted: string[] = [];
const engine = {
  providerId: () => 'p',
  retry: (seq: number) => (acted.push(`retry ${seq}`), {}),
  discard: (seq: number, _comment: string | undefined, by: string | null) => (acted.push(`discard ${seq} ${by}`), {}),
} as unknown as SyncEngine;
let handlers: ReturnType<typeof syncHandlers>;

function queue(payload: string, op = 'application.transition'): number {
  const r = database.sqlite
    .prepare(
      `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
       VALUES (?, 'application', 'app-1', ?, 1, 1, 0)`,
    )
    .run(op, payload);
  return Number(r.lastInsertRowid);
}

const as = (userId: string, role = 'executor', providerId = 'p'): CallContext => ({
  transport: 'bridge',
  principal: { userId, roles: [{ role, providerId }] } satisfies Principal,
});

async function refusal(run: () => unknown): Promise<string | null> {
  try {
    await run();
    return null;
  } catch (err) {
    if (err instanceof ServiceError) return err.messageKey;
    throw err;
  }
}

beforeAll(async () => {
  database = await openDatabase(join(mkdtempSync(join(tmpdir(), 'qyzmet-sync-handlers-')), 'qyzmet.db'));
  handlers = syncHandlers(engine, {} as SyncStatusService, database.sqlite);
});
afterAll(() => database.close());

describe('retry and discard', () => {
  it('reads the author by the op, as the server does, and nothing from a broken payload', () => {
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ event: { actorUserId: 'u-event' } })))).toBe('u-event');
    // A transition's author is its event's actor only: a payload field of another name is not taken.
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ actorUserId: 'u-actor' })))).toBeNull();
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ actorUserId: 'u-a' }), 'application.create'))).toBe(
      'u-a',
    );
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ userId: 'u-x', by: 'u-by' }), 'user.block'))).toBe(
      'u-by',
    );
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ userId: 'u-user' }), 'signature.add'))).toBe('u-user');
    expect(changeAuthor(database.sqlite, queue(JSON.stringify({ other: 1 })))).toBeNull();
    expect(changeAuthor(database.sqlite, queue('{not json'))).toBeNull();
    expect(changeAuthor(database.sqlite, 999_999)).toBeUndefined();
  });

  it('lets the author act on their change, refuses another executor, lets a head of this office', async () => {
    const seq = queue(JSON.stringify({ event: { actorUserId: 'u-1' } }));
    acted.length = 0;
    expect(await refusal(() => handlers['sync.retry']({ seq }, as('u-1')))).toBeNull();
    expect(await refusal(() => handlers['sync.discard']({ seq }, as('u-2')))).toBe('errors.sync.notYourChange');
    expect(await refusal(() => handlers['sync.retry']({ seq }, as('u-2')))).toBe('errors.sync.notYourChange');
    expect(await refusal(() => handlers['sync.discard']({ seq }, as('u-3', 'head')))).toBeNull();
    expect(acted).toEqual([`retry ${seq}`, `discard ${seq} u-3`]);
  });

  it("attack: an administrator (not the author, not a head here) discards another user's rejected change — refused", async () => {
    const seq = queue(JSON.stringify({ event: { actorUserId: 'u-1' } }));
    acted.length = 0;
    expect(await refusal(() => handlers['sync.discard']({ seq }, as('u-4', 'admin')))).toBe(
      'errors.sync.notYourChange',
    );
    expect(await refusal(() => handlers['sync.retry']({ seq }, as('u-4', 'admin', '')))).toBe(
      'errors.sync.notYourChange',
    );
    expect(acted).toEqual([]);
  });

  it("attack: a head of another office discards a change made at this office's workstation — refused", async () => {
    const seq = queue(JSON.stringify({ event: { actorUserId: 'u-1' } }));
    acted.length = 0;
    expect(await refusal(() => handlers['sync.discard']({ seq }, as('u-5', 'head', 'other-office')))).toBe(
      'errors.sync.notYourChange',
    );
    expect(acted).toEqual([]);
  });

  it('refuses without a session, and answers "not found" for a change that is not there', async () => {
    const seq = queue(JSON.stringify({ actorUserId: 'u-1' }));
    acted.length = 0;
    expect(await refusal(() => handlers['sync.retry']({ seq }, { transport: 'bridge', principal: null }))).toBe(
      'errors.auth.forbidden',
    );
    expect(await refusal(() => handlers['sync.discard']({ seq: 999_999 }, as('u-1', 'head')))).toBe(
      'errors.sync.notFound',
    );
    expect(acted).toEqual([]);
  });
});
