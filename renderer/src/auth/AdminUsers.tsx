/**
 * The administrator's users screen: the users they manage, with their roles
 * per provider, state and last online login; edit roles, reset a password
 * (the temporary one shown once, to hand over in person), block or unblock.
 * Main decides who may do what and answers what was refused.
 */
import { Fragment, useCallback, useEffect, useState } from 'react';
import { grantable } from '#core/auth/grants.js';
import { ROLE_VALUES, type CallOutput } from '#preload/api.js';
import { call } from '../api/client';
import { Banner } from '../components/Banner';
import { useDebounced } from '../app/hooks';
import { FailureBanner } from './EdsForm';
import { useAuthText } from './text';

type Listing = CallOutput<'admin.users'>;
type User = Listing['users'][number];
type Grant = User['roles'][number];
type Role = Grant['role'];

function RolesEditor({
  user,
  listing,
  onSaved,
  onCancel,
}: {
  user: User;
  listing: Listing;
  onSaved(user: User): void;
  onCancel(): void;
}) {
  const { t, language } = useAuthText();
  const [grants, setGrants] = useState<Grant[]>(user.roles);
  const [role, setRole] = useState<Role>('executor');
  const [providerId, setProviderId] = useState(listing.providers[0]?.id ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const providerName = (id: string) => {
    const p = listing.providers.find((x) => x.id === id);
    return id === '' ? t('admin.users.roles.noProvider') : p ? p.name[language] : id;
  };
  // The providers offered are the listing's, all known: only the grant rule's binding decides.
  const roleOk = grantable(role, providerId, () => true);
  const has = grants.some((g) => g.role === role && g.providerId === providerId);

  async function save() {
    setBusy(true);
    setError(null);
    try {
      const r = await call('admin.setRoles', { userId: user.id, roles: grants });
      onSaved(r.user);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="admin-roles" data-testid="admin-roles-editor">
      {error ? <FailureBanner error={error} testId="admin-roles-error" /> : null}
      <ul className="admin-grants">
        {grants.length === 0 ? <li className="muted">{t('admin.users.roles.none')}</li> : null}
        {grants.map((g) => (
          <li key={`${g.role}/${g.providerId}`} data-testid="admin-grant">
            <span>
              {t(`role.${g.role}`)} · {providerName(g.providerId)}
            </span>
            <button
              type="button"
              className="button button-quiet"
              onClick={() => setGrants((gs) => gs.filter((x) => x !== g))}
            >
              {t('admin.users.roles.remove')}
            </button>
          </li>
        ))}
      </ul>
      <div className="admin-grant-add">
        <div className="field">
          <label htmlFor="admin-role">{t('admin.users.columns.roles')}</label>
          <select
            id="admin-role"
            data-testid="admin-role"
            value={role}
            onChange={(e) => setRole(e.target.value as Role)}
          >
            {ROLE_VALUES.map((r) => (
              <option key={r} value={r}>
                {t(`role.${r}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="admin-provider">{t('admin.users.roles.provider')}</label>
          <select
            id="admin-provider"
            data-testid="admin-provider"
            value={providerId}
            onChange={(e) => setProviderId(e.target.value)}
          >
            {listing.systemWide ? <option value="">{t('admin.users.roles.noProvider')}</option> : null}
            {listing.providers.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name[language]}
              </option>
            ))}
          </select>
        </div>
        <button
          type="button"
          className="button"
          data-testid="admin-role-add"
          disabled={!roleOk || has}
          onClick={() => setGrants((gs) => [...gs, { role, providerId }])}
        >
          {t('admin.users.roles.add')}
        </button>
      </div>
      <div className="dialog-actions">
        <button type="button" className="button button-quiet" onClick={onCancel}>
          {t('admin.users.roles.cancel')}
        </button>
        <button
          type="button"
          className="button button-primary"
          data-testid="admin-roles-save"
          disabled={busy}
          onClick={() => void save()}
        >
          {t('admin.users.roles.save')}
        </button>
      </div>
    </div>
  );
}

export function AdminUsers({ selfId }: { selfId: string }) {
  const { t, language, dateTime } = useAuthText();
  const [search, setSearch] = useState('');
  const settled = useDebounced(search.trim(), 250);
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<{ userId: string; action: 'reset' | 'block' } | null>(null);
  const [temporary, setTemporary] = useState<{ name: string; password: string } | null>(null);

  const load = useCallback(() => {
    call('admin.users', settled ? { search: settled } : {}).then(
      (r) => {
        setListing(r);
        setError(null);
      },
      (e: unknown) => setError(e),
    );
  }, [settled]);

  useEffect(load, [load]);

  const replace = (user: User) =>
    setListing((l) => (l ? { ...l, users: l.users.map((u) => (u.id === user.id ? user : u)) } : l));

  async function run(user: User, action: 'reset' | 'block' | 'unblock') {
    setError(null);
    setConfirm(null);
    try {
      if (action === 'reset') {
        const r = await call('admin.resetPassword', { userId: user.id });
        replace(r.user);
        setTemporary({ name: r.user.fullName, password: r.temporaryPassword });
      } else {
        replace((await call('admin.blockUser', { userId: user.id, blocked: action === 'block' })).user);
      }
    } catch (err) {
      setError(err);
    }
  }

  const providerName = (id: string) =>
    id === '' ? '' : (listing?.providers.find((p) => p.id === id)?.name[language] ?? id);

  return (
    <section className="admin-users" data-testid="admin-users" aria-labelledby="admin-users-title">
      <h1 id="admin-users-title">{t('admin.users.title')}</h1>
      <div className="banners">
        {error ? <FailureBanner error={error} testId="admin-error" /> : null}
        {temporary ? (
          <Banner kind="info" onDismiss={() => setTemporary(null)} testId="admin-temp-password">
            <div>{t('admin.users.tempPassword', { name: temporary.name })}</div>
            <code className="admin-temp" data-testid="admin-temp-password-value">
              {temporary.password}
            </code>
          </Banner>
        ) : null}
      </div>
      <div className="field field-search">
        <label htmlFor="admin-search">{t('admin.users.search')}</label>
        <input
          id="admin-search"
          data-testid="admin-search"
          type="search"
          value={search}
          maxLength={100}
          onChange={(e) => setSearch(e.target.value)}
        />
      </div>
      {listing && listing.users.length === 0 ? <p className="muted">{t('admin.users.empty')}</p> : null}
      {listing && listing.users.length > 0 ? (
        <div className="data-table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th>{t('admin.users.columns.name')}</th>
                <th>{t('admin.users.columns.iin')}</th>
                <th>{t('admin.users.columns.roles')}</th>
                <th>{t('admin.users.columns.state')}</th>
                <th>{t('admin.users.columns.lastOnline')}</th>
                <th>{t('admin.users.columns.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {listing.users.map((u) => {
                const self = u.id === selfId;
                return (
                  <Fragment key={u.id}>
                    <tr data-testid="admin-user-row" data-login={u.login}>
                      <td>
                        <div className="admin-name">
                          {u.fullName}
                          {self ? <span className="muted"> ({t('admin.users.you')})</span> : null}
                        </div>
                        <div className="admin-login">{u.login}</div>
                      </td>
                      <td>{u.iin}</td>
                      <td>
                        <ul className="admin-grants" data-testid="admin-user-roles">
                          {u.roles.length === 0 ? <li className="muted">{t('admin.users.roles.none')}</li> : null}
                          {u.roles.map((g) => (
                            <li key={`${g.role}/${g.providerId}`}>
                              {[t(`role.${g.role}`), providerName(g.providerId)].filter(Boolean).join(' · ')}
                            </li>
                          ))}
                        </ul>
                      </td>
                      <td data-testid="admin-user-state">
                        {u.blocked ? t('admin.users.state.blocked') : t('admin.users.state.active')}
                        {u.mustChangePassword ? `, ${t('admin.users.state.mustChange')}` : ''}
                      </td>
                      <td>{u.lastOnlineLoginAt ? dateTime(u.lastOnlineLoginAt) : t('admin.users.never')}</td>
                      <td>
                        <div className="admin-actions">
                          {confirm?.userId === u.id ? (
                            <>
                              <span>
                                {t(
                                  confirm.action === 'reset'
                                    ? 'admin.users.reset.confirm'
                                    : 'admin.users.block.confirm',
                                  {
                                    name: u.fullName,
                                  },
                                )}
                              </span>
                              <button
                                type="button"
                                className="button button-primary"
                                data-testid="admin-confirm"
                                onClick={() => void run(u, confirm.action)}
                              >
                                {t(confirm.action === 'reset' ? 'admin.users.reset' : 'admin.users.block')}
                              </button>
                              <button type="button" className="button button-quiet" onClick={() => setConfirm(null)}>
                                {t('admin.users.roles.cancel')}
                              </button>
                            </>
                          ) : (
                            <>
                              <button
                                type="button"
                                className="button button-quiet"
                                data-testid="admin-edit-roles"
                                disabled={self}
                                onClick={() => setEditing(u.id)}
                              >
                                {t('admin.users.roles.edit')}
                              </button>
                              <button
                                type="button"
                                className="button button-quiet"
                                data-testid="admin-reset"
                                disabled={self}
                                onClick={() => setConfirm({ userId: u.id, action: 'reset' })}
                              >
                                {t('admin.users.reset')}
                              </button>
                              {u.blocked ? (
                                <button
                                  type="button"
                                  className="button button-quiet"
                                  data-testid="admin-unblock"
                                  disabled={self}
                                  onClick={() => void run(u, 'unblock')}
                                >
                                  {t('admin.users.unblock')}
                                </button>
                              ) : (
                                <button
                                  type="button"
                                  className="button button-quiet"
                                  data-testid="admin-block"
                                  disabled={self}
                                  onClick={() => setConfirm({ userId: u.id, action: 'block' })}
                                >
                                  {t('admin.users.block')}
                                </button>
                              )}
                            </>
                          )}
                        </div>
                      </td>
                    </tr>
                    {editing === u.id ? (
                      <tr className="admin-editor-row">
                        <td colSpan={6}>
                          <RolesEditor
                            user={u}
                            listing={listing}
                            onSaved={(user) => {
                              replace(user);
                              setEditing(null);
                            }}
                            onCancel={() => setEditing(null)}
                          />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
