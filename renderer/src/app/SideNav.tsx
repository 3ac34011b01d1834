/** The left navigation: the journal, sync, the profile and users; intake and monitoring shown as coming later. */
import type { ReactNode } from 'react';
import {
  IconCheckPaper,
  IconCollapse,
  IconExpand,
  IconIntake,
  IconJournal,
  IconMonitoring,
  IconUser,
  IconUsers,
} from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import type { MessageKey } from '../i18n/i18n';
import { IconSync } from '../components/Icons';
import type { Channel } from '#preload/api.js';

interface Section {
  id: string;
  label: MessageKey;
  icon: ReactNode;
  ready: boolean;
  /** The call the section opens with: hidden from a user the session does not permit it (main refuses it). */
  call?: Channel;
}

const SECTIONS: readonly Section[] = [
  { id: 'journal', label: 'nav.journal', icon: <IconJournal />, ready: true, call: 'journal.list' },
  { id: 'intake', label: 'nav.intake', icon: <IconIntake />, ready: false },
  { id: 'monitoring', label: 'nav.monitoring', icon: <IconMonitoring />, ready: true, call: 'monitoring.report' },
  { id: 'check', label: 'nav.check', icon: <IconCheckPaper />, ready: true, call: 'documents.check' },
  { id: 'sync', label: 'sync.label', icon: <IconSync />, ready: true, call: 'sync.details' },
  { id: 'profile', label: 'nav.profile', icon: <IconUser />, ready: true },
  { id: 'users', label: 'admin.users.title', icon: <IconUsers />, ready: true, call: 'admin.users' },
];

export function SideNav({
  active,
  collapsed,
  onToggle,
  onSelect,
  permissions,
}: {
  active: string;
  collapsed: boolean;
  onToggle(): void;
  onSelect(id: string): void;
  /** The calls the session permits (`auth.session`): sections opening with another call are hidden. */
  permissions: readonly string[];
}) {
  const { t } = useI18n();
  const shown = SECTIONS.filter((s) => s.call === undefined || permissions.includes(s.call));
  return (
    <nav className="sidenav" aria-label={t('nav.label')}>
      <ul className="nav-list">
        {shown.map((s) => (
          <li key={s.id}>
            {s.ready ? (
              <button
                type="button"
                className="nav-item"
                data-testid={`nav-${s.id}`}
                aria-current={s.id === active ? 'page' : undefined}
                title={collapsed ? t(s.label) : undefined}
                onClick={() => onSelect(s.id)}
              >
                {s.icon}
                <span className="nav-label">{t(s.label)}</span>
              </button>
            ) : (
              <button
                type="button"
                className="nav-item"
                data-testid={`nav-${s.id}`}
                disabled
                title={`${t(s.label)}: ${t('nav.comingLater')}`}
              >
                {s.icon}
                <span className="nav-label">{t(s.label)}</span>
              </button>
            )}
          </li>
        ))}
      </ul>
      <button
        type="button"
        className="nav-toggle"
        onClick={onToggle}
        aria-expanded={!collapsed}
        aria-label={collapsed ? t('nav.expand') : t('nav.collapse')}
        title={collapsed ? t('nav.expand') : t('nav.collapse')}
      >
        {collapsed ? <IconExpand /> : <IconCollapse />}
      </button>
    </nav>
  );
}
