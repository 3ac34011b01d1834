/** The frame: top bar, left navigation, and the screens (journal, profile). */
import { useState } from 'react';
import { useSession, useSyncStatus } from './app/hooks';
import { useDocumentPreferences, usePreferences } from './app/preferences';
import { SideNav } from './app/SideNav';
import { TopBar } from './app/TopBar';
import { ErrorBanner } from './components/Banner';
import { I18nProvider, useI18n } from './i18n/I18nProvider';
import { JournalScreen } from './journal/JournalScreen';
import { ProfileScreen } from './profile/ProfileScreen';
import { CardScreen } from './card/CardScreen';

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

export function App() {
  const { preferences, update, saveError, dismissSaveError } = usePreferences();
  useDocumentPreferences(preferences);
  const session = useSession();
  const sync = useSyncStatus();
  const [navCollapsed, setNavCollapsed] = useState(readNavCollapsed);
  const [screen, setScreen] = useState<'journal' | 'profile'>('journal');
  const [cardId, setCardId] = useState<string | null>(null);

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

  return (
    <I18nProvider language={preferences.language}>
      <SkipLink />
      <div className={navCollapsed ? 'frame nav-collapsed' : 'frame'}>
        <TopBar preferences={preferences} onPreferences={update} session={session} sync={sync} />
        <SideNav
          active={screen}
          collapsed={navCollapsed}
          onToggle={toggleNav}
          onSelect={(id) => {
            setCardId(null);
            setScreen(id === 'profile' ? 'profile' : 'journal');
          }}
        />
        <main id="main" className="content" tabIndex={-1}>
          {saveError ? (
            <div className="banners">
              <ErrorBanner
                error={saveError}
                title="errors.preferencesNotSaved"
                onDismiss={dismissSaveError}
                testId="preferences-error"
              />
            </div>
          ) : null}
          {screen === 'profile' ? <ProfileScreen preferences={preferences} onPreferences={update} /> : null}
          {screen === 'journal' && cardId ? <CardScreen id={cardId} onBack={() => setCardId(null)} /> : null}
          {/* The journal stays mounted under an open card: its search, filters and page are kept. */}
          <div hidden={screen !== 'journal' || cardId !== null}>
            <JournalScreen providerColumns={monitoring} onOpen={setCardId} headOf={headOf} />
          </div>
        </main>
      </div>
    </I18nProvider>
  );
}
