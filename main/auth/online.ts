/**
 * What login needs from the central server: a fresh challenge for an EDS
 * login, and a check of a login (password or signed challenge) or of a
 * session started offline. The server's endpoints come with the sync issue;
 * until then `unreachableOnlineAuth` stands in, and every login follows the
 * offline rules (and its session is marked offline).
 *
 * An implementation throws `OnlineUnreachable` when the server cannot be
 * asked (no network, timeout, 5xx); any answer the server gives is a verdict.
 */
import type { LoginChallenge } from '#core/auth/challenge.js';
import type { DirectoryUser, UserKey } from '#core/protocol.js';

export type { DirectoryUser };

/** A challenge made by the server for this device. */
export type OnlineChallenge = LoginChallenge;

export type OnlineCheck =
  | {
      kind: 'password';
      deviceId: string;
      login: string;
      /** UTF-8 bytes, wiped by the caller as soon as `check` settles. */
      password: Uint8Array;
    }
  | {
      kind: 'eds';
      deviceId: string;
      challenge: OnlineChallenge;
      /** The exact bytes signed (the challenge document). */
      signed: Uint8Array;
      signature: Uint8Array;
      certificate: Uint8Array;
    }
  /** Is the user of a session started offline still allowed? */
  | { kind: 'recheck'; deviceId: string; userId: string };

/**
 * Why the server refused. The last three are an EDS login's: the challenge
 * was not a live one of this device, the signature did not check, or the
 * certificate was refused (`detail`: the signer's error code, e.g. certRevoked).
 */
export type OnlineRefusal =
  | 'wrongLoginOrPassword'
  | 'userNotFound'
  | 'userBlocked'
  | 'challengeExpired'
  | 'signatureInvalid'
  | 'certificateRejected'
  /** Too many failed passwords of this login: until an administrator unblocks the user. */
  | 'locked';

/** `key`: the user key a password or EDS login brings (core/auth/change-key.ts); a secret, never logged. */
export type OnlineVerdict =
  { ok: true; user: DirectoryUser; key?: UserKey } | { ok: false; reason: OnlineRefusal; detail?: string };

export interface OnlineAuth {
  challenge(deviceId: string): Promise<OnlineChallenge>;
  check(request: OnlineCheck): Promise<OnlineVerdict>;
}

/** The server could not be asked; the caller falls back to the offline rules. */
export class OnlineUnreachable extends Error {
  constructor(reason = 'unreachable') {
    super(`central server: ${reason}`);
    this.name = 'OnlineUnreachable';
  }
}

/** The server refuses tries of this login (or from this place) for `retryAfterMs` more: a wait, not a fallback. */
export class OnlineWait extends Error {
  constructor(readonly retryAfterMs: number) {
    super('central server: too many attempts');
    this.name = 'OnlineWait';
  }
}

/** Until the central server has its login endpoints: never reachable. */
export const unreachableOnlineAuth: OnlineAuth = {
  challenge: () => Promise.reject(new OnlineUnreachable('no login endpoints yet')),
  check: () => Promise.reject(new OnlineUnreachable('no login endpoints yet')),
};
