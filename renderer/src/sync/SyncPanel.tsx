/**
 * The sync panel: this workstation's enrolment in an office (and the form to
 * enrol it, for whom the session allows), what the engine is doing with the
 * progress of long pulls and pushes, the backoff after failures, each
 * partition's last pull, the counters, the clock offset, "Sync now", and the
 * changes the server rejected with the choice to retry or discard each.
 * Polled while open (useSyncDetails); main does the work and refuses what the
 * user may not do.
 */
import { useState, type ReactNode } from 'react';
import type { CallInput, SyncStatus } from '#preload/api.js';
import type { SyncActivity, SyncDetails } from '#preload/contract/sync.js';
import { useNow } from '../app/hooks';
import { Banner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { EnrolForm } from './EnrolForm';
import { officeName, useOffices, type Office } from './offices';
import { RejectedChanges } from './RejectedChanges';
import { SyncFailure } from './SyncFailure';
import { useSyncDetails, type SyncAction } from './useSyncDetails';
import { durationText, isRunning, partitionText, phaseText, skewText, splitSyncError, syncErrorText } from './words';

/**
 * A moment as dd.mm.yyyy HH:MM and how long ago, with the exact time in
 * `dateTime` (for tests and tools); without one, "never" (or "—" for what
 * has no time because there is nothing, like the oldest of no waiting changes).
 */
function When({
  ms,
  now,
  testId,
  none = 'never',
}: {
  ms: number | null;
  now: number;
  testId?: string;
  none?: 'never' | 'dash';
}) {
  const i18n = useI18n();
  if (ms === null) {
    return (
      <span className="muted" data-testid={testId}>
        {none === 'never' ? i18n.t('sync.never') : i18n.t('common.none')}
      </span>
    );
  }
  return (
    <time dateTime={new Date(ms).toISOString()} data-testid={testId}>
      {i18n.dateTime(ms)}{' '}
      <span className="sync-ago">({i18n.t('sync.ago', { duration: durationText(i18n, Math.max(0, now - ms)) })})</span>
    </time>
  );
}

function Fact({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd data-testid={testId}>{children}</dd>
    </>
  );
}

function Enrolment({
  details,
  status,
  offices,
  canEnrol,
  onEnrol,
}: {
  details: SyncDetails;
  status: SyncStatus | null;
  offices: readonly Office[];
  canEnrol: boolean;
  onEnrol(input: CallInput<'sync.enrol'>): Promise<SyncDetails>;
}) {
  const { t, language } = useI18n();
  return (
    <section className="sync-card" aria-labelledby="sync-enrolment-title">
      <h2 id="sync-enrolment-title">{t('sync.panel.workstation')}</h2>
      <dl className="sync-facts">
        <Fact label={t('sync.panel.enrolment')} testId="sync-enrolment">
          <span
            className={details.enrolled ? 'sync-enrolled' : 'sync-not-enrolled-text'}
            data-enrolled={details.enrolled}
          >
            {details.enrolled ? t('sync.panel.enrolled') : t('sync.notEnrolledShort')}
          </span>
        </Fact>
        {details.providerId ? (
          <Fact label={t('sync.panel.office')} testId="sync-office">
            {details.providerName?.[language] ?? officeName(offices, details.providerId, language)}
            <span className="sync-id"> {details.providerId}</span>
          </Fact>
        ) : null}
        <Fact label={t('sync.panel.server')} testId="sync-server">
          {status?.serverUrl ? (
            <>
              {status.serverUrl}{' '}
              <span className={status.online ? 'sync-online-text' : 'sync-offline-text'}>
                ({status.online ? t('sync.online') : t('sync.offline')})
              </span>
            </>
          ) : (
            t('sync.noServer')
          )}
        </Fact>
        <Fact label={t('sync.panel.deviceId')} testId="sync-device-id">
          <span className="sync-id">{details.deviceId}</span>
        </Fact>
      </dl>
      {details.enrolled ? null : canEnrol ? (
        <EnrolForm offices={offices} onEnrol={onEnrol} />
      ) : (
        <p className="muted" data-testid="sync-enrol-ask">
          {t('sync.enrol.askAdmin')}
        </p>
      )}
    </section>
  );
}

/** The queue waits for this user's online login here: their changes cannot go without the proof it brings. */
export function WaitingForLogin({ user }: { user: { userId: string; fullName: string | null } }) {
  const { t } = useI18n();
  return (
    <Banner kind="warning" testId="sync-waiting-login">
      {t('sync.waitingLogin', { name: user.fullName ?? user.userId })}
    </Banner>
  );
}

/** What the engine is doing: the phase, progress of the run, the partition, and the backoff after failures. */
export function Activity({
  activity,
  lastError,
  now,
  officeName: nameOf,
}: {
  activity: SyncActivity;
  lastError: string | null;
  now: number;
  officeName(id: string): string;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  const { phase, done, total, partition, retryAt, failures } = activity;
  return (
    <section className="sync-card" aria-labelledby="sync-activity-title">
      <h2 id="sync-activity-title">{t('sync.panel.activity')}</h2>
      <dl className="sync-facts">
        <Fact label={t('sync.panel.phase')} testId="sync-phase">
          <span className={isRunning(phase) ? 'sync-phase is-running' : 'sync-phase'} data-phase={phase}>
            {isRunning(phase) ? <span className="spinner" aria-hidden="true" /> : null}
            {phaseText(i18n, phase)}
          </span>
        </Fact>
        {partition ? (
          <Fact label={t('sync.panel.partition')} testId="sync-activity-partition">
            {partitionText(i18n, partition, nameOf)}
          </Fact>
        ) : null}
        {retryAt !== null ? (
          <Fact label={t('sync.panel.retryAt')} testId="sync-retry-at">
            <time dateTime={new Date(retryAt).toISOString()}>{i18n.recent(retryAt, now)}</time>{' '}
            <span className="sync-ago">
              (
              {retryAt > now ? t('sync.in', { duration: durationText(i18n, retryAt - now) }) : t('sync.panel.retryDue')}
              )
            </span>
          </Fact>
        ) : null}
        {failures > 0 ? (
          <Fact label={t('sync.panel.failures')} testId="sync-failures">
            {i18n.number(failures)}
          </Fact>
        ) : null}
        {lastError ? (
          <Fact label={t('sync.panel.lastError')} testId="sync-panel-error">
            <span className="sync-error-text">{syncErrorText(i18n, lastError)}</span>
            {splitSyncError(lastError).detail ? (
              <span className="sync-server-detail" data-testid="sync-panel-error-detail">
                {splitSyncError(lastError).detail}
              </span>
            ) : null}
          </Fact>
        ) : null}
      </dl>
      {isRunning(phase) && (total !== null || done > 0) ? (
        <div className="sync-progress">
          {total !== null && total > 0 ? (
            <progress
              data-testid="sync-progress"
              value={Math.min(done, total)}
              max={total}
              aria-label={phaseText(i18n, phase)}
            />
          ) : (
            <progress data-testid="sync-progress" aria-label={phaseText(i18n, phase)} />
          )}
          <span className="sync-progress-text" data-testid="sync-progress-text">
            {total !== null
              ? t('sync.progress.of', { done: done, total: total })
              : t('sync.progress.done', { done: done })}
          </span>
        </div>
      ) : null}
    </section>
  );
}

/** Sent, waiting, the oldest waiting change, the last push and pull, and the clock. */
function Counters({ details, status, now }: { details: SyncDetails; status: SyncStatus | null; now: number }) {
  const i18n = useI18n();
  const { t } = i18n;
  return (
    <section className="sync-card" aria-labelledby="sync-counters-title">
      <h2 id="sync-counters-title">{t('sync.panel.counters')}</h2>
      <dl className="sync-facts">
        <Fact label={t('sync.panel.sent')} testId="sync-sent">
          {i18n.number(details.sentCount)}
        </Fact>
        {status ? (
          <>
            <Fact label={t('sync.panel.queue')} testId="sync-queue-depth">
              {i18n.number(status.queueDepth)}
            </Fact>
            <Fact label={t('sync.panel.oldest')}>
              <When ms={status.oldestPendingAt} now={now} testId="sync-oldest-pending" none="dash" />
            </Fact>
          </>
        ) : null}
        <Fact label={t('sync.panel.lastPush')}>
          <When ms={details.lastPushAt} now={now} testId="sync-last-push" />
        </Fact>
        {status ? (
          <Fact label={t('sync.panel.lastSync')}>
            <When ms={status.lastSyncAt} now={now} testId="sync-last-sync" />
          </Fact>
        ) : null}
        <Fact label={t('sync.panel.clock')} testId="sync-skew">
          <span className={details.clockOff ? 'sync-error-text' : undefined}>
            {skewText(i18n, details.clockSkewMs)}
          </span>
        </Fact>
      </dl>
    </section>
  );
}

function Partitions({
  partitions,
  now,
  officeName: nameOf,
}: {
  partitions: SyncDetails['partitions'];
  now: number;
  officeName(id: string): string;
}) {
  const i18n = useI18n();
  const { t } = i18n;
  if (partitions.length === 0) return <p className="muted">{t('sync.partitions.none')}</p>;
  return (
    <div className="data-table-wrap">
      <table className="data-table" data-testid="sync-partitions">
        <thead>
          <tr>
            <th>{t('sync.partitions.partition')}</th>
            <th>{t('sync.partitions.lastPull')}</th>
            <th>{t('sync.partitions.version')}</th>
          </tr>
        </thead>
        <tbody>
          {partitions.map((p) => (
            <tr key={p.partition} data-testid="sync-partition" data-partition={p.partition}>
              <td>{partitionText(i18n, p.partition, nameOf)}</td>
              <td>
                <When ms={p.lastPullAt} now={now} testId="sync-partition-last-pull" />
              </td>
              <td>{p.version === null ? t('common.none') : i18n.number(p.version)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SyncPanel({
  permissions,
  onOpenApplication,
}: {
  /** The calls the session may make: the panel hides what is not among them. */
  permissions: readonly string[];
  /** Opens an application's card (the journal's); absent when the user cannot read applications. */
  onOpenApplication?: (id: string) => void;
}) {
  const i18n = useI18n();
  const { t, language } = i18n;
  const { data, syncing, run } = useSyncDetails();
  const offices = useOffices(permissions.includes('admin.users'));
  const now = useNow(1_000);
  const [actionError, setActionError] = useState<{
    error: unknown;
    title: 'sync.panel.nowFailed' | 'sync.panel.actionFailed';
  } | null>(null);
  const [done, setDone] = useState<'retried' | 'discarded' | 'enrolled' | null>(null);
  const [busySeq, setBusySeq] = useState<number | null>(null);
  const { details, status } = data;
  const nameOf = (id: string) => officeName(offices, id, language);

  /** Sync now, retry or discard: a failure shows above the panel, a retry or discard says what it did. */
  const act = async (action: Exclude<SyncAction, { kind: 'enrol' }>) => {
    setActionError(null);
    setDone(null);
    if (action.kind !== 'now') setBusySeq(action.seq);
    try {
      await run(action);
      if (action.kind !== 'now') setDone(action.kind === 'retry' ? 'retried' : 'discarded');
    } catch (error) {
      setActionError({ error, title: action.kind === 'now' ? 'sync.panel.nowFailed' : 'sync.panel.actionFailed' });
    } finally {
      setBusySeq(null);
    }
  };

  /** The enrolment form shows its own failure (and keeps what was typed, but the password). */
  const enrol = async (input: CallInput<'sync.enrol'>) => {
    setDone(null);
    const answer = await run({ kind: 'enrol', input });
    setDone('enrolled');
    return answer;
  };

  const running = syncing || (details !== null && isRunning(details.activity.phase));
  const canSync = permissions.includes('sync.now') && details?.enrolled === true;

  return (
    <section className="sync-panel" data-testid="sync-panel" aria-labelledby="sync-panel-title" aria-busy={running}>
      <div className="sync-panel-head">
        <h1 id="sync-panel-title">{t('sync.panel.title')}</h1>
        {permissions.includes('sync.now') ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="sync-now"
            disabled={!canSync || running}
            onClick={() => void act({ kind: 'now' })}
          >
            {running ? <span className="spinner" aria-hidden="true" /> : null}
            {running ? t('sync.now.running') : t('sync.now')}
          </button>
        ) : null}
      </div>
      <div className="banners">
        {data.error ? (
          <SyncFailure error={data.error} title="sync.panel.loadFailed" testId="sync-panel-load-error" />
        ) : null}
        {actionError ? (
          <SyncFailure
            error={actionError.error}
            title={actionError.title}
            onDismiss={() => setActionError(null)}
            testId="sync-action-error"
          />
        ) : null}
        {done ? (
          <Banner kind="info" onDismiss={() => setDone(null)} testId="sync-action-done">
            {t(`sync.done.${done}`)}
          </Banner>
        ) : null}
        {details?.waitingForLogin ? <WaitingForLogin user={details.waitingForLogin} /> : null}
        {details?.clockOff ? (
          <Banner kind="warning" title={t('sync.clockOff')} testId="sync-panel-clock-off">
            {t('sync.clockOffHelp')}
          </Banner>
        ) : null}
      </div>
      {details ? (
        <>
          <div className="sync-cards">
            <Enrolment
              details={details}
              status={status}
              offices={offices}
              canEnrol={permissions.includes('sync.enrol')}
              onEnrol={enrol}
            />
            <Activity activity={details.activity} lastError={status?.lastError ?? null} now={now} officeName={nameOf} />
            <Counters details={details} status={status} now={now} />
          </div>

          <h2 className="sync-section-title">{t('sync.partitions.title')}</h2>
          <Partitions partitions={details.partitions} now={now} officeName={nameOf} />

          <h2 className="sync-section-title" id="sync-rejected-title">
            {t('sync.rejected.title', { count: details.rejected.length })}
          </h2>
          <p className="muted sync-rejected-lead">{t('sync.rejected.lead')}</p>
          <RejectedChanges
            rejected={details.rejected}
            busySeq={busySeq}
            {...(permissions.includes('sync.retry')
              ? { onRetry: (seq: number) => void act({ kind: 'retry', seq }) }
              : {})}
            {...(permissions.includes('sync.discard')
              ? {
                  onDiscard: (seq: number, comment: string) =>
                    void act(comment ? { kind: 'discard', seq, comment } : { kind: 'discard', seq }),
                }
              : {})}
            {...(onOpenApplication ? { onOpenApplication } : {})}
          />
        </>
      ) : data.error ? null : (
        <div className="table-message" data-testid="sync-panel-loading">
          <span className="spinner" aria-hidden="true" />
          {t('app.loading')}
        </div>
      )}
    </section>
  );
}
