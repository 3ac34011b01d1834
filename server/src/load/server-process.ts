/**
 * Starts the central server in a child process (server-child.ts) and stops
 * it cleanly (SIGTERM) or kills it (SIGKILL, as a crash or a power cut
 * would). Its output goes to the parent's stderr when QYZMET_SERVER_LOG is set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ServerOptions } from '../server.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

export interface ServerProcess {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM; resolves when it exited. */
  stop(): Promise<void>;
  /** SIGKILL; resolves when it is gone. */
  kill(): Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

export async function startServerProcess(options: ServerOptions, timeoutMs = 120_000): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'server', 'src', 'load', 'server-child.ts'), JSON.stringify(options)],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env },
    },
  );
  const gone = exited(child);
  let output = '';
  let started = false;
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      output += text;
      const m = /listening (\S+)/.exec(output);
      if (m) {
        started = true;
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (process.env.QYZMET_SERVER_LOG) process.stderr.write(text);
      else if (!started) output += text;
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code ?? signal}) before it served:\n${output}`));
    });
  });
  child.stdout!.on('data', (text: string) => {
    if (process.env.QYZMET_SERVER_LOG) process.stderr.write(text);
  });
  return {
    url,
    port: Number(new URL(url).port),
    pid: child.pid!,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await gone;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await gone;
    },
  };
}
