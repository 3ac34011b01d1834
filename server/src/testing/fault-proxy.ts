/**
 * A fault-injecting HTTP proxy on loopback, put between a workstation and the
 * central server by the sync fault tests. Each request is matched against the
 * rules the test set (in order; a rule with `times` is used up after that
 * many requests), or gets the default fault, and then:
 *
 * - pass: forwarded, the answer streamed back as is;
 * - dropBeforeForward: the connection closed before the server sees anything;
 * - dropAfterForward: forwarded and the whole answer read (the server applied
 *   it), then the connection closed without a byte to the client: the client
 *   retries what was applied, a duplicate delivery;
 * - truncate: forwarded, the status, headers and the first `bytes` bytes of the
 *   body sent (all but the last when it is shorter), then the connection closed;
 * - delay: held `ms` before forwarding (`where: 'request'`, the default) or
 *   before answering (`where: 'answer'`); a request whose client gave up
 *   meanwhile still reaches the server, as a late packet would;
 * - answer: the proxy answers itself with `status` and `body` (a 500/503, text
 *   that is not JSON, JSON of the wrong shape), after forwarding the request
 *   first when `forward` is set (the server applied it, the client sees the
 *   error).
 *
 * Every request is recorded in `log` with the fault it met.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  | { kind: 'dropBeforeForward' }
  | { kind: 'dropAfterForward' }
  | { kind: 'truncate'; bytes: number }
  | { kind: 'delay'; ms: number; where?: 'request' | 'answer' }
  | { kind: 'answer'; status: number; body: string; contentType?: string; forward?: boolean };

export const PASS: Fault = { kind: 'pass' };

/** A 5xx the proxy answers itself, in the server's error shape. */
export function serverError(status = 503, forward = false): Fault {
  return { kind: 'answer', status, body: JSON.stringify({ error: 'internal', message: 'fault proxy' }), forward };
}

/** A 200 whose body is not JSON at all. */
export function notJson(forward = false): Fault {
  return { kind: 'answer', status: 200, body: '<html><body>502 Bad Gateway</body></html>', forward };
}

/** A 200 with JSON that fits no answer of the protocol. */
export function wrongShape(forward = false): Fault {
  return { kind: 'answer', status: 200, body: JSON.stringify({ results: 'nope', lastSeq: -1 }), forward };
}

export interface FaultRule {
  /** The request's method, when given. */
  method?: string;
  /** Its path (no query): a prefix string, or a pattern. */
  path?: string | RegExp;
  fault: Fault;
  /** Used up after this many matching requests; forever when absent. */
  times?: number;
}

export interface ProxiedRequest {
  method: string;
  path: string;
  fault: Fault['kind'];
  /** The server's status, when the request reached the server and it answered. */
  upstreamStatus: number | null;
  at: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  /** Every request so far, oldest first. */
  readonly log: readonly ProxiedRequest[];
  /** The fault for requests no rule matches. */
  setDefault(fault: Fault): void;
  /** Appends a rule (rules are tried in the order added). */
  add(rule: FaultRule): void;
  /** Drops every rule and sets the default back to pass. */
  reset(): void;
  /** Points the proxy at another server (one restarted on another port). */
  retarget(url: string): void;
  /** Requests that reached the server, by path prefix. */
  forwarded(pathPrefix?: string): number;
  close(): Promise<void>;
}

/** Hop-by-hop headers: about one connection, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

function endToEnd(headers: IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) out[name] = value;
  }
  return out;
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method) return false;
  if (rule.path === undefined) return true;
  return typeof rule.path === 'string' ? path.startsWith(rule.path) : rule.path.test(path);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function readAll(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startFaultProxy(
  target: string,
  options: { host?: string; port?: number } = {},
): Promise<FaultProxy> {
  let upstream = new URL(target);
  let defaultFault: Fault = PASS;
  let rules: (FaultRule & { left: number })[] = [];
  const log: ProxiedRequest[] = [];
  const agent = new Agent({ keepAlive: true, maxSockets: 256 });
  const sockets = new Set<Socket>();

  const choose = (method: string, path: string): Fault => {
    const rule = rules.find((r) => r.left > 0 && matches(r, method, path));
    if (!rule) return defaultFault;
    rule.left -= 1;
    return rule.fault;
  };

  /** Sends the request on to the server; resolves with its answer (body still unread). */
  const forward = (req: IncomingMessage, body: Buffer): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      const headers = endToEnd(req.headers);
      headers.host = upstream.host;
      headers['content-length'] = String(body.length);
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        resolve,
      );
      out.on('error', reject);
      out.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const fault = choose(method, path);
    const entry: ProxiedRequest = { method, path, fault: fault.kind, upstreamStatus: null, at: Date.now() };
    log.push(entry);
    const body = await readAll(req);
    const drop = () => {
      req.socket.destroy();
    };

    if (fault.kind === 'dropBeforeForward') return drop();
    if (fault.kind === 'answer' && !fault.forward) return answer(res, fault);
    if (fault.kind === 'delay' && fault.where !== 'answer') await sleep(fault.ms);

    let answerIn: IncomingMessage;
    try {
      answerIn = await forward(req, body);
    } catch {
      // The server is down: the client sees its connection dropped, as it would without a proxy.
      return drop();
    }
    entry.upstreamStatus = answerIn.statusCode ?? null;

    if (fault.kind === 'dropAfterForward') {
      await readAll(answerIn);
      return drop();
    }
    if (fault.kind === 'answer') {
      await readAll(answerIn);
      return answer(res, fault);
    }
    if (fault.kind === 'delay' && fault.where === 'answer') {
      const whole = await readAll(answerIn);
      await sleep(fault.ms);
      if (res.destroyed) return;
      res.writeHead(answerIn.statusCode ?? 502, { ...endToEnd(answerIn.headers), 'content-length': whole.length });
      res.end(whole);
      return;
    }
    if (fault.kind === 'truncate') return truncate(answerIn, res, fault.bytes);
    res.writeHead(answerIn.statusCode ?? 502, endToEnd(answerIn.headers));
    answerIn.pipe(res);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      req.socket.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    log,
    setDefault: (fault) => {
      defaultFault = fault;
    },
    add: (rule) => {
      rules.push({ ...rule, left: rule.times ?? Number.POSITIVE_INFINITY });
    },
    reset: () => {
      rules = [];
      defaultFault = PASS;
    },
    retarget: (url) => {
      upstream = new URL(url);
    },
    forwarded: (prefix = '/') => log.filter((r) => r.upstreamStatus !== null && r.path.startsWith(prefix)).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

function answer(res: ServerResponse, fault: Extract<Fault, { kind: 'answer' }>): void {
  const body = Buffer.from(fault.body, 'utf8');
  res.writeHead(fault.status, {
    'content-type': fault.contentType ?? 'application/json; charset=utf-8',
    'content-length': body.length,
  });
  res.end(body);
}

/**
 * Status and headers as the server sent them (its Content-Length kept, so the
 * client sees a short body), the first `bytes` bytes of the body (or all but
 * its last byte when it is shorter: the answer is always cut), then the
 * connection closed. The body is read whole first (test-sized answers).
 */
async function truncate(answerIn: IncomingMessage, res: ServerResponse, bytes: number): Promise<void> {
  const whole = await readAll(answerIn);
  res.writeHead(answerIn.statusCode ?? 502, endToEnd(answerIn.headers));
  res.flushHeaders();
  const part = whole.subarray(0, Math.max(0, Math.min(bytes, whole.length - 1)));
  if (part.length > 0) res.write(part);
  // Flush what was written, then close: the client reads `part` and then an early end.
  res.socket?.end(() => res.socket?.destroy());
}
