import { describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '#preload/api.js';
import type { Handlers } from '../rpc.js';
import { registerContract, type InvokeEvent, type IpcMainLike } from './ipc.js';
import { APP_ENTRY } from './policy.js';

function fakeIpc() {
  const registered = new Map<string, (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>>();
  const ipc: IpcMainLike = {
    handle: (channel, listener) => void registered.set(channel, listener),
    removeHandler: (channel) => void registered.delete(channel),
  };
  return { ipc, registered };
}

const handlers = {
  'app.info': vi.fn(() => ({
    version: '1.0.0',
    transport: 'ipc' as const,
    databasePath: '/tmp/q.db',
    database: { check: 'ok' as const, backupPath: null },
  })),
  'preferences.set': vi.fn((input: { language?: 'kk' | 'ru' | 'en' }) => ({
    language: input.language ?? 'kk',
    theme: 'light' as const,
  })),
} as unknown as Handlers;

const top = { senderFrame: { url: APP_ENTRY, parent: null } };

describe('registerContract', () => {
  it('registers exactly one handler per contract call and removes them all', () => {
    const { ipc, registered } = fakeIpc();
    const unregister = registerContract(ipc, handlers);
    expect([...registered.keys()].sort()).toEqual([...CHANNELS].sort());
    unregister();
    expect(registered.size).toBe(0);
  });

  it('answers a call from the app’s top frame', async () => {
    const { ipc, registered } = fakeIpc();
    registerContract(ipc, handlers);
    await expect(registered.get('app.info')!(top, {})).resolves.toEqual({
      ok: true,
      value: {
        version: '1.0.0',
        transport: 'ipc',
        databasePath: '/tmp/q.db',
        database: { check: 'ok', backupPath: null },
      },
    });
  });

  it.each([
    ['a subframe', { url: APP_ENTRY, parent: {} }],
    ['another origin', { url: 'https://evil.example/', parent: null }],
    ['no frame', null],
  ])('refuses a call from %s without running the handler', async (_name, senderFrame) => {
    const { ipc, registered } = fakeIpc();
    const log = { error: vi.fn() };
    registerContract(ipc, handlers, log);
    vi.mocked(handlers['app.info']).mockClear();
    const result = await registered.get('app.info')!({ senderFrame }, {});
    expect(result).toMatchObject({ ok: false, error: { code: 'untrusted_sender' } });
    expect(handlers['app.info']).not.toHaveBeenCalled();
    expect(log.error).toHaveBeenCalled();
  });

  it('validates the input before the handler sees it', async () => {
    const { ipc, registered } = fakeIpc();
    registerContract(ipc, handlers);
    vi.mocked(handlers['preferences.set']).mockClear();
    const bad = await registered.get('preferences.set')!(top, { language: 'de' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid_input', details: { language: 'invalid_value' } } });
    const extra = await registered.get('preferences.set')!(top, { language: 'ru', admin: true });
    expect(extra).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    expect(handlers['preferences.set']).not.toHaveBeenCalled();
    await expect(registered.get('preferences.set')!(top, { language: 'ru' })).resolves.toMatchObject({
      ok: true,
      value: { language: 'ru' },
    });
  });
});
