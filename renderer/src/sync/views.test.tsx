/**
 * What the top bar's sync indicator and the panel's parts show for a given
 * state, rendered to markup (no DOM here: effects do not run, which these
 * parts do not need).
 */
import type { ReactElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { SyncStatus } from '#preload/api.js';
import type { RejectedChange, SyncActivity } from '#preload/contract/sync.js';
import { SyncIndicator } from '../app/SyncIndicator';
import { I18nProvider } from '../i18n/I18nProvider';
import type { Language } from '../i18n/i18n';
import { SyncPanelOpener } from './opener';
import { RejectedChanges } from './RejectedChanges';
import { Activity, WaitingForLogin } from './SyncPanel';
import { pollDelay, PANEL_POLL_MS, PANEL_POLL_RUNNING_MS } from './useSyncDetails';

const HOUR = 3_600_000;

function render(node: ReactElement, language: Language = 'en'): string {
  return renderToStaticMarkup(<I18nProvider language={language}>{node}</I18nProvider>);
}

/** The text of the element carrying `data-testid="<id>"` (its first one), tags stripped; null when absent. */
function byTestId(html: string, id: string): string | null {
  const start = html.indexOf(`data-testid="${id}"`);
  if (start < 0) return null;
  const open = html.lastIndexOf('<', start);
  const tag = /^<(\w+)/.exec(html.slice(open))?.[1] ?? '';
  const close = html.indexOf(`</${tag}>`, start);
  return html
    .slice(html.indexOf('>', start) + 1, close)
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&#x27;/g, "'");
}

const status = (over: Partial<SyncStatus> = {}): SyncStatus => ({
  online: true,
  serverUrl: 'http://127.0.0.1:8700',
  queueDepth: 0,
  oldestPendingAt: null,
  lastSyncAt: null,
  lastError: null,
  enrolled: true,
  phase: 'idle',
  rejectedCount: 0,
  clockOff: false,
  ...over,
});

describe('the top bar', () => {
  it('shows the queue with the age of its oldest change, the busy mark, the clock warning and the rejected badge', () => {
    const html = render(
      <SyncIndicator
        state={{
          status: status({
            queueDepth: 12,
            oldestPendingAt: Date.now() - 3 * HOUR - 60_000,
            phase: 'pushing',
            rejectedCount: 2,
            clockOff: true,
          }),
          error: null,
        }}
      />,
    );
    expect(byTestId(html, 'sync-queue')).toBe('Queue: 12oldest 3 h');
    expect(byTestId(html, 'sync-oldest')).toBe('oldest 3 h');
    expect(html).toContain('data-testid="sync-busy"');
    expect(html).toContain('aria-label="Sending changes"');
    expect(byTestId(html, 'sync-clock-off')).toBe('Clock off');
    expect(html).toContain('title="This computer&#x27;s clock is more than 5 minutes off the server&#x27;s"');
    expect(byTestId(html, 'sync-rejected-badge')).toBe('Rejected: 2');
    // Without a way to open the panel the badge is plain text, not a button.
    expect(html).not.toMatch(/<button[^>]*data-testid="sync-rejected-badge"/);
  });

  it('makes the badge a button to the panel when the frame offers one', () => {
    const html = render(
      <SyncPanelOpener.Provider value={() => {}}>
        <SyncIndicator state={{ status: status({ rejectedCount: 1 }), error: null }} />
      </SyncPanelOpener.Provider>,
      'ru',
    );
    expect(html).toMatch(/<button[^>]*data-testid="sync-rejected-badge"/);
    expect(byTestId(html, 'sync-rejected-badge')).toBe('Отклонено: 1');
  });

  it('shows none of the marks when all is well', () => {
    const html = render(<SyncIndicator state={{ status: status({ lastSyncAt: Date.now() }), error: null }} />);
    for (const id of [
      'sync-busy',
      'sync-clock-off',
      'sync-rejected-badge',
      'sync-oldest',
      'sync-error',
      'sync-not-enrolled',
    ])
      expect(html, id).not.toContain(`data-testid="${id}"`);
    expect(byTestId(html, 'sync-queue')).toBe('Queue: 0');
  });

  it('says when the workstation is not enrolled, and the last error in words', () => {
    const html = render(
      <SyncIndicator
        state={{ status: status({ enrolled: false, online: false, lastError: 'server_unreachable' }), error: null }}
      />,
      'kk',
    );
    expect(byTestId(html, 'sync-not-enrolled')).toBe('Қосылмаған');
    expect(byTestId(html, 'sync-error')).toBe('Қате: Сервер жауап бермейді');
    expect(html).toContain('data-connection="offline"');
  });
});

const rejected = (over: Partial<RejectedChange>): RejectedChange => ({
  seq: 1,
  op: 'application.transition',
  entity: 'application',
  entityId: 'app-1',
  applicationNumber: 'KZ-2026-000001',
  reason: 'reassigned',
  message: 'responsible is user-exec-2',
  createdAt: Date.UTC(2026, 2, 7, 9, 0),
  rejectedAt: Date.UTC(2026, 2, 7, 9, 5),
  ...over,
});

describe('the rejected changes', () => {
  it('lists each change with what it was, why it was rejected, and its actions', () => {
    const html = render(
      <RejectedChanges
        rejected={[
          rejected({}),
          rejected({
            seq: 7,
            op: 'signature.add',
            entity: 'signature',
            entityId: 'sig-1',
            applicationNumber: null,
            reason: 'somethingNew',
            message: null,
          }),
        ]}
        busySeq={null}
        onRetry={() => {}}
        onDiscard={() => {}}
        onOpenApplication={() => {}}
      />,
    );
    const rows = html.split('data-testid="sync-rejected-row"').slice(1);
    expect(rows).toHaveLength(2);
    const [first = '', second = ''] = rows;
    expect(first).toContain('data-seq="1"');
    expect(byTestId(first, 'sync-rejected-subject')).toBe('Application KZ-2026-000001');
    expect(byTestId(first, 'sync-rejected-op')).toBe('Action on an application');
    expect(byTestId(first, 'sync-rejected-reason')).toBe('The application was reassigned to someone else meanwhile');
    expect(byTestId(first, 'sync-rejected-message')).toBe('Server: responsible is user-exec-2');
    expect(first).toContain('data-testid="sync-open-application"');
    expect(byTestId(second, 'sync-rejected-subject')).toBe('Signature sig-1');
    expect(byTestId(second, 'sync-rejected-reason')).toBe('Rejected by the server (code somethingNew)');
    expect(second).not.toContain('sync-rejected-message');
    // A signature has no card of its own to open.
    expect(second).not.toContain('data-testid="sync-open-application"');
    for (const row of rows) {
      expect(row).toContain('data-testid="sync-retry"');
      expect(row).toContain('data-testid="sync-discard"');
    }
  });

  it('offers only what the session may do', () => {
    const html = render(<RejectedChanges rejected={[rejected({})]} busySeq={null} />);
    expect(html).toContain('data-testid="sync-rejected-row"');
    expect(html).not.toContain('data-testid="sync-retry"');
    expect(html).not.toContain('data-testid="sync-discard"');
    expect(html).not.toContain('data-testid="sync-open-application"');
  });

  it('says so when there are none', () => {
    const html = render(<RejectedChanges rejected={[]} busySeq={null} />, 'ru');
    expect(byTestId(html, 'sync-rejected-empty')).toBe('Отклонённых изменений нет.');
  });
});

const activity = (over: Partial<SyncActivity>): SyncActivity => ({
  phase: 'idle',
  done: 0,
  total: null,
  partition: null,
  retryAt: null,
  failures: 0,
  ...over,
});

describe('the activity', () => {
  const name = (id: string) => (id === 'prov-1' ? 'Astana employment office' : id);

  it('shows a long pull as a progress bar with the partition being pulled', () => {
    const html = render(
      <Activity
        activity={activity({ phase: 'pulling', done: 2500, total: 10000, partition: 'provider:prov-1' })}
        lastError={null}
        now={Date.now()}
        officeName={name}
      />,
    );
    expect(html).toMatch(/<progress[^>]*data-testid="sync-progress"[^>]*value="2500"[^>]*max="10000"/);
    expect(byTestId(html, 'sync-progress-text')).toBe('2,500 of 10,000');
    expect(byTestId(html, 'sync-phase')).toBe('Receiving updates');
    expect(byTestId(html, 'sync-activity-partition')).toBe('Applications: Astana employment office');
  });

  it('shows a run of unknown length as an indeterminate bar with what is done', () => {
    const html = render(
      <Activity activity={activity({ phase: 'pushing', done: 40 })} lastError={null} now={0} officeName={name} />,
    );
    expect(html).toMatch(/<progress[^>]*data-testid="sync-progress"/);
    expect(html).not.toMatch(/<progress[^>]*value=/);
    expect(byTestId(html, 'sync-progress-text')).toBe('Done: 40');
  });

  it('shows the backoff: when the next attempt runs and how many failed', () => {
    const now = Date.now();
    const html = render(
      <Activity
        activity={activity({ phase: 'waiting', retryAt: now + 90_000, failures: 4 })}
        lastError="timeout"
        now={now}
        officeName={name}
      />,
      'ru',
    );
    expect(html).not.toContain('<progress');
    expect(byTestId(html, 'sync-phase')).toBe('Ожидание повторной попытки');
    expect(byTestId(html, 'sync-retry-at')).toContain('(через 1 мин)');
    expect(byTestId(html, 'sync-failures')).toBe('4');
    expect(byTestId(html, 'sync-panel-error')).toBe('Сервер не ответил вовремя');
  });
});

describe('the panel poll', () => {
  it('polls every 2 s, and faster while a run is under way or "sync now" waits', () => {
    const details = (phase: SyncActivity['phase']) =>
      ({ activity: activity({ phase }) }) as Parameters<typeof pollDelay>[0];
    expect(pollDelay(null, false)).toBe(PANEL_POLL_MS);
    expect(pollDelay(details('idle'), false)).toBe(PANEL_POLL_MS);
    expect(pollDelay(details('waiting'), false)).toBe(PANEL_POLL_MS);
    expect(pollDelay(details('pulling'), false)).toBe(PANEL_POLL_RUNNING_MS);
    expect(pollDelay(details('snapshot'), false)).toBe(PANEL_POLL_RUNNING_MS);
    expect(pollDelay(details('idle'), true)).toBe(PANEL_POLL_RUNNING_MS);
    expect(PANEL_POLL_RUNNING_MS).toBeLessThan(PANEL_POLL_MS);
  });
});

describe('a queue waiting for its author', () => {
  it('names the user whose online login the queue waits for, in kk, ru and en; the top bar says why it waits', () => {
    const user = { userId: 'user-1', fullName: 'Асқар Бекұлы' };
    for (const language of ['kk', 'ru', 'en'] as const) {
      const banner = byTestId(render(<WaitingForLogin user={user} />, language), 'sync-waiting-login');
      expect(banner, language).toContain('Асқар Бекұлы');
    }
    expect(
      byTestId(render(<WaitingForLogin user={{ userId: 'user-1', fullName: null }} />), 'sync-waiting-login'),
    ).toContain('user-1');
    const bar = render(
      <SyncIndicator
        state={{ status: status({ queueDepth: 3, lastError: 'waiting_login: Асқар Бекұлы' }), error: null }}
      />,
    );
    expect(byTestId(bar, 'sync-error')).toBe(
      'Error: Changes wait until their author logs in online at this workstation',
    );
  });
});
