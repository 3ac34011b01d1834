/**
 * The workstation's way to the central server: which addresses it accepts
 * and the HTTPS transport every request to the server goes through (the sync
 * client, the online login, the health probe).
 *
 * An address is https://, or http:// to this machine only (loopback: the
 * embedded server, a TLS-terminating proxy on the same host). Anything else
 * would carry passwords, device secrets and personal data in clear, and let
 * whoever poses as the server log anyone in and write their roles.
 *
 * With a CA file configured (`serverCaFile`) the server's certificate must
 * chain to that CA alone: the system roots are not trusted for the server
 * (Node's `ca` option replaces them). Without one, the system roots apply.
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { HealthProbe } from '../sync/status.js';

export type ServerUrlProblem = 'insecure-url';

/** 127.0.0.0/8, ::1 and localhost: the only hosts plain http:// may go to. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/** Why the workstation refuses to send anything to `serverUrl`; null when it is acceptable. */
export function serverUrlProblem(serverUrl: string): ServerUrlProblem | null {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    return 'insecure-url';
  }
  if (url.protocol === 'https:') return null;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return null;
  return 'insecure-url';
}

/** The refusal of an address in the log and in errors (the address carries no secret). */
export function insecureUrlMessage(serverUrl: string): string {
  return `the central server's address must be https:// (plain http:// only to this machine): ${serverUrl}`;
}

export type TlsFailure = 'tls-untrusted' | 'tls-expired' | 'tls-hostname';

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'CERT_CHAIN_TOO_LONG',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);
const HOSTNAME = new Set(['ERR_TLS_CERT_ALTNAME_INVALID']);

/** The certificate check that failed, from an error or any of its causes; null when it is not one. */
export function tlsFailureOf(e: unknown): TlsFailure | null {
  for (let cur: unknown = e, depth = 0; cur && depth < 5; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (UNTRUSTED.has(code)) return 'tls-untrusted';
      if (EXPIRED.has(code)) return 'tls-expired';
      if (HOSTNAME.has(code)) return 'tls-hostname';
    }
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}

export const TLS_FAILURE_MESSAGES: Record<TlsFailure, string> = {
  'tls-untrusted': "the server's certificate is not issued by the CA this workstation trusts for it",
  'tls-expired': "the server's certificate has expired or is not valid yet",
  'tls-hostname': "the server's certificate is not for the address this workstation uses",
};

export interface ServerTransportOptions {
  /** PEM of the CA(s) the server's certificate must chain to (pinning); null or absent: the system roots. */
  ca?: string | Buffer | null;
}

export interface ServerTransport {
  /** A fetch for the central server: https:// through the pinned CA, http:// to loopback only. */
  fetch: typeof fetch;
  /** Closes the kept-alive connections. */
  close(): void;
}

/** An error that carries its code (the refusal of an address), as Node's network errors do. */
class InsecureUrlError extends Error {
  readonly code = 'ERR_QYZMET_INSECURE_URL';
}

/** The transport with the CA read from `caFile` (PEM); no file: the system roots. Throws when the file is unreadable. */
export function serverTransportFromFile(caFile: string | null | undefined): ServerTransport {
  if (!caFile) return serverTransport();
  let ca: Buffer;
  try {
    ca = readFileSync(caFile);
  } catch (e) {
    throw new Error(
      `cannot read the central server's CA file ${caFile}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e },
    );
  }
  if (!ca.toString('latin1').includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`the central server's CA file ${caFile} holds no PEM certificate`);
  }
  return serverTransport({ ca });
}

export function serverTransport(options: ServerTransportOptions = {}): ServerTransport {
  const agent = new HttpsAgent({ keepAlive: true, ...(options.ca ? { ca: options.ca } : {}) });
  const fetchOver = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(input instanceof URL ? input.href : typeof input === 'string' ? input : input.url);
    } catch (e) {
      return Promise.reject(new TypeError('fetch failed', { cause: e }));
    }
    if (serverUrlProblem(url.href)) {
      return Promise.reject(
        new TypeError('fetch failed', { cause: new InsecureUrlError(insecureUrlMessage(url.origin)) }),
      );
    }
    // Loopback plain HTTP: Node's own fetch (nothing leaves the machine).
    if (url.protocol === 'http:') return globalThis.fetch(url, init);
    return httpsFetch(agent, url, init);
  };
  return { fetch: fetchOver as typeof fetch, close: () => agent.destroy() };
}

/** One request over node:https, answered as a fetch Response (its body streamed as it arrives). */
function httpsFetch(agent: HttpsAgent, url: URL, init: RequestInit): Promise<Response> {
  const signal = init.signal ?? null;
  const method = (init.method ?? 'GET').toUpperCase();
  if (init.body != null && typeof init.body !== 'string') {
    return Promise.reject(new TypeError('this transport sends string bodies only'));
  }
  const body = init.body ?? undefined;
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));

  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    let answered: IncomingMessage | null = null;
    const onAbort = () => {
      const reason = signal?.reason as Error;
      // The body's reader sees the abort's own reason (a TimeoutError stays one).
      if (answered) answered.destroy(reason);
      req.destroy(reason);
    };
    const req = httpsRequest(url, { method, headers, agent }, (res) => {
      answered = res;
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      const status = res.statusCode ?? 0;
      const h = new Headers();
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
      const noBody = method === 'HEAD' || status === 204 || status === 304;
      if (noBody) res.resume();
      try {
        resolve(
          new Response(noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: h,
          }),
        );
      } catch (e) {
        res.destroy();
        reject(new TypeError('fetch failed', { cause: e }));
      }
    });
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => {
      if (answered) return;
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? (signal.reason as Error) : new TypeError('fetch failed', { cause: e }));
    });
    req.end(body);
  });
}

/** GET <server>/health answering {"status":"ok"}, over `fetchFn` (the transport with the pinned CA). */
export function serverHealthProbe(fetchFn: typeof fetch): HealthProbe {
  return async (serverUrl, signal) => {
    try {
      const res = await fetchFn(new URL('/health', serverUrl), { signal });
      if (!res.ok) return false;
      const body = (await res.json()) as { status?: unknown };
      return body.status === 'ok';
    } catch {
      return false;
    }
  };
}
