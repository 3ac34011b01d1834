/**
 * A bench child process runs as the app's main process does: bundled by
 * esbuild (as scripts/build.mjs bundles main), under plain Node, without the
 * TypeScript loader the rest of the bench runs under (whose memory and
 * start-up would count in the child's figures).
 */
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '..');

/** Bundles `entry` (relative to the repository) to dist/bench/<name>.cjs; native modules stay outside. */
export async function bundleForNode(entry: string, name: string, external: readonly string[]): Promise<string> {
  const outfile = join(ROOT, 'dist', 'bench', `${name}.cjs`);
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
    external: [...external],
    banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    define: { 'import.meta.url': '__bundleUrl' },
  });
  return outfile;
}
