/**
 * Choosing a key file: the file, its password and, when the file holds
 * several keys, which one. Used by the signing dialog and by EDS login.
 */
import { useI18n } from '../i18n/I18nProvider';
import type { MessageKey } from '../i18n/i18n';

/** A file's bytes as base64, for the contract (key files are a few kilobytes). */
export function readBase64(file: File): Promise<string> {
  return file.arrayBuffer().then((buf) => {
    const bytes = new Uint8Array(buf);
    let binary = '';
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  });
}

export function KeyFileFields({
  prefix,
  fileLabel,
  passwordLabel,
  password,
  aliases,
  alias,
  onFile,
  onPassword,
  onAlias,
}: {
  /** Ids and test ids: `<prefix>-file`, `<prefix>-password`, `<prefix>-alias`. */
  prefix: string;
  fileLabel: MessageKey;
  passwordLabel: MessageKey;
  password: string;
  aliases: readonly string[];
  alias: string;
  onFile: (file: File | null) => void;
  onPassword: (password: string) => void;
  onAlias: (alias: string) => void;
}) {
  const { t } = useI18n();
  return (
    <>
      <div className="field">
        <label htmlFor={`${prefix}-file`}>{t(fileLabel)}</label>
        <input
          id={`${prefix}-file`}
          data-testid={`${prefix}-file`}
          type="file"
          accept=".p12,.pfx,application/x-pkcs12"
          onChange={(e) => onFile(e.target.files?.[0] ?? null)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${prefix}-password`}>{t(passwordLabel)}</label>
        <input
          id={`${prefix}-password`}
          data-testid={`${prefix}-password`}
          type="password"
          autoComplete="off"
          value={password}
          maxLength={256}
          onChange={(e) => onPassword(e.target.value)}
        />
      </div>
      {aliases.length > 0 ? (
        <div className="field">
          <label htmlFor={`${prefix}-alias`}>{t('sign.alias')}</label>
          <select id={`${prefix}-alias`} value={alias} onChange={(e) => onAlias(e.target.value)}>
            <option value="" />
            {aliases.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
      ) : null}
    </>
  );
}
