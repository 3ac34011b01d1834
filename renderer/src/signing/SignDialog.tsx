/**
 * Signing the documents of the selected applications: choose a token key or
 * a key file, see who will sign (name, IIN/BIN, organisation, role, expiry,
 * revocation) — before the PIN for a token, after the password for a key
 * file —, enter the PIN once, then watch the batch with a Stop button and a
 * result per document. The PIN and the password live only in this dialog's
 * inputs until they are sent to main, and are cleared right after.
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { SignatureFormat } from '#core/vocabulary.js';
import type { BatchProgress, CallOutput, TokenInfo } from '#preload/api.js';
import { call, CallFailure } from '../api/client';
import { ErrorBanner, Banner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey, type MessageKey } from '../i18n/i18n';
import { CertificateCard } from './CertificateCard';
import { KeyFileFields, readBase64 } from './KeyFileFields';

type Opened = CallOutput<'signing.open'>;
type Step = 'choose' | 'confirm' | 'running' | 'done';
type Format = SignatureFormat;

export const PROGRESS_POLL_MS = 150;
/** Codes of applications the batch left alone (not On signing, completed, another's to sign): skipped, not failed. */
export const SKIP_CODES: ReadonlySet<string> = new Set(['notOnSigning', 'alreadySigned', 'notYourSignature']);
export const TOKEN_POLL_MS = 3000;

export function SignDialog({
  applicationIds,
  onClose,
}: {
  applicationIds: string[];
  onClose: (signed: number) => void;
}) {
  const { t } = useI18n();
  const [step, setStep] = useState<Step>('choose');
  const [mode, setMode] = useState<'token' | 'keyfile'>('token');
  const [tokens, setTokens] = useState<CallOutput<'signing.tokens'> | null>(null);
  const [tokensError, setTokensError] = useState<unknown>(null);
  const [choice, setChoice] = useState<{ tokenId: string; keyId: string } | null>(null);
  const [pin, setPin] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [aliases, setAliases] = useState<string[]>([]);
  const [alias, setAlias] = useState('');
  const [format, setFormat] = useState<Format>('xmldsig');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [opened, setOpened] = useState<Opened | null>(null);
  const [progress, setProgress] = useState<BatchProgress | null>(null);
  const handleRef = useRef<string | null>(null);
  const dialogRef = useRef<HTMLDialogElement>(null);

  const loadTokens = useCallback(() => {
    call('signing.tokens', {}).then(
      (r) => {
        setTokensError(null);
        setTokens(r);
        const first = r.tokens.find((tk) => tk.keys.length > 0);
        const key = first?.keys.find((k) => k.certificate.purpose !== 'auth') ?? first?.keys[0];
        const still = (c: { tokenId: string; keyId: string }) =>
          r.tokens.some((tk) => tk.id === c.tokenId && tk.keys.some((k) => k.keyId === c.keyId));
        setChoice((c) => (c && still(c) ? c : first && key ? { tokenId: first.id, keyId: key.keyId } : null));
      },
      (e: unknown) => {
        setTokens(null);
        setTokensError(e);
      },
    );
  }, []);

  // A token plugged in or pulled out while the dialog is open shows up by itself.
  useEffect(() => {
    if (step !== 'choose' || mode !== 'token') return;
    const timer = setInterval(loadTokens, TOKEN_POLL_MS);
    return () => clearInterval(timer);
  }, [step, mode, loadTokens]);

  function refreshTokens() {
    setTokens(null);
    setTokensError(null);
    loadTokens();
  }

  useEffect(() => {
    dialogRef.current?.showModal?.();
    loadTokens();
    return () => {
      // Leaving the dialog forgets the opened key in main.
      const h = handleRef.current;
      if (h) void call('signing.close', { handle: h }).catch(() => undefined);
    };
  }, [loadTokens]);

  const selectedToken: TokenInfo | undefined = tokens?.tokens.find((tk) => tk.id === choice?.tokenId);
  const selectedKey = selectedToken?.keys.find((k) => k.keyId === choice?.keyId);

  async function open(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      let result: Opened;
      if (mode === 'token') {
        if (!choice) return;
        const secret = pin;
        setPin('');
        result = await call('signing.open', { source: { kind: 'token', ...choice, pin: secret } });
      } else {
        if (!file) return;
        const data = await readBase64(file);
        const secret = password;
        setPassword('');
        result = await call('signing.open', {
          source: { kind: 'keyfile', fileName: file.name, data, password: secret, ...(alias ? { alias } : {}) },
        });
      }
      handleRef.current = result.handle;
      setOpened(result);
      setStep('confirm');
    } catch (err) {
      if (err instanceof CallFailure && err.error.code === 'aliasRequired' && err.error.details?.aliases) {
        setAliases(err.error.details.aliases.split(','));
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function back() {
    const h = handleRef.current;
    handleRef.current = null;
    setOpened(null);
    setStep('choose');
    if (h) await call('signing.close', { handle: h }).catch(() => undefined);
  }

  async function start() {
    if (!opened) return;
    setBusy(true);
    setError(null);
    try {
      const p = await call('signing.start', { handle: opened.handle, applicationIds, format });
      setProgress(p);
      setStep('running');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  useEffect(() => {
    if (step !== 'running' || !progress) return;
    let live = true;
    const timer = setInterval(() => {
      call('signing.progress', { batchId: progress.batchId }).then(
        (p) => {
          if (!live) return;
          setProgress(p);
          if (p.state !== 'running') setStep('done');
        },
        (err: unknown) => {
          if (!live) return;
          setError(err);
          setStep('done');
        },
      );
    }, PROGRESS_POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [step, progress?.batchId]); // eslint-disable-line react-hooks/exhaustive-deps

  function stop() {
    if (progress) void call('signing.cancel', { batchId: progress.batchId }).catch((err: unknown) => setError(err));
  }

  const signedCount = progress ? progress.results.filter((r) => r.ok).length : 0;
  const skippedCount = progress ? progress.results.filter((r) => !r.ok && SKIP_CODES.has(r.code ?? '')).length : 0;
  const close = () => onClose(signedCount);

  return (
    <dialog
      ref={dialogRef}
      className="sign-dialog"
      data-testid="sign-dialog"
      aria-labelledby="sign-title"
      onCancel={(e) => {
        e.preventDefault();
        if (step !== 'running') close();
      }}
    >
      <h2 id="sign-title">{t('sign.title', { count: applicationIds.length })}</h2>
      {error ? <ErrorBanner error={error} testId="sign-error" /> : null}

      {step === 'choose' ? (
        <form onSubmit={(e) => void open(e)} className="sign-form">
          <div className="sign-tabs" role="tablist" aria-label={t('sign.source')}>
            {(['token', 'keyfile'] as const).map((m) => (
              <button
                key={m}
                type="button"
                role="tab"
                aria-selected={mode === m}
                className={mode === m ? 'sign-tab is-active' : 'sign-tab'}
                data-testid={`sign-mode-${m}`}
                onClick={() => {
                  setMode(m);
                  setError(null);
                }}
              >
                {t(m === 'token' ? 'sign.source.token' : 'sign.source.keyfile')}
              </button>
            ))}
          </div>

          {mode === 'token' ? (
            <div className="sign-tokens" data-testid="sign-tokens">
              {tokensError ? <ErrorBanner error={tokensError} /> : null}
              {!tokens && !tokensError ? <p className="muted">{t('sign.tokens.loading')}</p> : null}
              {tokens && tokens.tokens.every((tk) => tk.keys.length === 0) ? (
                <p className="muted" data-testid="sign-no-tokens">
                  {t('sign.tokens.none')}
                </p>
              ) : null}
              {tokens?.tokens.flatMap((tk) =>
                tk.keys.map((k) => {
                  const checked = choice?.tokenId === tk.id && choice.keyId === k.keyId;
                  return (
                    <label key={`${tk.id}/${k.keyId}`} className={checked ? 'sign-key is-selected' : 'sign-key'}>
                      <input
                        type="radio"
                        name="sign-key"
                        checked={checked}
                        onChange={() => setChoice({ tokenId: tk.id, keyId: k.keyId })}
                      />
                      <span className="sign-key-token">{tk.label}</span>
                      <CertificateCard facts={k.certificate} compact />
                    </label>
                  );
                }),
              )}
              <button type="button" className="button button-quiet" onClick={refreshTokens}>
                {t('sign.tokens.refresh')}
              </button>
              {selectedToken?.pinLocked ? <Banner kind="error" title={t('sign.pinLocked')} /> : null}
              {selectedToken?.pinFinalTry ? <Banner kind="warning" title={t('sign.pinFinalTry')} /> : null}
              {selectedToken?.pinCountLow && !selectedToken.pinFinalTry ? (
                <Banner kind="warning" title={t('sign.pinCountLow')} />
              ) : null}
              {selectedKey && selectedToken ? (
                selectedToken.protectedAuthPath ? (
                  <p className="muted">{t('sign.pinPad')}</p>
                ) : (
                  <div className="field">
                    <label htmlFor="sign-pin">{t('sign.pin')}</label>
                    <input
                      id="sign-pin"
                      data-testid="sign-pin"
                      type="password"
                      autoComplete="off"
                      inputMode="numeric"
                      value={pin}
                      maxLength={64}
                      onChange={(e) => setPin(e.target.value)}
                    />
                  </div>
                )
              ) : null}
            </div>
          ) : (
            <div className="sign-keyfile">
              <KeyFileFields
                prefix="sign"
                fileLabel="sign.file"
                passwordLabel="sign.password"
                password={password}
                aliases={aliases}
                alias={alias}
                onFile={(f) => {
                  setFile(f);
                  setAliases([]);
                  setAlias('');
                }}
                onPassword={setPassword}
                onAlias={setAlias}
              />
            </div>
          )}

          <div className="field">
            <label htmlFor="sign-format">{t('sign.format')}</label>
            <select
              id="sign-format"
              data-testid="sign-format"
              value={format}
              onChange={(e) => setFormat(e.target.value === 'cms' ? 'cms' : 'xmldsig')}
            >
              <option value="xmldsig">{t('sign.format.xmldsig')}</option>
              <option value="cms">{t('sign.format.cms')}</option>
            </select>
          </div>

          <div className="dialog-actions">
            <button type="button" className="button button-quiet" onClick={close}>
              {t('sign.cancel')}
            </button>
            <button
              type="submit"
              className="button button-primary"
              data-testid="sign-open"
              disabled={busy || (mode === 'token' ? !choice || selectedToken?.pinLocked === true : !file)}
            >
              {busy ? t('sign.opening') : t('sign.open')}
            </button>
          </div>
        </form>
      ) : null}

      {step === 'confirm' && opened ? (
        <div className="sign-confirm">
          <h3>{t('sign.signer')}</h3>
          <CertificateCard facts={opened.certificate} revocation={opened.revocation} />
          {opened.warnings.map((w) => {
            const key = w.startsWith('ocsp:') ? 'sign.warning.ocspUnavailable' : `sign.warning.${w}`;
            return (
              <Banner key={w} kind="warning" testId="sign-warning">
                {isMessageKey(key) ? t(key as MessageKey) : t('sign.warningCode', { code: w })}
              </Banner>
            );
          })}
          <div className="dialog-actions">
            <button type="button" className="button button-quiet" onClick={() => void back()}>
              {t('sign.back')}
            </button>
            <button
              type="button"
              className="button button-primary"
              data-testid="sign-start"
              disabled={busy}
              onClick={() => void start()}
            >
              {t('sign.start')}
            </button>
          </div>
        </div>
      ) : null}

      {(step === 'running' || step === 'done') && progress ? (
        <div className="sign-progress" data-testid="sign-progress" data-state={progress.state}>
          <progress max={progress.total} value={progress.done} />
          <p aria-live="polite">{t('sign.progress', { done: progress.done, total: progress.total })}</p>
          {step === 'done' ? (
            <>
              <p data-testid="sign-summary">
                {t('sign.summarySkipped', {
                  ok: signedCount,
                  skipped: skippedCount,
                  failed: progress.failed - skippedCount,
                })}
              </p>
              {progress.state === 'cancelled' ? <Banner kind="warning" title={t('sign.cancelled')} /> : null}
              {progress.timestampNote !== 'none' ? (
                <Banner
                  kind="info"
                  title={t(
                    progress.timestampNote === 'unreachable'
                      ? 'sign.timestamp.unreachable'
                      : 'sign.timestamp.notConfigured',
                  )}
                />
              ) : null}
            </>
          ) : null}
          <ul className="sign-results" data-testid="sign-results">
            {progress.results.map((r) => (
              <li
                key={r.applicationId}
                className={r.ok ? 'is-ok' : SKIP_CODES.has(r.code ?? '') ? 'is-skipped' : 'is-failed'}
                data-testid="sign-result"
                data-code={r.code ?? 'ok'}
              >
                <span className="sign-result-number">{r.number ?? r.applicationId}</span>
                <span>
                  {r.ok
                    ? t(r.timestamped ? 'sign.result.completedTimestamped' : 'sign.result.completed')
                    : t(r.messageKey && isMessageKey(r.messageKey) ? r.messageKey : 'errors.internal')}
                </span>
              </li>
            ))}
          </ul>
          <div className="dialog-actions">
            {step === 'running' ? (
              <button type="button" className="button" data-testid="sign-stop" onClick={stop}>
                {t('sign.stop')}
              </button>
            ) : (
              <button type="button" className="button button-primary" data-testid="sign-close" onClick={close}>
                {t('sign.close')}
              </button>
            )}
          </div>
        </div>
      ) : null}
    </dialog>
  );
}
