/**
 * One harness for the whole e2e run; its address and secret reach the tests
 * through the environment. Before it starts, the tests' own CA issues the
 * demo head a signing certificate, which goes onto a real SoftHSM2 token and
 * into a key file; the harness trusts that CA and has its CRL cached.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { DEMO_HEAD, DEMO_USERS } from '#demo/generate.js';
import { DEMO_ENROLMENT } from '#main/auth/demo.js';
import { PROTOCOL_VERSION } from '#core/protocol.js';
import { changeMac } from '#core/auth/change-key.js';
import { insertApplication } from '#main/workflow/testing.js';
import { createSoftHsm, softHsmMissing } from '#signing/testing/softhsm.js';
import { TestPki } from '#signing/testing/pki.js';
import { startHarness } from './harness';

export const E2E_PIN = '246810';
export const E2E_KEYFILE_PASSWORD = 'Qwerty12';

/** Enrols a setup device with the demo administrator and pushes `application.create` for `row` (a local row). */
async function takeInOnServer(serverUrl: string, row: Record<string, unknown>): Promise<void> {
  const post = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(new URL(path, serverUrl), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const answer = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
    return answer;
  };
  const deviceId = randomUUID();
  const enrolled = await post('/v1/devices/enrol', {
    deviceId,
    name: 'e2e setup',
    providerId: DEMO_ENROLMENT.providerId,
    login: DEMO_ENROLMENT.login,
    password: DEMO_ENROLMENT.password,
    protocolVersion: PROTOCOL_VERSION,
  });
  const { accessToken } = await post('/v1/devices/token', { deviceId, deviceSecret: enrolled.deviceSecret });
  const payload = {
    actorUserId: DEMO_USERS.clerk.id,
    id: row.id,
    number: row.number,
    portalNumber: row.portal_number,
    providerId: row.provider_id,
    serviceCode: row.service_code,
    channel: row.channel,
    applicantIin: row.applicant_iin,
    applicantBin: row.applicant_bin,
    applicantName: row.applicant_name,
    regionKato: row.region_kato,
    locality: row.locality,
    status: row.status,
    decision: row.decision,
    responsibleUserId: row.responsible_user_id,
    currentStep: row.current_step,
    submittedAt: row.submitted_at,
    statusChangedAt: row.status_changed_at,
    dueAt: row.due_at,
    formData: JSON.parse(String(row.form_data)) as unknown,
    refusalReasonCode: row.refusal_reason_code,
    refusalText: row.refusal_text,
    reworkComment: row.rework_comment,
  };
  // The clerk logs in online at this device: the change carries her proof (core/auth/change-key.ts).
  const login = await post(
    '/v1/auth/check',
    { kind: 'password', login: DEMO_USERS.clerk.login, password: DEMO_ENROLMENT.password },
    String(accessToken),
  );
  const key = login.key as { id: string; secret: string };
  const change = {
    seq: 1,
    op: 'application.create',
    entity: 'application',
    entityId: String(row.id),
    payload,
    protocolVersion: PROTOCOL_VERSION,
    schemaVersion: 1,
    createdAt: Date.now(),
    signature: null,
  };
  const auth = { keyId: key.id, mac: changeMac(Buffer.from(key.secret, 'base64'), deviceId, change) };
  const pushed = await post(
    '/v1/push',
    { deviceId, protocolVersion: PROTOCOL_VERSION, changes: [{ ...change, auth }] },
    String(accessToken),
  );
  const [result] = pushed.results as { outcome: string; reason: string | null; message: string | null }[];
  if (result?.outcome !== 'applied')
    throw new Error(`the server did not take the e2e application: ${JSON.stringify(result)}`);
}

export default async function globalSetup() {
  const root = mkdtempSync(join(tmpdir(), 'qyzmet-e2e-'));
  const dataDir = join(root, 'data');
  const pki = new TestPki(join(root, 'pki'));
  const [surname = '', firstName = '', patronymic = ''] = DEMO_HEAD.fullName.toUpperCase().split(' ');
  const head = pki.issue({
    name: 'demo-head',
    surname,
    firstName,
    patronymic,
    iin: DEMO_HEAD.iin,
    organisation: 'ГУ "Отдел занятости и социальных программ"',
    purpose: 'sign',
    roles: ['legalEntity', 'head'],
  });
  const trustDir = join(root, 'trust');
  mkdirSync(trustDir, { recursive: true });
  writeFileSync(join(trustDir, 'root.pem'), pki.root.certPem);
  writeFileSync(join(trustDir, 'ca.pem'), pki.ca.certPem);
  mkdirSync(join(dataDir, 'crl'), { recursive: true });
  writeFileSync(join(dataDir, 'crl', 'test-ca.crl'), pki.crl(24 * 30));
  // The root's too: the central server judges a signer only when it knows the revocation of every CA above it.
  writeFileSync(join(dataDir, 'crl', 'test-root.crl'), pki.rootCrl(24 * 30));
  const keyFile = join(root, `RSA256_${DEMO_HEAD.iin}.p12`);
  writeFileSync(keyFile, pki.p12(head, E2E_KEYFILE_PASSWORD, { legacy: true }));
  // Her authentication key (AUTH_RSA256_…), for login with EDS (e2e/login.spec.ts puts it on a token of its own too).
  const headAuth = pki.issue({
    name: 'demo-head-auth',
    surname,
    firstName,
    patronymic,
    iin: DEMO_HEAD.iin,
    purpose: 'auth',
    roles: ['individual'],
  });
  const authKeyFile = join(root, `AUTH_RSA256_${DEMO_HEAD.iin}.p12`);
  writeFileSync(authKeyFile, pki.p12(headAuth, E2E_KEYFILE_PASSWORD, { legacy: true }));

  const missing = softHsmMissing();
  if (missing) throw new Error(`the signing e2e tests need SoftHSM2: ${missing}`);
  const hsm = createSoftHsm(join(root, 'softhsm'));
  hsm.initToken('QYZMET E2E', '11223344', E2E_PIN);
  hsm.importKey('QYZMET E2E', E2E_PIN, { keyPem: head.keyPem, certDer: head.certDer, id: 'a1b2', label: 'demo-head' });

  process.env.QYZMET_PKCS11_MODULES = hsm.module;
  process.env.QYZMET_TRUST_DIRS = trustDir;
  process.env.QYZMET_E2E_PKI_DIR = pki.dir;
  process.env.QYZMET_E2E_KEYFILE = keyFile;
  process.env.QYZMET_E2E_AUTH_KEYFILE = authKeyFile;
  process.env.QYZMET_E2E_SOFTHSM_DIR = hsm.dir;

  // The workstation syncs every few seconds in the e2e run (the sync panel test waits on it).
  process.env.QYZMET_SYNC_INTERVAL_MS = '3000';
  const harness = await startHarness(['--demo', '3000'], dataDir);
  process.env.QYZMET_E2E_URL = harness.url;
  process.env.QYZMET_E2E_OPEN_URL = harness.openUrl;
  process.env.QYZMET_E2E_SECRET = harness.secret;
  process.env.QYZMET_E2E_DATA_DIR = harness.dataDir;
  if (harness.serverUrl) process.env.QYZMET_E2E_SERVER_URL = harness.serverUrl;

  // Today's fresh application at the demo head's office, as intake leaves it: the workflow e2e walks it.
  const db = new Database(join(harness.dataDir, 'qyzmet.db'));
  db.pragma('busy_timeout = 5000');
  const id = insertApplication(
    db,
    { serviceCode: 'unemployed-certificate', providerId: 'prov-astana-employment', channel: 'office' },
    Date.now() - 60_000,
  );
  const row = db.prepare('SELECT number FROM applications WHERE id = ?').get(id) as { number: string };
  const created = db.prepare('SELECT * FROM applications WHERE id = ?').get(id) as Record<string, unknown>;
  // Results waiting for the head's signature, for the signing tests (the demo office has only three): here on
  // this workstation only, so what is pushed of their signing is refused by the server and stays in the panel.
  for (let i = 0; i < 6; i++) {
    insertApplication(
      db,
      {
        serviceCode: 'unemployed-certificate',
        providerId: 'prov-astana-employment',
        channel: 'office',
        status: 'on_signing',
        decision: 'positive',
        responsibleUserId: 'user-executor-demo',
        currentStep: 'head-sign',
      },
      Date.now() - 2 * 86_400_000,
    );
  }
  db.close();
  // The same application on the central server, taken in there by the office's clerk (as intake on
  // another workstation would), so that what the e2e tests do with it is accepted when it syncs.
  if (!harness.serverUrl) throw new Error('the e2e harness started without its central server');
  await takeInOnServer(harness.serverUrl, created);
  process.env.QYZMET_E2E_RECEIVED_ID = id;
  process.env.QYZMET_E2E_RECEIVED_NUMBER = row.number;
  return async () => {
    await harness.stop();
  };
}
