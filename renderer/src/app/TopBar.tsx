/** The top bar: product, sync state, current user with roles, language switch, night mode. */
import type { ReactNode } from 'react';
import { LANGUAGES, ROLE_VALUES, type Preferences } from '#preload/api.js';
import { IconLogo, IconMoon } from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import type { SessionState, SyncState } from './hooks';
import { SyncIndicator } from './SyncIndicator';

export interface TopBarProps {
  preferences: Preferences;
  onPreferences(change: Partial<Preferences>): void;
  session: SessionState;
  sync: SyncState;
  /** The session's controls (offline mark, Lock, Log out): renderer/src/auth/SessionControls. */
  controls?: ReactNode;
}

export function TopBar({ preferences, onPreferences, session, sync, controls }: TopBarProps) {
  const { t } = useI18n();
  const user = session.user;
  // Roles in a stable order, each once (a user may hold one role at several providers).
  const roles = user ? ROLE_VALUES.filter((r) => user.roles.some((x) => x.role === r)).map((r) => t(`role.${r}`)) : [];
  const dark = preferences.theme === 'dark';
  const userText =
    user === undefined ? '' : user ? user.fullName : session.error ? t('errors.sessionUnavailable') : t('user.none');

  return (
    <header className="topbar" data-testid="topbar">
      <div className="brand">
        <IconLogo />
        <span className="brand-name">{t('app.name')}</span>
        <span className="brand-tagline">{t('app.tagline')}</span>
      </div>

      <SyncIndicator state={sync} />

      <div className="topbar-user" aria-label={t('user.label')} role="group">
        <span className="user-name" data-testid="user-name" title={user ? user.login : userText}>
          {userText}
        </span>
        {roles.length > 0 ? (
          <span className="user-roles" data-testid="user-roles">
            {roles.join(', ')}
          </span>
        ) : null}
      </div>

      {controls}

      <div className="lang-switch" role="group" aria-label={t('language.label')}>
        {LANGUAGES.map((lang) => (
          <button
            key={lang}
            type="button"
            lang={lang}
            className="lang-button"
            data-testid={`lang-${lang}`}
            aria-pressed={preferences.language === lang}
            title={t(`language.${lang}.name`)}
            aria-label={t(`language.${lang}.name`)}
            onClick={() => onPreferences({ language: lang })}
          >
            {t(`language.${lang}.short`)}
          </button>
        ))}
      </div>

      <button
        type="button"
        className="theme-toggle"
        data-testid="theme-toggle"
        aria-pressed={dark}
        title={t('theme.night')}
        aria-label={t('theme.night')}
        onClick={() => onPreferences({ theme: dark ? 'light' : 'dark' })}
      >
        <IconMoon />
      </button>
    </header>
  );
}
