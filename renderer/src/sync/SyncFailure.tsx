/**
 * A failed sync call in words. Main may name its text with an `errors.*` key
 * (as every call does) or with one of the sync words (`sync.error.*`, such
 * as a wrong administrator's password at enrolment); failing both, the
 * error's code is looked up among the sync errors, and only then is it an
 * internal error. Always with the code, for support.
 */
import { CallFailure } from '../api/client';
import { Banner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey, type MessageKey } from '../i18n/i18n';
import { shownError } from '../lib/errors';

export function syncFailureKey(error: unknown): { key: MessageKey; code: string; params?: Record<string, string> } {
  if (error instanceof CallFailure) {
    const { messageKey, code } = error.error;
    if (isMessageKey(messageKey) && messageKey.startsWith('sync.')) return { key: messageKey, code };
    const shown = shownError(error);
    if (shown.key !== 'errors.internal') return shown;
    const byCode = `sync.error.${code}`;
    if (isMessageKey(byCode)) return { key: byCode, code };
    return shown;
  }
  return shownError(error);
}

export function SyncFailure({
  error,
  title,
  onDismiss,
  testId,
}: {
  error: unknown;
  title: MessageKey;
  onDismiss?: () => void;
  testId: string;
}) {
  const { t } = useI18n();
  const shown = syncFailureKey(error);
  return (
    <Banner kind="error" title={t(title)} testId={testId} {...(onDismiss ? { onDismiss } : {})}>
      <div>{t(shown.key, shown.params)}</div>
      <div className="banner-code">{t('errors.code', { code: shown.code })}</div>
    </Banner>
  );
}
