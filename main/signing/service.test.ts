/**
 * Signing as the renderer reaches it (createApp + dispatch): a real SoftHSM2
 * token through the worker thread, key files of the tests' CA, a real local
 * database with demo applications, the CRL cached for offline use.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchProgress, CallError, TokenInfo } from '#preload/api.js';
import { DEMO_HEAD, DEMO_USERS } from '#demo/generate.js';
import { DEMO_PASSWORD } from '../auth/demo.js';
import { createApp, type AppServices } from '../app.js';
import { dispatch } from '../rpc.js';
import { SigningService, type SignerBackend } from './service.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from '#signing/testing/softhsm.js';
import { TestPki, type Person } from '#signing/testing/pki.js';

const ROOT = join(import.meta.dirname, '..', '..');
const PIN = '592817';
const PASSWORD = 'kilt-2026';

const missing = softHsmMissing();
if (missing) console.warn(`service.test: SoftHSM2 tests skipped: ${missing}`);

let app: AppServices;
let pki: TestPki;
let hsm: SoftHsm;
let dir: string;
let ids: string[];
/** The head's applications On signing (the batch signs and completes these) and some in other statuses. */
let onSigning: string[];
let notOnSigning: string[];
let completed: string[];
const keyFiles: Record<string, string> = {};

async function call<T>(channel: Parameters<typeof dispatch>[1], input: unknown): Promise<T> {
  const r = await dispatch(app.handlers, channel, input, { transport: 'bridge' });
  if (!r.ok) throw Object.assign(new Error(r.error.code), { callError: r.error });
  return r.value as T;
}

async function failure(channel: Parameters<typeof dispatch>[1], input: unknown): Promise<CallError> {
  const r = await dispatch(app.handlers, channel, input, { transport: 'bridge' });
  if (r.ok) throw new Error(`${channel} succeeded, a failure was expected`);
  return r.error;
}

function headLike(name: string, extra: Partial<Parameters<TestPki['issue']>[0]> = {}): Person {
  return pki.issue({
    name,
    surname: 'САРСЕНБАЕВА',
    firstName: 'ӘЙГЕРІМ',
    iin: DEMO_HEAD.iin,
    purpose: 'sign',
    roles: ['legalEntity', 'head'],
    ...extra,
  });
}

function keyfileSource(name: string, password = PASSWORD) {
  return {
    source: { kind: 'keyfile', fileName: `${name}.p12`, data: keyFiles[name], password },
  };
}

async function settle(batchId: string): Promise<BatchProgress> {
  for (;;) {
    const p = await call<BatchProgress>('signing.progress', { batchId });
    if (p.state !== 'running') return p;
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(missing !== null)('signing service', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-signing-'));
    pki = new TestPki(join(dir, 'pki'));
    const head = headLike('head');
    const trust = join(dir, 'trust');
    mkdirSync(trust);
    writeFileSync(join(trust, 'root.pem'), pki.root.certPem);
    writeFileSync(join(trust, 'ca.pem'), pki.ca.certPem);

    hsm = createSoftHsm(join(dir, 'softhsm'));
    hsm.initToken('HEAD TOKEN', '11223344', PIN);
    hsm.importKey('HEAD TOKEN', PIN, { keyPem: head.keyPem, certDer: head.certDer, id: '0a0b', label: 'head' });

    const add = (name: string, person: Person) => {
      keyFiles[name] = pki.p12(person, PASSWORD, { legacy: true }).toString('base64');
    };
    add('head', head);
    add('auth', headLike('head-auth', { purpose: 'auth', roles: ['individual'] }));
    add(
      'expired',
      headLike('head-expired', {
        notBefore: new Date(Date.now() - 400 * 864e5),
        notAfter: new Date(Date.now() - 864e5),
      }),
    );
    add(
      'future',
      headLike('head-future', {
        notBefore: new Date(Date.now() + 10 * 864e5),
        notAfter: new Date(Date.now() + 400 * 864e5),
      }),
    );
    add(
      'stranger',
      pki.issue({ name: 'stranger', surname: 'БӨТЕН', firstName: 'АДАМ', iin: '920704300019', purpose: 'sign' }),
    );
    const revoked = headLike('head-revoked');
    add('revoked', revoked);
    pki.revoke(revoked);

    const other = new TestPki(join(dir, 'other'));
    keyFiles.untrusted = other
      .p12(
        other.issue({ name: 'x', surname: 'САРСЕНБАЕВА', firstName: 'Ә', iin: DEMO_HEAD.iin, purpose: 'sign' }),
        PASSWORD,
      )
      .toString('base64');

    const dataDir = join(dir, 'data');
    mkdirSync(join(dataDir, 'crl'), { recursive: true });
    writeFileSync(join(dataDir, 'crl', 'ca.crl'), pki.crl(24));

    app = await createApp({
      dataDir,
      resourcesDir: join(ROOT, 'resources'),
      serverUrl: null,
      version: '0.1.0',
      transport: 'bridge',
      demoApplications: 300,
      healthEveryMs: 0,
      log: () => {},
      signing: { modules: [hsm.module], includeDefaultModules: false, trustDirs: [trust] },
    });
    await call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD });
    // The head signs the applications of her own provider (signing.start is scoped).
    ids = (
      app.database.sqlite
        .prepare(
          `SELECT a.id FROM applications a JOIN user_roles r ON r.provider_id = a.provider_id
            WHERE r.user_id = ? AND r.role = 'head' ORDER BY a.id LIMIT 250`,
        )
        .all(DEMO_USERS.head.id) as { id: string }[]
    ).map((r) => r.id);
    const byStatus = (op: string, status = 'on_signing') =>
      (
        app.database.sqlite
          .prepare(
            `SELECT a.id FROM applications a JOIN user_roles r ON r.provider_id = a.provider_id
              WHERE r.user_id = ? AND r.role = 'head' AND a.status ${op} ? ORDER BY a.id`,
          )
          .all(DEMO_USERS.head.id, status) as { id: string }[]
      ).map((r) => r.id);
    // Put a dozen of the head's applications On signing, decided, as the executor's Send leaves them.
    app.database.sqlite
      .prepare(
        `UPDATE applications SET status = 'on_signing', decision = 'positive', status_changed_at = ?
          WHERE id IN (SELECT id FROM applications WHERE id IN (${ids.map(() => '?').join(',')})
                          AND status <> 'on_signing' ORDER BY id LIMIT 12)`,
      )
      .run(Date.now() - 60_000, ...ids);
    onSigning = byStatus('=');
    completed = byStatus('=', 'completed');
    notOnSigning = byStatus('<>').filter((id) => !completed.includes(id) && !/^completed/.test(statusOf(id)));
  }, 120_000);

  function statusOf(id: string): string {
    return (app.database.sqlite.prepare('SELECT status FROM applications WHERE id = ?').get(id) as { status: string })
      .status;
  }

  afterAll(async () => {
    await app?.close();
  });

  it('lists the token with whose certificate it holds, before any PIN', async () => {
    const { tokens } = await call<{ tokens: TokenInfo[] }>('signing.tokens', {});
    const token = tokens.find((t) => t.label === 'HEAD TOKEN');
    expect(token?.keys).toHaveLength(1);
    expect(token?.keys[0]?.certificate).toMatchObject({ iin: DEMO_HEAD.iin, roles: ['legalEntity', 'head'] });
  });

  it('a wrong PIN is refused with its message; the right one opens; a batch signs with one PIN', async () => {
    const { tokens } = await call<{ tokens: TokenInfo[] }>('signing.tokens', {});
    const token = tokens.find((t) => t.label === 'HEAD TOKEN')!;
    const wrong = await failure('signing.open', {
      source: { kind: 'token', tokenId: token.id, keyId: '0a0b', pin: '000000' },
    });
    expect(wrong.code).toBe('pinIncorrect');
    expect(wrong.messageKey).toMatch(/^errors\.signing\.pinIncorrect/);

    const opened = await call<{
      handle: string;
      certificate: { iin: string };
      revocation: { status: string; source: string };
    }>('signing.open', { source: { kind: 'token', tokenId: token.id, keyId: '0a0b', pin: PIN } });
    expect(opened.certificate.iin).toBe(DEMO_HEAD.iin);
    expect(opened.revocation).toMatchObject({ status: 'good', source: 'crl' });

    const signable = onSigning.slice(0, 3);
    expect(signable).toHaveLength(3);
    const batchIds = [...signable, notOnSigning[0]!, completed[0]!, 'no-such-application'];
    const started = await call<BatchProgress>('signing.start', {
      handle: opened.handle,
      applicationIds: batchIds,
      format: 'cms',
    });
    const done = await settle(started.batchId);
    expect(done).toMatchObject({ state: 'finished', total: 6, done: 6, failed: 3, timestampNote: 'notConfigured' });
    expect(done.results.find((r) => r.applicationId === 'no-such-application')).toMatchObject({
      ok: false,
      code: 'notFound',
    });
    // Signed and completed as the card's Sign does; the one not On signing skipped, unsigned, with its reason.
    for (const id of signable) expect(statusOf(id)).toBe('completed');
    expect(done.results.find((r) => r.applicationId === notOnSigning[0])).toMatchObject({
      ok: false,
      code: 'notOnSigning',
      messageKey: 'errors.signing.notOnSigning',
    });
    expect(done.results.find((r) => r.applicationId === completed[0])).toMatchObject({
      ok: false,
      code: 'alreadySigned',
      messageKey: 'errors.signing.alreadySigned',
    });

    const count = (list: string[]) =>
      (
        app.database.sqlite
          .prepare(`SELECT count(*) AS n FROM signatures WHERE application_id IN (${list.map(() => '?').join(',')})`)
          .get(...list) as { n: number }
      ).n;
    expect(count(signable)).toBe(3);
    expect(count([notOnSigning[0]!])).toBe(0);
    expect(statusOf(notOnSigning[0]!)).not.toBe('completed');
    const queued = app.database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE op = 'signature.add'").get() as {
      n: number;
    };
    expect(queued.n).toBeGreaterThanOrEqual(3);

    // Each stored CMS verifies, with the document main rebuilds.
    const row = app.database.sqlite
      .prepare('SELECT signed FROM signatures WHERE application_id = ?')
      .get(signable[0]) as {
      signed: Buffer;
    };
    const { applicationXml, loadApplicationDocument } = await import('./documents.js');
    // What was signed is the document as it stood On signing (the status is part of it).
    const document = Buffer.from(
      applicationXml({ ...loadApplicationDocument(app.database.sqlite, signable[0]!)!, status: 'on_signing' }),
    );
    const verified = await app.signer.verify(row.signed, { content: document, expect: { iin: DEMO_HEAD.iin } });
    expect(verified.signers[0]?.certificate.iin).toBe(DEMO_HEAD.iin);

    await call('signing.close', { handle: opened.handle });
    expect((await failure('signing.start', { handle: opened.handle, applicationIds: ids.slice(0, 1) })).code).toBe(
      'keyNotOpen',
    );
  });

  it('Stop: the batch ends early, and what was signed before the stop is kept', async () => {
    const opened = await call<{ handle: string }>('signing.open', keyfileSource('head'));
    const rest = onSigning.filter((id) => statusOf(id) === 'on_signing');
    expect(rest.length).toBeGreaterThan(1);
    const started = await call<BatchProgress>('signing.start', {
      handle: opened.handle,
      applicationIds: rest,
      format: 'xmldsig',
    });
    await call('signing.cancel', { batchId: started.batchId });
    const done = await settle(started.batchId);
    expect(done.state).toBe('cancelled');
    expect(done.done).toBeLessThan(rest.length);
    const ok = done.results.filter((r) => r.ok).map((r) => r.applicationId);
    for (const id of ok) {
      const n = app.database.sqlite
        .prepare("SELECT count(*) AS n FROM signatures WHERE application_id = ? AND format = 'xmldsig'")
        .get(id) as { n: number };
      expect(n.n).toBeGreaterThanOrEqual(1);
    }
    await call('signing.close', { handle: opened.handle });
  });

  it.each([
    ['expired', 'certExpired'],
    ['future', 'certNotYetValid'],
    ['revoked', 'certRevoked'],
    ['auth', 'wrongKeyUsage'],
    ['stranger', 'iinMismatch'],
    ['untrusted', 'chainUntrusted'],
  ])('a key file with a %s certificate is refused before anything is signed: %s', async (name, code) => {
    const before = (app.database.sqlite.prepare('SELECT count(*) AS n FROM signatures').get() as { n: number }).n;
    const error = await failure('signing.open', keyfileSource(name));
    expect(error.code).toBe(code);
    expect(error.messageKey).toBe(`errors.signing.${code}`);
    expect((app.database.sqlite.prepare('SELECT count(*) AS n FROM signatures').get() as { n: number }).n).toBe(before);
  });

  it('a wrong key file password and a file that is not a key file', async () => {
    expect((await failure('signing.open', keyfileSource('head', 'wrong'))).code).toBe('wrongPassword');
    const pdf = Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n').toString('base64');
    const notP12 = await failure('signing.open', {
      source: { kind: 'keyfile', fileName: 'scan.pdf', data: pdf, password: 'x' },
    });
    expect(notP12.code).toBe('keyfileNotPkcs12');
  });

  it('the PIN reaches the key source once, as a buffer that is wiped right after', async () => {
    const seen: Uint8Array[] = [];
    const spy: SignerBackend = {
      listTokens: () => app.signer.listTokens(),
      openToken: (id, keyId, pin) => {
        seen.push(pin);
        return app.signer.openToken(id, keyId, pin);
      },
      openKeyFile: (d, p, a) => app.signer.openKeyFile(d, p, a),
      facts: (c) => app.signer.facts(c),
      check: (c, o) => app.signer.check(c, o),
      sign: (f, d, k) => app.signer.sign(f, d, k),
    };
    const service = new SigningService({
      sqlite: app.database.sqlite,
      backend: spy,
      // Only opening is exercised here: no batch reaches the workflow.
      workflow: {
        signRefusal: () => null,
        currentSignature: () => null,
        sign: () => {
          throw new Error('no batch in this test');
        },
      },
      currentUser: () => ({ id: 'user-head-demo', iin: DEMO_HEAD.iin }),
    });
    const { tokens } = await app.signer.listTokens();
    const token = tokens.find((t) => t.label === 'HEAD TOKEN')!;
    const opened = await service.open({ kind: 'token', tokenId: token.id, keyId: '0a0b', pin: PIN });
    expect(seen).toHaveLength(1);
    expect([...seen[0]!].every((b) => b === 0)).toBe(true);
    await service.close(opened.handle);
    await service.closeAll();
  });

  it('nobody logged in: every signing call is refused', async () => {
    await call('auth.logout', {});
    try {
      expect((await failure('signing.tokens', {})).code).toBe('noSession');
      expect((await failure('signing.open', keyfileSource('head'))).code).toBe('noSession');
      expect((await failure('signing.progress', { batchId: 'x' })).code).toBe('noSession');
    } finally {
      await call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD });
    }
  });
});
