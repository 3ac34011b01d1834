/** One field of the card as an input of its type: checkbox, list of options, long text, number, date or text. */
import type { Language } from '#preload/api.js';
import type { CardField } from '#preload/contract/workflow.js';
import type { Value } from './actions';

export function FieldInput({
  field,
  value,
  language,
  onChange,
}: {
  field: CardField;
  value: Value;
  language: Language;
  onChange: (v: Value) => void;
}) {
  const id = `field-${field.code}`;
  const common = {
    id,
    'data-testid': id,
    'aria-invalid': field.editable && field.missing && (value === null || value === '') ? ('true' as const) : undefined,
    'aria-required': field.required || undefined,
    readOnly: !field.editable,
    disabled: !field.editable && (field.type === 'select' || field.type === 'boolean'),
  };
  if (field.type === 'boolean') {
    return <input type="checkbox" {...common} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  }
  if (field.options && field.options.length > 0) {
    return (
      <select
        {...common}
        value={value === null ? '' : String(value)}
        onChange={(e) => onChange(e.target.value || null)}
      >
        <option value="" />
        {field.options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label[language]}
          </option>
        ))}
      </select>
    );
  }
  if (field.type === 'text' && (field.maxLength ?? 0) > 300) {
    return (
      <textarea
        {...common}
        rows={3}
        value={value === null ? '' : String(value)}
        maxLength={field.maxLength}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }
  const type = field.type === 'number' || field.type === 'money' ? 'number' : field.type === 'date' ? 'date' : 'text';
  return (
    <input
      {...common}
      type={type}
      value={value === null ? '' : String(value)}
      maxLength={field.maxLength}
      onChange={(e) =>
        onChange(type === 'number' ? (e.target.value === '' ? null : Number(e.target.value)) : e.target.value)
      }
    />
  );
}
