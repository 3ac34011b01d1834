/**
 * The worker path end to end on a real SoftHSM2 token: Pkcs11Client starts
 * worker.ts (through tsx), PKCS#11 runs only in that thread, errors come back
 * as SigningErrors, and watchTokens sees tokens come and go.
 */
import { verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SigningError, isSigningError } from '../errors.js';
import { TestPki, standardPeople } from '../testing/pki.js';
import { createSoftHsm, softHsmMissing, type SoftHsm } from '../testing/softhsm.js';
import { Pkcs11Client } from './client.js';
import { watchTokens, type TokenChange } from './watch.js';

const missing = softHsmMissing();
if (missing) console.warn(`client.test: SoftHSM2 tests skipped: ${missing}`);

const PIN = '123456';
const SO_PIN = '87654321';
const pin = (s = PIN) => new Uint8Array(Buffer.from(s, 'utf8'));

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

/** Resolves with the first change `accept` takes, or rejects after `ms`. */
function nextChange(changes: TokenChange[], accept: (c: TokenChange) => boolean, ms = 10_000): Promise<TokenChange> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const look = () => {
      const found = changes.find(accept);
      if (found) return resolve(found);
      if (Date.now() - started > ms) return reject(new Error(`no such token change within ${ms} ms`));
      setTimeout(look, 20);
    };
    look();
  });
}

describe.skipIf(missing !== null)('Pkcs11Client: PKCS#11 in a worker thread (SoftHSM2)', () => {
  let dir: string;
  let hsm: SoftHsm;
  let people: ReturnType<typeof standardPeople>;
  let client: Pkcs11Client;
  let slotId: string;
  let goneSlotId: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-pkcs11-worker-'));
    people = standardPeople(new TestPki(join(dir, 'pki')));
    hsm = createSoftHsm(join(dir, 'softhsm'));
    slotId = hsm.initToken('QYZMET-W', SO_PIN, PIN);
    hsm.importKey('QYZMET-W', PIN, {
      keyPem: people.head.keyPem,
      certDer: people.head.certDer,
      id: 'a1',
      label: 'head',
    });
    hsm.importKey('QYZMET-W', PIN, {
      keyPem: people.employeeEc.keyPem,
      certDer: people.employeeEc.certDer,
      id: 'e1',
      label: 'employee-ec',
    });
    goneSlotId = hsm.initToken('QYZMET-W-GONE', SO_PIN, PIN);
    hsm.importKey('QYZMET-W-GONE', PIN, {
      keyPem: people.sign.keyPem,
      certDer: people.sign.certDer,
      id: 'b1',
      label: 'sign',
    });
    client = new Pkcs11Client();
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs the source worker.ts when no bundle sits next to client.ts', () => {
    expect(fileURLToPath(client.workerScript)).toBe(join(import.meta.dirname, 'worker.ts'));
  });

  it('lists tokens and keys through the worker', async () => {
    const tokens = await client.listTokens(hsm.module);
    expect(tokens.map((t) => [t.label, t.slotId]).sort()).toEqual([
      ['QYZMET-W', slotId],
      ['QYZMET-W-GONE', goneSlotId],
    ]);
    const keys = await client.listKeys(hsm.module, slotId);
    expect(keys.map((k) => [k.id, k.algorithm]).sort()).toEqual([
      ['a1', 'rsa'],
      ['e1', 'ec'],
    ]);
    expect(Buffer.from(keys.find((k) => k.id === 'a1')!.certificate).equals(people.head.certDer)).toBe(true);
  });

  it('opens RSA and EC keys; sign() runs in the worker; the signatures verify', async () => {
    const p = pin();
    const rsa = await client.openKey(hsm.module, slotId, 'a1', p);
    expect(p.every((b) => b === 0)).toBe(true); // the caller's copy is wiped at once
    expect(rsa).toMatchObject({ source: 'pkcs11', algorithm: 'rsa', keyId: 'a1', label: 'QYZMET-W / head' });
    const data = Buffer.from('<application id="7"/>');
    expect(verify('sha256', data, people.head.certPem, await rsa.sign(data))).toBe(true);
    await rsa.close();

    const ec = await client.openKey(hsm.module, slotId, 'e1', pin());
    expect(verify('sha256', data, people.employeeEc.certPem, await ec.sign(data))).toBe(true);
    await ec.close();
    expect(await rejection(ec.sign(data))).toMatchObject({ code: 'cancelled' });
  });

  it('batch through the worker: one PIN, 100 signatures', async () => {
    const key = await client.openKey(hsm.module, slotId, 'a1', pin());
    const docs = Array.from({ length: 100 }, (_, i) => Buffer.from(`doc ${i}`));
    const signatures = await Promise.all(docs.map((d) => key.sign(d)));
    expect(docs.every((d, i) => verify('sha256', d, people.head.certPem, signatures[i]!))).toBe(true);
    await key.close();
  });

  it('errors cross the thread as SigningErrors with their details', async () => {
    const wrong = await rejection(client.openKey(hsm.module, slotId, 'a1', pin('999999')));
    expect(wrong).toBeInstanceOf(SigningError);
    expect(wrong).toMatchObject({ code: 'pinIncorrect', details: { triesLeft: 'low' } });

    const nowhere = join(dir, 'missing-pkcs11.so');
    const notLoaded = await rejection(client.listTokens(nowhere));
    expect(isSigningError(notLoaded, 'moduleNotLoaded')).toBe(true);
    expect((notLoaded as SigningError).details).toEqual({ module: nowhere });

    expect(await rejection(client.listKeys(hsm.module, '4242'))).toMatchObject({ code: 'tokenNotFound' });
    expect(await rejection(client.openKey(hsm.module, slotId, 'ff', pin()))).toMatchObject({ code: 'keyNotFound' });
  });

  it('token deleted under a logged-in worker session → tokenRemoved', async () => {
    const key = await client.openKey(hsm.module, goneSlotId, 'b1', pin());
    await key.sign(Buffer.from('before'));
    hsm.deleteToken('QYZMET-W-GONE');
    expect(await rejection(key.sign(Buffer.from('after')))).toMatchObject({ code: 'tokenRemoved' });
    await key.close();
  });

  it('watchTokens: a token created → added; deleted → removed', async () => {
    const changes: TokenChange[] = [];
    const errors: unknown[] = [];
    const watcher = watchTokens(client, [hsm.module], 50, (c) => changes.push(c), {
      onError: (_path, err) => errors.push(err),
    });
    try {
      await watcher.ready;
      expect(watcher.current().map((t) => t.label)).toEqual(['QYZMET-W']);

      hsm.initToken('QYZMET-NEW', SO_PIN, PIN);
      const added = await nextChange(changes, (c) => c.added.some((t) => t.label === 'QYZMET-NEW'));
      expect(added.removed).toEqual([]);
      expect(added.tokens.map((t) => t.label).sort()).toEqual(['QYZMET-NEW', 'QYZMET-W']);

      hsm.deleteToken('QYZMET-NEW');
      const removed = await nextChange(changes, (c) => c.removed.some((t) => t.label === 'QYZMET-NEW'));
      expect(removed.tokens.map((t) => t.label)).toEqual(['QYZMET-W']);
      expect(errors).toEqual([]);
    } finally {
      watcher.stop();
    }
  });

  it('watchTokens leaves a logged-in session alone; the new token shows once the batch closes', async () => {
    const changes: TokenChange[] = [];
    const key = await client.openKey(hsm.module, slotId, 'a1', pin());
    const watcher = watchTokens(client, [hsm.module], 50, (c) => changes.push(c));
    try {
      await watcher.ready;
      hsm.initToken('QYZMET-LATER', SO_PIN, PIN);
      // Several looks while the key is open: no rescan, so SoftHSM2 does not show the new token yet…
      await new Promise((r) => setTimeout(r, 400));
      expect(changes).toEqual([]);
      // …and the session still signs.
      const data = Buffer.from('during the watch');
      expect(verify('sha256', data, people.head.certPem, await key.sign(data))).toBe(true);
      await key.close();
      const added = await nextChange(changes, (c) => c.added.some((t) => t.label === 'QYZMET-LATER'));
      expect(added.removed).toEqual([]);
    } finally {
      watcher.stop();
      await key.close();
    }
  });

  it('close() ends the worker; a later call starts a new one', async () => {
    const key = await client.openKey(hsm.module, slotId, 'a1', pin());
    await client.close();
    await expect(key.sign(Buffer.from('x'))).rejects.toThrow(/worker/);
    const tokens = await client.listTokens(hsm.module, { rescan: true });
    expect(tokens.map((t) => t.label)).toContain('QYZMET-W');
  });
});
