/**
 * The profile (docs/domain.md#profile): name, IIN (read-only), e-mail, position in kk
 * and ru, phone; night mode and interface language; and, once login lands,
 * the change of password. Saved through `profile.update`; main validates.
 */
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { LANGUAGES, type CallOutput, type Preferences } from '#preload/api.js';
import { call, CallFailure } from '../api/client';
import { Banner, ErrorBanner } from '../components/Banner';
import { useI18n } from '../i18n/I18nProvider';

type Profile = CallOutput<'profile.get'>;

interface Form {
  fullName: string;
  email: string;
  phone: string;
  positionKk: string;
  positionRu: string;
}

const toForm = (p: Profile): Form => ({
  fullName: p.fullName,
  email: p.email ?? '',
  phone: p.phone ?? '',
  positionKk: p.positionKk ?? '',
  positionRu: p.positionRu ?? '',
});

export function ProfileScreen({
  preferences,
  onPreferences,
  children,
}: {
  preferences: Preferences;
  onPreferences: (change: Partial<Preferences>) => void;
  /** More sections (e.g. the change of password). */
  children?: ReactNode;
}) {
  const { t } = useI18n();
  const [profile, setProfile] = useState<Profile | null>(null);
  const [form, setForm] = useState<Form | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [invalid, setInvalid] = useState<Set<string>>(new Set());
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    call('profile.get', {}).then(
      (p) => {
        if (!live) return;
        setProfile(p);
        setForm(toForm(p));
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, []);

  async function save(e: FormEvent) {
    e.preventDefault();
    if (!form) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    setInvalid(new Set());
    try {
      const p = await call('profile.update', form);
      setProfile(p);
      setForm(toForm(p));
      setSaved(true);
    } catch (err) {
      if (err instanceof CallFailure && err.error.code === 'invalid_input') {
        setInvalid(new Set(Object.keys(err.error.details ?? {})));
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  const field = (name: keyof Form, label: Parameters<typeof t>[0], type = 'text') => (
    <div className="field">
      <label htmlFor={`profile-${name}`}>{t(label)}</label>
      <input
        id={`profile-${name}`}
        data-testid={`profile-${name}`}
        type={type}
        value={form?.[name] ?? ''}
        aria-invalid={invalid.has(name) ? 'true' : undefined}
        onChange={(e) => {
          if (form) setForm({ ...form, [name]: e.target.value });
          setSaved(false);
        }}
      />
    </div>
  );

  return (
    <section className="profile" data-testid="profile" aria-labelledby="profile-title">
      <h1 id="profile-title">{t('profile.title')}</h1>
      <div className="banners">
        {error ? <ErrorBanner error={error} testId="profile-error" /> : null}
        {saved ? <Banner kind="info" title={t('messages.dataSaved')} testId="profile-saved" /> : null}
      </div>
      {form && profile ? (
        <form className="profile-form" onSubmit={(e) => void save(e)}>
          {field('fullName', 'profile.fullName')}
          <div className="field">
            <label htmlFor="profile-iin">{t('profile.iin')}</label>
            <input id="profile-iin" data-testid="profile-iin" value={profile.iin} readOnly />
          </div>
          {field('email', 'profile.email', 'email')}
          {field('phone', 'profile.phone', 'tel')}
          {field('positionKk', 'profile.positionKk')}
          {field('positionRu', 'profile.positionRu')}
          <div className="dialog-actions">
            <button type="submit" className="button button-primary" data-testid="profile-save" disabled={busy}>
              {t('profile.save')}
            </button>
          </div>
        </form>
      ) : null}

      <h2>{t('profile.appearance')}</h2>
      <div className="profile-form">
        <div className="field">
          <label htmlFor="profile-language">{t('profile.language')}</label>
          <select
            id="profile-language"
            data-testid="profile-language"
            value={preferences.language}
            onChange={(e) => {
              const language = LANGUAGES.find((l) => l === e.target.value);
              if (language) onPreferences({ language });
            }}
          >
            {LANGUAGES.map((l) => (
              <option key={l} value={l}>
                {t(`language.${l}.name`)}
              </option>
            ))}
          </select>
        </div>
        <label className="checkbox-field">
          <input
            type="checkbox"
            data-testid="profile-night"
            checked={preferences.theme === 'dark'}
            onChange={(e) => onPreferences({ theme: e.target.checked ? 'dark' : 'light' })}
          />
          {t('theme.night')}
        </label>
      </div>
      {children}
    </section>
  );
}
