/**
 * The login screen (docs/domain.md#login): login and password, or "Login with EDS".
 * Errors in the provider guide's own words ("Wrong login or password", "User
 * not found in the system") and the rest from the catalogues; why the last
 * session ended, when main says it ended on its own.
 */
import { useState, type FormEvent, type ReactNode } from 'react';
import { call } from '../api/client';
import { Banner } from '../components/Banner';
import { IconLogo } from '../components/Icons';
import { EdsForm, FailureBanner } from './EdsForm';
import { useAuthText } from './text';
import type { AuthSession } from './useAuthSession';

export interface LoginScreenProps {
  session: AuthSession;
  onSession(session: AuthSession): void;
  /** Shown in the corner: the language switch, night mode. */
  aside?: ReactNode;
}

function PasswordForm({ onSession }: { onSession(session: AuthSession): void }) {
  const { t } = useAuthText();
  const [login, setLogin] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const secret = password;
    setPassword('');
    try {
      onSession(await call('auth.loginPassword', { login: login.trim(), password: secret }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="auth-form" data-testid="login-form" onSubmit={(e) => void submit(e)}>
      {error ? <FailureBanner error={error} testId="login-error" /> : null}
      <div className="field">
        <label htmlFor="login-name">{t('auth.login.name')}</label>
        <input
          id="login-name"
          data-testid="login-name"
          autoComplete="username"
          autoFocus
          value={login}
          maxLength={100}
          required
          onChange={(e) => setLogin(e.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor="login-password">{t('auth.login.password')}</label>
        <input
          id="login-password"
          data-testid="login-password"
          type="password"
          autoComplete="current-password"
          value={password}
          maxLength={256}
          required
          onChange={(e) => setPassword(e.target.value)}
        />
      </div>
      <button
        type="submit"
        className="button button-primary"
        data-testid="login-submit"
        disabled={busy || login.trim() === '' || password === ''}
      >
        {busy ? t('auth.login.busy') : t('auth.login.submit')}
      </button>
    </form>
  );
}

export function LoginScreen({ session, onSession, aside }: LoginScreenProps) {
  const { t } = useAuthText();
  const [mode, setMode] = useState<'password' | 'eds'>('password');

  return (
    <div className="auth-screen" data-testid="login-screen">
      {aside ? <div className="auth-aside">{aside}</div> : null}
      <section className="auth-card" aria-labelledby="login-title">
        <div className="auth-brand">
          <IconLogo />
          <span className="brand-name">{t('app.name')}</span>
        </div>
        <h1 id="login-title">{t('auth.login.title')}</h1>
        {session.notice ? (
          <Banner
            kind="warning"
            title={t(session.notice === 'blocked' ? 'auth.notice.blocked' : 'auth.notice.unlockFailures')}
            testId="login-notice"
          />
        ) : null}
        <div className="sign-tabs" role="tablist" aria-label={t('auth.login.title')}>
          {(['password', 'eds'] as const).map((m) => (
            <button
              key={m}
              type="button"
              role="tab"
              aria-selected={mode === m}
              className={mode === m ? 'sign-tab is-active' : 'sign-tab'}
              data-testid={`login-mode-${m}`}
              onClick={() => setMode(m)}
            >
              {t(m === 'password' ? 'auth.login.mode.password' : 'auth.login.mode.eds')}
            </button>
          ))}
        </div>
        {mode === 'password' ? <PasswordForm onSession={onSession} /> : <EdsForm onSession={onSession} />}
      </section>
    </div>
  );
}
