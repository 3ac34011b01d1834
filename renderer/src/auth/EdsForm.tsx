/**
 * "Login with EDS": a key file (the authentication key, AUTH_RSA256_…) and
 * its password, or a token key and its PIN. Whose certificate it is shows
 * before anything is signed: a token's certificates before the PIN, a key
 * file's once its password has opened it. Then "Sign and log in" signs a
 * fresh challenge in main. Secrets live only in the inputs until sent, and
 * are cleared right after.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import type { CallOutput, TokenInfo } from '#preload/api.js';
import { call, CallFailure } from '../api/client';
import { Banner } from '../components/Banner';
import { CertificateCard } from '../signing/CertificateCard';
import { failureText, useAuthText } from './text';
import type { AuthSession } from './useAuthSession';
import { KeyFileFields, readBase64 } from '../signing/KeyFileFields';

type Opened = CallOutput<'auth.edsOpen'>;

export const EDS_TOKEN_POLL_MS = 3000;

export function FailureBanner({ error, testId }: { error: unknown; testId: string }) {
  const { t } = useAuthText();
  const shown = failureText(t, error);
  return (
    <Banner kind="error" title={shown.text} testId={testId}>
      <div className="banner-code">{t('errors.code', { code: shown.code })}</div>
    </Banner>
  );
}

export function EdsForm({ onSession }: { onSession(session: AuthSession): void }) {
  const { t } = useAuthText();
  const [mode, setMode] = useState<'keyfile' | 'token'>('keyfile');
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState('');
  const [aliases, setAliases] = useState<string[]>([]);
  const [alias, setAlias] = useState('');
  const [tokens, setTokens] = useState<TokenInfo[] | null>(null);
  const [tokensError, setTokensError] = useState<unknown>(null);
  const [choice, setChoice] = useState<{ tokenId: string; keyId: string } | null>(null);
  const [pin, setPin] = useState('');
  const [opened, setOpened] = useState<Opened | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const loadTokens = useCallback(() => {
    call('auth.edsTokens', {}).then(
      (r) => {
        setTokensError(null);
        setTokens(r.tokens);
        const still = (c: { tokenId: string; keyId: string }) =>
          r.tokens.some((tk) => tk.id === c.tokenId && tk.keys.some((k) => k.keyId === c.keyId));
        // The authentication key first: a token usually holds both keys of its owner.
        const pick = () => {
          for (const tk of r.tokens) {
            const key = tk.keys.find((k) => k.certificate.purpose === 'auth') ?? tk.keys[0];
            if (key) return { tokenId: tk.id, keyId: key.keyId };
          }
          return null;
        };
        setChoice((c) => (c && still(c) ? c : pick()));
      },
      (e: unknown) => {
        setTokens(null);
        setTokensError(e);
      },
    );
  }, []);

  useEffect(() => {
    if (mode !== 'token' || opened) return;
    loadTokens();
    const timer = setInterval(loadTokens, EDS_TOKEN_POLL_MS);
    return () => clearInterval(timer);
  }, [mode, opened, loadTokens]);

  // Leaving the form forgets a key opened for login.
  useEffect(() => {
    const handle = opened?.handle;
    return () => {
      if (handle) void call('auth.edsCancel', { handle }).catch(() => undefined);
    };
  }, [opened?.handle]);

  const selectedToken = tokens?.find((tk) => tk.id === choice?.tokenId);
  const selectedKey = selectedToken?.keys.find((k) => k.keyId === choice?.keyId);

  async function openKeyfile(e: FormEvent) {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    const secret = password;
    setPassword('');
    try {
      const data = await readBase64(file);
      setOpened(
        await call('auth.edsOpen', {
          source: { kind: 'keyfile', fileName: file.name, data, password: secret, ...(alias ? { alias } : {}) },
        }),
      );
    } catch (err) {
      if (err instanceof CallFailure && err.error.code === 'aliasRequired' && err.error.details?.aliases) {
        setAliases(err.error.details.aliases.split(','));
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function signOpened() {
    if (!opened) return;
    setBusy(true);
    setError(null);
    try {
      const session = await call('auth.loginEds', { handle: opened.handle });
      setOpened(null);
      onSession(session);
    } catch (err) {
      // The key is closed after a failed login: open it again to retry.
      setOpened(null);
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function signToken(e: FormEvent) {
    e.preventDefault();
    if (!choice) return;
    setBusy(true);
    setError(null);
    const secret = pin;
    setPin('');
    try {
      onSession(await call('auth.loginEds', { source: { kind: 'token', ...choice, pin: secret } }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  async function back() {
    const handle = opened?.handle;
    setOpened(null);
    if (handle) await call('auth.edsCancel', { handle }).catch(() => undefined);
  }

  if (opened) {
    return (
      <div className="auth-eds-confirm" data-testid="eds-confirm">
        {error ? <FailureBanner error={error} testId="eds-error" /> : null}
        <p className="auth-lead">{t('auth.eds.whose')}</p>
        <CertificateCard facts={opened.certificate} />
        <div className="dialog-actions">
          <button type="button" className="button button-quiet" data-testid="eds-back" onClick={() => void back()}>
            {t('auth.eds.back')}
          </button>
          <button
            type="button"
            className="button button-primary"
            data-testid="eds-sign"
            disabled={busy}
            onClick={() => void signOpened()}
          >
            {busy ? t('auth.eds.signing') : t('auth.eds.sign')}
          </button>
        </div>
      </div>
    );
  }

  return (
    <div className="auth-eds" data-testid="eds-form">
      <div className="sign-tabs" role="tablist" aria-label={t('auth.login.mode.eds')}>
        {(['keyfile', 'token'] as const).map((m) => (
          <button
            key={m}
            type="button"
            role="tab"
            aria-selected={mode === m}
            className={mode === m ? 'sign-tab is-active' : 'sign-tab'}
            data-testid={`eds-mode-${m}`}
            onClick={() => {
              setMode(m);
              setError(null);
            }}
          >
            {t(m === 'keyfile' ? 'auth.eds.source.keyfile' : 'auth.eds.source.token')}
          </button>
        ))}
      </div>
      {error ? <FailureBanner error={error} testId="eds-error" /> : null}

      {mode === 'keyfile' ? (
        <form className="auth-form" onSubmit={(e) => void openKeyfile(e)}>
          <KeyFileFields
            prefix="eds"
            fileLabel="auth.eds.file"
            passwordLabel="auth.eds.password"
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
          <button type="submit" className="button button-primary" data-testid="eds-open" disabled={busy || !file}>
            {busy ? t('auth.eds.opening') : t('auth.eds.open')}
          </button>
        </form>
      ) : (
        <form className="auth-form" onSubmit={(e) => void signToken(e)}>
          <div className="sign-tokens" data-testid="eds-tokens">
            {tokensError ? <FailureBanner error={tokensError} testId="eds-tokens-error" /> : null}
            {!tokens && !tokensError ? <p className="muted">{t('sign.tokens.loading')}</p> : null}
            {tokens && tokens.every((tk) => tk.keys.length === 0) ? (
              <p className="muted" data-testid="eds-no-tokens">
                {t('auth.eds.tokens.none')}
              </p>
            ) : null}
            {tokens?.flatMap((tk) =>
              tk.keys.map((k) => {
                const checked = choice?.tokenId === tk.id && choice.keyId === k.keyId;
                return (
                  <label
                    key={`${tk.id}/${k.keyId}`}
                    className={checked ? 'sign-key is-selected' : 'sign-key'}
                    data-testid="eds-key"
                  >
                    <input
                      type="radio"
                      name="eds-key"
                      checked={checked}
                      onChange={() => setChoice({ tokenId: tk.id, keyId: k.keyId })}
                    />
                    <span className="sign-key-token">{tk.label}</span>
                    <CertificateCard facts={k.certificate} compact />
                  </label>
                );
              }),
            )}
            <button type="button" className="button button-quiet" onClick={loadTokens}>
              {t('sign.tokens.refresh')}
            </button>
          </div>
          {selectedKey && selectedKey.certificate.purpose === 'sign' ? (
            <Banner kind="warning" title={t('auth.eds.signKeyWarning')} testId="eds-sign-key-warning" />
          ) : null}
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
                <label htmlFor="eds-pin">{t('sign.pin')}</label>
                <input
                  id="eds-pin"
                  data-testid="eds-pin"
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
          <button
            type="submit"
            className="button button-primary"
            data-testid="eds-sign"
            disabled={busy || !choice || selectedToken?.pinLocked === true}
          >
            {busy ? t('auth.eds.signing') : t('auth.eds.sign')}
          </button>
        </form>
      )}
    </div>
  );
}
