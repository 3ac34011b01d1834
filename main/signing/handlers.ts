/**
 * The signing calls (tokens, open a key, sign in the background, progress,
 * cancel, close) over the SigningService, for the composition root
 * (main/app.ts) to spread into its handlers.
 */
import type { Channel } from '#preload/api.js';
import type { Handlers } from '../rpc.js';
import type { SigningService } from './service.js';

export type SigningChannel = Extract<Channel, `signing.${string}`>;

export function signingHandlers(signing: SigningService): Pick<Handlers, SigningChannel> {
  return {
    'signing.tokens': () => signing.tokens(),
    'signing.open': (input) => signing.open(input.source),
    'signing.start': (input) => signing.start(input.handle, input.applicationIds, input.format),
    'signing.progress': (input) => signing.progress(input.batchId),
    'signing.cancel': (input) => signing.cancel(input.batchId),
    'signing.close': (input) => signing.close(input.handle),
  };
}
