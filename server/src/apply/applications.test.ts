/**
 * The workflow rules of seed 001 on the server: the same core rule as the
 * workstation's (core/workflow/machine.ts actorFor, decisionConflict) over
 * the SERVER's row, so a workstation that skips its own checks (or a forged
 * outbox) cannot push a result the seed rules out.
 *
 * The handler is called directly with an ApplyContext (as push.ts applyBatch
 * builds one), so these checks stand apart from how a change proves its author.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_ID, seedDirectory, testDatabases, type TestUser } from '../auth/testing.js';
import { syncReference } from '../catalogue.js';
import { FeedBuffer } from '../feed.js';
import type { Sql } from '../postgres/sql.js';
import { transition } from './applications.js';
import { ApplyCache, Rejection, ServiceDefinitions, type ApplyContext } from './common.js';
import { ApplicationState } from './state.js';

const NOW = Date.UTC(2026, 4, 20, 7, 30);
const HEAD: TestUser = {
  id: 'u-head',
  login: 'head',
  fullName: 'Әбілқасымова Гүлнар Серікқызы',
  iin: '850315400015',
  password: null,
  roles: [{ role: 'head', providerId: PROVIDER_ID }],
};
const EXECUTOR: TestUser = {
  id: 'u-executor',
  login: 'executor',
  fullName: 'Серікова Айгүл Маратқызы',
  iin: '900202400021',
  password: null,
  roles: [{ role: 'executor', providerId: PROVIDER_ID }],
};

interface Row {
  serviceCode: string;
  status: 'in_processing' | 'on_signing';
  decision: 'none' | 'positive' | 'negative';
  currentStep: string;
  formData: Record<string, unknown>;
}

describe.each(testDatabases())('seed 001 workflow rules on the server, on $name', (db) => {
  let sql: Sql;

  beforeAll(async () => {
    sql = await db.open();
    await seedDirectory(sql, [HEAD, EXECUTOR], NOW);
    await syncReference(sql);
  }, 120_000);

  afterAll(async () => {
    await db.close();
  });

  async function insert(r: Row): Promise<string> {
    const id = randomUUID();
    await sql.query(
      `INSERT INTO applications (id, number, portal_number, provider_id, service_code, channel, applicant_iin,
         applicant_bin, applicant_name, region_kato, locality, status, decision, responsible_user_id, current_step,
         submitted_at, status_changed_at, due_at, form_data, refusal_reason_code, refusal_text, rework_comment,
         server_version)
       VALUES ($1, $2, NULL, $3, $4, 'office', '900101300017', NULL, 'Тестов Тест', '750000000', 'Алматы',
         $5, $6, $7, $8, $9, $9, NULL, $10::jsonb, NULL, NULL, NULL, 1)`,
      [
        id,
        `S-${id.slice(0, 8)}`,
        PROVIDER_ID,
        r.serviceCode,
        r.status,
        r.decision,
        EXECUTOR.id,
        r.currentStep,
        NOW - 86_400_000,
        JSON.stringify(r.formData),
      ],
    );
    return id;
  }

  /** One application.transition through its handler, checks only (nothing written); the rejection, or null. */
  async function refusal(
    id: string,
    actor: TestUser,
    action: string,
    application: Record<string, unknown>,
    eventPayload: Record<string, unknown> | null = null,
  ): Promise<Rejection | null> {
    try {
      await sql.tx(async (tx) => {
        const c: ApplyContext = {
          sql: tx,
          device: { deviceId: randomUUID(), providerId: PROVIDER_ID, partitions: [] },
          change: {
            seq: 1,
            op: 'application.transition',
            entity: 'application',
            entityId: id,
            payload: {
              event: {
                applicationId: id,
                seq: 2,
                at: NOW,
                actorUserId: actor.id,
                action,
                fromStatus: 'in_processing',
                toStatus: 'in_processing',
                decision: null,
                comment: null,
                payload: eventPayload,
                prevHash: 'x',
                hash: 'y',
              },
              application: {
                id,
                version: 2,
                status: 'in_processing',
                decision: 'none',
                responsibleUserId: EXECUTOR.id,
                currentStep: null,
                dueAt: null,
                statusChangedAt: NOW,
                refusalReasonCode: null,
                refusalText: null,
                reworkComment: null,
                ...application,
              },
            },
            protocolVersion: 2,
            schemaVersion: 1,
            createdAt: NOW,
            signature: null,
            auth: null,
          },
          author: actor.id,
          now: NOW,
          feed: new FeedBuffer(),
          cache: new ApplyCache(new ServiceDefinitions()),
          applications: new ApplicationState(),
          signers: {
            checkSigner: () => Promise.reject(new Error('no signatures in these tests')),
          } as unknown as ApplyContext['signers'],
        };
        await transition(c);
      });
    } catch (err) {
      if (err instanceof Rejection) return err;
      throw err;
    }
    return null;
  }

  it('attack: a positive decision pushed after the commission refused the grant — refused', async () => {
    const id = await insert({
      serviceCode: 'grant-small-business',
      status: 'in_processing',
      decision: 'none',
      currentStep: 'executor-prepare',
      formData: { commissionDecision: 'refuse' },
    });
    const r = await refusal(id, EXECUTOR, 'decide', { decision: 'positive' });
    expect(r).toMatchObject({ reason: 'notAllowed' });
    expect(r?.message).toMatch(/commissionDecision = refuse/);
  });

  it('attack: a positive decision pushed after the council found financing impossible, or a documents mismatch — refused', async () => {
    for (const formData of [{ councilDecision: 'financing-impossible' }, { documentsCheck: 'mismatch' }]) {
      const id = await insert({
        serviceCode: 'industrial-infrastructure',
        status: 'in_processing',
        decision: 'none',
        currentStep: 'executor-issue',
        formData,
      });
      expect(await refusal(id, EXECUTOR, 'decide', { decision: 'positive' })).toMatchObject({ reason: 'notAllowed' });
    }
  });

  it('attack: a negative decision pushed after the council approved financing — refused; a positive one passes', async () => {
    const id = await insert({
      serviceCode: 'industrial-infrastructure',
      status: 'in_processing',
      decision: 'none',
      currentStep: 'executor-issue',
      formData: { documentsCheck: 'complete', councilDecision: 'financing-possible' },
    });
    const negative = {
      decision: 'negative',
      refusalReasonCode: 'requirements-mismatch',
      refusalText: 'Талаптарға сәйкес емес',
    };
    expect(await refusal(id, EXECUTOR, 'decide', negative)).toMatchObject({ reason: 'notAllowed' });
    expect(await refusal(id, EXECUTOR, 'decide', { decision: 'positive' })).toBeNull();
  });

  it('attack: a Send pushed for a positive decision the server knows the commission refused — refused', async () => {
    const id = await insert({
      serviceCode: 'grant-small-business',
      status: 'in_processing',
      decision: 'positive',
      currentStep: 'executor-prepare',
      formData: {
        documentsCheck: 'complete',
        commissionProtocolNumber: '7',
        commissionProtocolDate: '2026-05-19',
        commissionDecision: 'refuse',
        commissionReasons: 'Жоба шарттарға сәйкес емес',
        resultNumber: 'R-1',
        resultDate: '2026-05-20',
        grantAgreementNumber: 'G-1',
        grantAgreementDate: '2026-05-20',
        grantAmount: 1000,
      },
    });
    const r = await refusal(id, EXECUTOR, 'send', {
      decision: 'positive',
      status: 'on_signing',
      currentStep: 'head-sign',
    });
    expect(r).toMatchObject({ reason: 'notAllowed' });
    expect(r?.message).toMatch(/contradicts commissionDecision/);
  });

  it('attack: the head completes an industrial infrastructure result (the executor issues it, seed 001) — forbidden', async () => {
    const id = await insert({
      serviceCode: 'industrial-infrastructure',
      status: 'on_signing',
      decision: 'positive',
      currentStep: 'executor-issue',
      formData: { councilDecision: 'financing-possible' },
    });
    const sign = { status: 'completed', decision: 'positive' };
    expect(await refusal(id, HEAD, 'sign', sign, { signatureId: 'sig-1' })).toMatchObject({ reason: 'forbidden' });
    // The responsible executor passes the role check; this signature is simply not on the server.
    const byExecutor = await refusal(id, EXECUTOR, 'sign', sign, { signatureId: 'sig-1' });
    expect(byExecutor).toMatchObject({ reason: 'invalid' });
    expect(byExecutor?.message).toMatch(/not on the server/);
  });

  it('where the head signs (grants), the executor may not complete the result — forbidden', async () => {
    const id = await insert({
      serviceCode: 'grant-small-business',
      status: 'on_signing',
      decision: 'positive',
      currentStep: 'head-sign',
      formData: { commissionDecision: 'award' },
    });
    const sign = { status: 'completed', decision: 'positive' };
    expect(await refusal(id, EXECUTOR, 'sign', sign, { signatureId: 'sig-1' })).toMatchObject({ reason: 'forbidden' });
  });
});
