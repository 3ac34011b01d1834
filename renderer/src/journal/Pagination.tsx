/** "Page X of Y, N applications" and the buttons to move between pages. */
import type { ReactNode } from 'react';
import { IconFirst, IconLast, IconNext, IconPrevious } from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import type { MessageKey } from '../i18n/i18n';

function PageButton({
  label,
  disabled,
  onClick,
  testId,
  children,
}: {
  label: MessageKey;
  disabled: boolean;
  onClick(): void;
  testId: string;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <button
      type="button"
      className="icon-button page-button"
      data-testid={testId}
      disabled={disabled}
      onClick={onClick}
      aria-label={t(label)}
      title={t(label)}
    >
      {children}
    </button>
  );
}

export function Pagination({
  page,
  pages,
  total,
  capped = false,
  onPage,
}: {
  page: number;
  pages: number;
  total: number | null;
  /** The count stopped at a cap: there are at least `total`. */
  capped?: boolean;
  onPage(page: number): void;
}) {
  const { t, tp } = useI18n();
  const first = page <= 0;
  const last = page >= pages - 1;
  return (
    <nav className="pagination" aria-label={t('journal.pagination.label')}>
      <PageButton
        label="journal.pagination.first"
        testId="journal-first-page"
        disabled={first}
        onClick={() => onPage(0)}
      >
        <IconFirst />
      </PageButton>
      <PageButton
        label="journal.pagination.previous"
        testId="journal-prev-page"
        disabled={first}
        onClick={() => onPage(page - 1)}
      >
        <IconPrevious />
      </PageButton>
      <span className="page-info" data-testid="journal-page-info" aria-live="polite">
        {total !== null ? (
          <>
            {t('journal.pagination.page', { page: page + 1, pages })}
            <span className="page-sep" aria-hidden="true" />
            <span data-testid="journal-total">
              {capped ? t('journal.totalAtLeast', { count: total }) : tp('journal.total', total)}
            </span>
          </>
        ) : null}
      </span>
      <PageButton
        label="journal.pagination.next"
        testId="journal-next-page"
        disabled={last}
        onClick={() => onPage(page + 1)}
      >
        <IconNext />
      </PageButton>
      <PageButton
        label="journal.pagination.last"
        testId="journal-last-page"
        disabled={last}
        onClick={() => onPage(pages - 1)}
      >
        <IconLast />
      </PageButton>
    </nav>
  );
}
