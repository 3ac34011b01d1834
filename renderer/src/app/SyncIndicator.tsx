/** The sync state in the top bar: connection dot, outbox queue, last sync, last error (polled by useSyncStatus). */
import type { SyncStatus } from '../../../preload/api';
import { useI18n, type I18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';
import { shownError } from '../lib/errors';
import { useNow, type SyncState } from './hooks';

type Connection = 'online' | 'offline' | 'no-server' | 'unknown' | 'pending';

function connectionOf(status: SyncStatus | null, error: unknown): Connection {
  if (error) return 'unknown';
  if (!status) return 'pending';
  if (!status.serverUrl) return 'no-server';
  return status.online ? 'online' : 'offline';
}

/** A sync error code in the user's words (`sync.error.<code>`), or the code itself in a generic sentence. */
function syncErrorText(i18n: I18n, code: string): string {
  const key = `sync.error.${code}`;
  return isMessageKey(key) ? i18n.t(key) : i18n.t('sync.errorCode', { code });
}

export function SyncIndicator({ state }: { state: SyncState }) {
  const i18n = useI18n();
  const { t } = i18n;
  const now = useNow(30_000);
  const { status, error } = state;
  const connection = connectionOf(status, error);
  const label =
    connection === 'online'
      ? t('sync.online')
      : connection === 'offline'
        ? t('sync.offline')
        : connection === 'no-server'
          ? t('sync.noServer')
          : connection === 'pending'
            ? t('app.loading')
            : t('sync.unknown');

  const details: string[] = [t('sync.label') + ': ' + label];
  if (status?.serverUrl) details.push(status.serverUrl);
  if (status) {
    details.push(t('sync.queueTitle', { count: status.queueDepth }));
    if (status.oldestPendingAt !== null)
      details.push(t('sync.oldestPending', { time: i18n.dateTime(status.oldestPendingAt) }));
    details.push(t('sync.lastSync', { time: status.lastSyncAt ? i18n.dateTime(status.lastSyncAt) : t('sync.never') }));
    if (status.lastError) details.push(t('sync.lastError', { error: syncErrorText(i18n, status.lastError) }));
  }
  if (error) details.push(t(shownError(error).key));

  return (
    <div
      className={`sync sync-${connection}`}
      data-testid="sync-state"
      data-connection={connection}
      role="group"
      aria-label={t('sync.label')}
      title={details.join('\n')}
    >
      <span className="sync-dot" aria-hidden="true" />
      <span className="sync-connection">{label}</span>
      {status ? (
        <>
          <span
            className={status.queueDepth > 0 ? 'sync-item sync-queue sync-queue-pending' : 'sync-item sync-queue'}
            data-testid="sync-queue"
          >
            {t('sync.queue', { count: status.queueDepth })}
          </span>
          <span className="sync-item sync-last" data-testid="sync-last">
            {t('sync.lastSync', { time: status.lastSyncAt ? i18n.recent(status.lastSyncAt, now) : t('sync.never') })}
          </span>
          {status.lastError ? (
            <span className="sync-item sync-error" data-testid="sync-error">
              {t('sync.lastError', { error: syncErrorText(i18n, status.lastError) })}
            </span>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
