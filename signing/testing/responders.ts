/**
 * Loopback servers for the tests of the online trust checks: an OCSP
 * responder (openssl ocsp over the test PKI's index), a time-stamping
 * authority (a Node HTTP server that has `openssl ts -reply` answer each
 * query), a CRL server, and a broken server that answers garbage, an HTTP
 * error, resets the connection, or never answers. Test code only.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import type { TestPki } from './pki.js';

const execFileAsync = promisify(execFile);

/** A port nobody listens on right now (there is a small race until it's used). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface HttpHandle {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 whose close() also drops open (and hanging) connections. */
async function serveHttp(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  port = 0,
  path = '/',
): Promise<HttpHandle> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface OcspResponder extends HttpHandle {
  /** Stops and starts the openssl process again (it then reads the index afresh). */
  restart(): Promise<void>;
  /** What openssl printed (stdout and stderr), for failing tests. */
  output(): string;
}

/**
 * `openssl ocsp` serving the PKI's index, signed by the PKI's OCSP responder
 * certificate (delegated: OCSPSigning EKU, issued by the intermediate CA).
 * Note: OpenSSL 3.0's `-port` takes a number only and listens on all
 * interfaces; the address handed out is the loopback one. Pass the port the
 * PKI's certificates name in their AIA (see freePort).
 */
export async function startOcspResponder(
  pki: TestPki,
  options: { port?: number; nmin?: number } = {},
): Promise<OcspResponder> {
  const port = options.port ?? (await freePort());
  let child: ChildProcess | null = null;
  let log = '';
  let exitReason: string | null = null;

  const start = async () => {
    exitReason = null;
    const args = [
      'ocsp',
      '-index',
      pki.indexPath,
      '-port',
      String(port),
      '-rsigner',
      pki.ocsp.certPath,
      '-rkey',
      pki.ocsp.keyPath,
      '-CA',
      pki.ca.certPath,
      '-nmin',
      String(options.nmin ?? 5),
      '-ignore_err',
    ];
    const proc = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let own = ''; // this process's output: the readiness line must be its own
    const collect = (d: Buffer) => {
      own += d.toString();
      log += d.toString();
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    proc.on('exit', (code, signal) => {
      exitReason = `openssl ocsp exited (${code ?? signal}): ${own}`;
      if (child === proc) child = null;
    });
    // Wait for openssl's own "waiting for OCSP client connections" rather than
    // probing the port: a probe is an empty request openssl would log as an error.
    const deadline = Date.now() + 10_000;
    while (!/waiting for OCSP client connections/i.test(own)) {
      if (exitReason !== null) throw new Error(exitReason);
      if (Date.now() > deadline) throw new Error(`openssl ocsp did not start: ${own}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = null;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  };

  await start();
  return {
    port,
    url: `http://127.0.0.1:${port}/`,
    restart: async () => {
      await stop();
      await start();
    },
    output: () => log,
    close: stop,
  };
}

export interface Tsa extends HttpHandle {
  /** How many queries openssl answered. */
  readonly answered: number;
  /**
   * 'ok' passes the query as it is; 'otherImprint' and 'otherNonce' change it
   * before openssl sees it, so the (validly signed) answer stamps other data
   * or answers another nonce.
   */
  mode: 'ok' | 'otherImprint' | 'otherNonce';
}

export const TSA_POLICY = '1.2.398.3.3.2.6.1';

/**
 * A TSA at 127.0.0.1: each POSTed TimeStampReq goes to `openssl ts -reply`
 * with the PKI's TSA certificate and key; the answer is whatever openssl
 * writes (a rejection for a policy it doesn't know, for instance).
 */
export async function startTsa(pki: TestPki): Promise<Tsa> {
  const dir = join(pki.dir, 'tsa');
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'tsa.cnf');
  writeFileSync(join(dir, 'serial'), '01\n');
  writeFileSync(
    config,
    [
      '[ tsa ]',
      'default_tsa = tsa_config',
      '[ tsa_config ]',
      `serial = ${join(dir, 'serial')}`,
      'crypto_device = builtin',
      `signer_cert = ${pki.tsa.certPath}`,
      `certs = ${pki.chainPath}`,
      `signer_key = ${pki.tsa.keyPath}`,
      'signer_digest = sha256',
      `default_policy = ${TSA_POLICY}`,
      'other_policies = 1.2.398.3.3.2.6.2',
      'digests = sha1, sha256, sha384, sha512',
      'accuracy = secs:1',
      'ordering = no',
      'tsa_name = yes',
      'ess_cert_id_chain = no',
      'ess_cert_id_alg = sha256',
      '',
    ].join('\n'),
  );
  // openssl ts keeps its serial in a file: one query at a time.
  let queue: Promise<unknown> = Promise.resolve();
  let count = 0;
  const state = { mode: 'ok' as Tsa['mode'] };

  const reply = async (query: Buffer): Promise<Buffer> => {
    const n = ++count;
    const queryFile = join(dir, `q${n}.tsq`);
    const replyFile = join(dir, `r${n}.tsr`);
    writeFileSync(queryFile, alterQuery(query, state.mode));
    await execFileAsync('openssl', ['ts', '-reply', '-config', config, '-queryfile', queryFile, '-out', replyFile]);
    return readFileSync(replyFile);
  };

  const handle = await serveHttp(async (req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const body = await readBody(req);
    const job = queue.then(() => reply(body));
    queue = job.catch(() => undefined);
    try {
      const answer = await job;
      res.writeHead(200, { 'Content-Type': 'application/timestamp-reply' }).end(answer);
    } catch (err) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end(String(err));
    }
  });
  return {
    ...handle,
    get answered() {
      return count;
    },
    get mode() {
      return state.mode;
    },
    set mode(m: Tsa['mode']) {
      state.mode = m;
    },
  };
}

/** The query with its imprint or nonce changed (for the client's checks), or as is. */
function alterQuery(query: Buffer, mode: Tsa['mode']): Buffer {
  if (mode === 'ok') return query;
  const req = pkijs.TimeStampReq.fromBER(query);
  if (mode === 'otherImprint') {
    const digest = new Uint8Array(req.messageImprint.hashedMessage.valueBlock.valueHexView);
    digest[0] = (digest[0] ?? 0) ^ 0xff;
    req.messageImprint.hashedMessage = new asn1js.OctetString({ valueHex: digest });
  } else {
    req.nonce = new asn1js.Integer({ value: 12345 });
  }
  return Buffer.from(req.toSchema().toBER());
}

export interface CrlServer extends HttpHandle {
  /** The CRL served from now on (null: 404). */
  set(der: Uint8Array | null): void;
  readonly requests: number;
}

/** Serves one DER CRL at any path of 127.0.0.1:port (the port the PKI's CDP names, if given). */
export async function startCrlServer(initial: Uint8Array | null = null, port = 0): Promise<CrlServer> {
  let current = initial;
  let requests = 0;
  const handle = await serveHttp(
    (_req, res) => {
      requests++;
      if (!current) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/pkix-crl' }).end(Buffer.from(current));
    },
    port,
    '/ca.crl',
  );
  return {
    ...handle,
    set: (der) => {
      current = der;
    },
    get requests() {
      return requests;
    },
  };
}

export type BrokenMode = 'garbage' | 'status500' | 'hang' | 'reset' | 'empty';

export interface BrokenServer extends HttpHandle {
  mode: BrokenMode;
  readonly requests: number;
}

/**
 * A server that never answers properly: 'garbage' (200 with random-looking
 * bytes), 'status500', 'hang' (reads the request, never answers), 'reset'
 * (drops the connection), 'empty' (200 with no body).
 */
export async function startBrokenServer(mode: BrokenMode, port = 0): Promise<BrokenServer> {
  const state = { mode, requests: 0 };
  const handle = await serveHttp(async (req, res) => {
    state.requests++;
    await readBody(req);
    switch (state.mode) {
      case 'garbage':
        res
          .writeHead(200, { 'Content-Type': 'application/octet-stream' })
          .end(Buffer.from('30820bad' + 'de'.repeat(64), 'hex'));
        return;
      case 'status500':
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end('internal error');
        return;
      case 'hang':
        return; // close() destroys the socket
      case 'reset':
        req.socket.destroy();
        return;
      case 'empty':
        res.writeHead(200).end();
        return;
    }
  }, port);
  return {
    ...handle,
    get mode() {
      return state.mode;
    },
    set mode(m: BrokenMode) {
      state.mode = m;
    },
    get requests() {
      return state.requests;
    },
  };
}
