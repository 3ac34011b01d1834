/**
 * The signer as the renderer reaches it: list tokens, open a key (one PIN or
 * password per batch), check who will sign before anything is signed, sign
 * the documents of many applications in the background with progress and
 * cancel, and keep each signature with an outbox row for the central server.
 *
 * A batch (the journal's selection, or the card's one application) signs
 * only applications On signing that are this user's to sign, and completes
 * each through the workflow's own sign transition, as the card's Sign does;
 * the others are skipped with their reason (seed 002, steps 23-28).
 *
 * Secrets: the PIN or password arrives in `open`, is turned into a buffer,
 * used once (C_Login / the key file's decryption) and wiped. What stays for
 * the batch is the logged-in token session or the decrypted key in memory,
 * both dropped by `close`, by the idle timer, or when the app quits.
 */
import { createHash, randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { CallOutput } from '#preload/api.js';
import type { TransitionResult } from '#preload/contract/workflow.js';
import { ServiceError } from '../rpc.js';
import { applicationXml, loadApplicationDocument } from './documents.js';
import {
  type CertificateFacts,
  type CheckOutcome,
  isSigningError,
  type OpenedKey,
  type SignatureFormat,
  type SignedDocument,
  type SignerBackend,
  type SigningError,
  type TokenList,
  wipe,
} from '#signing/index.js';

export type { CheckOutcome, OpenedKey, SignatureFormat, SignedDocument, SignerBackend, TokenList };
export type Progress = CallOutput<'signing.progress'>;

export interface SigningUser {
  id: string;
  iin: string;
}

interface OpenHandle {
  opened: OpenedKey;
  facts: CertificateFacts;
  userId: string;
  lastUsed: number;
  busy: boolean;
}

interface Batch {
  progress: Progress;
  cancelled: boolean;
  userId: string;
}

/** What a batch asks of the workflow (main/workflow/commands.ts): the checks and the transition the card uses. */
export interface SigningWorkflow {
  /** Why this user may not sign the application now, or null. */
  signRefusal(applicationId: string, actor: { id: string }): ServiceError | null;
  /** The user's signature of the current document made since it went On signing (an interrupted batch), or null. */
  currentSignature(applicationId: string, actor: { id: string }): string | null;
  /** The sign transition: completes the application on that signature. */
  sign(applicationId: string, version: number | null, actor: { id: string }, signatureId?: string): TransitionResult;
}

export interface SigningServiceOptions {
  sqlite: Database.Database;
  backend: SignerBackend;
  workflow: SigningWorkflow;
  /** The user working now; null when nobody is logged in. */
  currentUser: () => SigningUser | null;
  now?: () => number;
  /** An opened key is forgotten after this long unused (ms). */
  idleCloseMs?: number;
  protocolVersion?: number;
  schemaVersion?: number;
}

function toServiceError(err: unknown): ServiceError {
  if (err instanceof ServiceError) return err;
  if (isSigningError(err)) return new ServiceError(err.code, err.messageKey, { ...err.details });
  throw err;
}

function secretBytes(value: string): Uint8Array {
  return Buffer.from(value, 'utf8');
}

export class SigningService {
  private readonly handles = new Map<string, OpenHandle>();
  private readonly batches = new Map<string, Batch>();
  private readonly now: () => number;
  private readonly idleCloseMs: number;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly o: SigningServiceOptions) {
    this.now = o.now ?? Date.now;
    this.idleCloseMs = o.idleCloseMs ?? 5 * 60_000;
  }

  private user(): SigningUser {
    const user = this.o.currentUser();
    if (!user) throw new ServiceError('noSession', 'errors.sessionUnavailable');
    return user;
  }

  /** The contract's shape: the compiler checks here that the library's TokenList fits it. */
  async tokens(): Promise<CallOutput<'signing.tokens'>> {
    this.user();
    try {
      return await this.o.backend.listTokens();
    } catch (err) {
      throw toServiceError(err);
    }
  }

  /**
   * Opens the key and checks its certificate for signing by this user. The
   * secret string is copied into a buffer that is wiped once used; the caller's
   * string is dropped with the request.
   */
  async open(
    source:
      | { kind: 'keyfile'; fileName: string; data: string; password: string; alias?: string | undefined }
      | { kind: 'token'; tokenId: string; keyId: string; pin: string },
  ): Promise<CallOutput<'signing.open'>> {
    const user = this.user();
    let opened: OpenedKey;
    const secret = secretBytes(source.kind === 'keyfile' ? source.password : source.pin);
    try {
      opened =
        source.kind === 'keyfile'
          ? await this.o.backend.openKeyFile(Buffer.from(source.data, 'base64'), secret, source.alias)
          : await this.o.backend.openToken(source.tokenId, source.keyId, secret);
    } catch (err) {
      throw toServiceError(err);
    } finally {
      wipe(secret);
    }
    try {
      const facts = this.o.backend.facts(opened.key.certificate);
      const outcome = await this.o.backend.check(opened.key.certificate, {
        act: 'sign',
        at: new Date(this.now()),
        expect: { iin: user.iin },
      });
      const handle = randomUUID();
      this.handles.set(handle, { opened, facts, userId: user.id, lastUsed: this.now(), busy: false });
      this.armIdleTimer();
      return { handle, certificate: facts, revocation: outcome.revocation, warnings: outcome.warnings };
    } catch (err) {
      await opened.close().catch(() => undefined);
      throw toServiceError(err);
    }
  }

  private handle(id: string, userId: string): OpenHandle {
    const h = this.handles.get(id);
    if (!h || h.userId !== userId) throw new ServiceError('keyNotOpen', 'errors.signing.keyNotOpen');
    return h;
  }

  async close(handleId: string): Promise<Record<string, never>> {
    const h = this.handles.get(handleId);
    if (h) {
      this.handles.delete(handleId);
      await h.opened.close().catch(() => undefined);
    }
    return {};
  }

  /** Starts a batch; it runs on after this returns. */
  start(handleId: string, applicationIds: readonly string[], format: SignatureFormat): Progress {
    const user = this.user();
    const h = this.handle(handleId, user.id);
    if (h.busy) throw new ServiceError('batchRunning', 'errors.signing.batchRunning');
    const unique = [...new Set(applicationIds)];
    const batchId = randomUUID();
    const batch: Batch = {
      userId: user.id,
      cancelled: false,
      progress: {
        batchId,
        state: 'running',
        total: unique.length,
        done: 0,
        failed: 0,
        results: [],
        timestampNote: 'none',
      },
    };
    this.batches.set(batchId, batch);
    h.busy = true;
    void this.run(batch, h, unique, format, user).finally(() => {
      h.busy = false;
      h.lastUsed = this.now();
    });
    return structuredClone(batch.progress);
  }

  /** Runs a batch to its end; exposed for callers that want to await it (CLI, tests). */
  async run(
    batch: Batch,
    h: OpenHandle,
    ids: readonly string[],
    format: SignatureFormat,
    user: SigningUser,
  ): Promise<void> {
    const p = batch.progress;
    let fatal: SigningError | null = null;
    for (const id of ids) {
      if (batch.cancelled) break;
      const doc = loadApplicationDocument(this.o.sqlite, id);
      if (!doc) {
        p.results.push(this.failure(id, null, 'notFound', 'errors.signing.applicationNotFound'));
      } else if (fatal) {
        p.results.push(this.failure(id, doc.number, fatal.code, fatal.messageKey));
      } else {
        const refusal = this.o.workflow.signRefusal(id, user);
        if (refusal) {
          p.results.push(this.failure(id, doc.number, refusal.code, refusal.messageKey));
        } else {
          try {
            const result = await this.signAndComplete(id, doc, format, h, user);
            if (result.timestampNote !== 'none') p.timestampNote = result.timestampNote;
            p.results.push({
              applicationId: id,
              number: doc.number,
              ok: true,
              code: null,
              messageKey: null,
              timestamped: result.timestamped,
            });
          } catch (err) {
            if (err instanceof ServiceError) {
              p.results.push(this.failure(id, doc.number, err.code, err.messageKey));
            } else {
              if (!isSigningError(err)) throw err;
              // A token that is gone or locked fails the rest of the batch the same way.
              if (err.code === 'tokenRemoved' || err.code === 'pinLocked') fatal = err;
              p.results.push(this.failure(id, doc.number, err.code, err.messageKey));
            }
          }
        }
      }
      p.done += 1;
      p.failed = p.results.filter((r) => !r.ok).length;
    }
    p.state = batch.cancelled ? 'cancelled' : 'finished';
  }

  /**
   * Signs the application's document (unless this user already signed it as
   * it stands, in a batch cut short before completing) and completes it.
   */
  private async signAndComplete(
    id: string,
    doc: NonNullable<ReturnType<typeof loadApplicationDocument>>,
    format: SignatureFormat,
    h: OpenHandle,
    user: SigningUser,
  ): Promise<{ timestamped: boolean; timestampNote: Progress['timestampNote'] }> {
    let signatureId = this.o.workflow.currentSignature(id, user);
    let timestamped = false;
    let timestampNote: Progress['timestampNote'] = 'none';
    if (!signatureId) {
      const bytes = Buffer.from(applicationXml(doc), 'utf8');
      const signed = await this.o.backend.sign(format, bytes, h.opened.key);
      signatureId = this.store(id, format, bytes, signed, h, user);
      timestamped = signed.timestampedAt !== null;
      timestampNote = signed.timestampNote;
    }
    this.o.workflow.sign(id, null, user, signatureId);
    return { timestamped, timestampNote };
  }

  private failure(id: string, number: string | null, code: string, messageKey: string) {
    return { applicationId: id, number, ok: false, code, messageKey, timestamped: false };
  }

  private store(
    applicationId: string,
    format: SignatureFormat,
    document: Uint8Array,
    signed: SignedDocument,
    h: OpenHandle,
    user: SigningUser,
  ): string {
    const id = randomUUID();
    const now = this.now();
    const documentSha256 = createHash('sha256').update(document).digest('hex');
    const db = this.o.sqlite;
    db.transaction(() => {
      db.prepare(
        `INSERT INTO signatures (id, application_id, format, signed, document_sha256, signer_iin, signer_bin,
           signer_name, certificate_sha256, key_source, user_id, signed_at, timestamped_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        id,
        applicationId,
        format,
        Buffer.from(signed.signed),
        documentSha256,
        h.facts.iin,
        h.facts.bin,
        h.facts.commonName,
        h.facts.sha256,
        h.opened.key.source,
        user.id,
        now,
        signed.timestampedAt,
      );
      db.prepare(
        `INSERT INTO outbox (op, entity, entity_id, payload, protocol_version, schema_version, created_at)
         VALUES ('signature.add', 'signature', ?, ?, ?, ?, ?)`,
      ).run(
        id,
        JSON.stringify({
          id,
          applicationId,
          format,
          documentSha256,
          certificateSha256: h.facts.sha256,
          signedAt: now,
          signed: Buffer.from(signed.signed).toString('base64'),
          // Who signed: the server applies the change only under this user's key (core/auth/change-key.ts).
          userId: user.id,
          keySource: h.opened.key.source,
          timestampedAt: signed.timestampedAt,
        }),
        this.o.protocolVersion ?? 1,
        this.o.schemaVersion ?? 1,
        now,
      );
    })();
    return id;
  }

  progress(batchId: string): Progress {
    const user = this.user();
    const b = this.batches.get(batchId);
    if (!b || b.userId !== user.id) throw new ServiceError('batchNotFound', 'errors.signing.batchNotFound');
    return structuredClone(b.progress);
  }

  cancel(batchId: string): Progress {
    const user = this.user();
    const b = this.batches.get(batchId);
    if (!b || b.userId !== user.id) throw new ServiceError('batchNotFound', 'errors.signing.batchNotFound');
    if (b.progress.state === 'running') b.cancelled = true;
    return structuredClone(b.progress);
  }

  /** Waits until a batch has ended (tests, CLI). */
  async settle(batchId: string, pollMs = 5): Promise<Progress> {
    for (;;) {
      const b = this.batches.get(batchId);
      if (!b) throw new Error(`no batch ${batchId}`);
      if (b.progress.state !== 'running') return structuredClone(b.progress);
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private armIdleTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(
      () => {
        const cutoff = this.now() - this.idleCloseMs;
        for (const [id, h] of this.handles) {
          if (!h.busy && h.lastUsed < cutoff) void this.close(id);
        }
        if (this.handles.size === 0 && this.timer) {
          clearInterval(this.timer);
          this.timer = null;
        }
      },
      Math.min(30_000, this.idleCloseMs),
    );
    this.timer.unref();
  }

  /** Forgets every opened key (logout, quit). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.handles.keys()].map((id) => this.close(id)));
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
