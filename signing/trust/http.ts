/**
 * The one HTTP exchange the online checks make (OCSP POST, TSP POST, CRL
 * GET): a fresh connection each time (no pooling, `Connection: close`, so a
 * responder that serves one connection at a time never waits on an idle one
 * of ours), one deadline for the whole exchange, a cap on the answer's size,
 * http(s) only. It never throws: failures come back as a problem code.
 */
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';

export type HttpProblem = 'unsupportedUrl' | 'unreachable' | 'timeout' | 'httpError' | 'tooLarge';

export type HttpResult =
  | { ok: true; body: Uint8Array; contentType: string | null }
  | { ok: false; problem: HttpProblem; message: string; httpStatus?: number };

export interface HttpOptions {
  method: 'GET' | 'POST';
  body?: Uint8Array;
  contentType?: string;
  accept?: string;
  /** Deadline for the whole exchange: connect, send, wait, read. */
  timeoutMs: number;
  maxBytes: number;
}

export function httpExchange(url: string, options: HttpOptions): Promise<HttpResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, problem: 'unsupportedUrl', message: `not a URL: ${url}` });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return Promise.resolve({ ok: false, problem: 'unsupportedUrl', message: `unsupported scheme ${parsed.protocol}` });
  }
  const request = parsed.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string | number> = { Connection: 'close' };
  if (options.contentType) headers['Content-Type'] = options.contentType;
  if (options.accept) headers['Accept'] = options.accept;
  if (options.body) headers['Content-Length'] = options.body.length;

  return new Promise<HttpResult>((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    const finish = (result: HttpResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
      req?.destroy();
    };
    const timer = setTimeout(
      () =>
        finish({ ok: false, problem: 'timeout', message: `no answer from ${parsed.host} in ${options.timeoutMs} ms` }),
      options.timeoutMs,
    );
    try {
      req = request(parsed, { method: options.method, headers, agent: false }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          res.resume();
          finish({
            ok: false,
            problem: 'httpError',
            message: `HTTP ${status} from ${parsed.host}`,
            httpStatus: status,
          });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxBytes) {
            finish({ ok: false, problem: 'tooLarge', message: `answer over ${options.maxBytes} bytes` });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const contentType = res.headers['content-type'] ?? null;
          finish({ ok: true, body: new Uint8Array(Buffer.concat(chunks)), contentType });
        });
        res.on('error', (err) => finish({ ok: false, problem: 'unreachable', message: err.message }));
        res.on('aborted', () => finish({ ok: false, problem: 'unreachable', message: 'connection closed mid-answer' }));
      });
    } catch (err) {
      finish({ ok: false, problem: 'unsupportedUrl', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    req.on('error', (err) => finish({ ok: false, problem: 'unreachable', message: err.message }));
    req.end(options.body ? Buffer.from(options.body) : undefined);
  });
}
