import { describe, expect, it } from 'vitest';
import {
  checkPasswordPolicy,
  DEFAULT_SCRYPT,
  DEMO_PASSWORD,
  demoPasswordHashes,
  hashPassword,
  needsRehash,
  parseHash,
  temporaryPassword,
  verifyPassword,
} from './passwords.js';
import { TEST_SCRYPT } from '../testing.js';

describe('password hashes', () => {
  it('stores scrypt with its costs and a salt of its own, and verifies only the right password', async () => {
    const a = await hashPassword('Qyzmet2026', TEST_SCRYPT);
    const b = await hashPassword('Qyzmet2026', TEST_SCRYPT);
    expect(a).toMatch(/^\$scrypt\$ln=10,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('Qyzmet2026');
    expect(await verifyPassword('Qyzmet2026', a)).toBe(true);
    expect(await verifyPassword('Qyzmet2026', b)).toBe(true);
    expect(await verifyPassword('qyzmet2026', a)).toBe(false);
    expect(await verifyPassword('Qyzmet2026 ', a)).toBe(false);
  });

  it('takes a letter typed precomposed or decomposed (й, ё) as the same password', async () => {
    const composed = 'Сәйкес2026ё'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    expect(await verifyPassword(decomposed, await hashPassword(composed, TEST_SCRYPT))).toBe(true);
  });

  it('never matches a missing, malformed or unreasonably costly hash', async () => {
    expect(await verifyPassword('', null)).toBe(false);
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    const good = await hashPassword('Secret123', TEST_SCRYPT);
    const costly = good.replace('ln=10', 'ln=30');
    expect(parseHash(costly)).toBeNull();
    expect(await verifyPassword('Secret123', costly)).toBe(false);
  });

  it('asks for a rehash of hashes weaker than the current costs', async () => {
    const weak = await hashPassword('Secret123', TEST_SCRYPT);
    expect(needsRehash(weak, DEFAULT_SCRYPT)).toBe(true);
    expect(needsRehash(weak, TEST_SCRYPT)).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });

  it('gives each demo user its own hash of the demo password', async () => {
    const hashes = demoPasswordHashes(['a', 'b']);
    expect(new Set(hashes.values()).size).toBe(2);
    expect(parseHash(hashes.get('a')!)?.params).toEqual(DEFAULT_SCRYPT);
    expect(await verifyPassword(DEMO_PASSWORD, hashes.get('b')!)).toBe(true);
  });
});

describe('password policy', () => {
  const base = { login: 'a.sapar', iin: '900101300017' };

  it('accepts 8+ characters with letters and digits', () => {
    expect(checkPasswordPolicy({ ...base, password: 'Sapar2026', repeat: 'Sapar2026' })).toEqual([]);
    expect(checkPasswordPolicy({ ...base, password: 'Құпиясөз7' })).toEqual([]);
  });

  it.each([
    ['Sa2026', ['tooShort']],
    ['sapardaulet', ['noDigit']],
    ['2026202620', ['noLetter']],
    ['A.SAPAR1', []],
    ['x900101300017', ['sameAsIin']],
    ['a' + '1'.repeat(128), ['tooLong']],
  ])('%s breaks %j', (password, rules) => {
    expect(checkPasswordPolicy({ ...base, password })).toEqual(rules);
  });

  it('refuses the login itself, the current password and a repeat that differs', () => {
    expect(checkPasswordPolicy({ login: 'sapar2026', password: 'SAPAR2026' })).toEqual(['sameAsLogin']);
    expect(checkPasswordPolicy({ ...base, password: 'Sapar2026', current: 'Sapar2026' })).toEqual(['sameAsCurrent']);
    expect(checkPasswordPolicy({ ...base, password: 'Sapar2026', repeat: 'Sapar2027' })).toEqual(['repeatMismatch']);
  });
});

describe('temporary passwords', () => {
  it('pass the policy and avoid look-alike characters', () => {
    for (let i = 0; i < 200; i++) {
      const p = temporaryPassword();
      expect(p).toHaveLength(12);
      expect(checkPasswordPolicy({ password: p })).toEqual([]);
      expect(p).not.toMatch(/[0O1lI]/);
    }
  });
});
