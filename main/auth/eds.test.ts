/**
 * Login with EDS through dispatch and the gate: real key files and a real
 * SoftHSM2 token from the tests' own CA, the real signer (chain, validity,
 * key usage, revocation from the cached CRL), a real local database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Pkcs11Client, Signer, type SigningKey } from '#signing/index.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from '#signing/testing/softhsm.js';
import { standardPeople, TestPki, type Person } from '#signing/testing/pki.js';
import { verifyChallengeSignature } from '#core/auth/challenge.js';
import type { OnlineAuth, OnlineCheck } from './online.js';
import type { AuthSigner } from './service.js';
import { THROTTLE_SETTING } from './throttle.js';
import { addUser, DAY, harness, testDatabase, testIin, type TestDb } from './testing.js';

const KEY_PASSWORD = 'Kilt-2026';
const PIN = '482916';
const missing = softHsmMissing();
if (missing) console.warn(`eds.test: SoftHSM2 tests skipped: ${missing}`);

let db: TestDb;
let pki: TestPki;
let signer: Signer;
let hsm: SoftHsm | null = null;
const files: Record<string, string> = {};
let signatures = 0;

/** The signer, counting every signature its keys make. */
let counting: AuthSigner;

const IIN = {
  person: '900101300017', // standardPeople: auth and sign
  org: testIin(201),
  stranger: testIin(202),
  blocked: testIin(203),
  stale: testIin(204),
};

function source(name: string, password = KEY_PASSWORD) {
  return { source: { kind: 'keyfile', fileName: `AUTH_RSA256_${name}.p12`, data: files[name], password } };
}

beforeAll(async () => {
  db = await testDatabase(30);
  for (const iin of Object.values(IIN)) {
    const taken = db.sqlite.prepare('SELECT count(*) AS n FROM users WHERE iin = ?').get(iin) as { n: number };
    expect(taken.n, iin).toBe(0);
  }
  const [p0, , p2] = db.providers;
  const bin = (id: string) =>
    (db.sqlite.prepare('SELECT bin FROM providers WHERE id = ?').get(id) as { bin: string }).bin;
  addUser(db, {
    id: 'eds-person',
    login: 'eds.person',
    iin: IIN.person,
    roles: [{ role: 'executor', providerId: p0!.id }],
    password: null,
  });
  addUser(db, { id: 'eds-org', login: 'eds.org', iin: IIN.org, roles: [{ role: 'head', providerId: p0!.id }] });
  addUser(db, {
    id: 'eds-blocked',
    login: 'eds.blocked',
    iin: IIN.blocked,
    roles: [{ role: 'clerk', providerId: p0!.id }],
    blocked: true,
  });
  addUser(db, {
    id: 'eds-stale',
    login: 'eds.stale',
    iin: IIN.stale,
    roles: [{ role: 'clerk', providerId: p0!.id }],
    lastOnlineLoginAt: db.clock.now() - 20 * DAY,
  });

  pki = new TestPki(join(db.dir, 'pki'));
  const people = standardPeople(pki);
  const auth = (name: string, iin: string, extra: Partial<Parameters<TestPki['issue']>[0]> = {}): Person =>
    pki.issue({ name, surname: 'ТЕСТОВА', firstName: 'АЙГҮЛ', iin, purpose: 'auth', roles: ['individual'], ...extra });
  const keyfile = (name: string, person: Person) => {
    files[name] = pki.p12(person, KEY_PASSWORD, { legacy: true }).toString('base64');
  };
  keyfile('person', people.auth);
  keyfile('personSign', people.sign);
  keyfile(
    'org',
    auth('org-auth', IIN.org, { bin: bin(p0!.id), organisation: 'ГУ', roles: ['legalEntity', 'employee'] }),
  );
  keyfile(
    'orgElsewhere',
    auth('org-elsewhere', IIN.org, { bin: bin(p2!.id), organisation: 'ТОО', roles: ['legalEntity'] }),
  );
  keyfile('stranger', auth('stranger', IIN.stranger));
  keyfile('blocked', auth('blocked', IIN.blocked));
  keyfile('stale', auth('stale', IIN.stale));
  keyfile(
    'expired',
    auth('expired', IIN.person, { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) }),
  );
  const revoked = auth('revoked', IIN.person);
  keyfile('revoked', revoked);
  pki.revoke(revoked);

  const trust = join(db.dir, 'trust');
  mkdirSync(trust);
  writeFileSync(join(trust, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trust, 'ca.pem'), pki.ca.certPem);
  const crlDir = join(db.dir, 'crl');
  mkdirSync(crlDir);
  writeFileSync(join(crlDir, 'ca.crl'), pki.crl(24));

  if (!missing) {
    hsm = createSoftHsm(join(db.dir, 'softhsm'));
    hsm.initToken('AUTH TOKEN', '11223344', PIN);
    hsm.importKey('AUTH TOKEN', PIN, {
      keyPem: people.auth.keyPem,
      certDer: people.auth.certDer,
      id: 'a1',
      label: 'auth',
    });
    hsm.importKey('AUTH TOKEN', PIN, {
      keyPem: people.sign.keyPem,
      certDer: people.sign.certDer,
      id: 'b2',
      label: 'sign',
    });
  }
  signer = await Signer.create({
    trustDirs: [trust],
    crlDir,
    online: () => false,
    ocsp: false,
    fetchCrl: false,
    includeDefaultModules: false,
    ...(hsm ? { modules: [hsm.module], pkcs11: new Pkcs11Client() } : {}),
  });
  const counted = (key: SigningKey): SigningKey => ({
    source: key.source,
    label: key.label,
    certificate: key.certificate,
    chain: key.chain,
    algorithm: key.algorithm,
    sign: (data) => {
      signatures += 1;
      return key.sign(data);
    },
  });
  counting = {
    listTokens: () => signer.listTokens(),
    openKeyFile: async (d, p, a) => {
      const o = await signer.openKeyFile(d, p, a);
      return { key: counted(o.key), close: o.close };
    },
    openToken: async (t, k, pin) => {
      const o = await signer.openToken(t, k, pin);
      return { key: counted(o.key), close: o.close };
    },
    facts: (c) => signer.facts(c),
    check: (c, o) => signer.check(c, o),
  };
}, 180_000);

afterAll(async () => {
  await signer?.close();
  db?.close();
});

beforeEach(() => {
  db.sqlite.prepare('DELETE FROM settings WHERE key = ?').run(THROTTLE_SETTING);
});

const eds = (options: Parameters<typeof harness>[1] = {}) => harness(db, { signer: counting, ...options });

describe('login with a key file', () => {
  it('shows whose certificate it is before signing, then signs a fresh challenge and logs in', async () => {
    const h = eds();
    const before = signatures;
    const opened = await h.call('auth.edsOpen', source('person'));
    expect(opened.certificate).toMatchObject({ iin: IIN.person, purpose: 'auth', commonName: 'ТЕСТОВ ТЕСТ' });
    expect(signatures).toBe(before);
    const s = await h.call('auth.loginEds', { handle: opened.handle });
    expect(s).toMatchObject({
      user: { id: 'eds-person' },
      method: 'keyfile',
      offline: true,
      mustChangePassword: false,
    });
    expect(signatures).toBe(before + 1);
    // The handle was used up.
    await h.call('auth.logout');
    expect((await h.fail('auth.loginEds', { handle: opened.handle })).code).toBe('edsNotOpen');
  });

  it('logs in in one step with the key file and its password', async () => {
    expect(await eds().call('auth.loginEds', source('org'))).toMatchObject({ user: { id: 'eds-org' } });
  });

  it('a wrong key file password', async () => {
    expect(await eds().fail('auth.edsOpen', source('person', 'wrong'))).toEqual({
      code: 'wrongPassword',
      messageKey: 'errors.signing.wrongPassword',
      details: {},
    });
  });

  it('a signing key is refused before it signs anything', async () => {
    const before = signatures;
    const h = eds();
    expect(await h.fail('auth.edsOpen', source('personSign'))).toMatchObject({
      code: 'wrongKeyUsage',
      messageKey: 'errors.signing.wrongKeyUsage',
      details: { needed: 'auth' },
    });
    expect((await h.fail('auth.loginEds', source('personSign'))).code).toBe('wrongKeyUsage');
    expect(signatures).toBe(before);
  });

  it.each([
    ['expired', 'certExpired'],
    ['revoked', 'certRevoked'],
  ])('an %s certificate: %s', async (name, code) => {
    const e = await eds().fail('auth.loginEds', source(name));
    expect(e.code).toBe(code);
    expect(e.messageKey).toBe(`errors.signing.${code}`);
  });

  it('a certificate of an unregistered IIN, or of an organisation the user does not work for: user not found', async () => {
    const h = eds();
    expect(await h.fail('auth.loginEds', source('stranger'))).toEqual({
      code: 'userNotFound',
      messageKey: 'messages.userNotFound',
    });
    expect((await h.fail('auth.loginEds', source('orgElsewhere'))).code).toBe('userNotFound');
    expect((await h.call('auth.session')).user).toBeNull();
  });

  it('a blocked user, and one whose offline window has passed', async () => {
    const h = eds();
    expect((await h.fail('auth.loginEds', source('blocked'))).code).toBe('userBlocked');
    expect(await h.fail('auth.loginEds', source('stale'))).toMatchObject({
      code: 'offlineWindowPassed',
      details: { days: '14' },
    });
  });

  it('online: the central server gives the challenge, checks the signature and maps the user', async () => {
    const asked: OnlineCheck[] = [];
    const server: OnlineAuth = {
      challenge: (deviceId) =>
        Promise.resolve({
          nonce: `server-nonce-for-${deviceId}`,
          issuedAt: db.clock.now(),
          expiresAt: db.clock.now() + 60_000,
        }),
      check: (req) => {
        asked.push(req);
        return Promise.resolve({
          ok: true,
          user: {
            id: 'eds-person',
            login: 'eds.person',
            fullName: 'Тестов Тест',
            iin: IIN.person,
            blocked: false,
            mustChangePassword: false,
            roles: [{ role: 'executor', providerId: db.providers[0]!.id }],
          },
        });
      },
    };
    const h = eds({ online: server, isOnline: () => true });
    expect(await h.call('auth.loginEds', source('person'))).toMatchObject({
      offline: false,
      user: { id: 'eds-person' },
    });
    const req = asked[0];
    if (req?.kind !== 'eds') throw new Error('no EDS check reached the server');
    const doc = JSON.parse(Buffer.from(req.signed).toString('utf8')) as Record<string, string>;
    expect(doc).toMatchObject({
      purpose: 'qyzmet-login',
      nonce: `server-nonce-for-${h.auth.deviceId}`,
      deviceId: h.auth.deviceId,
    });
    expect(verifyChallengeSignature(req.signed, req.signature, req.certificate)).toBe(true);
    // A changed challenge does not verify.
    const forged = Buffer.from(req.signed);
    forged.writeUInt8(forged.readUInt8(forged.length - 3) ^ 1, forged.length - 3);
    expect(verifyChallengeSignature(forged, req.signature, req.certificate)).toBe(false);
  });

  it('unlocks a key file session with the same key, not with someone else’s', async () => {
    const h = eds();
    await h.call('auth.loginEds', source('org'));
    await h.call('auth.lock');
    const other = source('person');
    expect(await h.fail('auth.unlock', { source: other.source })).toEqual({
      code: 'otherUser',
      messageKey: 'errors.auth.otherUser',
    });
    expect((await h.call('auth.unlock', { source: source('org').source })).locked).toBe(false);
  });
});

describe.skipIf(missing !== null)('login with a token (SoftHSM2)', () => {
  async function token() {
    const { tokens } = await eds().call('auth.edsTokens');
    const t = tokens.find((x) => x.label === 'AUTH TOKEN');
    if (!t) throw new Error('the token is not listed');
    return t;
  }

  it('lists the token’s keys with whose certificates they are, before any PIN', async () => {
    const t = await token();
    expect(t.keys.map((k) => [k.keyId, k.certificate.purpose, k.certificate.iin])).toEqual(
      expect.arrayContaining([
        ['a1', 'auth', IIN.person],
        ['b2', 'sign', IIN.person],
      ]),
    );
  });

  it('a wrong PIN (with the tries-left message), the signing key refused, the right PIN logs in; unlock by PIN', async () => {
    const t = await token();
    const h = eds();
    const wrong = await h.fail('auth.loginEds', {
      source: { kind: 'token', tokenId: t.id, keyId: 'a1', pin: '000000' },
    });
    expect(wrong.code).toBe('pinIncorrect');
    expect(wrong.messageKey).toMatch(/^errors\.signing\.pinIncorrect/);
    expect(
      (await h.fail('auth.loginEds', { source: { kind: 'token', tokenId: t.id, keyId: 'b2', pin: PIN } })).code,
    ).toBe('wrongKeyUsage');
    const s = await h.call('auth.loginEds', { source: { kind: 'token', tokenId: t.id, keyId: 'a1', pin: PIN } });
    expect(s).toMatchObject({ user: { id: 'eds-person' }, method: 'token' });

    await h.call('auth.lock');
    expect((await h.fail('auth.unlock', { pin: '000000' })).code).toBe('pinIncorrect');
    expect((await h.call('auth.unlock', { pin: PIN })).locked).toBe(false);
  });
});
