/**
 * Interface language and night mode: loaded with `preferences.get` at start,
 * changed at once on screen and saved with `preferences.set`. A copy in
 * localStorage lets the next start paint in the right language and theme
 * before main answers; main's answer wins.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { preferences as preferencesSchema, type Preferences } from '#preload/api.js';
import { call } from '../api/client';

const CACHE_KEY = 'qyzmet.preferences';
export const DEFAULT_PREFERENCES: Preferences = { language: 'kk', theme: 'light' };

function readCache(): Preferences {
  try {
    const parsed = preferencesSchema.safeParse(JSON.parse(localStorage.getItem(CACHE_KEY) ?? 'null'));
    return parsed.success ? parsed.data : DEFAULT_PREFERENCES;
  } catch {
    return DEFAULT_PREFERENCES;
  }
}

function writeCache(p: Preferences): void {
  try {
    localStorage.setItem(CACHE_KEY, JSON.stringify(p));
  } catch {
    // Storage may be off; the setting still lives in main.
  }
}

export interface PreferencesState {
  preferences: Preferences;
  /** The last failed save, for a banner; null when all went well. */
  saveError: unknown;
  update(change: Partial<Preferences>): void;
  dismissSaveError(): void;
}

export function usePreferences(): PreferencesState {
  const [preferences, setPreferences] = useState<Preferences>(readCache);
  const [saveError, setSaveError] = useState<unknown>(null);
  /** Set once the user changed something: a late answer of `preferences.get` must not undo it. */
  const touched = useRef(false);

  useEffect(() => {
    let live = true;
    call('preferences.get', {}).then(
      (p) => {
        if (!live || touched.current) return;
        setPreferences(p);
        writeCache(p);
      },
      () => {
        // No services: the screens say so; keep the cached or default look.
      },
    );
    return () => {
      live = false;
    };
  }, []);

  const update = useCallback((change: Partial<Preferences>) => {
    touched.current = true;
    setPreferences((p) => {
      const next = { ...p, ...change };
      writeCache(next);
      return next;
    });
    call('preferences.set', change).then(
      () => setSaveError(null),
      (err: unknown) => setSaveError(err),
    );
  }, []);

  const dismissSaveError = useCallback(() => setSaveError(null), []);

  return { preferences, saveError, update, dismissSaveError };
}

/** `<html lang>` and `<html data-theme>` follow the preferences. */
export function useDocumentPreferences(p: Preferences): void {
  useEffect(() => {
    const html = document.documentElement;
    html.lang = p.language;
    html.dataset.theme = p.theme;
  }, [p.language, p.theme]);
}
