/**
 * The kind each call states, against the list below (written out by hand: it
 * is the specification the contract must meet). Main derives from the kinds
 * which calls keep working on a damaged database and which do not count as
 * the user's activity.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { callKind, CHANNELS, isReadOnly, type CallKind, type CallSpec, type Channel } from '../api.js';

/** The app's own polls: not the user's activity (the idle lock), and allowed on a damaged database. */
const POLLS: readonly Channel[] = [
  'app.info',
  'session.current',
  'preferences.get',
  'sync.status',
  'sync.details',
  'auth.session',
  'auth.edsTokens',
  'signing.tokens',
  'signing.progress',
  'export.progress',
];

/** Reads, and calls that only start or end something in memory: allowed on a damaged database. */
const READS: readonly Channel[] = [
  'catalogue.list',
  'journal.list',
  'profile.get',
  'signing.cancel',
  'signing.close',
  'export.cancel',
  'application.card',
  'application.preview',
  'documents.pdf',
  'documents.check',
  'application.verifyChain',
  'staff.list',
  'monitoring.report',
  'auth.edsOpen',
  'auth.edsCancel',
  'auth.loginPassword',
  'auth.loginEds',
  'auth.logout',
  'auth.lock',
  'auth.unlock',
  'admin.users',
];

function expected(channel: Channel): CallKind {
  if (POLLS.includes(channel)) return 'poll';
  return READS.includes(channel) ? 'read' : 'write';
}

describe('call kinds', () => {
  it('every call states the kind the specification gives it', () => {
    for (const c of [...POLLS, ...READS]) expect(CHANNELS).toContain(c);
    for (const c of CHANNELS) expect(callKind(c), c).toBe(expected(c));
  });

  it('refuses on a damaged database exactly the writes', () => {
    const writes = CHANNELS.filter((c) => !isReadOnly(callKind(c)));
    expect(writes).toContain('preferences.set');
    expect(writes).toContain('signing.start');
    expect(writes.sort()).toEqual(CHANNELS.filter((c) => expected(c) === 'write').sort());
    expect(writes).toHaveLength(CHANNELS.length - POLLS.length - READS.length);
  });

  it('does not compile an entry that does not state its kind', () => {
    const fragment = {
      // @ts-expect-error: 'kind' is missing (the typecheck refuses the fragment)
      'example.call': { input: z.strictObject({}), output: z.strictObject({}) },
    } as const satisfies Record<string, CallSpec>;
    expect(Object.keys(fragment)).toEqual(['example.call']);
  });
});
