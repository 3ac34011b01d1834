/**
 * The lock screen: the session locked after idle time (or by the user) asks
 * for the password again, or the token's PIN, or the key file and its
 * password, whichever the user logged in with; "Log out" ends the session.
 * Too many wrong tries end it too (main decides and says so).
 */
import { useState, type FormEvent } from 'react';
import { call } from '../api/client';
import { readBase64 } from '../signing/KeyFileFields';
import { FailureBanner } from './EdsForm';
import { useAuthText } from './text';
import type { AuthSession } from './useAuthSession';

type Way = 'password' | 'pin' | 'keyfile';

export function LockScreen({ session, onSession }: { session: AuthSession; onSession(session: AuthSession): void }) {
  const { t } = useAuthText();
  const ways: Way[] =
    session.method === 'token'
      ? ['pin', 'password']
      : session.method === 'keyfile'
        ? ['keyfile', 'password']
        : ['password'];
  const [way, setWay] = useState<Way>(ways[0] ?? 'password');
  const [secret, setSecret] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function unlock(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const typed = secret;
    setSecret('');
    try {
      if (way === 'password') onSession(await call('auth.unlock', { password: typed }));
      else if (way === 'pin') onSession(await call('auth.unlock', { pin: typed }));
      else if (file) {
        const data = await readBase64(file);
        onSession(
          await call('auth.unlock', { source: { kind: 'keyfile', fileName: file.name, data, password: typed } }),
        );
      }
    } catch (err) {
      setError(err);
      // Main may have ended the session (too many tries): the frame shows the login screen then.
      call('auth.session', {}).then(
        (s) => {
          if (!s.user) onSession(s);
        },
        () => undefined,
      );
    } finally {
      setBusy(false);
    }
  }

  async function logout() {
    setBusy(true);
    try {
      onSession(await call('auth.logout', {}));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const label = way === 'password' ? 'auth.lock.byPassword' : way === 'pin' ? 'auth.lock.byPin' : 'auth.lock.byKeyfile';

  return (
    <div className="auth-screen" data-testid="lock-screen">
      <section className="auth-card" aria-labelledby="lock-title">
        <h1 id="lock-title">{t('auth.lock.title')}</h1>
        <p className="auth-lead" data-testid="lock-user">
          {t('auth.lock.who', { name: session.user?.fullName ?? '' })}
        </p>
        {ways.length > 1 ? (
          <div className="sign-tabs" role="tablist" aria-label={t('auth.lock.title')}>
            {ways.map((w) => (
              <button
                key={w}
                type="button"
                role="tab"
                aria-selected={way === w}
                className={way === w ? 'sign-tab is-active' : 'sign-tab'}
                data-testid={`unlock-way-${w}`}
                onClick={() => {
                  setWay(w);
                  setError(null);
                }}
              >
                {t(w === 'password' ? 'auth.login.password' : w === 'pin' ? 'sign.pin' : 'auth.eds.source.keyfile')}
              </button>
            ))}
          </div>
        ) : null}
        <form className="auth-form" data-testid="unlock-form" onSubmit={(e) => void unlock(e)}>
          {error ? <FailureBanner error={error} testId="unlock-error" /> : null}
          <p className="muted">{t(label)}</p>
          {way === 'keyfile' ? (
            <div className="field">
              <label htmlFor="unlock-file">{t('auth.eds.file')}</label>
              <input
                id="unlock-file"
                data-testid="unlock-file"
                type="file"
                accept=".p12,.pfx,application/x-pkcs12"
                onChange={(e) => setFile(e.target.files?.[0] ?? null)}
              />
            </div>
          ) : null}
          <div className="field">
            <label htmlFor="unlock-secret">
              {t(way === 'pin' ? 'sign.pin' : way === 'keyfile' ? 'auth.eds.password' : 'auth.login.password')}
            </label>
            <input
              id="unlock-secret"
              data-testid="unlock-secret"
              type="password"
              autoComplete="off"
              autoFocus
              inputMode={way === 'pin' ? 'numeric' : undefined}
              value={secret}
              maxLength={256}
              onChange={(e) => setSecret(e.target.value)}
            />
          </div>
          <div className="dialog-actions">
            <button
              type="button"
              className="button button-quiet"
              data-testid="unlock-logout"
              disabled={busy}
              onClick={() => void logout()}
            >
              {t('auth.lock.logout')}
            </button>
            <button
              type="submit"
              className="button button-primary"
              data-testid="unlock-submit"
              disabled={busy || (way === 'keyfile' && !file)}
            >
              {t('auth.lock.submit')}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
