/**
 * The words of the login, lock, password and user screens. Their keys are in
 * the interface catalogues (renderer/src/i18n/*.json), where main/auth's
 * messages are worded too; AUTH_KEYS lists the keys this folder uses, and
 * main/auth/i18n.test.ts checks that each is worded in kk, ru and en.
 */
import { CallFailure } from '../api/client';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey, type MessageKey, type Params } from '../i18n/i18n';

export const AUTH_KEYS = [
  'auth.login.title',
  'auth.login.mode.password',
  'auth.login.mode.eds',
  'auth.login.name',
  'auth.login.password',
  'auth.login.submit',
  'auth.login.busy',
  'auth.notice.blocked',
  'auth.notice.unlockFailures',
  'auth.eds.source.keyfile',
  'auth.eds.source.token',
  'auth.eds.file',
  'auth.eds.password',
  'auth.eds.tokens.none',
  'auth.eds.open',
  'auth.eds.opening',
  'auth.eds.whose',
  'auth.eds.sign',
  'auth.eds.signing',
  'auth.eds.back',
  'auth.eds.signKeyWarning',
  'auth.lock.title',
  'auth.lock.who',
  'auth.lock.byPassword',
  'auth.lock.byPin',
  'auth.lock.byKeyfile',
  'auth.lock.submit',
  'auth.lock.logout',
  'auth.password.title',
  'auth.password.forced',
  'auth.password.current',
  'auth.password.next',
  'auth.password.repeat',
  'auth.password.rules',
  'auth.password.submit',
  'auth.password.done',
  'auth.password.cancel',
  'auth.session.offline',
  'auth.session.offlineTitle',
  'auth.session.lock',
  'auth.session.logout',
  'admin.users.title',
  'admin.users.search',
  'admin.users.columns.name',
  'admin.users.columns.login',
  'admin.users.columns.iin',
  'admin.users.columns.roles',
  'admin.users.columns.state',
  'admin.users.columns.lastOnline',
  'admin.users.columns.actions',
  'admin.users.state.active',
  'admin.users.state.blocked',
  'admin.users.state.mustChange',
  'admin.users.never',
  'admin.users.you',
  'admin.users.empty',
  'admin.users.roles.edit',
  'admin.users.roles.save',
  'admin.users.roles.cancel',
  'admin.users.roles.none',
  'admin.users.roles.provider',
  'admin.users.roles.noProvider',
  'admin.users.roles.add',
  'admin.users.roles.remove',
  'admin.users.reset',
  'admin.users.reset.confirm',
  'admin.users.tempPassword',
  'admin.users.block',
  'admin.users.unblock',
  'admin.users.block.confirm',
] as const;

export type AuthKey = (typeof AUTH_KEYS)[number];
export type TextKey = AuthKey | MessageKey;

export interface AuthText {
  t(key: TextKey, params?: Params): string;
}

/** Like `useI18n().t`, for the catalogue keys and the ones this folder brought. */
export function useAuthText(): AuthText & ReturnType<typeof useI18n> {
  const i18n = useI18n();
  return {
    ...i18n,
    // Every auth key is in the catalogues (main/auth/i18n.test.ts); an unknown key would show as itself.
    t: (key: TextKey, params?: Params) => (isMessageKey(key) ? i18n.t(key, params) : key),
  };
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})T/;

/**
 * A failed call in words: the text of the error's message key (errors.*,
 * messages.* and auth's own), with its details as placeholders, and its code.
 */
export function failureText(t: AuthText['t'], err: unknown): { text: string; code: string } {
  if (err instanceof CallFailure) {
    const key = err.error.messageKey;
    const params: Record<string, string> = {};
    for (const [name, value] of Object.entries(err.error.details ?? {})) {
      const m = ISO_DATE.exec(value);
      params[name] = m ? `${m[3]}.${m[2]}.${m[1]}` : value;
    }
    const known = isMessageKey(key) || (AUTH_KEYS as readonly string[]).includes(key);
    return { text: t(known ? (key as TextKey) : 'errors.internal', params), code: err.error.code };
  }
  return { text: t('errors.internal'), code: 'renderer' };
}
