/**
 * TLS between the workstation and the central server: the real server over
 * HTTPS with certificates from a CA made by openssl at test time, and the
 * workstation (its sync client, online login and the whole app) pinning
 * that CA. The right CA works end to end; a certificate from another CA, an
 * expired one, one for another host name and a plain http:// address to
 * another machine are each refused with their own error, nothing sent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { DEMO_USERS } from '#demo/generate.js';
import { createApp, type AppServices } from '#main/app.js';
import { DEMO_ENROLMENT, DEMO_PASSWORD } from '#main/auth/demo.js';
import { HttpOnlineAuth } from '#main/auth/online-http.js';
import { OnlineUnreachable } from '#main/auth/online.js';
import { serverTransport, serverTransportFromFile, type ServerTransport } from '#main/net/transport.js';
import { tlsTestCa, type TlsTestCert } from '#main/net/testing.js';
import { dispatch } from '#main/rpc.js';
import { SyncClient, SyncError } from '#main/sync/client.js';
import { pgliteSql, type Sql } from '#server/src/postgres/sql.js';
import { startServer, type RunningServer } from '#server/src/server.js';

const ROOT = join(import.meta.dirname, '..');
const DAY = 86_400_000;
const LOOPBACK = ['IP:127.0.0.1', 'DNS:localhost'];

let dir: string;
let caFile: string;
let otherCaFile: string;
let sql: Sql;
let server: RunningServer;
let expiredServer: RunningServer;
let elsewhereServer: RunningServer;
/** An HTTPS server posing as the central one, with a certificate from another CA; counts what reaches it. */
let impostor: HttpsServer;
let impostorUrl: string;
let impostorRequests = 0;
let pinned: ServerTransport;
const apps: AppServices[] = [];

const enrolBody = {
  deviceId: '5a0c7a52-3a43-4d6b-9f0e-7d0e7a6f1c11',
  name: 'TLS desk',
  providerId: DEMO_ENROLMENT.providerId,
  login: DEMO_ENROLMENT.login,
  password: DEMO_ENROLMENT.password,
  protocolVersion: PROTOCOL_VERSION,
};

function https(cert: TlsTestCert) {
  return { cert: cert.cert, key: cert.key };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qyzmet-tls-'));
  const ca = tlsTestCa(join(dir, 'ca'));
  const other = tlsTestCa(join(dir, 'other'), 'Impostor CA');
  caFile = ca.caFile;
  otherCaFile = other.caFile;
  sql = await pgliteSql(null);
  const quiet = { log: () => undefined };
  server = await startServer({
    sql,
    seed: 'demo',
    demoApplications: 20,
    tls: https(ca.issue('server', LOOPBACK)),
    ...quiet,
  });
  expiredServer = await startServer({
    sql,
    tls: https(
      ca.issue('expired', LOOPBACK, {
        notBefore: new Date(Date.now() - 60 * DAY),
        notAfter: new Date(Date.now() - DAY),
      }),
    ),
    ...quiet,
  });
  elsewhereServer = await startServer({ sql, tls: https(ca.issue('elsewhere', ['DNS:qyzmet.example.kz'])), ...quiet });
  impostor = createHttpsServer(https(other.issue('impostor', LOOPBACK)), (_req, res) => {
    impostorRequests++;
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve));
  impostorUrl = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  pinned = serverTransportFromFile(caFile);
}, 120_000);

afterAll(async () => {
  for (const app of apps) await app.close();
  pinned?.close();
  impostor?.closeAllConnections();
  await new Promise<void>((resolve) => (impostor ? impostor.close(() => resolve()) : resolve()));
  for (const s of [server, expiredServer, elsewhereServer]) await s?.close();
  await sql?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<SyncError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SyncError) return e;
    throw e;
  }
  throw new Error('expected a SyncError, the call succeeded');
}

async function openApp(serverUrl: string, serverCaFile: string | null): Promise<AppServices> {
  const app = await createApp({
    dataDir: mkdtempSync(join(dir, 'desk-')),
    resourcesDir: join(ROOT, 'resources'),
    serverUrl,
    serverCaFile,
    version: '0.1.0',
    transport: 'bridge',
    healthEveryMs: 0,
    databaseCheckDelayMs: 60_000,
    log: () => undefined,
  });
  apps.push(app);
  return app;
}

/** `sync.enrol` as the login screen calls it: the message key of its refusal. */
async function enrolRefusal(app: AppServices): Promise<string> {
  const r = await dispatch(
    app.handlers,
    'sync.enrol',
    { providerId: DEMO_ENROLMENT.providerId, login: DEMO_ENROLMENT.login, password: DEMO_ENROLMENT.password },
    { transport: 'bridge' },
  );
  if (r.ok) throw new Error('the enrolment was accepted');
  return r.error.messageKey;
}

function onlineAuth(baseUrl: string, transport: ServerTransport) {
  return new HttpOnlineAuth({
    baseUrl,
    fetch: transport.fetch,
    accessToken: () => Promise.resolve('t'.repeat(32)),
    refreshToken: () => Promise.resolve(null),
  });
}

describe('TLS to the central server', () => {
  it('serves HTTPS with its certificate: the workstation pinning its CA enrols, syncs and logs in online', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const app = await openApp(server.url, caFile);
    expect(await app.sync.check()).toBe(true);
    const r = await dispatch(
      app.handlers,
      'sync.enrol',
      { providerId: DEMO_ENROLMENT.providerId, login: DEMO_ENROLMENT.login, password: DEMO_ENROLMENT.password },
      { transport: 'bridge' },
    );
    expect(r.ok).toBe(true);
    await app.engine.runOnce();
    expect(app.engine.status()).toMatchObject({ enrolled: true, lastError: null });
    const session = await app.auth.loginPassword(DEMO_USERS.head.login, DEMO_PASSWORD);
    // Checked by the central server over TLS, not by the offline rules.
    expect(session.offline).toBe(false);
  });

  it("attack: an impostor with a certificate from another CA asks for the administrator's password — refused as untrusted, nothing sent", async () => {
    const client = new SyncClient({ serverUrl: impostorUrl, fetch: pinned.fetch });
    const e = await failure(client.enrol(enrolBody));
    expect(e.kind).toBe('tls-untrusted');
    expect(e.message).not.toContain(DEMO_ENROLMENT.password);
    await expect(
      onlineAuth(impostorUrl, pinned).check({ kind: 'recheck', deviceId: enrolBody.deviceId, userId: 'u' }),
    ).rejects.toThrow(new OnlineUnreachable('tls-untrusted'));
    expect(await enrolRefusal(await openApp(impostorUrl, caFile))).toBe('errors.sync.tlsUntrusted');
    expect(impostorRequests).toBe(0);
  });

  it('attack: the real server reached with another CA pinned — refused as untrusted (the pinned CA alone is trusted)', async () => {
    const wrong = serverTransport({ ca: readFileSync(otherCaFile) });
    try {
      const e = await failure(new SyncClient({ serverUrl: server.url, fetch: wrong.fetch }).health());
      expect(e.kind).toBe('tls-untrusted');
    } finally {
      wrong.close();
    }
    // No CA configured: the system roots, which do not hold the test CA either.
    expect((await failure(new SyncClient({ serverUrl: server.url }).health())).kind).toBe('tls-untrusted');
  });

  it('attack: a certificate of the pinned CA that has expired — refused as expired', async () => {
    const e = await failure(new SyncClient({ serverUrl: expiredServer.url, fetch: pinned.fetch }).enrol(enrolBody));
    expect(e.kind).toBe('tls-expired');
    expect(await enrolRefusal(await openApp(expiredServer.url, caFile))).toBe('errors.sync.tlsExpired');
  });

  it('attack: a certificate of the pinned CA issued for another host name — refused as the wrong host', async () => {
    const e = await failure(new SyncClient({ serverUrl: elsewhereServer.url, fetch: pinned.fetch }).enrol(enrolBody));
    expect(e.kind).toBe('tls-hostname');
    await expect(
      onlineAuth(elsewhereServer.url, pinned).check({ kind: 'recheck', deviceId: enrolBody.deviceId, userId: 'u' }),
    ).rejects.toThrow(new OnlineUnreachable('tls-hostname'));
    expect(await enrolRefusal(await openApp(elsewhereServer.url, caFile))).toBe('errors.sync.tlsHostname');
  });

  it('attack: a plain http:// address to another machine — refused before anything is sent', async () => {
    const url = 'http://192.0.2.10:8787';
    const spy = vi.fn<typeof fetch>();
    const e = await failure(new SyncClient({ serverUrl: url, fetch: spy }).enrol(enrolBody));
    expect(e.kind).toBe('insecure-url');
    expect(spy).not.toHaveBeenCalled();
    await expect(pinned.fetch(`${url}/health`)).rejects.toThrow('fetch failed');
    await expect(
      onlineAuth(url, pinned).check({ kind: 'recheck', deviceId: enrolBody.deviceId, userId: 'u' }),
    ).rejects.toThrow(new OnlineUnreachable('insecure-url'));
    expect(await enrolRefusal(await openApp(url, null))).toBe('errors.sync.insecureUrl');
  });

  it('attack: the server asked to serve plain HTTP beyond loopback — refuses to start', async () => {
    await expect(startServer({ sql, host: '0.0.0.0', log: () => undefined })).rejects.toThrow(/refusing plain HTTP/);
  });

  it('says each refusal in its own words, in kk, ru and en', () => {
    for (const lang of ['kk', 'ru', 'en']) {
      const words = JSON.parse(readFileSync(join(ROOT, 'renderer', 'src', 'i18n', `${lang}.json`), 'utf8')) as Record<
        string,
        string
      >;
      for (const prefix of ['sync.error.', 'errors.sync.']) {
        const keys =
          prefix === 'sync.error.'
            ? ['insecure-url', 'tls-untrusted', 'tls-expired', 'tls-hostname']
            : ['insecureUrl', 'tlsUntrusted', 'tlsExpired', 'tlsHostname'];
        const texts = keys.map((k) => words[prefix + k]);
        for (const t of texts) expect(t, `${lang} ${prefix}`).toBeTruthy();
        expect(new Set(texts).size).toBe(keys.length);
      }
    }
  });
});
