/**
 * The session as the frame needs it: `auth.session` now, every `pollMs` (to
 * notice the idle lock main applies) and when the window comes back into
 * view; the user's activity (keys, pointer, wheel) reported to main at most
 * once per `activityEveryMs`, so main's idle timer counts from the last time
 * the user did something, not from the last call.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { CallOutput } from '#preload/api.js';
import { call } from '../api/client';
import { LatestAnswer } from '../lib/latest';

export type AuthSession = CallOutput<'auth.session'>;

export interface AuthSessionState {
  /** undefined while loading. */
  session: AuthSession | undefined;
  error: unknown;
  /** Asks main again. */
  refresh(): void;
  /** Takes the session an auth call answered. */
  apply(session: AuthSession): void;
}

export const SESSION_POLL_MS = 30_000;
export const ACTIVITY_EVERY_MS = 60_000;

export function useAuthSession(pollMs = SESSION_POLL_MS, activityEveryMs = ACTIVITY_EVERY_MS): AuthSessionState {
  const [session, setSession] = useState<AuthSession | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const live = useRef(true);
  const lastActivity = useRef(0);
  const current = useRef<AuthSession | undefined>(undefined);
  // Answers may come back out of order (the bridge uses several connections):
  // a poll sent before a login, lock or logout must not undo what that action
  // answered. Each request takes a number; an answer older than the last one
  // applied is dropped.
  const order = useRef(new LatestAnswer());

  const take = useCallback((s: AuthSession, n: number) => {
    if (!live.current || !order.current.take(n)) return;
    current.current = s;
    setSession(s);
    setError(null);
  }, []);

  const apply = useCallback((s: AuthSession) => take(s, order.current.ticket()), [take]);

  const ask = useCallback(
    (activity: boolean) => {
      const n = order.current.ticket();
      call('auth.session', activity ? { activity: true } : {}).then(
        (s) => take(s, n),
        (e: unknown) => {
          if (live.current && order.current.current(n)) setError(e);
        },
      );
    },
    [take],
  );

  const refresh = useCallback(() => ask(false), [ask]);

  useEffect(() => {
    live.current = true;
    refresh();
    const timer = setInterval(refresh, pollMs);
    const onVisible = () => {
      if (document.visibilityState === 'visible') refresh();
    };
    const onActivity = () => {
      const s = current.current;
      if (!s?.user || s.locked) return;
      const now = Date.now();
      if (now - lastActivity.current < activityEveryMs) return;
      lastActivity.current = now;
      ask(true);
    };
    document.addEventListener('visibilitychange', onVisible);
    for (const type of ['keydown', 'pointerdown', 'wheel'] as const) {
      window.addEventListener(type, onActivity, { passive: true, capture: true });
    }
    return () => {
      live.current = false;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
      for (const type of ['keydown', 'pointerdown', 'wheel'] as const) {
        window.removeEventListener(type, onActivity, { capture: true });
      }
    };
  }, [refresh, ask, pollMs, activityEveryMs]);

  return { session, error, refresh, apply };
}
