/**
 * The strips above the card: the last action's notice, its error (with
 * Reload when someone else changed the application meanwhile), the head's
 * rework comment, and a broken event chain.
 */
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';

export function CardBanners({
  card,
  notice,
  error,
  stale,
  onReload,
}: {
  card: ApplicationCard;
  notice: string | null;
  error: unknown;
  stale: boolean;
  onReload: () => void;
}) {
  const { t } = useI18n();
  return (
    <div className="banners">
      {notice && isMessageKey(notice) ? <Banner kind="info" title={t(notice)} testId="card-notice" /> : null}
      {error ? (
        <ErrorBanner
          error={error}
          testId="card-error"
          actions={
            stale ? (
              <button type="button" className="button" data-testid="card-reload" onClick={onReload}>
                {t('card.reload')}
              </button>
            ) : undefined
          }
        />
      ) : null}
      {card.reworkComment && card.header.status === 'in_processing' ? (
        <Banner kind="warning" title={t('card.reworkComment')} testId="card-rework">
          {card.reworkComment}
        </Banner>
      ) : null}
      {!card.chain.ok ? <Banner kind="error" title={t('card.chainBroken')} testId="card-chain" /> : null}
    </div>
  );
}
