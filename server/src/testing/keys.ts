/**
 * The workstation's side of user keys, reduced for server tests and the load
 * run: log a user in online at a device (POST /v1/auth/check) to get their
 * key, and authenticate changes with their authors' keys
 * (core/auth/change-key.ts), so a test's push reads like a workstation's.
 */
import { changeAuthorOf, changeMac } from '#core/auth/change-key.js';
import { checkAnswer, type Change, type DirectoryUser, type UserKey } from '#core/protocol.js';
import type { Sql } from '../postgres/sql.js';

/** The keys a device holds, by user. */
export class KeyRing {
  private readonly keys = new Map<string, UserKey>();

  constructor(readonly deviceId: string) {}

  add(userId: string, key: UserKey): void {
    this.keys.set(userId, key);
  }

  get(userId: string): UserKey | undefined {
    return this.keys.get(userId);
  }

  /** `change` with its MAC under `key` (default: the key of the author its payload names), as is when there is none. */
  authorize(change: Change, key?: UserKey): Change {
    const author = changeAuthorOf(change.op, change.payload);
    const k = key ?? (author === null ? undefined : this.keys.get(author));
    if (!k) return change;
    const { auth: _ignored, ...fields } = change;
    const mac = changeMac(Buffer.from(k.secret, 'base64'), this.deviceId, fields);
    return { ...fields, auth: { keyId: k.id, mac } };
  }

  authorizeAll(changes: readonly Change[]): Change[] {
    return changes.map((c) => this.authorize(c));
  }
}

/**
 * Logs `login` in with a password at the device whose access token is
 * `token`: the user and their new key. Throws when the server says no.
 */
export async function loginOnline(
  serverUrl: string,
  token: string,
  login: string,
  password: string,
  fetchFn: typeof fetch = fetch,
): Promise<{ user: DirectoryUser; key: UserKey }> {
  const res = await fetchFn(new URL('/v1/auth/check', serverUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ kind: 'password', login, password }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`login ${login}: HTTP ${res.status} ${text}`);
  const answer = checkAnswer.parse(JSON.parse(text));
  if (!answer.ok) throw new Error(`login ${login}: ${answer.reason}`);
  if (!answer.key) throw new Error(`login ${login}: no key in the answer`);
  return { user: answer.user, key: answer.key };
}

/** Logs each of `logins` in at the device and puts their keys on `ring`. */
export async function loginAll(
  serverUrl: string,
  token: string,
  ring: KeyRing,
  logins: readonly { login: string; password: string }[],
): Promise<void> {
  for (const l of logins) {
    const { user, key } = await loginOnline(serverUrl, token, l.login, l.password);
    ring.add(user.id, key);
  }
}

/** The logins of users `ids` (a test knows the demo's users by id). */
export async function loginsOf(sql: Sql, ids: readonly string[]): Promise<string[]> {
  const rows = await sql.query<{ id: string; login: string }>(
    'SELECT id, login FROM users WHERE id = ANY($1::text[])',
    [[...ids]],
  );
  return ids.map((id) => {
    const row = rows.find((r) => r.id === id);
    if (!row) throw new Error(`no user ${id}`);
    return row.login;
  });
}
