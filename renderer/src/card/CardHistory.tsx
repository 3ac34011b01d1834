/** The application's history: each event's time, actor, action with the status it led to, and comment. */
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';

export function CardHistory({ events }: { events: ApplicationCard['events'] }) {
  const { t, dateTime } = useI18n();
  return (
    <>
      <h2>{t('card.history')}</h2>
      <ol className="card-events" data-testid="card-events">
        {events.map((e) => (
          <li key={e.seq}>
            <span className="event-at">{dateTime(e.at)}</span>
            <span className="event-actor">{e.actor?.fullName ?? t('common.none')}</span>
            <span className="event-action">
              {isMessageKey(`card.event.${e.action}`) ? t(`card.event.${e.action}` as 'card.title') : e.action}
              {e.toStatus ? ` → ${t(`status.${e.toStatus}`)}` : ''}
            </span>
            {e.comment ? <span className="event-comment">{e.comment}</span> : null}
          </li>
        ))}
      </ol>
    </>
  );
}
