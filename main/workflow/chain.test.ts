import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHash, GENESIS_HASH } from '#core/workflow/chain.js';
import { readEvents, verifyChain } from './events.js';
import { EMPLOYMENT, insertApplication, openFixture, RESULT_DATA, type Fixture } from './testing.js';

let f: Fixture;

beforeAll(async () => {
  f = await openFixture({ applications: 20 });
});
afterAll(() => f.close());

const head = { id: EMPLOYMENT.head };
const executor = { id: EMPLOYMENT.executor };

/** An application with six chained events: received, assign, accept, save, decide, send. */
function walked(): string {
  const id = insertApplication(f.sqlite, {
    serviceCode: 'unemployed-certificate',
    providerId: EMPLOYMENT.provider,
    currentStep: 'head-assign',
  });
  let v = f.service.assignOne(id, 1, EMPLOYMENT.executor, head).version;
  v = f.service.accept(id, v, executor).version;
  v = f.service.save(id, v, RESULT_DATA, executor).version;
  v = f.service.decide(id, v, { decision: 'positive' }, executor).version;
  f.service.send(id, v, executor);
  return id;
}

function withoutTriggers(fn: () => void): void {
  f.sqlite.exec('DROP TRIGGER application_events_no_update; DROP TRIGGER application_events_no_delete;');
  try {
    fn();
  } finally {
    f.sqlite.exec(`
      CREATE TRIGGER application_events_no_update BEFORE UPDATE ON application_events
      BEGIN SELECT RAISE(ABORT, 'application_events is append-only'); END;
      CREATE TRIGGER application_events_no_delete BEFORE DELETE ON application_events
      BEGIN SELECT RAISE(ABORT, 'application_events is append-only'); END;`);
  }
}

describe('the hash chain', () => {
  it('links each event to the one before, from the genesis hash', () => {
    const id = walked();
    const events = readEvents(f.sqlite, id);
    expect(events).toHaveLength(6);
    expect(events[0]?.prevHash).toBe(GENESIS_HASH);
    events.forEach((e, i) => {
      expect(e.hash).toBe(eventHash(e));
      if (i > 0) expect(e.prevHash).toBe(events[i - 1]?.hash);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: true });
  });

  it('verifies the demo generator chains (its received events hash the same way)', () => {
    const ids = f.sqlite
      .prepare("SELECT id FROM applications WHERE number NOT LIKE 'T%'")
      .all()
      .map((r) => (r as { id: string }).id);
    expect(ids.length).toBe(20);
    for (const id of ids) {
      expect(readEvents(f.sqlite, id).map((e) => e.action)).toEqual(['received']);
      expect(verifyChain(f.sqlite, id)).toEqual({ ok: true });
    }
  });

  it('is append-only in the database itself', () => {
    const id = walked();
    expect(() =>
      f.sqlite.prepare("UPDATE application_events SET comment = 'x' WHERE application_id = ?").run(id),
    ).toThrow(/append-only/);
    expect(() => f.sqlite.prepare('DELETE FROM application_events WHERE application_id = ?').run(id)).toThrow(
      /append-only/,
    );
  });

  it('detects a changed event', () => {
    const id = walked();
    withoutTriggers(() => {
      f.sqlite
        .prepare("UPDATE application_events SET comment = 'nothing happened' WHERE application_id = ? AND seq = 3")
        .run(id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 3, reason: 'changed' });
  });

  it('detects a changed actor even when its hash was recomputed: the next event no longer links to it', () => {
    const id = walked();
    const e = readEvents(f.sqlite, id)[1];
    if (!e) throw new Error('no event 2');
    const forged = { ...e, actorUserId: EMPLOYMENT.clerk };
    withoutTriggers(() => {
      f.sqlite
        .prepare('UPDATE application_events SET actor_user_id = ?, hash = ? WHERE application_id = ? AND seq = 2')
        .run(forged.actorUserId, eventHash(forged), id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 2, reason: 'changed' });
  });

  it('detects a payload that is no longer JSON', () => {
    const id = walked();
    withoutTriggers(() => {
      f.sqlite
        .prepare("UPDATE application_events SET payload = '{broken' WHERE application_id = ? AND seq = 4")
        .run(id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 4, reason: 'changed' });
  });

  it('detects a deleted event in the middle', () => {
    const id = walked();
    withoutTriggers(() => {
      f.sqlite.prepare('DELETE FROM application_events WHERE application_id = ? AND seq = 4').run(id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 4, reason: 'missing' });
  });

  it('detects a deleted first event', () => {
    const id = walked();
    withoutTriggers(() => {
      f.sqlite.prepare('DELETE FROM application_events WHERE application_id = ? AND seq = 1').run(id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 1, reason: 'missing' });
  });

  it('detects a deleted last event against the application version', () => {
    const id = walked();
    withoutTriggers(() => {
      f.sqlite.prepare('DELETE FROM application_events WHERE application_id = ? AND seq = 6').run(id);
    });
    expect(verifyChain(f.sqlite, id)).toEqual({ ok: false, brokenAtSeq: 6, reason: 'missing' });
    // The card says so too.
    expect(f.service.card(id, head).chain).toEqual({ ok: false, brokenAtSeq: 6, reason: 'missing' });
  });
});
