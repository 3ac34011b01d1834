/**
 * The application card: the header, the service's sections, the inputs and
 * buttons of the actions this user may take now (as main decides them,
 * `actions`; the action table says what each one shows and does), the steps
 * with their deadlines and holders, and the history. Each transition sends
 * the version the card showed: if someone else changed the application
 * meanwhile, nothing is overwritten and the card offers to reload.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ApplicationCard } from '#preload/contract/workflow.js';
import { call, CallFailure } from '../api/client';
import { ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { SignDialog } from '../signing/SignDialog';
import { ActionButtons } from './ActionButtons';
import { ActionInputs, type Staff } from './ActionInputs';
import { ACTION_TABLE, actionDialog, type ActionContext, type CardAction, type CardDraft } from './actions';
import { CardBanners } from './CardBanners';
import { CardHeader } from './CardHeader';
import { CardHistory } from './CardHistory';
import { CardSections, CardToolbar } from './CardSections';
import { CardSteps } from './CardSteps';
import { DocumentPreview } from './DocumentPreview';

const EMPTY_DRAFT: CardDraft = {
  edits: {},
  refusal: { code: '', text: '' },
  comment: '',
  protocol: {},
  responsible: '',
};

export function CardScreen({ id, onBack }: { id: string; onBack: () => void }) {
  const { t } = useI18n();
  const [card, setCard] = useState<ApplicationCard | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [draft, setDraft] = useState<CardDraft>(EMPTY_DRAFT);
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);
  const [staff, setStaff] = useState<Staff | null>(null);
  /** The action whose dialog is open (the signing dialog for Sign). */
  const [dialog, setDialog] = useState<CardAction | null>(null);
  const [preview, setPreview] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    let live = true;
    call('application.card', { id }).then(
      (c) => {
        if (!live) return;
        setCard(c);
        // The edits and the refusal start again from what main holds; other inputs stay as typed.
        setDraft((d) => ({ ...d, edits: {}, refusal: { code: c.refusal?.code ?? '', text: c.refusal?.text ?? '' } }));
        setStale(false);
        setOpen(new Set(c.sections.filter((s) => !s.collapsed).map((s) => s.code)));
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

  const context: ActionContext = { id, card, draft };

  function pressed(action: CardAction) {
    const { press } = ACTION_TABLE[action];
    if ('call' in press) void act(() => press.call(context));
    else setDialog(action);
  }

  /** The dialog closed: its action's call follows when the dialog did its part (signed something). */
  function closed(action: CardAction, done: number) {
    setDialog(null);
    const { press } = ACTION_TABLE[action];
    if (done > 0 && 'then' in press) void act(() => press.then(context));
  }

  return (
    <section className="card" data-testid="card" data-status={card.header.status} aria-labelledby="card-title">
      <CardHeader header={card.header} onBack={onBack} />
      <CardBanners card={card} notice={notice} error={error} stale={stale} onReload={reload} />
      <CardToolbar
        onExpand={() => setOpen(new Set(card.sections.map((s) => s.code)))}
        onCollapse={() => setOpen(new Set())}
        onPreview={() => setPreview(true)}
      />
      <CardSections
        sections={card.sections}
        open={open}
        setOpen={setOpen}
        edits={draft.edits}
        onEdit={(code, value) => setDraft((d) => ({ ...d, edits: { ...d.edits, [code]: value } }))}
      />
      <ActionInputs card={card} staff={staff} draft={draft} onChange={setDraft} />
      <ActionButtons context={context} busy={busy} onPress={pressed} />
      <CardSteps steps={card.steps} />
      <CardHistory events={card.events} />

      {dialog && actionDialog(dialog) === 'sign' ? (
        <SignDialog applicationIds={[id]} onClose={(signed) => closed(dialog, signed)} />
      ) : null}
      {preview ? <DocumentPreview id={id} onClose={() => setPreview(false)} /> : null}
    </section>
  );
}
