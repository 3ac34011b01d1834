/**
 * Passwords: scrypt hashes with a per-user salt, the cost parameters kept in
 * the stored string (`$scrypt$ln=17,r=8,p=1$<salt>$<hash>`, base64 without
 * padding), a constant-time compare, the password policy, and temporary
 * passwords for an administrator's reset.
 *
 * A password arrives as a string (from the contract) and is turned into a
 * UTF-8 buffer (NFC first, so a Kazakh letter typed precomposed or not is the
 * same password) that is wiped once hashed. Nothing here logs or keeps one.
 * Hashing runs on libuv's thread pool (`crypto.scrypt`), never blocking the
 * main process; only `hashPasswordSync` (the demo generator's) blocks.
 */
import { randomBytes, randomInt, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { PasswordRule } from './password-rules.js';

export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  ln: number;
  r: number;
  p: number;
}

/**
 * OWASP's scrypt minimum (N=2^17, r=8, p=1): 128 MiB and ~300 ms a hash on
 * an office desktop. Hashes stored with less are redone at the next
 * successful login (needsRehash).
 */
export const DEFAULT_SCRYPT: ScryptParams = { ln: 17, r: 8, p: 1 };
const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Stored strings with costs beyond these are refused rather than run (a crafted row must not hang the app). */
const LIMITS = { ln: [10, 20], r: [1, 32], p: [1, 16] } as const;
/** Nor with more than this memory (128·N·r bytes): twice the default's, so a crafted row cannot exhaust the server's memory. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,64})\$([A-Za-z0-9+/]{32,128})$/;

export interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  hash: Buffer;
}

export function parseHash(stored: string): ParsedHash | null {
  const m = FORMAT.exec(stored);
  if (!m) return null;
  const params = { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  for (const k of ['ln', 'r', 'p'] as const) {
    const [min, max] = LIMITS[k];
    if (params[k] < min || params[k] > max) return null;
  }
  if (scryptMemory(params) > MAX_SCRYPT_MEMORY) return null;
  return { params, salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

function b64(buf: Buffer): string {
  return buf.toString('base64').replace(/=+$/, '');
}

/** The bytes one scrypt of `params` holds (its big array: 128·N·r). */
export function scryptMemory(params: ScryptParams): number {
  return 128 * 2 ** params.ln * params.r;
}

function options(params: ScryptParams): ScryptOptions {
  // Node refuses above maxmem (32 MiB by default): the default's 128 MiB needs it raised, with room for the rest.
  return {
    N: 2 ** params.ln,
    r: params.r,
    p: params.p,
    maxmem: scryptMemory(params) + 128 * params.r * params.p + 1024 * 1024,
  };
}

/** The password's bytes (NFC, UTF-8), in a buffer the caller wipes. */
export function passwordBytes(password: string): Buffer {
  return Buffer.from(password.normalize('NFC'), 'utf8');
}

function derive(password: Buffer, salt: Buffer, params: ScryptParams, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, options(params), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function format(params: ScryptParams, salt: Buffer, hash: Buffer): string {
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** A new hash of `password` with a fresh salt. */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const bytes = passwordBytes(password);
  try {
    const salt = randomBytes(SALT_LENGTH);
    return format(params, salt, await derive(bytes, salt, params, KEY_LENGTH));
  } finally {
    bytes.fill(0);
  }
}

/** The same, blocking: for the demo generator only (a handful of users, before the app serves anyone). */
export function hashPasswordSync(password: string, params: ScryptParams = DEFAULT_SCRYPT): string {
  const bytes = passwordBytes(password);
  try {
    const salt = randomBytes(SALT_LENGTH);
    return format(params, salt, scryptSync(bytes, salt, KEY_LENGTH, options(params)));
  } finally {
    bytes.fill(0);
  }
}

/**
 * Whether `password` matches `stored`, compared in constant time. A missing or
 * malformed hash never matches, and costs a scrypt with `params` (the ones
 * real hashes have), so an unknown user takes as long to refuse as a wrong
 * password.
 */
export async function verifyPassword(
  password: string,
  stored: string | null,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<boolean> {
  const parsed = stored ? parseHash(stored) : null;
  const target = parsed ?? { params, salt: randomBytes(SALT_LENGTH), hash: randomBytes(KEY_LENGTH) };
  const bytes = passwordBytes(password);
  try {
    const got = await derive(bytes, target.salt, target.params, target.hash.length);
    return timingSafeEqual(got, target.hash) && parsed !== null;
  } finally {
    bytes.fill(0);
  }
}

/** A stored hash made with weaker costs than `params` (or unreadable): rehash at the next successful login. */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  return parsed.params.ln < params.ln || parsed.params.r < params.r || parsed.params.p < params.p;
}

// ------------------------------------------------------------------ policy ---

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

export interface PolicyInput {
  password: string;
  repeat?: string;
  login?: string;
  iin?: string;
  current?: string;
}

/**
 * The rules `password` breaks, in a stable order (empty: acceptable): at
 * least 8 characters, a letter and a digit, not the login or the IIN, not
 * the current password, and the repeat equal to it.
 */
export function checkPasswordPolicy(input: PolicyInput): PasswordRule[] {
  const p = input.password.normalize('NFC');
  const broken: PasswordRule[] = [];
  const length = [...p].length;
  if (length < PASSWORD_MIN_LENGTH) broken.push('tooShort');
  if (length > PASSWORD_MAX_LENGTH) broken.push('tooLong');
  if (!/\p{L}/u.test(p)) broken.push('noLetter');
  if (!/\p{Nd}/u.test(p)) broken.push('noDigit');
  const folded = p.toLocaleLowerCase('kk');
  if (input.login && folded === input.login.normalize('NFC').toLocaleLowerCase('kk')) broken.push('sameAsLogin');
  if (input.iin && p.includes(input.iin)) broken.push('sameAsIin');
  if (input.current !== undefined && p === input.current.normalize('NFC')) broken.push('sameAsCurrent');
  if (input.repeat !== undefined && p !== input.repeat.normalize('NFC')) broken.push('repeatMismatch');
  return broken;
}

// ------------------------------------------------------- temporary ones ---

/** No 0/O, 1/l/I: read aloud or copied from paper without mistakes. */
const LETTERS = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';

/** A random temporary password of `length` characters that passes the policy (letters and digits). */
export function temporaryPassword(length = 12): string {
  const all = LETTERS + DIGITS;
  const chars = Array.from({ length }, () => all[randomInt(all.length)]!);
  // At least one letter and one digit, at random places.
  const i = randomInt(length);
  let j = randomInt(length - 1);
  if (j >= i) j++;
  chars[i] = LETTERS[randomInt(LETTERS.length)]!;
  chars[j] = DIGITS[randomInt(DIGITS.length)]!;
  return chars.join('');
}

// -------------------------------------------------------------------- demo ---

/** The password every demo user gets (README and the e2e tests log in with it). */
export const DEMO_PASSWORD = 'Qyzmet2026';

/**
 * Hashes for the demo users: one scrypt per user (each with its own salt), at
 * the full cost: about a third of a second each. Blocking, for the
 * synchronous demo generator.
 */
export function demoPasswordHashes(userIds: readonly string[], password = DEMO_PASSWORD): Map<string, string> {
  return new Map(userIds.map((id) => [id, hashPasswordSync(password)]));
}
