/**
 * How the top bar's badge of rejected changes opens the sync panel: the frame
 * (App.tsx) provides the way to open it, the badge uses it. Without a
 * provider (or for a user who may not open the panel) the badge is plain text.
 */
import { createContext, useContext } from 'react';

export const SyncPanelOpener = createContext<(() => void) | null>(null);

export function useOpenSyncPanel(): (() => void) | null {
  return useContext(SyncPanelOpener);
}
