/** The card's head: back, the number with its status and decision, and who, what and when. */
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { useI18n } from '../i18n/I18nProvider';

export function CardHeader({ header: h, onBack }: { header: ApplicationCard['header']; onBack: () => void }) {
  const { t, language, dateTime } = useI18n();
  return (
    <>
      <div className="card-head">
        <button type="button" className="button button-quiet" data-testid="card-back" onClick={onBack}>
          {t('card.back')}
        </button>
        <h1 id="card-title">
          {t('card.title', { number: h.number })}
          <span className={`badge status-${h.status}`} data-testid="card-status">
            {t(`status.${h.status}`)}
          </span>
          <span className={`decision decision-${h.decision}`} data-testid="card-decision">
            {t(`decision.${h.decision}`)}
          </span>
        </h1>
      </div>

      <dl className="card-header">
        <dt>{t('card.service')}</dt>
        <dd>{h.serviceName[language]}</dd>
        <dt>{t('card.submittedAt')}</dt>
        <dd>{dateTime(h.submittedAt)}</dd>
        <dt>{t('card.applicant')}</dt>
        <dd>
          {h.applicantName} · {t('sign.iin')} {h.applicantIin}
          {h.applicantBin ? ` · ${t('sign.bin')} ${h.applicantBin}` : ''}
        </dd>
        <dt>{t('card.portalNumber')}</dt>
        <dd>{h.portalNumber ?? t('common.none')}</dd>
        <dt>{t('card.provider')}</dt>
        <dd>
          {h.provider.name[language]} · {t('sign.bin')} {h.provider.bin}
        </dd>
        <dt>{t('card.responsible')}</dt>
        <dd data-testid="card-responsible">{h.responsible?.fullName ?? t('common.none')}</dd>
        {h.dueAt ? (
          <>
            <dt>{t('card.dueAt')}</dt>
            <dd>{dateTime(h.dueAt)}</dd>
          </>
        ) : null}
      </dl>
    </>
  );
}
