// `npm run -s cli -- <command>`: the signer from a terminal (signing/cli.ts). Its English error texts come from
// the renderer's catalogue, the one place the app's words live: the library itself holds no texts.
// `verify --in <paper.pdf|.png|.jpg> --trust <ca.pem>... [--crl <file>]... [--online]` checks a printed document
// by its codes (main/documents/check.ts); any other --in is a signature file, verified as before.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCli, Signer } from '#signing/index.js';
import { checkPaper, problemKey, warningKey } from '#main/documents/check.js';
import { fileKind } from '#main/documents/scan.js';

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const messages = JSON.parse(readFileSync(new URL('../renderer/src/i18n/en.json', import.meta.url), 'utf8')) as Record<
  string,
  string
>;

function text(key: string, details: Readonly<Record<string, string | number>> = {}): string {
  return (messages[key] ?? key).replace(/\{(\w+)\}/g, (whole, name: string) => String(details[name] ?? whole));
}

/** The paper named by `verify --in`, when it is a PDF or a picture (a signature file is none of those). */
function paperArgument(argv: readonly string[]): { bytes: Buffer; kind: string } | null {
  if (argv[0] !== 'verify') return null;
  const at = argv.indexOf('--in');
  const inline = argv.find((a) => a.startsWith('--in='));
  const path = inline ? inline.slice('--in='.length) : at >= 0 ? argv[at + 1] : undefined;
  if (!path) return null;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch {
    return null; // the signer's CLI says what is wrong with the path
  }
  const kind = fileKind(bytes);
  return kind ? { bytes, kind } : null;
}

async function verifyPaper(argv: readonly string[], bytes: Buffer): Promise<number> {
  let values: { trust?: string[]; crl?: string[]; online?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv.slice(1),
      strict: true,
      options: {
        in: { type: 'string' },
        trust: { type: 'string', multiple: true },
        crl: { type: 'string', multiple: true },
        online: { type: 'boolean' },
      },
    }));
  } catch (err) {
    process.stderr.write(
      `${(err as Error).message}\nusage: verify --in <paper.pdf|.png|.jpg> --trust <ca.pem>... [--crl <file>]... [--online]\n`,
    );
    return 2;
  }
  const trustFiles = values.trust ?? [];
  if (trustFiles.length === 0) {
    process.stderr.write('missing --trust <ca.pem>\n');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-verify-'));
  const online = values.online === true;
  const signer = await Signer.create({ trustFiles, crlDir: dir, online: () => online, ocsp: online, fetchCrl: online });
  try {
    for (const file of values.crl ?? []) await signer.crls.update(readFileSync(file));
    const result = await checkPaper(bytes, { verifier: signer });
    const out = {
      ...result,
      message: result.problem
        ? text(problemKey(result.problem), { read: result.codes.read, count: result.codes.count ?? '?' })
        : text('paperCheck.ok'),
      warnings: result.warnings.map((code) => ({ code, message: text(warningKey(code)) })),
    };
    process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return result.ok ? 0 : 1;
  } finally {
    await signer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const argv = process.argv.slice(2);
const paper = paperArgument(argv);
process.exitCode = paper
  ? await verifyPaper(argv, paper.bytes)
  : await runCli(argv, {
      stdout: (t) => process.stdout.write(t),
      stderr: (t) => process.stderr.write(t),
      stdin: readStdin,
      messages,
    });
