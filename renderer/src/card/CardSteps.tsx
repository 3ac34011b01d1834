/** The service's steps for this application: limit, deadline (recorded or projected), holder; overdue ones marked. */
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { useI18n } from '../i18n/I18nProvider';

export function CardSteps({ steps }: { steps: ApplicationCard['steps'] }) {
  const { t, language, dateTime, date } = useI18n();
  return (
    <>
      <h2>{t('card.steps')}</h2>
      <table className="card-steps" data-testid="card-steps">
        <thead>
          <tr>
            <th>{t('card.step')}</th>
            <th>{t('card.limit')}</th>
            <th>{t('card.dueAt')}</th>
            <th>{t('card.holder')}</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((s) => (
            <tr key={s.code} className={`step-${s.state}${s.overdue ? ' is-overdue' : ''}`}>
              <td>{s.name[language]}</td>
              <td>
                {s.limit.unit === 'minutes'
                  ? t('card.limitMinutes', { n: s.limit.value })
                  : t('card.limitDays', { n: s.limit.value })}
              </td>
              <td>
                {s.dueAt ? (s.limit.unit === 'minutes' ? dateTime(s.dueAt) : date(s.dueAt)) : t('common.none')}
                {s.projected ? ` (${t('card.projected')})` : ''}
              </td>
              <td>{s.holder?.fullName ?? t('common.none')}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
