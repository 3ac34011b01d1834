/**
 * Token plug/pull watching by polling the slot lists. C_WaitForSlotEvent is
 * rarely implemented (SoftHSM2 2.6 answers CKR_NO_EVENT to CKF_DONT_BLOCK even
 * after a token was created, and CKR_FUNCTION_NOT_SUPPORTED to a blocking
 * wait) and a blocking wait would hold the worker thread, so every
 * `intervalMs` each module's tokens are listed and compared with the last look.
 *
 * By default each look asks for a rescan (C_Finalize + C_Initialize), which
 * SoftHSM2 needs to see a token created after C_Initialize and some vendor
 * libraries need to see a reader plugged in later. The backend skips the
 * rescan for a module while one of its keys is logged in (C_Finalize would end
 * that session): during a batch only what C_GetSlotList shows is seen —
 * removal still is (the token stops answering C_GetTokenInfo) — and the
 * rescan happens at the first look after the batch's key is closed.
 */
import type { Pkcs11Api, TokenSlot } from './api.js';

export interface TokenChange {
  /** Every token seen now, across the modules. */
  tokens: TokenSlot[];
  added: TokenSlot[];
  removed: TokenSlot[];
}

export interface TokenWatcher {
  /** Resolves after the first look (the baseline: it raises no event). */
  readonly ready: Promise<void>;
  /** The tokens of the last look. */
  current(): TokenSlot[];
  stop(): void;
}

export interface WatchOptions {
  /** Ask for C_Finalize + C_Initialize at each look (default true; see the file comment). */
  rescan?: boolean;
  /** A module that failed this look (e.g. 'moduleNotLoaded'): its tokens count as gone. */
  onError?: (modulePath: string, err: unknown) => void;
}

/** What tells two tokens apart: the module, the slot, the token's serial and label. */
export function tokenKey(t: TokenSlot): string {
  return [t.modulePath, t.slotId, t.serial, t.label].join('\u0000');
}

export function watchTokens(
  client: Pick<Pkcs11Api, 'listTokens'>,
  modulePaths: readonly string[],
  intervalMs: number,
  onChange: (change: TokenChange) => void,
  options: WatchOptions = {},
): TokenWatcher {
  const rescan = options.rescan ?? true;
  let known: Map<string, TokenSlot> | null = null;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));

  const look = async (): Promise<void> => {
    const now = new Map<string, TokenSlot>();
    for (const path of modulePaths) {
      try {
        for (const token of await client.listTokens(path, { rescan })) now.set(tokenKey(token), token);
      } catch (err) {
        options.onError?.(path, err);
      }
    }
    if (stopped) return;
    const before = known;
    known = now;
    if (!before) return;
    const added = [...now].filter(([k]) => !before.has(k)).map(([, t]) => t);
    const removed = [...before].filter(([k]) => !now.has(k)).map(([, t]) => t);
    if (added.length === 0 && removed.length === 0) return;
    try {
      onChange({ tokens: [...now.values()], added, removed });
    } catch {
      // A listener's failure must not stop the watching.
    }
  };

  const loop = async (): Promise<void> => {
    await look();
    markReady();
    if (stopped) return;
    timer = setTimeout(() => void loop(), intervalMs);
    timer.unref();
  };
  void loop();

  return {
    ready,
    current: () => [...(known?.values() ?? [])],
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      markReady();
    },
  };
}
