/**
 * The application card (DOMAIN.md §7): the header, the service's sections
 * (collapsible, Expand all / Collapse all, required fields marked red), the
 * steps with their deadlines and holders, the history, and the buttons this
 * user may press now — as main decides them (`actions`); main checks every
 * transition again. Each transition sends the version the card showed: if
 * someone else changed the application meanwhile, nothing is overwritten and
 * the card offers to reload.
 */
import { useCallback, useEffect, useState } from 'react';
import type { CallOutput, Language } from '#preload/api.js';
import type { ApplicationCard, CardField } from '#preload/contract/workflow.js';
import { call, CallFailure } from '../api/client';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';
import { SignDialog } from '../signing/SignDialog';
import { DocumentPreview } from './DocumentPreview';

type Value = string | number | boolean | null;
type Staff = CallOutput<'staff.list'>['staff'];

function FieldInput({
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

export function CardScreen({ id, onBack }: { id: string; onBack: () => void }) {
  const { t, language, dateTime, date } = useI18n();
  const [card, setCard] = useState<ApplicationCard | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [edits, setEdits] = useState<Record<string, Value>>({});
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);
  const [refusal, setRefusal] = useState({ code: '', text: '' });
  const [comment, setComment] = useState('');
  const [protocol, setProtocol] = useState<Record<string, Value>>({});
  const [staff, setStaff] = useState<Staff | null>(null);
  const [responsible, setResponsible] = useState('');
  const [signing, setSigning] = useState(false);
  const [preview, setPreview] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    let live = true;
    call('application.card', { id }).then(
      (c) => {
        if (!live) return;
        setCard(c);
        setEdits({});
        setStale(false);
        setOpen(new Set(c.sections.filter((s) => !s.collapsed).map((s) => s.code)));
        setRefusal({ code: c.refusal?.code ?? '', text: c.refusal?.text ?? '' });
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [id, reloads]);

  const reload = useCallback(() => setReloads((n) => n + 1), []);

  useEffect(() => {
    if (!card?.actions.includes('assign')) return;
    let live = true;
    const providerId = card.header.provider.number;
    call('staff.list', { providerId }).then(
      (r) => live && setStaff(r.staff),
      () => live && setStaff([]),
    );
    return () => {
      live = false;
    };
  }, [card]);

  async function act(run: () => Promise<{ messageKey: string }>) {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const r = await run();
      setNotice(r.messageKey);
      reload();
    } catch (err) {
      if (err instanceof CallFailure && err.error.code === 'staleVersion') setStale(true);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  if (!card) {
    return (
      <section className="card" data-testid="card">
        <button type="button" className="button button-quiet" onClick={onBack}>
          {t('card.back')}
        </button>
        {error ? <ErrorBanner error={error} testId="card-error" /> : <p className="muted">{t('card.loading')}</p>}
      </section>
    );
  }

  const h = card.header;
  const can = (a: ApplicationCard['actions'][number]) => card.actions.includes(a);
  const value = (f: CardField): Value => (f.code in edits ? (edits[f.code] ?? null) : f.value);
  const changed = Object.keys(edits).length > 0;
  const v = card.version;

  return (
    <section className="card" data-testid="card" data-status={h.status} aria-labelledby="card-title">
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

      <div className="banners">
        {notice && isMessageKey(notice) ? <Banner kind="info" title={t(notice)} testId="card-notice" /> : null}
        {error ? (
          <ErrorBanner
            error={error}
            testId="card-error"
            actions={
              stale ? (
                <button type="button" className="button" data-testid="card-reload" onClick={reload}>
                  {t('card.reload')}
                </button>
              ) : undefined
            }
          />
        ) : null}
        {card.reworkComment && h.status === 'in_processing' ? (
          <Banner kind="warning" title={t('card.reworkComment')} testId="card-rework">
            {card.reworkComment}
          </Banner>
        ) : null}
        {!card.chain.ok ? <Banner kind="error" title={t('card.chainBroken')} testId="card-chain" /> : null}
      </div>

      <div className="card-toolbar">
        <button
          type="button"
          className="button button-quiet"
          data-testid="card-expand"
          onClick={() => setOpen(new Set(card.sections.map((s) => s.code)))}
        >
          {t('card.expandAll')}
        </button>
        <button
          type="button"
          className="button button-quiet"
          data-testid="card-collapse"
          onClick={() => setOpen(new Set())}
        >
          {t('card.collapseAll')}
        </button>
        <button
          type="button"
          className="button button-quiet"
          data-testid="card-preview"
          onClick={() => setPreview(true)}
        >
          {t('card.preview')}
        </button>
      </div>

      {card.sections.map((s) => (
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
                <FieldInput
                  field={f}
                  value={value(f)}
                  language={language}
                  onChange={(nv) => setEdits((e) => ({ ...e, [f.code]: nv }))}
                />
                {f.missing && f.editable && (value(f) === null || value(f) === '') ? (
                  <span className="field-error">{t('messages.requiredField')}</span>
                ) : null}
              </div>
            ))}
          </div>
        </details>
      ))}

      {can('decideNegative') || can('decidePositive') ? (
        <div className="card-decide">
          <div className="field">
            <label htmlFor="refusal-reason">{t('card.refusalReason')}</label>
            <select
              id="refusal-reason"
              data-testid="refusal-reason"
              value={refusal.code}
              onChange={(e) => setRefusal({ ...refusal, code: e.target.value })}
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
              onChange={(e) => setRefusal({ ...refusal, text: e.target.value })}
            />
          </div>
        </div>
      ) : null}

      {can('return') ? (
        <div className="field">
          <label htmlFor="return-comment">{t('card.returnComment')}</label>
          <textarea
            id="return-comment"
            data-testid="return-comment"
            rows={2}
            maxLength={2000}
            value={comment}
            onChange={(e) => setComment(e.target.value)}
          />
        </div>
      ) : null}

      {can('commission') && card.commission ? (
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
                value={f.code in protocol ? (protocol[f.code] ?? null) : f.value}
                language={language}
                onChange={(nv) => setProtocol((p) => ({ ...p, [f.code]: nv }))}
              />
            </div>
          ))}
        </div>
      ) : null}

      {can('assign') ? (
        <div className="card-assign">
          <div className="field">
            <label htmlFor="assign-to">{t('card.assignTo')}</label>
            <select
              id="assign-to"
              data-testid="assign-to"
              value={responsible}
              onChange={(e) => setResponsible(e.target.value)}
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
      ) : null}

      <div className="card-actions" data-testid="card-actions">
        {can('assign') ? (
          <button
            type="button"
            className="button"
            data-testid="action-assign"
            disabled={busy || !responsible}
            onClick={() =>
              void act(() =>
                call('application.assign', { applications: [{ id, version: v }], responsibleUserId: responsible }).then(
                  (r) => {
                    const failed = r.results.find((x) => !x.ok);
                    if (failed) throw new CallFailure({ code: failed.code ?? 'failed', messageKey: failed.messageKey });
                    return r;
                  },
                ),
              )
            }
          >
            {t('journal.assign')}
          </button>
        ) : null}
        {can('accept') ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="action-accept"
            disabled={busy}
            onClick={() => void act(() => call('application.accept', { id, version: v }))}
          >
            {t('card.accept')}
          </button>
        ) : null}
        {can('save') ? (
          <button
            type="button"
            className="button"
            data-testid="action-save"
            disabled={busy || !changed}
            onClick={() => void act(() => call('application.save', { id, version: v, data: edits }))}
          >
            {t('card.save')}
          </button>
        ) : null}
        {can('decideNegative') ? (
          <button
            type="button"
            className="button button-negative"
            data-testid="action-negative"
            disabled={busy}
            onClick={() =>
              void act(() =>
                call('application.decide', {
                  id,
                  version: v,
                  decision: 'negative',
                  ...(refusal.code ? { refusalReasonCode: refusal.code } : {}),
                  refusalText: refusal.text,
                }),
              )
            }
          >
            {t('card.processNegatively')}
          </button>
        ) : null}
        {can('decidePositive') ? (
          <button
            type="button"
            className="button button-positive"
            data-testid="action-positive"
            disabled={busy}
            onClick={() => void act(() => call('application.decide', { id, version: v, decision: 'positive' }))}
          >
            {t('card.processPositively')}
          </button>
        ) : null}
        {can('refer') ? (
          <button
            type="button"
            className="button"
            data-testid="action-refer"
            disabled={busy}
            onClick={() => void act(() => call('application.refer', { id, version: v }))}
          >
            {t('card.refer')}
          </button>
        ) : null}
        {can('commission') ? (
          <button
            type="button"
            className="button"
            data-testid="action-commission"
            disabled={busy}
            onClick={() => void act(() => call('application.commission', { id, version: v, protocol }))}
          >
            {t('card.recordProtocol')}
          </button>
        ) : null}
        {can('send') ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="action-send"
            disabled={busy || changed || card.missingRequired.length > 0}
            title={card.missingRequired.length > 0 ? t('messages.requiredField') : undefined}
            onClick={() => void act(() => call('application.send', { id, version: v }))}
          >
            {t('card.send')}
          </button>
        ) : null}
        {can('return') ? (
          <button
            type="button"
            className="button"
            data-testid="action-return"
            disabled={busy}
            onClick={() => void act(() => call('application.return', { id, version: v, comment }))}
          >
            {t('card.returnForRework')}
          </button>
        ) : null}
        {can('sign') ? (
          <button
            type="button"
            className="button button-primary"
            data-testid="action-sign"
            disabled={busy}
            onClick={() => setSigning(true)}
          >
            {t('sign.action')}
          </button>
        ) : null}
      </div>

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
          {card.steps.map((s) => (
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

      <h2>{t('card.history')}</h2>
      <ol className="card-events" data-testid="card-events">
        {card.events.map((e) => (
          <li key={e.seq}>
            <span className="event-at">{dateTime(e.at)}</span>
            <span className="event-actor">{e.actor?.fullName ?? t('common.none')}</span>
            <span className="event-action">
              {isMessageKey(`card.event.${e.action}`) ? t(`card.event.${e.action}` as 'card.title') : e.action}
              {e.toStatus ? ` → ${t(`status.${e.toStatus}`)}` : ''}
            </span>
            {e.comment ? <span className="event-comment">{e.comment}</span> : null}
          </li>
        ))}
      </ol>

      {signing ? (
        <SignDialog
          applicationIds={[id]}
          onClose={(signed) => {
            setSigning(false);
            if (signed > 0) void act(() => call('application.sign', { id, version: v }));
          }}
        />
      ) : null}
      {preview ? <DocumentPreview id={id} onClose={() => setPreview(false)} /> : null}
    </section>
  );
}
