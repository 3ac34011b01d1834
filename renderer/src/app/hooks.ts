/** Small data hooks of the frame: the session, the sync state (polled), the clock. */
import { useEffect, useState } from 'react';
import type { CallOutput, SyncStatus } from '#preload/api.js';
import { call } from '../api/client';

export type SessionUser = NonNullable<CallOutput<'session.current'>['user']>;

export interface SessionState {
  /** undefined while loading, null when nobody is signed in. */
  user: SessionUser | null | undefined;
  error: unknown;
}

export function useSession(): SessionState {
  const [state, setState] = useState<SessionState>({ user: undefined, error: null });
  useEffect(() => {
    let live = true;
    call('session.current', {}).then(
      (r) => live && setState({ user: r.user, error: null }),
      (error: unknown) => live && setState({ user: null, error }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}

export interface SyncState {
  status: SyncStatus | null;
  error: unknown;
}

export const SYNC_POLL_MS = 10_000;

/** `sync.status` now, every `everyMs`, and whenever the window comes back into view. */
export function useSyncStatus(everyMs = SYNC_POLL_MS): SyncState {
  const [state, setState] = useState<SyncState>({ status: null, error: null });
  useEffect(() => {
    let live = true;
    let inFlight = false;
    const poll = () => {
      if (inFlight) return;
      inFlight = true;
      call('sync.status', {})
        .then(
          (status) => live && setState({ status, error: null }),
          (error: unknown) => live && setState((s) => ({ status: s.status, error })),
        )
        .finally(() => {
          inFlight = false;
        });
    };
    poll();
    const timer = setInterval(poll, everyMs);
    const onVisible = () => {
      if (document.visibilityState === 'visible') poll();
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      live = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [everyMs]);
  return state;
}

/** The current time, refreshed every `everyMs` (for "overdue"). */
export function useNow(everyMs = 60_000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

/** A value that follows `value` after it has stood still for `delayMs`. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

export type Catalogue = CallOutput<'catalogue.list'>;

export interface CatalogueState {
  catalogue: Catalogue | null;
  error: unknown;
}

/** The service catalogue (codes, names in three languages, and the problems found loading it). */
export function useCatalogue(): CatalogueState {
  const [state, setState] = useState<CatalogueState>({ catalogue: null, error: null });
  useEffect(() => {
    let live = true;
    call('catalogue.list', {}).then(
      (catalogue) => live && setState({ catalogue, error: null }),
      (error: unknown) => live && setState({ catalogue: null, error }),
    );
    return () => {
      live = false;
    };
  }, []);
  return state;
}
