/**
 * "Assign responsible" for the applications selected in the journal: the
 * head picks an executor of the provider's staff; each application succeeds
 * or fails on its own (main checks state and provider for every row).
 */
import { useEffect, useRef, useState } from 'react';
import type { CallOutput } from '#preload/api.js';
import { call } from '../api/client';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';

type Staff = CallOutput<'staff.list'>['staff'];
type Results = CallOutput<'application.assign'>['results'];

export function AssignDialog({
  applicationIds,
  providerId,
  onClose,
}: {
  applicationIds: string[];
  providerId: string;
  onClose: (assigned: number) => void;
}) {
  const { t, language } = useI18n();
  const [staff, setStaff] = useState<Staff | null>(null);
  const [chosen, setChosen] = useState('');
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    ref.current?.showModal?.();
    let live = true;
    call('staff.list', { providerId }).then(
      (r) => live && setStaff(r.staff),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [providerId]);

  async function assign() {
    setBusy(true);
    setError(null);
    try {
      const r = await call('application.assign', {
        applications: applicationIds.map((id) => ({ id })),
        responsibleUserId: chosen,
      });
      setResults(r.results);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const ok = results?.filter((r) => r.ok).length ?? 0;
  return (
    <dialog
      ref={ref}
      className="sign-dialog"
      data-testid="assign-dialog"
      onCancel={(e) => {
        e.preventDefault();
        onClose(ok);
      }}
    >
      <h2>{t('assign.title', { count: applicationIds.length })}</h2>
      {error ? <ErrorBanner error={error} /> : null}
      {results ? (
        <>
          <Banner
            kind={ok === results.length ? 'info' : 'warning'}
            title={t('assign.summary', { ok, failed: results.length - ok })}
            testId="assign-summary"
          />
          <ul className="sign-results">
            {results.map((r) => (
              <li key={r.id} className={r.ok ? 'is-ok' : 'is-failed'}>
                <span className="sign-result-number">{r.number ?? r.id}</span>
                <span>{isMessageKey(r.messageKey) ? t(r.messageKey) : r.messageKey}</span>
              </li>
            ))}
          </ul>
          <div className="dialog-actions">
            <button
              type="button"
              className="button button-primary"
              data-testid="assign-close"
              onClick={() => onClose(ok)}
            >
              {t('sign.close')}
            </button>
          </div>
        </>
      ) : (
        <>
          <div className="field">
            <label htmlFor="assign-executor">{t('card.assignTo')}</label>
            <select
              id="assign-executor"
              data-testid="assign-executor"
              value={chosen}
              onChange={(e) => setChosen(e.target.value)}
            >
              <option value="" />
              {(staff ?? []).map((s) => (
                <option key={s.userId} value={s.userId}>
                  {s.fullName} — {language === 'kk' ? s.position.kk : s.position.ru} ({s.openApplications})
                </option>
              ))}
            </select>
          </div>
          <div className="dialog-actions">
            <button type="button" className="button button-quiet" onClick={() => onClose(0)}>
              {t('sign.cancel')}
            </button>
            <button
              type="button"
              className="button button-primary"
              data-testid="assign-confirm"
              disabled={busy || !chosen}
              onClick={() => void assign()}
            >
              {t('journal.assign')}
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
