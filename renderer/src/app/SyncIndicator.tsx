/**
 * The sync state in the top bar (polled by useSyncStatus): connection dot, a
 * busy mark while the engine works, the changes the server rejected (a badge
 * that opens the sync panel), a clock warning, the outbox queue and how long
 * its oldest change has waited, the last sync and the last error.
 */
import type { SyncStatus } from '#preload/api.js';
import { useI18n } from '../i18n/I18nProvider';
import { shownError } from '../lib/errors';
import { IconClock } from '../components/Icons';
import { useOpenSyncPanel } from '../sync/opener';
import { ageText, phaseText, splitSyncError, syncErrorText } from '../sync/words';
import '../sync/sync.css';
import { useNow, type SyncState } from './hooks';

type Connection = 'online' | 'offline' | 'no-server' | 'unknown' | 'pending';

function connectionOf(status: SyncStatus | null, error: unknown): Connection {
  if (error) return 'unknown';
  if (!status) return 'pending';
  if (!status.serverUrl) return 'no-server';
  return status.online ? 'online' : 'offline';
}

/** The rejected changes waiting for a person: a button to the sync panel when the frame offers one. */
function RejectedBadge({ count }: { count: number }) {
  const { t } = useI18n();
  const open = useOpenSyncPanel();
  const text = t('sync.rejectedBadge', { count });
  const title = t('sync.rejectedBadgeTitle', { count });
  return open ? (
    <button type="button" className="sync-badge" data-testid="sync-rejected-badge" title={title} onClick={open}>
      {text}
    </button>
  ) : (
    <span className="sync-badge" data-testid="sync-rejected-badge" title={title}>
      {text}
    </span>
  );
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
  const busy = status !== null && status.phase !== 'idle';

  const details: string[] = [t('sync.label') + ': ' + label];
  if (status?.serverUrl) details.push(status.serverUrl);
  if (status) {
    if (!status.enrolled) details.push(t('sync.notEnrolled'));
    if (busy) details.push(phaseText(i18n, status.phase));
    details.push(t('sync.queueTitle', { count: status.queueDepth }));
    if (status.oldestPendingAt !== null)
      details.push(t('sync.oldestPending', { time: i18n.dateTime(status.oldestPendingAt) }));
    details.push(t('sync.lastSync', { time: status.lastSyncAt ? i18n.dateTime(status.lastSyncAt) : t('sync.never') }));
    if (status.lastError) {
      details.push(t('sync.lastError', { error: syncErrorText(i18n, status.lastError) }));
      const more = splitSyncError(status.lastError).detail;
      if (more) details.push(more);
    }
    if (status.rejectedCount > 0) details.push(t('sync.rejectedBadgeTitle', { count: status.rejectedCount }));
    if (status.clockOff) details.push(t('sync.clockOff'));
  }
  if (error) details.push(t(shownError(error).key));

  return (
    <div
      className={`sync sync-${connection}`}
      data-testid="sync-state"
      data-connection={connection}
      data-phase={status?.phase}
      role="group"
      aria-label={t('sync.label')}
      title={details.join('\n')}
    >
      <span className="sync-dot" aria-hidden="true" />
      <span className="sync-connection">{label}</span>
      {status ? (
        <>
          {busy ? (
            <span
              className="sync-busy"
              data-testid="sync-busy"
              role="img"
              aria-label={phaseText(i18n, status.phase)}
              title={phaseText(i18n, status.phase)}
            />
          ) : null}
          {status.rejectedCount > 0 ? <RejectedBadge count={status.rejectedCount} /> : null}
          {status.clockOff ? (
            <span className="sync-clock-off" data-testid="sync-clock-off" title={t('sync.clockOff')}>
              <IconClock />
              {t('sync.clockOffShort')}
            </span>
          ) : null}
          {status.enrolled ? null : (
            <span className="sync-item sync-not-enrolled" data-testid="sync-not-enrolled">
              {t('sync.notEnrolledShort')}
            </span>
          )}
          <span
            className={status.queueDepth > 0 ? 'sync-item sync-queue sync-queue-pending' : 'sync-item sync-queue'}
            data-testid="sync-queue"
          >
            {t('sync.queue', { count: status.queueDepth })}
            {status.queueDepth > 0 && status.oldestPendingAt !== null ? (
              <span className="sync-oldest" data-testid="sync-oldest">
                {t('sync.oldest', { age: ageText(i18n, status.oldestPendingAt, now) })}
              </span>
            ) : null}
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
