/**
 * Checking a paper: the user opens a PDF or a picture of a printed document;
 * main reads its codes and checks the signature (`documents.check`); the
 * verdict is shown beside the document's data, so the paper can be compared
 * with what was signed. Data whose signature failed is labelled unconfirmed.
 */
import { useState, type ChangeEvent } from 'react';
import type { CallOutput } from '#preload/api.js';
import { call } from '../api/client';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey } from '../i18n/i18n';

type PaperCheck = CallOutput<'documents.check'>;

/** The same limit the contract puts on the file (48 MB). */
const MAX_FILE_BYTES = 48 * 1024 * 1024;

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function warningKey(code: string): string {
  if (code.startsWith('ocsp:')) return 'paperCheck.warning.ocsp';
  if (code === 'xml:sha1') return 'paperCheck.warning.xmlSha1';
  return `paperCheck.warning.${code}`;
}

export function CheckPaperScreen() {
  const { t, dateTime } = useI18n();
  const [result, setResult] = useState<PaperCheck | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function open(e: ChangeEvent<HTMLInputElement>) {
    const file = e.target.files?.[0];
    e.target.value = '';
    if (!file) return;
    setResult(null);
    setError(null);
    if (file.size > MAX_FILE_BYTES) {
      setResult({
        ok: false,
        problem: 'unreadableFile',
        codes: { read: 0, count: null },
        data: null,
        signer: null,
        signedAt: null,
        warnings: [],
      });
      return;
    }
    setBusy(true);
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      setResult(await call('documents.check', { file: base64(bytes) }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const problemKey = result?.problem ? `paperCheck.problem.${result.problem}` : null;
  return (
    <section className="paper-check" aria-labelledby="paper-check-title" data-testid="paper-check">
      <h1 id="paper-check-title">{t('paperCheck.title')}</h1>
      <p>{t('paperCheck.intro')}</p>
      <label className="button">
        {t('paperCheck.open')}
        <input
          type="file"
          accept="application/pdf,image/png,image/jpeg,.pdf,.png,.jpg,.jpeg"
          onChange={(e) => void open(e)}
          disabled={busy}
          hidden
          data-testid="paper-check-file"
        />
      </label>
      {busy ? <p role="status">{t('paperCheck.checking')}</p> : null}
      {error ? <ErrorBanner error={error} /> : null}
      {result ? (
        <div className="paper-check-result" data-testid="paper-check-result">
          {result.ok ? (
            <Banner kind="info">{t('paperCheck.ok')}</Banner>
          ) : problemKey && isMessageKey(problemKey) ? (
            <Banner kind="error">
              {t(problemKey, { read: String(result.codes.read), count: String(result.codes.count ?? '?') })}
            </Banner>
          ) : null}
          {result.warnings.map((w) => {
            const key = warningKey(w);
            return isMessageKey(key) ? (
              <Banner key={w} kind="warning">
                {t(key)}
              </Banner>
            ) : null;
          })}
          {result.codes.count !== null ? (
            <p>{t('paperCheck.codes', { read: String(result.codes.read), count: String(result.codes.count) })}</p>
          ) : null}
          {result.signer ? (
            <dl className="paper-check-signer">
              <dt>{t('paperCheck.signer')}</dt>
              <dd>
                {result.signer.commonName}
                {result.signer.iin ? ` · ${result.signer.iin}` : ''}
                {result.signer.organisation ? ` · ${result.signer.organisation}` : ''}
                {result.signer.bin ? ` · ${result.signer.bin}` : ''}
              </dd>
              {result.signedAt ? (
                <>
                  <dt>{t('paperCheck.signedAt')}</dt>
                  <dd>{dateTime(Date.parse(result.signedAt))}</dd>
                </>
              ) : null}
            </dl>
          ) : null}
          {result.data ? (
            <table className="paper-check-data">
              <caption>{t(result.ok ? 'paperCheck.data' : 'paperCheck.dataUnverified')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('paperCheck.field')}</th>
                  <th scope="col">{t('paperCheck.value')}</th>
                </tr>
              </thead>
              <tbody>
                {result.data.fields.map((f, i) => (
                  <tr key={i}>
                    <th scope="row">{f.name}</th>
                    <td>{f.value}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </div>
      ) : null}
    </section>
  );
}
