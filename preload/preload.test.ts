import { beforeEach, describe, expect, it, vi } from 'vitest';

const exposed = new Map<string, unknown>();
const invoke = vi.fn((channel: string, input: unknown) => Promise.resolve({ ok: true, value: { channel, input } }));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
  ipcRenderer: { invoke },
}));

describe('preload', () => {
  beforeEach(() => invoke.mockClear());

  it('exposes one global with exactly the contract’s calls, and nothing else', async () => {
    await import('./index.js');
    const { API_GLOBAL, CHANNELS } = await import('./api.js');
    expect([...exposed.keys()]).toEqual([API_GLOBAL]);
    const api = exposed.get(API_GLOBAL) as Record<string, unknown>;
    expect(Object.keys(api).sort()).toEqual([...CHANNELS].sort());
    for (const name of CHANNELS) expect(typeof api[name]).toBe('function');
    expect(Object.isFrozen(api)).toBe(true);
    expect(api).not.toHaveProperty('invoke');
    expect(api).not.toHaveProperty('ipcRenderer');
  });

  it('binds each function to its own channel', async () => {
    await import('./index.js');
    const api = exposed.get('qyzmet') as Record<string, (input: unknown) => Promise<unknown>>;
    await expect(api['journal.list']!({ page: 0, pageSize: 10 })).resolves.toEqual({
      ok: true,
      value: { channel: 'journal.list', input: { page: 0, pageSize: 10 } },
    });
    expect(invoke).toHaveBeenCalledTimes(1);
    expect(invoke).toHaveBeenCalledWith('journal.list', { page: 0, pageSize: 10 });
  });
});
