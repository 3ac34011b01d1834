/**
 * What every entry of the contract states besides its schemas: whether the
 * call reads or writes local data. Main derives from it which calls keep
 * working once the database check has failed, and which calls are the app's
 * own polling rather than the user's activity (the idle lock does not count
 * those). Every fragment is checked against `CallSpec`, so a new call that
 * does not say its kind does not compile.
 */
import type { z } from 'zod';

/**
 * - 'read': looks at local data, or only starts or ends something held in memory (a session, an opened key);
 *   it keeps working on a damaged database.
 * - 'poll': a read the app makes on its own (status, progress, the session): not the user's activity.
 * - 'write': changes local data (or starts something that will); refused once the database is damaged.
 */
export type CallKind = 'read' | 'poll' | 'write';

export interface CallSpec {
  kind: CallKind;
  input: z.ZodType;
  output: z.ZodType;
}

/** Calls that change no local data: every kind but 'write'. */
export function isReadOnly(kind: CallKind): boolean {
  return kind !== 'write';
}
