/**
 * Running the integrity check (and the daily backup after it) in a worker
 * thread, so that opening a large database does not wait for it.
 *
 * Which script the worker runs (`defaultCheckWorkerScript()`), as for the
 * PKCS#11 worker (signing/pkcs11/client.ts):
 *  - the build: `db-check-worker.cjs` next to the bundle that contains this
 *    code (dist/main/main.cjs → dist/main/db-check-worker.cjs; the bundle
 *    maps import.meta.url to its own file), taken from `app.asar.unpacked`
 *    when the bundle is inside app.asar (a worker cannot start from an asar
 *    archive; electron-builder.yml unpacks the file);
 *  - otherwise the source: `check-worker.ts` next to this file, started
 *    through tsx's loader registered inside the worker by a small eval'd
 *    bootstrap (on Node 20, `execArgv: ['--import', 'tsx']` does not apply to
 *    a Worker's entry).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '#core/node/worker.js';
import type { CheckReply, CheckRequest } from './integrity.js';

/** The worker bundle's file name, next to the main bundle. */
export const CHECK_WORKER_BUNDLE_NAME = 'db-check-worker.cjs';

/** The bundled worker next to `base` if it exists (unpacked from app.asar), else the source check-worker.ts. */
export function defaultCheckWorkerScript(base: string | URL = import.meta.url): URL {
  const bundled = new URL(`./${CHECK_WORKER_BUNDLE_NAME}`, base);
  if (bundled.protocol === 'file:') {
    const file = fileURLToPath(bundled).replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
    if (existsSync(file)) return pathToFileURL(file);
  }
  return new URL('./check-worker.ts', base);
}

function startCheckWorker(script: URL, request: CheckRequest): Worker {
  return startWorker(script, { name: 'db-check', workerData: request });
}

export interface RunningCheck {
  /** The worker's reply; rejects when the worker could not run (its script missing, it crashed, it was stopped). */
  reply: Promise<CheckReply>;
  /** Ends the worker (the app is closing); `reply` then rejects unless it has already settled. */
  stop(): Promise<void>;
}

/** Starts the check of `request.path` in a worker thread. */
export function runCheckInWorker(
  request: CheckRequest,
  script: URL = defaultCheckWorkerScript(),
  delayMs = 0,
): RunningCheck {
  let worker: Worker | null = null;
  let timer: NodeJS.Timeout | null = null;
  let settled = false;
  let stopped = false;
  let cancel: (err: Error) => void = () => {};
  const reply = new Promise<CheckReply>((resolve, reject) => {
    cancel = reject;
    const start = () => {
      timer = null;
      const w = startCheckWorker(script, request);
      worker = w;
      w.once('message', (message: CheckReply) => {
        settled = true;
        resolve(message);
        void w.terminate();
      });
      w.once('error', (err) => {
        settled = true;
        reject(err);
      });
      w.once('exit', (code) => {
        if (!settled) reject(new Error(`the integrity check's worker stopped (exit code ${code}) before it answered`));
        settled = true;
      });
    };
    if (delayMs <= 0) return start();
    // Started a little after the window opens, so the first screens do not share the disk and a core with it.
    timer = setTimeout(() => (stopped ? undefined : start()), delayMs);
    timer.unref();
  });
  return {
    reply,
    stop: async () => {
      stopped = true;
      if (timer) {
        // Stopped before it began: nothing ran.
        clearTimeout(timer);
        timer = null;
        settled = true;
        cancel(new Error('the integrity check was stopped before it began'));
      }
      if (!settled && worker) await (worker as Worker).terminate();
    },
  };
}
