/** For the top bar: "offline" when the session started without the central server, Lock and Log out. */
import { call } from '../api/client';
import { useAuthText } from './text';
import type { AuthSession } from './useAuthSession';

export function SessionControls({
  session,
  onSession,
  onError,
}: {
  session: AuthSession;
  onSession(session: AuthSession): void;
  onError?(error: unknown): void;
}) {
  const { t } = useAuthText();
  const act = (channel: 'auth.lock' | 'auth.logout') =>
    void call(channel, {}).then(onSession, (e: unknown) => onError?.(e));
  return (
    <div className="session-controls" role="group">
      {session.offline ? (
        <span className="session-offline" data-testid="session-offline" title={t('auth.session.offlineTitle')}>
          {t('auth.session.offline')}
        </span>
      ) : null}
      <button type="button" className="session-button" data-testid="session-lock" onClick={() => act('auth.lock')}>
        {t('auth.session.lock')}
      </button>
      <button type="button" className="session-button" data-testid="session-logout" onClick={() => act('auth.logout')}>
        {t('auth.session.logout')}
      </button>
    </div>
  );
}
