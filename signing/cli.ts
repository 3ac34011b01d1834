/**
 * The signer from a terminal (`npm run -s cli -- <command>`), for
 * administrators and scripted checks:
 *
 *   tokens --module <lib>
 *   cert-info --key <file.p12 | pkcs11 URI> [--password-file F] [--module <lib>]
 *   cert-info --cert <file.pem | file.der>
 *   sign --key <file.p12 | pkcs11 URI> [--module <lib>] (--password-file F | --pin-file F)
 *        --in <doc> --out <sig> [--detached] [--xml] [--cosign <existing.p7s>] [--tsa <url>]
 *   verify --in <sig> [--content <doc>] --trust <ca.pem>... [--crl <file>]... [--iin N] [--bin N] [--online]
 *
 * A PIN or password comes from a file or from standard input (when no file
 * is named), never from the command line. Results are JSON on stdout;
 * failures print {"error": {code, message}} on stderr and exit non-zero.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Signer } from './backend.js';
import { certificateDer, parseCertificate } from './certificate.js';
import { cosignCms, signCms } from './cms.js';
import { SigningError, wipe } from './errors.js';
import { inspectKeyFile, openKeyFile } from './keyfile.js';
import type { Pkcs11Api, TokenSigningKey } from './pkcs11/api.js';
import { InProcessPkcs11 } from './pkcs11/token.js';
import { requestTimestamp } from './trust/tsp.js';
import { signXml } from './xmldsig.js';
import { addTimestampToken, parseCms, signatureValueOf } from './cms.js';
import type { SigningKey } from './types.js';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Standard input, read whole (only when a secret is not in a file). */
  stdin: () => Promise<Buffer>;
  pkcs11?: () => Pkcs11Api;
  now?: () => Date;
  /**
   * The English texts of the message keys (the app's catalogue, which the tool passes in: the library holds
   * no texts of its own). A key without a text is printed as it is.
   */
  messages?: Readonly<Record<string, string>>;
}

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `usage:
  tokens --module <lib>
  cert-info --key <file.p12|pkcs11 URI> [--password-file F] [--module <lib>]
  cert-info --cert <file.pem|der>
  sign --key <file.p12|pkcs11 URI> [--module <lib>] (--password-file F | --pin-file F) --in <doc> --out <sig>
       [--detached] [--xml] [--cosign <existing.p7s>] [--tsa <url>]
  verify --in <sig> [--content <doc>] --trust <ca.pem>... [--crl <file>]... [--iin N] [--bin N] [--online]
A PIN or password is read from the named file, or else from standard input.`;

class UsageError extends Error {}

function message(io: CliIo, key: string, details: Readonly<Record<string, string>>): string {
  const text = io.messages?.[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => details[name] ?? whole);
}

/** pkcs11:token=<label>;id=%01%02;object=<label>;slot-id=<n>?module-path=<lib> (RFC 7512, the parts used here). */
export interface Pkcs11Uri {
  token?: string;
  id?: string; // hex
  object?: string;
  slotId?: string;
  modulePath?: string;
}

/** The bytes of a percent-encoded URI value (CKA_ID is binary: %c0 is one byte, not UTF-8). */
function percentBytes(value: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    if (value[i] === '%' && /^[0-9a-f]{2}$/i.test(value.slice(i + 1, i + 3))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(value[i] ?? '', 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  if (!uri.startsWith('pkcs11:')) throw new UsageError(`not a pkcs11 URI: ${uri}`);
  const [path = '', query = ''] = uri.slice('pkcs11:'.length).split('?', 2);
  const out: Pkcs11Uri = {};
  const attrs = (text: string, sep: string) =>
    text
      .split(sep)
      .filter(Boolean)
      .map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)] as const;
      });
  for (const [k, v] of attrs(path, ';')) {
    if (k === 'token') out.token = decodeURIComponent(v);
    else if (k === 'object') out.object = decodeURIComponent(v);
    else if (k === 'slot-id') out.slotId = v;
    else if (k === 'id') out.id = percentBytes(v).toString('hex');
  }
  for (const [k, v] of attrs(query, '&')) {
    if (k === 'module-path') out.modulePath = decodeURIComponent(v);
  }
  return out;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new UsageError(`missing --${name}`);
  return value;
}

async function secret(io: CliIo, file: string | undefined): Promise<Uint8Array> {
  const raw = file ? readFileSync(file) : await io.stdin();
  // One trailing newline (from `echo` or an editor) is not part of the secret.
  let end = raw.length;
  if (end > 0 && raw[end - 1] === 0x0a) end--;
  if (end > 0 && raw[end - 1] === 0x0d) end--;
  const out = new Uint8Array(raw.subarray(0, end));
  raw.fill(0);
  return out;
}

interface TokenRef {
  api: Pkcs11Api;
  modulePath: string;
  slotId: string;
  keyId: string;
  certificate: Uint8Array;
}

async function findTokenKey(io: CliIo, uri: Pkcs11Uri, module: string | undefined): Promise<TokenRef> {
  const modulePath = module ?? uri.modulePath;
  if (!modulePath) throw new UsageError('a pkcs11 URI needs --module <lib> (or module-path in the URI)');
  const api = io.pkcs11 ? io.pkcs11() : new InProcessPkcs11();
  const slots = await api.listTokens(modulePath);
  const slot = slots.find((s) => (uri.slotId ? s.slotId === uri.slotId : uri.token ? s.label === uri.token : true));
  if (!slot) throw new SigningError('tokenNotFound');
  const keys = await api.listKeys(modulePath, slot.slotId);
  const key = keys.find((k) => (uri.id ? k.id === uri.id : uri.object ? k.label === uri.object : true));
  if (!key) throw new SigningError('keyNotFound');
  return { api, modulePath, slotId: slot.slotId, keyId: key.id, certificate: key.certificate };
}

async function openKey(
  io: CliIo,
  keyArg: string,
  module: string | undefined,
  secretFile: string | undefined,
): Promise<{ key: SigningKey; close: () => Promise<void> }> {
  if (keyArg.startsWith('pkcs11:')) {
    const ref = await findTokenKey(io, parsePkcs11Uri(keyArg), module);
    const pin = await secret(io, secretFile);
    let key: TokenSigningKey;
    try {
      key = await ref.api.openKey(ref.modulePath, ref.slotId, ref.keyId, pin.length > 0 ? pin : null);
    } finally {
      wipe(pin);
    }
    return {
      key,
      close: async () => {
        await key.close();
        await ref.api.close();
      },
    };
  }
  const password = await secret(io, secretFile);
  try {
    const key = openKeyFile(readFileSync(keyArg), password);
    return { key, close: () => Promise.resolve() };
  } finally {
    wipe(password);
  }
}

async function cmdTokens(io: CliIo, v: Record<string, unknown>): Promise<unknown> {
  const modulePath = required(v.module as string | undefined, 'module');
  const api = io.pkcs11 ? io.pkcs11() : new InProcessPkcs11();
  try {
    const slots = await api.listTokens(modulePath);
    const tokens = [];
    for (const s of slots) {
      const keys = await api.listKeys(modulePath, s.slotId);
      tokens.push({
        ...s,
        keys: keys.map((k) => ({
          id: k.id,
          label: k.label,
          algorithm: k.algorithm,
          privateKey: k.privateKey,
          uri: `pkcs11:token=${encodeURIComponent(s.label)};id=${k.id.replace(/(..)/g, '%$1')}`,
          certificate: parseCertificate(k.certificate),
        })),
      });
    }
    return { module: modulePath, tokens };
  } finally {
    await api.close();
  }
}

async function cmdCertInfo(io: CliIo, v: Record<string, unknown>): Promise<unknown> {
  if (typeof v.cert === 'string') return parseCertificate(certificateDer(new Uint8Array(readFileSync(v.cert))));
  const keyArg = required(v.key as string | undefined, 'key');
  if (keyArg.startsWith('pkcs11:')) {
    const ref = await findTokenKey(io, parsePkcs11Uri(keyArg), v.module as string | undefined);
    await ref.api.close();
    return parseCertificate(ref.certificate);
  }
  const password = await secret(io, v['password-file'] as string | undefined);
  try {
    const inspection = inspectKeyFile(readFileSync(keyArg), password);
    return {
      keys: inspection.aliases.map((a) => ({
        alias: a.alias,
        algorithm: a.algorithm,
        unsupportedAlgorithm: a.unsupportedAlgorithm,
        certificate: a.facts,
      })),
    };
  } finally {
    wipe(password);
  }
}

async function cmdSign(io: CliIo, v: Record<string, unknown>): Promise<unknown> {
  const keyArg = required(v.key as string | undefined, 'key');
  const input = readFileSync(required(v.in as string | undefined, 'in'));
  const outPath = required(v.out as string | undefined, 'out');
  const secretFile = (v['pin-file'] ?? v['password-file']) as string | undefined;
  const opened = await openKey(io, keyArg, v.module as string | undefined, secretFile);
  try {
    let output: Uint8Array;
    let timestamp: string | null = null;
    if (v.xml) {
      output = Buffer.from(await signXml(input.toString('utf8'), opened.key), 'utf8');
    } else {
      const existing = typeof v.cosign === 'string' ? readFileSync(v.cosign) : null;
      output = existing
        ? await cosignCms(existing, opened.key, { content: input })
        : await signCms(input, opened.key, { detached: Boolean(v.detached), includeChain: true });
      if (typeof v.tsa === 'string') {
        const index = parseCms(output).signers.length - 1;
        const stamp = await requestTimestamp(v.tsa, signatureValueOf(output, index));
        if (stamp.token) {
          output = addTimestampToken(output, index, stamp.token);
          timestamp = stamp.info.genTime.toISOString();
        } else {
          io.stderr(`warning: no timestamp (${stamp.reason}): the signature goes without one\n`);
        }
      }
    }
    writeFileSync(outPath, output);
    return {
      out: outPath,
      format: v.xml ? 'xmldsig' : 'cms',
      detached: Boolean(v.detached),
      bytes: output.length,
      signer: parseCertificate(opened.key.certificate).commonName,
      timestamp,
    };
  } finally {
    await opened.close();
  }
}

async function cmdVerify(io: CliIo, v: Record<string, unknown>): Promise<unknown> {
  const signature = readFileSync(required(v.in as string | undefined, 'in'));
  const content = typeof v.content === 'string' ? readFileSync(v.content) : undefined;
  const trustFiles = (v.trust as string[] | undefined) ?? [];
  if (trustFiles.length === 0) throw new UsageError('missing --trust <ca.pem>');
  const dir = mkdtempSync(join(tmpdir(), 'qyzmet-verify-'));
  const online = Boolean(v.online);
  const signer = await Signer.create({ trustFiles, crlDir: dir, online: () => online, ocsp: online, fetchCrl: online });
  try {
    for (const file of (v.crl as string[] | undefined) ?? []) await signer.crls.update(readFileSync(file));
    const expect = {
      ...(typeof v.iin === 'string' ? { iin: v.iin } : {}),
      ...(typeof v.bin === 'string' ? { bin: v.bin } : {}),
    };
    const result = await signer.verify(signature, {
      ...(content ? { content } : {}),
      ...(Object.keys(expect).length > 0 ? { expect } : {}),
      ...(io.now ? { now: io.now() } : {}),
    });
    return { valid: true, ...result };
  } finally {
    await signer.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    const { values } = parseArgs({
      args: [...rest],
      strict: true,
      options: {
        module: { type: 'string' },
        key: { type: 'string' },
        cert: { type: 'string' },
        'password-file': { type: 'string' },
        'pin-file': { type: 'string' },
        in: { type: 'string' },
        out: { type: 'string' },
        content: { type: 'string' },
        detached: { type: 'boolean' },
        xml: { type: 'boolean' },
        cosign: { type: 'string' },
        tsa: { type: 'string' },
        trust: { type: 'string', multiple: true },
        crl: { type: 'string', multiple: true },
        iin: { type: 'string' },
        bin: { type: 'string' },
        online: { type: 'boolean' },
        pin: { type: 'string' },
        password: { type: 'string' },
      },
    });
    if (values.pin !== undefined || values.password !== undefined) {
      throw new UsageError(
        'a PIN or password is never taken from the command line: use --pin-file / --password-file or standard input',
      );
    }
    const v = values as Record<string, unknown>;
    let result: unknown;
    if (command === 'tokens') result = await cmdTokens(io, v);
    else if (command === 'cert-info') result = await cmdCertInfo(io, v);
    else if (command === 'sign') result = await cmdSign(io, v);
    else if (command === 'verify') result = await cmdVerify(io, v);
    else throw new UsageError(command ? `unknown command: ${command}` : 'no command');
    io.stdout(JSON.stringify(result, null, 2) + '\n');
    return EXIT.ok;
  } catch (err) {
    if (err instanceof SigningError) {
      io.stderr(
        JSON.stringify({
          error: { code: err.code, message: message(io, err.messageKey, err.details), details: err.details },
        }) + '\n',
      );
      return EXIT.failed;
    }
    if (
      err instanceof UsageError ||
      (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
    ) {
      io.stderr(`${err.message}\n${USAGE}\n`);
      return EXIT.usage;
    }
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') {
      io.stderr(JSON.stringify({ error: { code: 'fileNotFound', message: err.message } }) + '\n');
      return EXIT.failed;
    }
    throw err;
  }
}
