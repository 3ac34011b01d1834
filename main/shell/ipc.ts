/**
 * One IPC handler per contract call. Each checks that the message comes from
 * the app's own top frame, then dispatches like the bridge does (input
 * validated against the contract, output too).
 */
import { CHANNELS } from '#preload/api.js';
import { dispatch, type CallResult, type Channel, type DispatchLog, type Handlers } from '../rpc.js';
import { isTrustedSender, type SenderFrame } from './policy.js';

/** The part of Electron's IpcMainInvokeEvent we use. */
export interface InvokeEvent {
  senderFrame: SenderFrame | null;
}

/** The part of Electron's ipcMain we use. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEvent, ...args: unknown[]) => Promise<unknown>): void;
  removeHandler(channel: string): void;
}

export function registerContract(ipcMain: IpcMainLike, handlers: Handlers, log?: DispatchLog): () => void {
  for (const channel of CHANNELS) {
    ipcMain.handle(channel, async (event, input): Promise<CallResult<Channel>> => {
      if (!isTrustedSender(event.senderFrame)) {
        log?.error('ipc refused: untrusted sender', { channel, url: event.senderFrame?.url ?? null });
        return { ok: false, error: { code: 'untrusted_sender', messageKey: 'errors.internal' } };
      }
      return dispatch(handlers, channel, input, { transport: 'ipc' }, log);
    });
  }
  return () => {
    for (const channel of CHANNELS) ipcMain.removeHandler(channel);
  };
}
