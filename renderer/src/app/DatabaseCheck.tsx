/**
 * The local database's integrity check runs after the start (main); when it
 * fails, main refuses every change and this banner says why, in the user's
 * language, with the backup to restore from. Polls `app.info` until the check
 * has finished.
 */
import { useEffect, useState } from 'react';
import type { CallOutput } from '#preload/api.js';
import { call } from '../api/client';
import { Banner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';

type Info = CallOutput<'app.info'>;

export const DATABASE_CHECK_POLL_MS = 3_000;

export function useDatabaseCheck(everyMs = DATABASE_CHECK_POLL_MS): Info | null {
  const [info, setInfo] = useState<Info | null>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = () => {
      call('app.info', {}).then(
        (next) => {
          if (!live) return;
          setInfo(next);
          if (next.database.check === 'running') timer = setTimeout(poll, everyMs);
        },
        () => {
          if (live) timer = setTimeout(poll, everyMs);
        },
      );
    };
    poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [everyMs]);
  return info;
}

/** Nothing while the check runs or after it passed; the damaged file and its backup when it failed. */
export function DatabaseCheckBanner() {
  const { t } = useI18n();
  const info = useDatabaseCheck();
  if (!info || info.database.check !== 'failed') return null;
  const backup = info.database.backupPath;
  return (
    <Banner kind="error" testId="database-damaged">
      {backup
        ? t('errors.database.damaged', { path: info.databasePath, backup })
        : t('errors.database.damagedNoBackup', { path: info.databasePath })}
    </Banner>
  );
}
