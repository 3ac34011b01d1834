/**
 * The offices (providers) the sync panel can name and offer for enrolment:
 * those of the administrator's `admin.users` listing, the only call that
 * lists providers. Other users see an office by its id.
 */
import { useEffect, useState } from 'react';
import type { CallOutput, Language } from '#preload/api.js';
import { call } from '../api/client';

export type Office = CallOutput<'admin.users'>['providers'][number];

/** The offices when `enabled` (the session may call admin.users), else none; a failed listing is none too. */
export function useOffices(enabled: boolean): readonly Office[] {
  const [offices, setOffices] = useState<readonly Office[]>([]);
  useEffect(() => {
    if (!enabled) return;
    let live = true;
    call('admin.users', {}).then(
      (r) => live && setOffices(r.providers),
      () => live && setOffices([]),
    );
    return () => {
      live = false;
    };
  }, [enabled]);
  return enabled ? offices : [];
}

/** An office's name in `language`, or its id when this listing does not have it. */
export function officeName(offices: readonly Office[], id: string, language: Language): string {
  return offices.find((o) => o.id === id)?.name[language] ?? id;
}
