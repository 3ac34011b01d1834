/** The profile calls over the ProfileService, for the composition root (main/app.ts) to spread into its handlers. */
import type { Channel } from '#preload/api.js';
import type { Handlers } from '../rpc.js';
import type { ProfileService } from './profile.js';

export type ProfileChannel = Extract<Channel, `profile.${string}`>;

export function profileHandlers(profiles: ProfileService): Pick<Handlers, ProfileChannel> {
  return {
    'profile.get': () => profiles.get(),
    'profile.update': (input) => profiles.update(input),
  };
}
