/**
 * The integrity check's worker thread (started by db/check.ts): opens the
 * database read-only on a connection of its own (WAL lets it read while the
 * app's connection writes), runs the check the start chose, takes the daily
 * backup when the check passed and one is due, and posts one CheckReply.
 *
 * From the source tree it runs as this .ts file through tsx; from the build
 * as dist/main/db-check-worker.cjs (esbuild entry in scripts/build.mjs,
 * better-sqlite3 external).
 */
import { renameSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { integrityProblems, type CheckReply, type CheckRequest } from './integrity.js';

async function run(request: CheckRequest): Promise<CheckReply> {
  const started = performance.now();
  let sqlite: Database.Database | null = null;
  let problems: string[];
  try {
    sqlite = new Database(request.path, { readonly: true, fileMustExist: true });
    sqlite.pragma('busy_timeout = 5000');
    problems = integrityProblems(sqlite, request.mode);
  } catch (err) {
    // "database disk image is malformed", "file is not a database", ...
    problems = [err instanceof Error ? err.message : String(err)];
  }
  const ms = performance.now() - started;
  let backupPath: string | null = null;
  let backupError: string | null = null;
  if (problems.length === 0 && request.backupTo && sqlite) {
    try {
      // Under another name until it is whole: a backup cut short (the app closed) is never taken for one.
      const partial = `${request.backupTo}.partial`;
      await sqlite.backup(partial);
      renameSync(partial, request.backupTo);
      backupPath = request.backupTo;
    } catch (err) {
      backupError = err instanceof Error ? err.message : String(err);
    }
  }
  sqlite?.close();
  return { problems, ms, backupPath, backupError };
}

if (parentPort) {
  const port = parentPort;
  void run(workerData as CheckRequest).then((reply) => port.postMessage(reply));
}
