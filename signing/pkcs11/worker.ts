/**
 * The PKCS#11 worker thread's entry: it owns an InProcessPkcs11 and answers
 * the client's messages (api.ts: WorkerRequest → WorkerResponse) one at a
 * time, in order. Open keys stay here, known to the client by a number; a PIN
 * arrives in a transferred buffer and is wiped right after C_Login.
 *
 * Started by Pkcs11Client (client.ts): from the source tree as this .ts file
 * through tsx, from the build as dist/main/pkcs11-worker.cjs (esbuild entry
 * signing/pkcs11/worker.ts, pkcs11js external).
 */
import { parentPort } from 'node:worker_threads';
import { SigningError } from '../errors.js';
import {
  serializeError,
  type OpenedKeyDto,
  type TokenSigningKey,
  type WorkerOp,
  type WorkerOps,
  type WorkerRequest,
  type WorkerResponse,
} from './api.js';
import { InProcessPkcs11 } from './token.js';

/** The side of a MessagePort the worker needs (parentPort, or a MessageChannel end in a test). */
export interface WorkerPort {
  on(event: 'message', listener: (message: WorkerRequest) => void): unknown;
  postMessage(message: WorkerResponse, transfer?: ArrayBuffer[]): void;
}

/** Answers the requests arriving on `port` with `backend`. */
export function serveWorker(port: WorkerPort, backend: InProcessPkcs11 = new InProcessPkcs11()): void {
  const keys = new Map<number, TokenSigningKey>();
  let nextHandle = 1;
  let queue: Promise<void> = Promise.resolve();

  const ops: { [K in WorkerOp]: (args: WorkerOps[K]['args']) => Promise<WorkerOps[K]['result']> } = {
    listTokens: (a) => backend.listTokens(a.modulePath, { rescan: a.rescan }),
    listKeys: (a) => backend.listKeys(a.modulePath, a.slotId),
    openKey: async (a) => {
      const key = await backend.openKey(a.modulePath, a.slotId, a.keyId, a.pin);
      const handle = nextHandle++;
      keys.set(handle, key);
      const dto: OpenedKeyDto = {
        handle,
        label: key.label,
        modulePath: key.modulePath,
        slotId: key.slotId,
        keyId: key.keyId,
        certificate: key.certificate,
        chain: [...key.chain],
        algorithm: key.algorithm,
      };
      return dto;
    },
    sign: async (a) => {
      const key = keys.get(a.handle);
      if (!key) throw new SigningError('cancelled');
      return key.sign(a.data);
    },
    closeKey: async (a) => {
      const key = keys.get(a.handle);
      keys.delete(a.handle);
      await key?.close();
      return null;
    },
    shutdown: async () => {
      for (const key of keys.values()) await key.close();
      keys.clear();
      await backend.close();
      return null;
    },
  };

  const handle = async (request: WorkerRequest): Promise<void> => {
    let response: WorkerResponse;
    const transfer: ArrayBuffer[] = [];
    try {
      const run = ops[request.op] as (args: WorkerRequest['args']) => Promise<WorkerOps[WorkerOp]['result']>;
      const result = await run(request.args);
      // A signature owns its buffer: hand it over instead of copying.
      if (result instanceof Uint8Array && result.byteOffset === 0 && result.byteLength === result.buffer.byteLength) {
        transfer.push(result.buffer as ArrayBuffer);
      }
      response = { id: request.id, ok: true, result };
    } catch (err) {
      response = { id: request.id, ok: false, error: serializeError(err) };
    } finally {
      if (request.op === 'openKey' && request.args.pin) request.args.pin.fill(0);
    }
    port.postMessage(response, transfer);
  };

  // PKCS#11 calls are synchronous; the queue keeps each request whole and in order.
  port.on('message', (request) => {
    queue = queue.then(() => handle(request));
  });
}

if (parentPort) serveWorker(parentPort as unknown as WorkerPort);
