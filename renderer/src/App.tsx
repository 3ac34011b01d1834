/**
 * The frame: top bar, left navigation, and the screens (journal, sync, profile, users). The journal comes with the
 * first bundle; the card, the sync panel, the profile and the users' screen are loaded when first opened.
 */
import { lazy, Suspense, useState } from 'react';
import { LANGUAGES, type Preferences } from '#preload/api.js';
import { useSyncStatus } from './app/hooks';
import { AuthBoundary, type OpenSession } from './auth/AuthBoundary';
import { ChangePassword } from './auth/ChangePassword';
import { SessionControls } from './auth/SessionControls';
import type { AuthSessionState } from './auth/useAuthSession';
import { DatabaseCheckBanner } from './app/DatabaseCheck';
import { useDocumentPreferences, usePreferences } from './app/preferences';
import { SideNav } from './app/SideNav';
import { TopBar } from './app/TopBar';
import { ErrorBanner } from './components/Banner';
import { I18nProvider, useI18n } from './i18n/I18nProvider';
import { JournalScreen } from './journal/JournalScreen';
import type { FigureFilters } from './monitoring/MonitoringScreen';
import { SyncPanelOpener } from './sync/opener';
import { PreLoginEnrol } from './sync/PreLoginEnrol';

const AdminUsers = lazy(() => import('./auth/AdminUsers').then((m) => ({ default: m.AdminUsers })));
const CardScreen = lazy(() => import('./card/CardScreen').then((m) => ({ default: m.CardScreen })));
const MonitoringScreen = lazy(() =>
  import('./monitoring/MonitoringScreen').then((m) => ({ default: m.MonitoringScreen })),
);
const CheckPaperScreen = lazy(() =>
  import('./documents/CheckPaperScreen').then((m) => ({ default: m.CheckPaperScreen })),
);
const ProfileScreen = lazy(() => import('./profile/ProfileScreen').then((m) => ({ default: m.ProfileScreen })));
const SyncPanel = lazy(() => import('./sync/SyncPanel').then((m) => ({ default: m.SyncPanel })));

/** A monitoring figure opened in the journal (renderer/src/monitoring). */
interface JournalPreset {
  filters: FigureFilters;
  nonce: number;
  label: string;
}

const NAV_KEY = 'qyzmet.nav.collapsed';

/** The menu folds to icons by itself on narrow screens (1366 px), so the journal's columns fit; the user's own choice is kept. */
function readNavCollapsed(): boolean {
  try {
    const saved = localStorage.getItem(NAV_KEY);
    if (saved === '1' || saved === '0') return saved === '1';
  } catch {
    // No storage: decide by the width.
  }
  return window.innerWidth < 1600;
}

function SkipLink() {
  const { t } = useI18n();
  return (
    <a
      className="skip-link"
      href="#main"
      onClick={(e) => {
        e.preventDefault();
        document.getElementById('main')?.focus();
      }}
    >
      {t('app.skipToContent')}
    </a>
  );
}

/** Language switch on the screens before login. */
function PreLoginSwitches({
  preferences,
  onPreferences,
}: {
  preferences: Preferences;
  onPreferences(p: Partial<Preferences>): void;
}) {
  const { t } = useI18n();
  return (
    <div className="lang-switch" role="group" aria-label={t('language.label')}>
      {LANGUAGES.map((lang) => (
        <button
          key={lang}
          type="button"
          lang={lang}
          className="lang-button"
          data-testid={`lang-${lang}`}
          aria-pressed={preferences.language === lang}
          onClick={() => onPreferences({ language: lang })}
        >
          {t(`language.${lang}.short`)}
        </button>
      ))}
    </div>
  );
}

/** Login, lock and a forced password change stand before the frame (renderer/src/auth/AuthBoundary). */
export function App() {
  const { preferences, update, saveError, dismissSaveError } = usePreferences();
  useDocumentPreferences(preferences);
  return (
    <I18nProvider language={preferences.language}>
      <AuthBoundary
        aside={
          <>
            <DatabaseCheckBanner />
            <PreLoginEnrol />
            <PreLoginSwitches preferences={preferences} onPreferences={update} />
          </>
        }
      >
        {(auth, state) => (
          <Frame
            auth={auth}
            authState={state}
            preferences={preferences}
            update={update}
            saveError={saveError}
            dismissSaveError={dismissSaveError}
          />
        )}
      </AuthBoundary>
    </I18nProvider>
  );
}

function Frame({
  auth,
  authState,
  preferences,
  update,
  saveError,
  dismissSaveError,
}: {
  auth: OpenSession;
  authState: AuthSessionState;
  preferences: Preferences;
  update(p: Partial<Preferences>): void;
  saveError: unknown;
  dismissSaveError(): void;
}) {
  const session = { user: auth.user, error: null };
  const sync = useSyncStatus();
  const [navCollapsed, setNavCollapsed] = useState(readNavCollapsed);
  const [screen, setScreen] = useState<'journal' | 'profile' | 'users' | 'sync' | 'monitoring' | 'check'>(
    auth.permissions.includes('journal.list') ? 'journal' : 'profile',
  );
  const [cardId, setCardId] = useState<string | null>(null);
  const [journalPreset, setJournalPreset] = useState<JournalPreset | null>(null);

  const toggleNav = () => {
    const next = !navCollapsed;
    setNavCollapsed(next);
    try {
      localStorage.setItem(NAV_KEY, next ? '1' : '0');
    } catch {
      // Not kept across starts then.
    }
  };

  const monitoring = session.user?.roles.some((r) => r.role === 'monitoring') ?? false;
  const headOf = session.user?.roles.find((r) => r.role === 'head')?.providerId ?? null;

  const openSyncPanel = auth.permissions.includes('sync.details')
    ? () => {
        setCardId(null);
        setScreen('sync');
      }
    : null;

  return (
    <>
      <SkipLink />
      <div className={navCollapsed ? 'frame nav-collapsed' : 'frame'}>
        <SyncPanelOpener.Provider value={openSyncPanel}>
          <TopBar
            preferences={preferences}
            onPreferences={update}
            session={session}
            sync={sync}
            controls={<SessionControls session={auth} onSession={authState.apply} />}
          />
        </SyncPanelOpener.Provider>
        <SideNav
          active={screen}
          collapsed={navCollapsed}
          onToggle={toggleNav}
          permissions={auth.permissions}
          onSelect={(id) => {
            setCardId(null);
            setScreen(
              id === 'profile' || id === 'users' || id === 'sync' || id === 'monitoring' || id === 'check'
                ? id
                : 'journal',
            );
          }}
        />
        <main id="main" className="content" tabIndex={-1}>
          <div className="banners">
            <DatabaseCheckBanner />
            {saveError ? (
              <ErrorBanner
                error={saveError}
                title="errors.preferencesNotSaved"
                onDismiss={dismissSaveError}
                testId="preferences-error"
              />
            ) : null}
          </div>
          <Suspense fallback={null}>
            {screen === 'profile' ? (
              <ProfileScreen preferences={preferences} onPreferences={update}>
                <ChangePassword onSession={authState.apply} />
              </ProfileScreen>
            ) : null}
            {screen === 'users' ? <AdminUsers selfId={auth.user.id} /> : null}
            {screen === 'check' ? <CheckPaperScreen /> : null}
            {screen === 'monitoring' ? (
              <MonitoringScreen
                {...(auth.permissions.includes('journal.list')
                  ? {
                      onOpenJournal: (filters: FigureFilters, label: string) => {
                        setJournalPreset((p) => ({ filters, nonce: (p?.nonce ?? 0) + 1, label }));
                        setCardId(null);
                        setScreen('journal');
                      },
                    }
                  : {})}
              />
            ) : null}
            {screen === 'sync' ? (
              <SyncPanel
                permissions={auth.permissions}
                {...(auth.permissions.includes('journal.list')
                  ? {
                      onOpenApplication: (id: string) => {
                        setCardId(id);
                        setScreen('journal');
                      },
                    }
                  : {})}
              />
            ) : null}
            {screen === 'journal' && cardId ? <CardScreen id={cardId} onBack={() => setCardId(null)} /> : null}
          </Suspense>
          {/* The journal stays mounted under an open card: its search, filters and page are kept. */}
          {auth.permissions.includes('journal.list') ? (
            <div hidden={screen !== 'journal' || cardId !== null}>
              <JournalScreen providerColumns={monitoring} onOpen={setCardId} headOf={headOf} preset={journalPreset} />
            </div>
          ) : null}
        </main>
      </div>
    </>
  );
}
