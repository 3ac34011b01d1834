/**
 * The inputs the offered actions need, above their buttons: the decision's
 * refusal reason and text, the head's comment for a return, the collegial
 * body's protocol, the executor to make responsible. Which input shows is
 * the action table's (`ActionSpec.input`).
 */
import type { ComponentType } from 'react';
import type { CallOutput } from '#preload/api.js';
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { useI18n } from '../i18n/I18nProvider';
import { offeredInputs, type ActionInput, type CardDraft } from './actions';
import { FieldInput } from './FieldInput';

export type Staff = CallOutput<'staff.list'>['staff'];

interface InputProps {
  card: ApplicationCard;
  /** The executors for Assign; null until they are read. */
  staff: Staff | null;
  draft: CardDraft;
  onChange: (update: (draft: CardDraft) => CardDraft) => void;
}

function DecisionInput({ card, draft, onChange }: InputProps) {
  const { t, language } = useI18n();
  const { refusal } = draft;
  return (
    <div className="card-decide">
      <div className="field">
        <label htmlFor="refusal-reason">{t('card.refusalReason')}</label>
        <select
          id="refusal-reason"
          data-testid="refusal-reason"
          value={refusal.code}
          onChange={(e) => {
            const code = e.target.value;
            onChange((d) => ({ ...d, refusal: { ...d.refusal, code } }));
          }}
        >
          <option value="" />
          {card.refusalReasons.map((r) => (
            <option key={r.code} value={r.code}>
              {r.text[language]}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="refusal-text">{t('card.refusalText')}</label>
        <textarea
          id="refusal-text"
          data-testid="refusal-text"
          rows={2}
          maxLength={4000}
          value={refusal.text}
          onChange={(e) => {
            const text = e.target.value;
            onChange((d) => ({ ...d, refusal: { ...d.refusal, text } }));
          }}
        />
      </div>
    </div>
  );
}

function ReturnCommentInput({ draft, onChange }: InputProps) {
  const { t } = useI18n();
  return (
    <div className="field">
      <label htmlFor="return-comment">{t('card.returnComment')}</label>
      <textarea
        id="return-comment"
        data-testid="return-comment"
        rows={2}
        maxLength={2000}
        value={draft.comment}
        onChange={(e) => {
          const comment = e.target.value;
          onChange((d) => ({ ...d, comment }));
        }}
      />
    </div>
  );
}

function CommissionInput({ card, draft, onChange }: InputProps) {
  const { language } = useI18n();
  if (!card.commission) return null;
  return (
    <div className="card-commission" data-testid="card-commission">
      <h3>{card.commission.name[language]}</h3>
      {card.commission.fields.map((f) => (
        <div key={f.code} className="field">
          <label htmlFor={`field-${f.code}`}>
            {f.label[language]}
            {f.required ? <span className="required-mark"> *</span> : null}
          </label>
          <FieldInput
            field={{ ...f, editable: true }}
            value={f.code in draft.protocol ? (draft.protocol[f.code] ?? null) : f.value}
            language={language}
            onChange={(nv) => onChange((d) => ({ ...d, protocol: { ...d.protocol, [f.code]: nv } }))}
          />
        </div>
      ))}
    </div>
  );
}

function AssignInput({ staff, draft, onChange }: InputProps) {
  const { t } = useI18n();
  return (
    <div className="card-assign">
      <div className="field">
        <label htmlFor="assign-to">{t('card.assignTo')}</label>
        <select
          id="assign-to"
          data-testid="assign-to"
          value={draft.responsible}
          onChange={(e) => {
            const responsible = e.target.value;
            onChange((d) => ({ ...d, responsible }));
          }}
        >
          <option value="" />
          {(staff ?? []).map((s) => (
            <option key={s.userId} value={s.userId}>
              {s.fullName} ({s.openApplications})
            </option>
          ))}
        </select>
      </div>
    </div>
  );
}

const INPUT_VIEWS: Record<ActionInput, ComponentType<InputProps>> = {
  decision: DecisionInput,
  returnComment: ReturnCommentInput,
  commission: CommissionInput,
  assign: AssignInput,
};

export function ActionInputs(props: InputProps) {
  return (
    <>
      {[...offeredInputs(props.card)].map((input) => {
        const View = INPUT_VIEWS[input];
        return <View key={input} {...props} />;
      })}
    </>
  );
}
