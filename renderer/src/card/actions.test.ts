/**
 * The card's action table: one entry per action main may offer, the buttons
 * the e2e walks press (by test id), labels from the catalogues, the rules
 * that hold a button back, and the call each press makes.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApplicationCard } from '#preload/contract/workflow.js';
import type * as Client from '../api/client';
import { CARD_ACTIONS } from '#core/vocabulary.js';
import { catalogues, LANGUAGES } from '../i18n/i18n';
import {
  ACTION_ORDER,
  ACTION_TABLE,
  actionDialog,
  actionEnabled,
  offeredActions,
  offeredInputs,
  type ActionContext,
  type CardAction,
  type CardDraft,
} from './actions';

const calls = vi.hoisted(() => ({ list: [] as { channel: string; input: unknown }[], answer: {} as unknown }));
vi.mock('../api/client', async (original) => ({
  ...(await original<typeof Client>()),
  call: (channel: string, input: unknown) => {
    calls.list.push({ channel, input });
    return Promise.resolve(calls.answer);
  },
}));

function cardWith(actions: CardAction[], over: Partial<ApplicationCard> = {}): ApplicationCard {
  return { actions, version: 7, missingRequired: [], commission: null, ...over } as unknown as ApplicationCard;
}

const DRAFT: CardDraft = { edits: {}, refusal: { code: '', text: '' }, comment: '', protocol: {}, responsible: '' };

function context(card: ApplicationCard, draft: Partial<CardDraft> = {}): ActionContext {
  return { id: 'app-1', card, draft: { ...DRAFT, ...draft } };
}

describe('the action table', () => {
  it('has every card action once, in the order of the buttons', () => {
    expect([...ACTION_ORDER].sort()).toEqual([...CARD_ACTIONS].sort());
    expect(ACTION_ORDER).toEqual([
      'assign',
      'accept',
      'save',
      'decideNegative',
      'decidePositive',
      'refer',
      'commission',
      'send',
      'return',
      'sign',
    ]);
  });

  it('gives each button the test id the e2e walks press', () => {
    expect(Object.fromEntries(ACTION_ORDER.map((a) => [a, ACTION_TABLE[a].testId]))).toEqual({
      assign: 'action-assign',
      accept: 'action-accept',
      save: 'action-save',
      decideNegative: 'action-negative',
      decidePositive: 'action-positive',
      refer: 'action-refer',
      commission: 'action-commission',
      send: 'action-send',
      return: 'action-return',
      sign: 'action-sign',
    });
  });

  it.each(LANGUAGES)('labels every button from the %s catalogue', (language) => {
    for (const a of ACTION_ORDER) {
      expect(catalogues[language][ACTION_TABLE[a].labelKey]?.trim(), a).toBeTruthy();
      const hint = ACTION_TABLE[a].hintKey?.(context(cardWith([a], { missingRequired: ['x'] })));
      if (hint) expect(catalogues[language][hint]?.trim(), a).toBeTruthy();
    }
  });

  it('shows only the offered actions, in the table order', () => {
    expect(offeredActions(cardWith(['sign', 'decidePositive', 'decideNegative', 'accept']))).toEqual([
      'accept',
      'decideNegative',
      'decidePositive',
      'sign',
    ]);
  });

  it('shows the inputs of the offered actions in their order on the card', () => {
    expect([
      ...offeredInputs(cardWith(['assign', 'return', 'decidePositive', 'decideNegative', 'commission'])),
    ]).toEqual(['decision', 'returnComment', 'commission', 'assign']);
    expect([...offeredInputs(cardWith(['accept', 'send', 'sign']))]).toEqual([]);
  });

  it('holds buttons back while a call runs', () => {
    const c = context(cardWith([...ACTION_ORDER]), { responsible: 'u', edits: {} });
    for (const a of ACTION_ORDER) expect(actionEnabled(a, c, true), a).toBe(false);
    expect(actionEnabled('accept', c, false)).toBe(true);
  });

  it('assigns only once an executor is chosen, saves only changes', () => {
    const card = cardWith(['assign', 'save']);
    expect(actionEnabled('assign', context(card), false)).toBe(false);
    expect(actionEnabled('assign', context(card, { responsible: 'user-1' }), false)).toBe(true);
    expect(actionEnabled('save', context(card), false)).toBe(false);
    expect(actionEnabled('save', context(card, { edits: { a: 1 } }), false)).toBe(true);
  });

  it('sends only without unsaved edits and with the required fields filled, saying why', () => {
    const ready = context(cardWith(['send']));
    expect(actionEnabled('send', ready, false)).toBe(true);
    expect(ACTION_TABLE.send.hintKey?.(ready)).toBeUndefined();
    expect(actionEnabled('send', context(cardWith(['send']), { edits: { a: 'x' } }), false)).toBe(false);
    const missing = context(cardWith(['send'], { missingRequired: ['result'] }));
    expect(actionEnabled('send', missing, false)).toBe(false);
    expect(ACTION_TABLE.send.hintKey?.(missing)).toBe('messages.requiredField');
  });

  it('opens the signing dialog for Sign only', () => {
    expect(ACTION_ORDER.filter((a) => actionDialog(a) !== null)).toEqual(['sign']);
    expect(actionDialog('sign')).toBe('sign');
  });
});

describe('pressing', () => {
  beforeEach(() => {
    calls.list = [];
    calls.answer = { messageKey: 'ok' };
  });

  async function press(action: CardAction, draft: Partial<CardDraft> = {}) {
    const c = context(cardWith([action]), draft);
    const spec = ACTION_TABLE[action].press;
    await ('call' in spec ? spec.call(c) : spec.then(c));
    return calls.list;
  }

  it('sends the version the card showed and the inputs of the draft', async () => {
    expect(await press('accept')).toEqual([{ channel: 'application.accept', input: { id: 'app-1', version: 7 } }]);
    calls.list = [];
    expect(await press('save', { edits: { a: 'x' } })).toEqual([
      { channel: 'application.save', input: { id: 'app-1', version: 7, data: { a: 'x' } } },
    ]);
    calls.list = [];
    expect(await press('decideNegative', { refusal: { code: 'R1', text: 'why' } })).toEqual([
      {
        channel: 'application.decide',
        input: { id: 'app-1', version: 7, decision: 'negative', refusalReasonCode: 'R1', refusalText: 'why' },
      },
    ]);
    calls.list = [];
    expect(await press('decideNegative', { refusal: { code: '', text: 'why' } })).toEqual([
      { channel: 'application.decide', input: { id: 'app-1', version: 7, decision: 'negative', refusalText: 'why' } },
    ]);
    calls.list = [];
    expect(await press('decidePositive')).toEqual([
      { channel: 'application.decide', input: { id: 'app-1', version: 7, decision: 'positive' } },
    ]);
    calls.list = [];
    expect(await press('refer')).toEqual([{ channel: 'application.refer', input: { id: 'app-1', version: 7 } }]);
    calls.list = [];
    expect(await press('commission', { protocol: { n: 1 } })).toEqual([
      { channel: 'application.commission', input: { id: 'app-1', version: 7, protocol: { n: 1 } } },
    ]);
    calls.list = [];
    expect(await press('send')).toEqual([{ channel: 'application.send', input: { id: 'app-1', version: 7 } }]);
    calls.list = [];
    expect(await press('return', { comment: 'redo' })).toEqual([
      { channel: 'application.return', input: { id: 'app-1', version: 7, comment: 'redo' } },
    ]);
    calls.list = [];
    // Signing completes the application in the signing batch: nothing is called after the dialog.
    expect(await press('sign')).toEqual([]);
  });

  it('assigns this application, and reports its own refusal as the failure', async () => {
    calls.answer = { results: [{ ok: true }], messageKey: 'messages.responsibleAssigned' };
    expect(await press('assign', { responsible: 'user-2' })).toEqual([
      {
        channel: 'application.assign',
        input: { applications: [{ id: 'app-1', version: 7 }], responsibleUserId: 'user-2' },
      },
    ]);
    calls.answer = { results: [{ ok: false, code: 'notStaff', messageKey: 'errors.workflow.notStaff' }] };
    await expect(press('assign', { responsible: 'user-2' })).rejects.toMatchObject({
      error: { code: 'notStaff', messageKey: 'errors.workflow.notStaff' },
    });
  });
});
