/** The output document, Kazakh and Russian side by side, as it will be signed and printed. */
import { useEffect, useRef, useState } from 'react';
import type { OutputDocument } from '#preload/contract/workflow.js';
import { call } from '../api/client';
import { ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';

function Side({ side }: { side: OutputDocument['kk'] }) {
  return (
    <article className="doc-side" lang={side.language} data-testid={`doc-${side.language}`}>
      <p className="doc-provider">{side.provider}</p>
      <h3>{side.title}</h3>
      <p className="doc-service">{side.serviceName}</p>
      <dl>
        {side.lines.map((l) => (
          <div key={l.label}>
            <dt>{l.label}</dt>
            <dd>{l.value}</dd>
          </div>
        ))}
      </dl>
      {side.decisionText ? <p className="doc-decision">{side.decisionText}</p> : null}
      <dl>
        {side.decisionLines.map((l) => (
          <div key={l.label}>
            <dt>{l.label}</dt>
            <dd>{l.value}</dd>
          </div>
        ))}
      </dl>
      {side.signature ? <p className="doc-signature">{side.signature}</p> : null}
      <p className="doc-legal">{side.legalNote}</p>
    </article>
  );
}

/** Hands the PDF to the browser's download (Electron asks where to save it). */
function download(fileName: string, base64: string): void {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: 'application/pdf' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function DocumentPreview({ id, onClose }: { id: string; onClose: () => void }) {
  const { t } = useI18n();
  const [doc, setDoc] = useState<OutputDocument | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [savingPdf, setSavingPdf] = useState(false);

  const savePdf = () => {
    setSavingPdf(true);
    setError(null);
    call('documents.pdf', { id })
      .then((r) => download(r.fileName, r.pdf), setError)
      .finally(() => setSavingPdf(false));
  };
  const ref = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    ref.current?.showModal?.();
    let live = true;
    call('application.preview', { id }).then(
      (d) => live && setDoc(d),
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [id]);

  return (
    <dialog
      ref={ref}
      className="doc-dialog"
      data-testid="doc-preview"
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      {error ? <ErrorBanner error={error} /> : null}
      {doc ? (
        <>
          {doc.draft ? <p className="doc-draft">{t('card.draft')}</p> : null}
          <div className="doc-sides">
            <Side side={doc.kk} />
            <Side side={doc.ru} />
          </div>
        </>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={() => window.print()}>
          {t('card.print')}
        </button>
        <button
          type="button"
          className="button"
          data-testid="doc-save-pdf"
          disabled={savingPdf}
          aria-busy={savingPdf}
          onClick={savePdf}
        >
          {savingPdf ? t('card.savingPdf') : t('card.savePdf')}
        </button>
        <button type="button" className="button button-primary" data-testid="doc-close" onClick={onClose}>
          {t('sign.close')}
        </button>
      </div>
    </dialog>
  );
}
