// `npm run -s cli -- <command>`: the signer from a terminal (signing/cli.ts). Its English error texts come from
// the renderer's catalogue, the one place the app's words live: the library itself holds no texts.
import { readFileSync } from 'node:fs';
import { runCli } from '#signing/index.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const messages = JSON.parse(readFileSync(new URL('../renderer/src/i18n/en.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;

const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  stdin: readStdin,
  messages,
});
process.exitCode = code;
