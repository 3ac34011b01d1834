/**
 * What stands between the user and the app: the login screen while nobody is
 * logged in, the lock screen while the session is locked, the forced change
 * of a password an administrator reset; the app itself (`children`) only for
 * an open session. Main enforces the same on every call; this only decides
 * what to show.
 */
import type { ReactNode } from 'react';
import { ErrorBanner } from '../components/Banner';
import { ChangePassword } from './ChangePassword';
import { LockScreen } from './LockScreen';
import { LoginScreen } from './LoginScreen';
import { useAuthSession, type AuthSession, type AuthSessionState } from './useAuthSession';

export type OpenSession = AuthSession & { user: NonNullable<AuthSession['user']> };

export interface AuthBoundaryProps {
  /** The language switch and night mode, for the screens before login. */
  aside?: ReactNode;
  children(session: OpenSession, state: AuthSessionState): ReactNode;
}

export function AuthBoundary({ aside, children }: AuthBoundaryProps) {
  const state = useAuthSession();
  const { session, error, apply } = state;
  if (session === undefined) {
    return error ? (
      <div className="auth-screen">
        <ErrorBanner error={error} testId="auth-error" />
      </div>
    ) : (
      <div className="auth-screen" data-testid="auth-loading" aria-busy="true" />
    );
  }
  if (!session.user) return <LoginScreen session={session} onSession={apply} aside={aside} />;
  if (session.locked) return <LockScreen session={session} onSession={apply} />;
  if (session.mustChangePassword) {
    return (
      <div className="auth-screen" data-testid="forced-password-change">
        {aside ? <div className="auth-aside">{aside}</div> : null}
        <section className="auth-card">
          <ChangePassword forced onSession={apply} />
        </section>
      </div>
    );
  }
  return <>{children(session as OpenSession, state)}</>;
}
