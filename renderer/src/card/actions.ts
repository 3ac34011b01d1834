/**
 * The card's actions as one table: for each action main may offer
 * (`card.actions`), its button (test id, label, style), the input it needs
 * above the buttons, when it can be pressed, and what pressing does. The
 * card shows the offered actions in the table's order; main checks every
 * transition again, so these rules only spare the user a refused call.
 */
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { call, CallFailure } from '../api/client';
import type { MessageKey } from '../i18n/i18n';

export type CardAction = ApplicationCard['actions'][number];
export type Value = string | number | boolean | null;

/** What the user has entered on the card so far: the inputs the actions send. */
export interface CardDraft {
  /** Changed fields of the executor's sections. */
  edits: Record<string, Value>;
  refusal: { code: string; text: string };
  /** The head's comment for a return to rework. */
  comment: string;
  /** The collegial body's protocol. */
  protocol: Record<string, Value>;
  /** The executor chosen to be made responsible. */
  responsible: string;
}

/** What an action's rules and its press see: the card as shown (with its version) and the draft. */
export interface ActionContext {
  id: string;
  card: ApplicationCard;
  draft: CardDraft;
}

/** An input shown above the buttons while an action that needs it is offered. */
export type ActionInput = 'decision' | 'returnComment' | 'commission' | 'assign';

/** The order of the inputs on the card. */
export const ACTION_INPUTS: readonly ActionInput[] = ['decision', 'returnComment', 'commission', 'assign'];

type Answer = Promise<{ messageKey: string }>;

export interface CardActionSpec {
  testId: string;
  labelKey: MessageKey;
  /** The button's style besides `button`: the step forward, or a decision's colour. */
  tone?: 'primary' | 'positive' | 'negative';
  input?: ActionInput;
  /** Whether it can be pressed now (it never can while another call runs). */
  ready?: (c: ActionContext) => boolean;
  /** The button's tooltip, saying why it is held back. */
  hintKey?: (c: ActionContext) => MessageKey | undefined;
  /**
   * What pressing does: a call whose answer names the notice; or a dialog
   * (`sign`: the signing dialog), then the call once the dialog made a signature.
   */
  press: { call: (c: ActionContext) => Answer } | { dialog: 'sign'; then: (c: ActionContext) => Answer };
}

const changed = (c: ActionContext) => Object.keys(c.draft.edits).length > 0;

/** Every card action, in the order of the buttons. */
export const ACTION_TABLE = {
  assign: {
    testId: 'action-assign',
    labelKey: 'journal.assign',
    input: 'assign',
    ready: (c) => c.draft.responsible !== '',
    press: {
      call: ({ id, card, draft }) =>
        call('application.assign', {
          applications: [{ id, version: card.version }],
          responsibleUserId: draft.responsible,
        }).then((r) => {
          // One application: its own refusal is the answer (the call itself succeeds).
          const failed = r.results.find((x) => !x.ok);
          if (failed) throw new CallFailure({ code: failed.code ?? 'failed', messageKey: failed.messageKey });
          return r;
        }),
    },
  },
  accept: {
    testId: 'action-accept',
    labelKey: 'card.accept',
    tone: 'primary',
    press: { call: ({ id, card }) => call('application.accept', { id, version: card.version }) },
  },
  save: {
    testId: 'action-save',
    labelKey: 'card.save',
    ready: changed,
    press: {
      call: ({ id, card, draft }) => call('application.save', { id, version: card.version, data: draft.edits }),
    },
  },
  decideNegative: {
    testId: 'action-negative',
    labelKey: 'card.processNegatively',
    tone: 'negative',
    input: 'decision',
    press: {
      call: ({ id, card, draft }) =>
        call('application.decide', {
          id,
          version: card.version,
          decision: 'negative',
          ...(draft.refusal.code ? { refusalReasonCode: draft.refusal.code } : {}),
          refusalText: draft.refusal.text,
        }),
    },
  },
  decidePositive: {
    testId: 'action-positive',
    labelKey: 'card.processPositively',
    tone: 'positive',
    input: 'decision',
    press: {
      call: ({ id, card }) => call('application.decide', { id, version: card.version, decision: 'positive' }),
    },
  },
  refer: {
    testId: 'action-refer',
    labelKey: 'card.refer',
    press: { call: ({ id, card }) => call('application.refer', { id, version: card.version }) },
  },
  commission: {
    testId: 'action-commission',
    labelKey: 'card.recordProtocol',
    input: 'commission',
    press: {
      call: ({ id, card, draft }) =>
        call('application.commission', { id, version: card.version, protocol: draft.protocol }),
    },
  },
  send: {
    testId: 'action-send',
    labelKey: 'card.send',
    tone: 'primary',
    // Unsaved edits would not travel with it; required fields must be filled first.
    ready: (c) => !changed(c) && c.card.missingRequired.length === 0,
    hintKey: (c) => (c.card.missingRequired.length > 0 ? 'messages.requiredField' : undefined),
    press: { call: ({ id, card }) => call('application.send', { id, version: card.version }) },
  },
  return: {
    testId: 'action-return',
    labelKey: 'card.returnForRework',
    input: 'returnComment',
    press: {
      call: ({ id, card, draft }) => call('application.return', { id, version: card.version, comment: draft.comment }),
    },
  },
  sign: {
    testId: 'action-sign',
    labelKey: 'sign.action',
    tone: 'primary',
    // The signing batch completes the application itself (the sign transition), as the journal's Sign does.
    press: { dialog: 'sign', then: () => Promise.resolve({ messageKey: 'messages.applicationSigned' }) },
  },
} satisfies Record<CardAction, CardActionSpec> as Record<CardAction, CardActionSpec>;

/** The actions of the table in the order of their buttons. */
export const ACTION_ORDER = Object.keys(ACTION_TABLE) as CardAction[];

/** The offered actions, in the order of their buttons. */
export function offeredActions(card: ApplicationCard): CardAction[] {
  return ACTION_ORDER.filter((a) => card.actions.includes(a));
}

/** The inputs the offered actions need, in their order on the card. */
export function offeredInputs(card: ApplicationCard): Set<ActionInput> {
  const needed = new Set(offeredActions(card).map((a) => ACTION_TABLE[a].input));
  return new Set(ACTION_INPUTS.filter((i) => needed.has(i)));
}

/** Whether an offered action's button can be pressed now. */
export function actionEnabled(action: CardAction, c: ActionContext, busy: boolean): boolean {
  const ready = ACTION_TABLE[action].ready;
  return !busy && (ready ? ready(c) : true);
}

/** The dialog an action opens before its call, or null for a plain call. */
export function actionDialog(action: CardAction): 'sign' | null {
  const { press } = ACTION_TABLE[action];
  return 'dialog' in press ? press.dialog : null;
}
