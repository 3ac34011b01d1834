/**
 * The preload: exposes on `window.qyzmet` one function per contract call, each
 * bound to its own channel, and nothing else (no generic invoke, no
 * ipcRenderer, no Node).
 */
import { contextBridge, ipcRenderer } from 'electron';
import { API_GLOBAL, CHANNELS, type RawApi } from './api.js';

export function buildApi(invoke: (channel: string, input: unknown) => Promise<unknown>): RawApi {
  const api: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const channel of CHANNELS) {
    api[channel] = (input: unknown) => invoke(channel, input);
  }
  return Object.freeze(api) as unknown as RawApi;
}

contextBridge.exposeInMainWorld(
  API_GLOBAL,
  buildApi((channel, input) => ipcRenderer.invoke(channel, input)),
);
