/**
 * Enrolment of this workstation in an office: the office (a list when the
 * user's calls give one, else its id typed in), an optional name for the
 * workstation, and an administrator's login and password. The password goes
 * to main once and is cleared from the form whatever the answer.
 */
import { useState, type FormEvent } from 'react';
import type { CallInput } from '#preload/api.js';
import type { SyncDetails } from '#preload/contract/sync.js';
import { useI18n } from '../i18n/I18nProvider';
import type { Office } from './offices';
import { SyncFailure } from './SyncFailure';

export function EnrolForm({
  offices,
  onEnrol,
  onCancel,
}: {
  /** Offices to choose from; empty: the office's id is typed in. */
  offices: readonly Office[];
  onEnrol(input: CallInput<'sync.enrol'>): Promise<SyncDetails>;
  /** Shown as a Cancel button (the form in a dialog). */
  onCancel?: () => void;
}) {
  const { t, language } = useI18n();
  const [providerId, setProviderId] = useState('');
  const [name, setName] = useState('');
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const office = providerId || (offices[0]?.id ?? '');
  const ready = office.trim() !== '' && login.trim() !== '' && password !== '' && !busy;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!ready) return;
    setBusy(true);
    setError(null);
    try {
      await onEnrol({
        providerId: office.trim(),
        login: login.trim(),
        password,
        ...(name.trim() ? { name: name.trim() } : {}),
      });
    } catch (err) {
      setError(err);
    } finally {
      setPassword('');
      setBusy(false);
    }
  }

  return (
    <form className="sync-enrol" data-testid="sync-enrol-form" onSubmit={(e) => void submit(e)}>
      <p className="muted">{t('sync.enrol.lead')}</p>
      {error ? <SyncFailure error={error} title="sync.enrol.failed" testId="sync-enrol-error" /> : null}
      <div className="field">
        <label htmlFor="sync-enrol-provider">{t('sync.enrol.office')}</label>
        {offices.length > 0 ? (
          <select
            id="sync-enrol-provider"
            data-testid="sync-enrol-provider"
            value={office}
            onChange={(e) => setProviderId(e.target.value)}
          >
            {offices.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name[language]} ({o.bin})
              </option>
            ))}
          </select>
        ) : (
          <input
            id="sync-enrol-provider"
            data-testid="sync-enrol-provider"
            value={providerId}
            maxLength={200}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setProviderId(e.target.value)}
          />
        )}
      </div>
      <div className="field">
        <label htmlFor="sync-enrol-name">{t('sync.enrol.name')}</label>
        <input
          id="sync-enrol-name"
          data-testid="sync-enrol-name"
          value={name}
          maxLength={200}
          autoComplete="off"
          onChange={(e) => setName(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="sync-enrol-login">{t('sync.enrol.login')}</label>
        <input
          id="sync-enrol-login"
          data-testid="sync-enrol-login"
          value={login}
          maxLength={100}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => setLogin(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="sync-enrol-password">{t('sync.enrol.password')}</label>
        <input
          id="sync-enrol-password"
          data-testid="sync-enrol-password"
          type="password"
          value={password}
          maxLength={256}
          autoComplete="off"
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <div className="dialog-actions">
        {onCancel ? (
          <button type="button" className="button button-quiet" onClick={onCancel}>
            {t('sync.discard.cancel')}
          </button>
        ) : null}
        <button type="submit" className="button button-primary" data-testid="sync-enrol-submit" disabled={!ready}>
          {busy ? t('sync.enrol.busy') : t('sync.enrol.submit')}
        </button>
      </div>
    </form>
  );
}
