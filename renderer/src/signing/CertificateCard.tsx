/** Who a certificate belongs to, as the signing dialog shows it. */
import type { CallOutput, CertificateFactsDto } from '#preload/api.js';
import { useI18n } from '../i18n/I18nProvider';
import { isMessageKey, type MessageKey } from '../i18n/i18n';

type Revocation = CallOutput<'signing.open'>['revocation'];

function isoToDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso);
  return m ? `${m[3]}.${m[2]}.${m[1]}` : iso;
}

function roleKey(role: string): MessageKey | null {
  const key = `sign.roles.${role}`;
  return isMessageKey(key) ? key : null;
}

export function CertificateCard({
  facts,
  revocation,
  compact = false,
}: {
  facts: CertificateFactsDto;
  revocation?: Revocation;
  compact?: boolean;
}) {
  const { t } = useI18n();
  const roles = facts.roles.map(roleKey).filter((k): k is MessageKey => k !== null);
  const name = [facts.commonName, facts.givenName].filter(Boolean).join(' ');
  return (
    <dl className={compact ? 'cert-card is-compact' : 'cert-card'} data-testid="cert-card">
      <dt className="sr-only">{t('sign.signer')}</dt>
      <dd className="cert-name" data-testid="cert-name">
        {name}
      </dd>
      {facts.iin ? (
        <>
          <dt>{t('sign.iin')}</dt>
          <dd data-testid="cert-iin">{facts.iin}</dd>
        </>
      ) : null}
      {facts.bin ? (
        <>
          <dt>{t('sign.bin')}</dt>
          <dd data-testid="cert-bin">{facts.bin}</dd>
        </>
      ) : null}
      {facts.organisation ? (
        <>
          <dt>{t('sign.organisation')}</dt>
          <dd>{facts.organisation}</dd>
        </>
      ) : null}
      {roles.length > 0 ? (
        <>
          <dt>{t('sign.role')}</dt>
          <dd data-testid="cert-roles">{roles.map((k) => t(k)).join(', ')}</dd>
        </>
      ) : null}
      <dt>{t('sign.validTo')}</dt>
      <dd data-testid="cert-valid-to">{isoToDate(facts.notAfter)}</dd>
      {compact ? null : (
        <>
          <dt>{t('sign.issuer')}</dt>
          <dd>{facts.issuerCommonName}</dd>
        </>
      )}
      {revocation ? (
        <>
          <dt>{t('sign.revocation')}</dt>
          <dd data-testid="cert-revocation" data-status={revocation.status}>
            {revocation.status === 'good'
              ? t(revocation.source === 'ocsp' ? 'sign.revocation.good.ocsp' : 'sign.revocation.good.crl')
              : t('sign.revocation.unknown')}
          </dd>
        </>
      ) : null}
    </dl>
  );
}
