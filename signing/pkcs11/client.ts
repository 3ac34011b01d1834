/**
 * The main-process side of the token key source: `Pkcs11Client` runs every
 * PKCS#11 call in a worker thread (worker.ts) so that a slow token or a
 * PIN-pad reader never blocks Electron's main process. Same interface as
 * InProcessPkcs11; errors come back as SigningErrors with their code and
 * details (anything else as a plain Error naming the CKR_* value).
 *
 * Which script the worker runs (`workerScript`, or `defaultWorkerScript()`):
 *  - the build: `pkcs11-worker.cjs` next to the bundle that contains this
 *    code (dist/main/main.cjs → dist/main/pkcs11-worker.cjs; the main bundle
 *    maps import.meta.url to its own file), when that file exists;
 *  - otherwise the source: `worker.ts` next to this file. A .ts worker is
 *    started through tsx's loader, registered inside the worker by a small
 *    eval'd bootstrap: on Node 20, `execArgv: ['--import', 'tsx']` does not
 *    apply to a Worker's entry ("Unknown file extension .ts").
 * The worker is started on the first call and ended by close().
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '#core/node/worker.js';
import { SigningError, wipe } from '../errors.js';
import {
  deserializeError,
  type ListTokensOptions,
  type OpenedKeyDto,
  type Pkcs11Api,
  type TokenKey,
  type TokenSigningKey,
  type TokenSlot,
  type WorkerOp,
  type WorkerOps,
  type WorkerRequest,
  type WorkerResponse,
} from './api.js';

/** The worker bundle's file name, next to the main bundle. */
export const WORKER_BUNDLE_NAME = 'pkcs11-worker.cjs';

/** The bundled worker next to `base` if it exists, else the source worker.ts (see the file comment). */
export function defaultWorkerScript(base: string | URL = import.meta.url): URL {
  const bundled = new URL(`./${WORKER_BUNDLE_NAME}`, base);
  if (bundled.protocol === 'file:' && existsSync(fileURLToPath(bundled))) return bundled;
  return new URL('./worker.ts', base);
}

function toUrl(script: string | URL): URL {
  if (script instanceof URL) return script;
  return /^file:/i.test(script) ? new URL(script) : pathToFileURL(script);
}

function startPkcs11Worker(script: URL): Worker {
  return startWorker(script, { name: 'pkcs11' });
}

export interface Pkcs11ClientOptions {
  /** The worker's script, a path or a file: URL (default: defaultWorkerScript()). */
  workerScript?: string | URL;
  /** How long close() waits for the worker to log out and finalize (default 5000 ms). */
  shutdownTimeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** The token key source with PKCS#11 in a worker thread. */
export class Pkcs11Client implements Pkcs11Api {
  private worker: Worker | null = null;
  /** Bumped whenever a worker is started: keys of an earlier worker are dead. */
  private generation = 0;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly script: URL;
  private readonly shutdownTimeoutMs: number;

  constructor(options: Pkcs11ClientOptions = {}) {
    this.script = options.workerScript ? toUrl(options.workerScript) : defaultWorkerScript();
    this.shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5000;
  }

  /** The script the worker runs. */
  get workerScript(): URL {
    return this.script;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startPkcs11Worker(this.script);
    this.generation++;
    worker.on('message', (response: WorkerResponse) => this.settle(response));
    worker.on('error', (err) => this.failAll(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = null;
      this.failAll(new Error(`pkcs11: the worker stopped (exit code ${code})`));
    });
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(response: WorkerResponse): void {
    const pending = this.pending.get(response.id);
    if (!pending) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (response.ok) pending.resolve(response.result);
    else pending.reject(deserializeError(response.error));
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }

  private call<K extends WorkerOp>(
    op: K,
    args: WorkerOps[K]['args'],
    transfer: ArrayBuffer[] = [],
  ): Promise<WorkerOps[K]['result']> {
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      // Keep the process alive only while an answer is awaited.
      worker.ref();
      try {
        worker.postMessage({ id, op, args } as WorkerRequest, transfer);
      } catch (err) {
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  async listTokens(modulePath: string, options: ListTokensOptions = {}): Promise<TokenSlot[]> {
    return this.call('listTokens', { modulePath, rescan: options.rescan ?? false });
  }

  async listKeys(modulePath: string, slotId: string): Promise<TokenKey[]> {
    return this.call('listKeys', { modulePath, slotId });
  }

  /**
   * Logs in inside the worker. The caller's `pin` is copied into a buffer that
   * is transferred (not copied) to the worker and wiped there after C_Login;
   * `pin` itself is wiped at once.
   */
  async openKey(
    modulePath: string,
    slotId: string,
    keyIdHex: string,
    pin: Uint8Array | null,
  ): Promise<TokenSigningKey> {
    const moved = pin && pin.length > 0 ? new Uint8Array(pin) : null;
    wipe(pin);
    let dto: OpenedKeyDto;
    try {
      dto = await this.call(
        'openKey',
        { modulePath, slotId, keyId: keyIdHex, pin: moved },
        moved ? [moved.buffer as ArrayBuffer] : [],
      );
    } finally {
      // Detached (byteLength 0) once transferred; wiped here only if the message never left.
      if (moved && moved.byteLength > 0) wipe(moved);
    }
    return this.keyFrom(dto);
  }

  private keyFrom(dto: OpenedKeyDto): TokenSigningKey {
    const generation = this.generation;
    let closed = false;
    const alive = () => generation === this.generation && this.worker !== null;
    return {
      source: 'pkcs11',
      label: dto.label,
      modulePath: dto.modulePath,
      slotId: dto.slotId,
      keyId: dto.keyId,
      certificate: dto.certificate,
      chain: dto.chain,
      algorithm: dto.algorithm,
      sign: async (data) => {
        if (closed) throw new SigningError('cancelled');
        if (!alive()) throw new Error('pkcs11: the worker holding this key stopped; open the key again');
        // A copy of just these bytes (a Buffer may view a larger shared pool), moved rather than cloned.
        const copy = new Uint8Array(data);
        return this.call('sign', { handle: dto.handle, data: copy }, [copy.buffer as ArrayBuffer]);
      },
      close: async () => {
        if (closed) return;
        closed = true;
        if (alive()) await this.call('closeKey', { handle: dto.handle });
      },
    };
  }

  /**
   * Logs out of every open key, C_Finalize in the worker, ends the thread. A
   * worker stuck in a blocking call (a PIN-pad reader waiting for the user) is
   * given `shutdownTimeoutMs`, then terminated anyway.
   */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.call('shutdown', {}),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.shutdownTimeoutMs);
          timer.unref();
        }),
      ]);
    } finally {
      clearTimeout(timer);
      this.worker = null;
      await worker.terminate();
    }
  }
}
