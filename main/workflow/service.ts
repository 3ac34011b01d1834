/**
 * The provider's workflow over the local database, as its callers use it:
 * one object for the commands (commands.ts: transitions that write the
 * application row, the hash-chained event and the outbox row in one
 * transaction) and the reads the screens make (card.ts: the card, the output
 * document, the chain check, the executors to assign).
 */
import type { ApplicationCard, OutputDocument, TransitionResult } from '#preload/contract/workflow.js';
import type { ChainCheck } from '#core/workflow/chain.js';
import type { FieldValue } from '#core/workflow/fields.js';
import { CardReadModel, type StaffMember } from './card.js';
import { WorkflowCommands, type AssignResult } from './commands.js';
import type { Actor, WorkflowServiceOptions } from './records.js';

export type { Actor, WorkflowServiceOptions } from './records.js';
export type { AssignResult } from './commands.js';
export type { StaffMember } from './card.js';
export { MAX_COMMENT, MAX_REFUSAL_TEXT } from './commands.js';

export class WorkflowService {
  readonly commands: WorkflowCommands;
  readonly reads: CardReadModel;

  constructor(options: WorkflowServiceOptions) {
    this.commands = new WorkflowCommands(options);
    this.reads = new CardReadModel(options);
  }

  // ------------------------------------------------------------ commands ---

  /** The head assigns (or changes) the responsible executor of one application. */
  assignOne(applicationId: string, version: number | null, responsibleUserId: string, actor: Actor): TransitionResult {
    return this.commands.assignOne(applicationId, version, responsibleUserId, actor);
  }

  /** Assigns several applications (selected in the journal); each row succeeds or fails on its own. */
  assign(
    items: readonly { id: string; version?: number | undefined }[],
    responsibleUserId: string,
    actor: Actor,
  ): AssignResult[] {
    return this.commands.assign(items, responsibleUserId, actor);
  }

  accept(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.commands.accept(applicationId, version, actor);
  }

  save(
    applicationId: string,
    version: number,
    data: Readonly<Record<string, FieldValue>>,
    actor: Actor,
  ): TransitionResult {
    return this.commands.save(applicationId, version, data, actor);
  }

  decide(
    applicationId: string,
    version: number,
    input: Parameters<WorkflowCommands['decide']>[2],
    actor: Actor,
  ): TransitionResult {
    return this.commands.decide(applicationId, version, input, actor);
  }

  refer(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.commands.refer(applicationId, version, actor);
  }

  commission(
    applicationId: string,
    version: number,
    protocol: Readonly<Record<string, FieldValue>>,
    actor: Actor,
  ): TransitionResult {
    return this.commands.commission(applicationId, version, protocol, actor);
  }

  send(applicationId: string, version: number, actor: Actor): TransitionResult {
    return this.commands.send(applicationId, version, actor);
  }

  returnForRework(applicationId: string, version: number, comment: string, actor: Actor): TransitionResult {
    return this.commands.returnForRework(applicationId, version, comment, actor);
  }

  sign(applicationId: string, version: number, actor: Actor, signatureId?: string): TransitionResult {
    return this.commands.sign(applicationId, version, actor, signatureId);
  }

  // --------------------------------------------------------------- reads ---

  card(applicationId: string, actor: Actor): ApplicationCard {
    return this.reads.card(applicationId, actor);
  }

  preview(applicationId: string, actor: Actor): OutputDocument {
    return this.reads.preview(applicationId, actor);
  }

  verifyChain(applicationId: string, actor: Actor): ChainCheck {
    return this.reads.verifyChain(applicationId, actor);
  }

  staff(providerId: string, actor: Actor): StaffMember[] {
    return this.reads.staff(providerId, actor);
  }
}
