/**
 * Enrolment before anyone logs in. A fresh workstation has no users until it
 * has synced with its office, so the login screen offers to enrol it (with an
 * administrator's credentials, which the central server checks) while
 * `sync.status` says it is not enrolled and a server is configured.
 */
import { useEffect, useRef, useState } from 'react';
import { call } from '../api/client';
import { useSyncStatus } from '../app/hooks';
import { useI18n } from '../i18n/I18nProvider';
import { EnrolForm } from './EnrolForm';

export function PreLoginEnrol() {
  const { t } = useI18n();
  const { status } = useSyncStatus();
  const [open, setOpen] = useState(false);
  const [enrolled, setEnrolled] = useState(false);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    if (open) dialog.current?.showModal?.();
  }, [open]);

  if (enrolled) {
    return (
      <span className="sync-prelogin-done" role="status" data-testid="sync-prelogin-enrolled">
        {t('sync.done.enrolled')}
      </span>
    );
  }
  if (!status || status.enrolled || !status.serverUrl) return null;

  return (
    <>
      <button
        type="button"
        className="button sync-prelogin-button"
        data-testid="sync-prelogin-enrol"
        title={t('sync.notEnrolled')}
        onClick={() => setOpen(true)}
      >
        {t('sync.enrol.submit')}
      </button>
      {open ? (
        <dialog
          ref={dialog}
          className="sign-dialog"
          data-testid="sync-prelogin-dialog"
          aria-labelledby="sync-prelogin-title"
          onCancel={(e) => {
            e.preventDefault();
            setOpen(false);
          }}
        >
          <h2 id="sync-prelogin-title">{t('sync.enrol.title')}</h2>
          <EnrolForm
            offices={[]}
            onCancel={() => setOpen(false)}
            onEnrol={async (input) => {
              const details = await call('sync.enrol', input);
              setOpen(false);
              setEnrolled(true);
              return details;
            }}
          />
        </dialog>
      ) : null}
    </>
  );
}
