/**
 * A date typed as dd.mm.yyyy (committed on Enter or leaving the field), with
 * a button that opens the native calendar. The value is ISO YYYY-MM-DD or ''.
 * Remount it (key) to drop a half-typed text when the filters are reset.
 */
import { useRef, useState } from 'react';
import { IconCalendar } from '../components/Icons';
import { useI18n } from '../i18n/I18nProvider';
import { isoToDayMonthYear, parseDayMonthYear } from './dates';

export interface DateFieldProps {
  id: string;
  value: string;
  onChange(iso: string): void;
  min?: string;
  max?: string;
  /** Set by the form (e.g. an inverted range); a wrong text marks the field on its own. */
  invalid?: boolean;
  describedBy?: string;
  testId: string;
}

export function DateField({ id, value, onChange, min, max, invalid, describedBy, testId }: DateFieldProps) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<string | null>(null);
  const picker = useRef<HTMLInputElement>(null);
  const parsed = draft === null ? value : parseDayMonthYear(draft);
  const wrong = parsed === null;
  const errorId = `${id}-error`;

  const commit = () => {
    if (draft === null) return;
    const iso = parseDayMonthYear(draft);
    if (iso === null) return; // keep the text, marked wrong, until it is fixed
    setDraft(null);
    if (iso !== value) onChange(iso);
  };

  return (
    <div className="date-field">
      <input
        id={id}
        type="text"
        inputMode="numeric"
        autoComplete="off"
        spellCheck={false}
        maxLength={10}
        data-testid={testId}
        value={draft ?? isoToDayMonthYear(value)}
        placeholder={t('format.datePlaceholder')}
        aria-invalid={wrong || invalid || undefined}
        aria-describedby={[wrong ? errorId : '', describedBy ?? ''].filter(Boolean).join(' ') || undefined}
        onChange={(e) => setDraft(e.target.value)}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape' && draft !== null) {
            e.preventDefault();
            setDraft(null);
          }
        }}
      />
      <button
        type="button"
        className="icon-button date-picker-button"
        tabIndex={-1}
        aria-label={t('journal.filters.pickDate')}
        title={t('journal.filters.pickDate')}
        onClick={() => {
          try {
            picker.current?.showPicker();
          } catch {
            picker.current?.focus();
          }
        }}
      >
        <IconCalendar />
      </button>
      <input
        ref={picker}
        type="date"
        className="date-picker-native"
        tabIndex={-1}
        aria-hidden="true"
        value={value}
        min={min}
        max={max}
        onChange={(e) => {
          setDraft(null);
          onChange(e.target.value);
        }}
      />
      {wrong ? (
        <span className="field-hint" id={errorId} role="alert">
          {t('journal.filters.dateInvalid')}
        </span>
      ) : null}
    </div>
  );
}
