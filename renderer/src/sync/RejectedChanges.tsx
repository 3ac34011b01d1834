/**
 * The local changes the server rejected for a business reason, waiting for a
 * person: what the change was and what it concerned, why it was rejected
 * (in words, with the server's own detail), when it was made and rejected;
 * and for each the choice to queue it again once the cause is fixed, or to
 * discard it (asked to confirm, with an optional comment: the discard is
 * itself recorded and sent to the server).
 */
import { Fragment, useState } from 'react';
import type { RejectedChange } from '#preload/contract/sync.js';
import { useI18n } from '../i18n/I18nProvider';
import { opText, reasonText, subjectText } from './words';

const COMMENT_MAX = 1000;

export interface RejectedChangesProps {
  rejected: readonly RejectedChange[];
  /** The change whose retry or discard is under way (its buttons wait). */
  busySeq: number | null;
  /** Queues a change again; absent when the session may not. */
  onRetry?: (seq: number) => void;
  /** Discards a change (after the confirmation); absent when the session may not. */
  onDiscard?: (seq: number, comment: string) => void;
  /** Opens an application's card; absent when this user cannot open one. */
  onOpenApplication?: (id: string) => void;
}

function DiscardConfirm({
  change,
  busy,
  onConfirm,
  onCancel,
}: {
  change: RejectedChange;
  busy: boolean;
  onConfirm(comment: string): void;
  onCancel(): void;
}) {
  const { t } = useI18n();
  const [comment, setComment] = useState('');
  const id = `sync-discard-comment-${change.seq}`;
  return (
    <div className="sync-discard" data-testid="sync-discard-dialog">
      <p>{t('sync.discard.explain')}</p>
      <div className="field">
        <label htmlFor={id}>{t('sync.discard.comment')}</label>
        <textarea
          id={id}
          data-testid="sync-discard-comment"
          rows={2}
          maxLength={COMMENT_MAX}
          value={comment}
          onChange={(e) => setComment(e.target.value)}
        />
      </div>
      <div className="dialog-actions">
        <button type="button" className="button button-quiet" onClick={onCancel}>
          {t('sync.discard.cancel')}
        </button>
        <button
          type="button"
          className="button button-negative"
          data-testid="sync-discard-confirm"
          disabled={busy}
          onClick={() => onConfirm(comment.trim())}
        >
          {t('sync.discard.confirm')}
        </button>
      </div>
    </div>
  );
}

export function RejectedChanges({ rejected, busySeq, onRetry, onDiscard, onOpenApplication }: RejectedChangesProps) {
  const i18n = useI18n();
  const { t } = i18n;
  const [confirming, setConfirming] = useState<number | null>(null);

  if (rejected.length === 0) {
    return (
      <p className="muted" data-testid="sync-rejected-empty">
        {t('sync.rejected.empty')}
      </p>
    );
  }

  return (
    <div className="data-table-wrap">
      <table className="data-table sync-rejected" data-testid="sync-rejected">
        <thead>
          <tr>
            <th>{t('sync.rejected.columns.change')}</th>
            <th>{t('sync.rejected.columns.reason')}</th>
            <th>{t('sync.rejected.columns.createdAt')}</th>
            <th>{t('sync.rejected.columns.rejectedAt')}</th>
            <th>{t('sync.rejected.columns.actions')}</th>
          </tr>
        </thead>
        <tbody>
          {rejected.map((c) => {
            const busy = busySeq === c.seq;
            return (
              <Fragment key={c.seq}>
                <tr data-testid="sync-rejected-row" data-seq={c.seq} data-reason={c.reason} data-op={c.op}>
                  <td>
                    <div className="sync-subject" data-testid="sync-rejected-subject">
                      {subjectText(i18n, c)}
                    </div>
                    <div className="sync-op" data-testid="sync-rejected-op">
                      {opText(i18n, c.op)}
                    </div>
                  </td>
                  <td>
                    <div className="sync-reason" data-testid="sync-rejected-reason">
                      {reasonText(i18n, c.reason)}
                    </div>
                    {c.message ? (
                      <div className="sync-server-detail" data-testid="sync-rejected-message">
                        {t('sync.rejected.serverSaid', { message: c.message })}
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <time dateTime={new Date(c.createdAt).toISOString()}>{i18n.dateTime(c.createdAt)}</time>
                  </td>
                  <td>
                    <time dateTime={new Date(c.rejectedAt).toISOString()}>{i18n.dateTime(c.rejectedAt)}</time>
                  </td>
                  <td>
                    <div className="sync-actions">
                      {onRetry ? (
                        <button
                          type="button"
                          className="button"
                          data-testid="sync-retry"
                          title={t('sync.retry.title')}
                          disabled={busy}
                          onClick={() => onRetry(c.seq)}
                        >
                          {t('sync.retry')}
                        </button>
                      ) : null}
                      {onDiscard ? (
                        <button
                          type="button"
                          className="button button-quiet"
                          data-testid="sync-discard"
                          disabled={busy || confirming === c.seq}
                          onClick={() => setConfirming(c.seq)}
                        >
                          {t('sync.discard')}
                        </button>
                      ) : null}
                      {c.entity === 'application' && onOpenApplication ? (
                        <button
                          type="button"
                          className="button button-quiet"
                          data-testid="sync-open-application"
                          onClick={() => onOpenApplication(c.entityId)}
                        >
                          {t('sync.rejected.openApplication')}
                        </button>
                      ) : null}
                    </div>
                  </td>
                </tr>
                {confirming === c.seq && onDiscard ? (
                  <tr className="sync-confirm-row">
                    <td colSpan={5}>
                      <DiscardConfirm
                        change={c}
                        busy={busy}
                        onConfirm={(comment) => {
                          setConfirming(null);
                          onDiscard(c.seq, comment);
                        }}
                        onCancel={() => setConfirming(null)}
                      />
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
