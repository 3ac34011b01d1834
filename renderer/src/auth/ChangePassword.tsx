/**
 * Change password: current, new, repeat (docs/domain.md#profile). Main checks
 * the policy and answers every rule the new password breaks; each is shown
 * under the field. `forced`: the administrator reset the password and
 * nothing else works until it is changed (the screen offers "Log out").
 */
import { useState, type FormEvent } from 'react';
import { PASSWORD_RULES } from '#preload/contract/auth.js';
import { call, CallFailure } from '../api/client';
import { Banner } from '../components/Banner';
import { isMessageKey } from '../i18n/i18n';
import { FailureBanner } from './EdsForm';
import { useAuthText } from './text';
import type { AuthSession } from './useAuthSession';

export interface ChangePasswordProps {
  forced?: boolean;
  onSession(session: AuthSession): void;
  /** Not forced: leave the form. */
  onCancel?(): void;
}

export function ChangePassword({ forced = false, onSession, onCancel }: ChangePasswordProps) {
  const { t } = useAuthText();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [rules, setRules] = useState<string[]>([]);
  const [done, setDone] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setRules([]);
    setDone(false);
    try {
      const session = await call('auth.changePassword', { current, next, repeat });
      setCurrent('');
      setNext('');
      setRepeat('');
      setDone(true);
      onSession(session);
    } catch (err) {
      if (err instanceof CallFailure && err.error.code === 'passwordPolicy') {
        setRules((err.error.details?.rules ?? '').split(',').filter((r) => r !== ''));
      } else {
        setError(err);
        setCurrent('');
      }
    } finally {
      setBusy(false);
    }
  }

  async function logout() {
    try {
      onSession(await call('auth.logout', {}));
    } catch (err) {
      setError(err);
    }
  }

  const ruleText = (rule: string) => {
    const key = `errors.auth.password.${rule}`;
    return isMessageKey(key) ? t(key, { min: 8 }) : rule;
  };
  const onNew = rules.filter((r) => r !== 'repeatMismatch' && (PASSWORD_RULES as readonly string[]).includes(r));

  return (
    <form className="auth-form auth-password" data-testid="change-password-form" onSubmit={(e) => void submit(e)}>
      <h2>{t('auth.password.title')}</h2>
      {forced ? <Banner kind="info" title={t('auth.password.forced')} testId="change-password-forced" /> : null}
      {error ? <FailureBanner error={error} testId="change-password-error" /> : null}
      {done ? <Banner kind="info" title={t('auth.password.done')} testId="change-password-done" /> : null}
      <div className="field">
        <label htmlFor="password-current">{t('auth.password.current')}</label>
        <input
          id="password-current"
          data-testid="change-password-current"
          type="password"
          autoComplete="current-password"
          value={current}
          maxLength={256}
          required
          onChange={(e) => setCurrent(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="password-next">{t('auth.password.next')}</label>
        <input
          id="password-next"
          data-testid="change-password-next"
          type="password"
          autoComplete="new-password"
          value={next}
          maxLength={256}
          required
          aria-invalid={onNew.length > 0}
          aria-describedby="password-rules"
          onChange={(e) => setNext(e.target.value)}
        />
        <span id="password-rules" className="field-hint">
          {t('auth.password.rules')}
        </span>
        {onNew.map((r) => (
          <span key={r} className="field-error" data-testid="change-password-rule" data-rule={r}>
            {ruleText(r)}
          </span>
        ))}
      </div>
      <div className="field">
        <label htmlFor="password-repeat">{t('auth.password.repeat')}</label>
        <input
          id="password-repeat"
          data-testid="change-password-repeat"
          type="password"
          autoComplete="new-password"
          value={repeat}
          maxLength={256}
          required
          aria-invalid={rules.includes('repeatMismatch')}
          onChange={(e) => setRepeat(e.target.value)}
        />
        {rules.includes('repeatMismatch') ? (
          <span className="field-error" data-testid="change-password-rule" data-rule="repeatMismatch">
            {ruleText('repeatMismatch')}
          </span>
        ) : null}
      </div>
      <div className="dialog-actions">
        {forced ? (
          <button
            type="button"
            className="button button-quiet"
            data-testid="change-password-logout"
            onClick={() => void logout()}
          >
            {t('auth.lock.logout')}
          </button>
        ) : onCancel ? (
          <button type="button" className="button button-quiet" onClick={onCancel}>
            {t('auth.password.cancel')}
          </button>
        ) : null}
        <button type="submit" className="button button-primary" data-testid="change-password-submit" disabled={busy}>
          {t('auth.password.submit')}
        </button>
      </div>
    </form>
  );
}
