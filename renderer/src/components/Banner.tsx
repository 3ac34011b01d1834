/** A message strip above the content: an error (role=alert), a warning or a notice. */
import type { ReactNode } from 'react';
import { useI18n } from '../i18n/I18nProvider';
import type { MessageKey } from '../i18n/i18n';
import { shownError } from '../lib/errors';
import { IconAlert, IconClose } from './Icons';

export interface BannerProps {
  kind: 'error' | 'warning' | 'info';
  title?: ReactNode;
  children?: ReactNode;
  actions?: ReactNode;
  onDismiss?: () => void;
  testId?: string;
}

export function Banner({ kind, title, children, actions, onDismiss, testId }: BannerProps) {
  const { t } = useI18n();
  return (
    <div className={`banner banner-${kind}`} role={kind === 'info' ? 'status' : 'alert'} data-testid={testId}>
      <span className="banner-icon">
        <IconAlert />
      </span>
      <div className="banner-body">
        {title ? <div className="banner-title">{title}</div> : null}
        {children}
      </div>
      {actions ? <div className="banner-actions">{actions}</div> : null}
      {onDismiss ? (
        <button
          type="button"
          className="icon-button"
          onClick={onDismiss}
          aria-label={t('common.close')}
          title={t('common.close')}
        >
          <IconClose />
        </button>
      ) : null}
    </div>
  );
}

/** A failed call in words: what failed (`title`), why (the error's catalogue text) and its code for support. */
export function ErrorBanner({
  error,
  title,
  actions,
  onDismiss,
  testId,
}: {
  error: unknown;
  title?: MessageKey;
  actions?: ReactNode;
  onDismiss?: () => void;
  testId?: string;
}) {
  const { t } = useI18n();
  const shown = shownError(error);
  return (
    <Banner
      kind="error"
      title={title ? t(title) : t(shown.key, shown.params)}
      actions={actions}
      {...(onDismiss ? { onDismiss } : {})}
      {...(testId ? { testId } : {})}
    >
      {title ? <div>{t(shown.key, shown.params)}</div> : null}
      <div className="banner-code">{t('errors.code', { code: shown.code })}</div>
    </Banner>
  );
}
