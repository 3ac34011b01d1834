/** The language and theme calls over the PreferencesStore, for the composition root (main/app.ts). */
import type { Channel } from '#preload/api.js';
import type { Handlers } from '../rpc.js';
import type { PreferencesStore } from './preferences.js';

export type PreferencesChannel = Extract<Channel, `preferences.${string}`>;

export function preferencesHandlers(preferences: PreferencesStore): Pick<Handlers, PreferencesChannel> {
  return {
    'preferences.get': () => preferences.get(),
    'preferences.set': (input) => preferences.set(input),
  };
}
