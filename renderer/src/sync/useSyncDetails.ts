/**
 * The sync panel's data: `sync.details` with `sync.status` (queue depth and
 * oldest pending change, online, last error), polled every 2 s while the
 * panel is open and every 0.5 s while a run is under way; and the panel's
 * actions (sync now, retry, discard, enrol), whose answers replace the data.
 * Answers are taken newest-first (lib/latest.ts): a poll sent before an
 * action that answers after it does not undo the action's result.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallInput, SyncStatus } from '#preload/api.js';
import type { SyncDetails } from '#preload/contract/sync.js';
import { call } from '../api/client';
import { LatestAnswer } from '../lib/latest';
import { isRunning } from './words';

export const PANEL_POLL_MS = 2_000;
export const PANEL_POLL_RUNNING_MS = 500;

export interface SyncPanelData {
  details: SyncDetails | null;
  status: SyncStatus | null;
  /** The last poll failed (the data shown is from before it). */
  error: unknown;
}

export type SyncAction =
  | { kind: 'now' }
  | { kind: 'retry'; seq: number }
  | { kind: 'discard'; seq: number; comment?: string }
  | { kind: 'enrol'; input: CallInput<'sync.enrol'> };

function send(action: SyncAction): Promise<SyncDetails> {
  switch (action.kind) {
    case 'now':
      return call('sync.now', {});
    case 'retry':
      return call('sync.retry', { seq: action.seq });
    case 'discard':
      return call('sync.discard', action.comment ? { seq: action.seq, comment: action.comment } : { seq: action.seq });
    case 'enrol':
      return call('sync.enrol', action.input);
  }
}

/** The poll's pace: faster while the engine works or "sync now" waits for its run. */
export function pollDelay(details: SyncDetails | null, syncing: boolean): number {
  return syncing || (details !== null && isRunning(details.activity.phase)) ? PANEL_POLL_RUNNING_MS : PANEL_POLL_MS;
}

export function useSyncDetails(): {
  data: SyncPanelData;
  /** "Sync now" was pressed and its run has not ended yet. */
  syncing: boolean;
  /** Runs an action; its answer becomes the data (unless a newer one came first); rejects as the call does. */
  run(action: SyncAction): Promise<SyncDetails>;
} {
  const [data, setData] = useState<SyncPanelData>({ details: null, status: null, error: null });
  const [syncing, setSyncing] = useState(false);
  const order = useRef(new LatestAnswer());
  const pace = useRef({ details: null as SyncDetails | null, syncing: false });
  const pollNow = useRef<() => void>(() => {});

  useEffect(() => {
    let live = true;
    let inFlight = false;
    /** Asked for while a poll was in flight: poll again as soon as it answers. */
    let again = false;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const schedule = () => {
      clearTimeout(timer);
      if (live) timer = setTimeout(poll, pollDelay(pace.current.details, pace.current.syncing));
    };
    const poll = () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      again = false;
      const ticket = order.current.ticket();
      Promise.all([call('sync.details', {}), call('sync.status', {})])
        .then(
          ([details, status]) => {
            if (live && order.current.take(ticket)) {
              pace.current = { ...pace.current, details };
              setData({ details, status, error: null });
            }
          },
          (error: unknown) => {
            if (live && order.current.current(ticket)) setData((d) => ({ ...d, error }));
          },
        )
        .finally(() => {
          inFlight = false;
          if (again && live) poll();
          else schedule();
        });
    };
    pollNow.current = () => {
      clearTimeout(timer);
      poll();
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') pollNow.current();
    };

    poll();
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      live = false;
      clearTimeout(timer);
      pollNow.current = () => {};
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, []);

  const run = useCallback(async (action: SyncAction) => {
    const ticket = order.current.ticket();
    if (action.kind === 'now') {
      setSyncing(true);
      pace.current = { ...pace.current, syncing: true };
      // The run's progress shows at the fast pace while it lasts.
      pollNow.current();
    }
    try {
      const details = await send(action);
      if (order.current.take(ticket)) {
        pace.current = { ...pace.current, details };
        setData((d) => ({ ...d, details, error: null }));
      }
      return details;
    } finally {
      if (action.kind === 'now') {
        setSyncing(false);
        pace.current = { ...pace.current, syncing: false };
      }
      // The queue depth and last sync (sync.status) moved too.
      pollNow.current();
    }
  }, []);

  return { data, syncing, run };
}
