/**
 * The service's sections of the form, collapsible, with Expand all / Collapse
 * all and the document preview above them. Required fields left empty are
 * marked: red where the user can fill them, quiet where they cannot.
 */
import type { Dispatch, SetStateAction } from 'react';
import type { ApplicationCard, CardField } from '#preload/contract/workflow.js';
import { useI18n } from '../i18n/I18nProvider';
import type { Value } from './actions';
import { FieldInput } from './FieldInput';

export function CardToolbar({
  onExpand,
  onCollapse,
  onPreview,
}: {
  onExpand: () => void;
  onCollapse: () => void;
  onPreview: () => void;
}) {
  const { t } = useI18n();
  return (
    <div className="card-toolbar">
      <button type="button" className="button button-quiet" data-testid="card-expand" onClick={onExpand}>
        {t('card.expandAll')}
      </button>
      <button type="button" className="button button-quiet" data-testid="card-collapse" onClick={onCollapse}>
        {t('card.collapseAll')}
      </button>
      <button type="button" className="button button-quiet" data-testid="card-preview" onClick={onPreview}>
        {t('card.preview')}
      </button>
    </div>
  );
}

export function CardSections({
  sections,
  open,
  setOpen,
  edits,
  onEdit,
}: {
  sections: ApplicationCard['sections'];
  open: ReadonlySet<string>;
  setOpen: Dispatch<SetStateAction<Set<string>>>;
  edits: Record<string, Value>;
  onEdit: (code: string, value: Value) => void;
}) {
  const { t, language } = useI18n();
  const value = (f: CardField): Value => (f.code in edits ? (edits[f.code] ?? null) : f.value);
  return (
    <>
      {sections.map((s) => (
        <details
          key={s.code}
          className="card-section"
          open={open.has(s.code)}
          data-testid={`section-${s.code}`}
          onToggle={(e) => {
            const isOpen = (e.currentTarget as HTMLDetailsElement).open;
            setOpen((prev) => {
              const next = new Set(prev);
              if (isOpen) next.add(s.code);
              else next.delete(s.code);
              return next;
            });
          }}
        >
          <summary>{s.title[language]}</summary>
          <div className="card-fields">
            {s.fields.map((f) => (
              <div
                key={f.code}
                className={
                  f.missing && (value(f) === null || value(f) === '')
                    ? f.editable
                      ? 'field is-missing'
                      : 'field is-absent'
                    : 'field'
                }
              >
                <label htmlFor={`field-${f.code}`}>
                  {f.label[language]}
                  {f.required ? <span className="required-mark"> *</span> : null}
                </label>
                <FieldInput field={f} value={value(f)} language={language} onChange={(nv) => onEdit(f.code, nv)} />
                {f.missing && f.editable && (value(f) === null || value(f) === '') ? (
                  <span className="field-error">{t('messages.requiredField')}</span>
                ) : null}
              </div>
            ))}
          </div>
        </details>
      ))}
    </>
  );
}
