/**
 * The services as the renderer reaches them: createApp + dispatch, over a real database with demo data,
 * offline (no central server; integration/app.test.ts has the calls that need one).
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '#demo/generate.js';
import { isValidIin } from '#core/identity/iin.js';
import { createApp, type AppServices } from './app.js';
import { DEMO_PASSWORD } from './auth/demo.js';
import { dispatch } from './rpc.js';

const ROOT = join(import.meta.dirname, '..');
let app: AppServices;

beforeAll(async () => {
  app = await createApp({
    dataDir: mkdtempSync(join(tmpdir(), 'qyzmet-app-')),
    resourcesDir: join(ROOT, 'resources'),
    serverUrl: null,
    version: '0.1.0',
    transport: 'bridge',
    demoApplications: 3000,
    healthEveryMs: 0,
    log: () => {},
  });
  // Every call but the login screen's needs a session (the demo users log in offline with the demo password).
  await call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD });
});
afterAll(async () => {
  await app.close();
});

const call = async <T>(channel: Parameters<typeof dispatch>[1], input: unknown): Promise<T> => {
  const r = await dispatch(app.handlers, channel, input, { transport: 'bridge' });
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value as T;
};

type Page = {
  total: number;
  rows: {
    providerBin: string;
    applicantIin: string;
    applicantName: string;
    number: string;
    status: string;
    decision: string;
    submittedAt: number;
    serviceName: { kk: string; ru: string; en: string };
  }[];
};

describe('journal.list', () => {
  it('shows the head only her provider’s applications', async () => {
    const sqlite = app.database.sqlite;
    const own = sqlite
      .prepare(
        `SELECT count(*) AS n, p.bin FROM applications a JOIN providers p ON p.id = a.provider_id
          WHERE a.provider_id = (SELECT provider_id FROM user_roles WHERE user_id = 'user-head-demo' AND role = 'head')`,
      )
      .get() as { n: number; bin: string };
    const page = await call<Page>('journal.list', { page: 0, pageSize: 500 });
    expect(own.n).toBeGreaterThan(0);
    expect(own.n).toBeLessThan(3000);
    expect(page.total).toBe(own.n);
    expect(new Set(page.rows.map((r) => r.providerBin))).toEqual(new Set([own.bin]));
  });

  it('pages through the demo applications, newest first (the country-wide monitoring officer)', async () => {
    await call('auth.logout', {});
    await call('auth.loginPassword', { login: DEMO_USERS.monitoring.login, password: DEMO_PASSWORD });
    const first = await call<Page>('journal.list', { page: 0, pageSize: 50 });
    await call('auth.logout', {});
    await call('auth.loginPassword', { login: DEMO_USERS.head.login, password: DEMO_PASSWORD });
    expect(first.total).toBe(3000);
    expect(first.rows).toHaveLength(50);
    const times = first.rows.map((r) => r.submittedAt);
    expect(times).toEqual([...times].sort((a, b) => b - a));
    for (const r of first.rows) {
      expect(isValidIin(r.applicantIin)).toBe(true);
      expect(r.serviceName.kk.length).toBeGreaterThan(0);
    }
  });

  it('finds by IIN, by number, and by a name typed without Kazakh letters', async () => {
    const some = (await call<Page>('journal.list', { page: 3, pageSize: 20 })).rows[7]!;
    const byIin = await call<Page>('journal.list', { page: 0, pageSize: 100, search: some.applicantIin });
    expect(byIin.rows.length).toBeGreaterThan(0);
    expect(byIin.rows.every((r) => r.applicantIin === some.applicantIin)).toBe(true);

    const byNumber = await call<Page>('journal.list', { page: 0, pageSize: 100, search: some.number });
    expect(byNumber.rows.map((r) => r.number)).toContain(some.number);

    const kazakh = (await call<Page>('journal.list', { page: 0, pageSize: 500 })).rows.find((r) =>
      /[әқөұүіңғ]/i.test(r.applicantName),
    )!;
    expect(kazakh).toBeDefined();
    const surname = kazakh.applicantName.split(' ')[0]!;
    const plain = surname
      .toLowerCase()
      .replace(/ә/g, 'а')
      .replace(/қ/g, 'к')
      .replace(/ө/g, 'о')
      .replace(/[ұү]/g, 'у')
      .replace(/і/g, 'и')
      .replace(/ң/g, 'н')
      .replace(/ғ/g, 'г')
      .replace(/һ/g, 'х');
    const byName = await call<Page>('journal.list', { page: 0, pageSize: 500, search: plain.slice(0, -1) });
    expect(byName.rows.map((r) => r.applicantName)).toContain(kazakh.applicantName);
  });

  it('filters by status and decision, and sorts', async () => {
    // The demo's mix moves with the day it is made on: filter by a status and decision one of its rows has
    // (one on signing with a decision when there is one).
    const all = await call<Page>('journal.list', { page: 0, pageSize: 500 });
    for (let page = 1; all.rows.length < all.total; page++) {
      const next = await call<Page>('journal.list', { page, pageSize: 500 });
      expect(next.rows.length).toBeGreaterThan(0);
      all.rows.push(...next.rows);
    }
    expect(all.rows).toHaveLength(all.total);
    const decided = all.rows.filter((r) => r.decision !== 'none');
    const sameAs = (a: Page['rows'][number]) => (b: Page['rows'][number]) =>
      a.status === b.status && a.decision === b.decision;
    // On signing if any is, else the rarest mix: all its rows fit in one page.
    const known =
      decided.find((r) => r.status === 'on_signing') ??
      [...decided].sort((a, b) => decided.filter(sameAs(a)).length - decided.filter(sameAs(b)).length)[0] ??
      all.rows[0]!;
    const filtered = await call<Page>('journal.list', {
      page: 0,
      pageSize: 500,
      status: known.status,
      decision: known.decision,
    });
    expect(filtered.total).toBe(all.rows.filter(sameAs(known)).length);
    expect(filtered.rows.map((r) => r.number)).toContain(known.number);
    expect(filtered.rows.every(sameAs(known))).toBe(true);
    const asc = await call<Page>('journal.list', { page: 0, pageSize: 30, sort: 'number', direction: 'asc' });
    const numbers = asc.rows.map((r) => r.number);
    expect(numbers).toEqual([...numbers].sort());
  });

  it('treats search text as data, not SQL', async () => {
    const r = await call<Page>('journal.list', { page: 0, pageSize: 10, search: "%' OR 1=1 --" });
    expect(r.total).toBe(0);
    const underscore = await call<Page>('journal.list', { page: 0, pageSize: 10, search: '_' });
    expect(underscore.total).toBe(0);
  });

  it('refuses a page size beyond the limit and unknown filters', async () => {
    const big = await dispatch(app.handlers, 'journal.list', { page: 0, pageSize: 100000 }, { transport: 'bridge' });
    expect(big).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
    const unknown = await dispatch(
      app.handlers,
      'journal.list',
      { page: 0, pageSize: 5, where: '1=1' },
      { transport: 'bridge' },
    );
    expect(unknown).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});

describe('the frame’s calls', () => {
  it('knows the demo user and their roles', async () => {
    const { user } = await call<{ user: { login: string; roles: { role: string }[] } | null }>('session.current', {});
    expect(user?.login).toBe('head.demo');
    expect(user?.roles.map((r) => r.role)).toContain('head');
  });

  it('keeps the language and night mode in the local database', async () => {
    expect(await call('preferences.get', {})).toEqual({ language: 'kk', theme: 'light' });
    expect(await call('preferences.set', { theme: 'dark' })).toEqual({ language: 'kk', theme: 'dark' });
    expect(await call('preferences.set', { language: 'en' })).toEqual({ language: 'en', theme: 'dark' });
    expect(await call('preferences.get', {})).toEqual({ language: 'en', theme: 'dark' });
  });

  it('reports the catalogue with names in three languages', async () => {
    const c = await call<{ services: { code: string }[]; problems: unknown[] }>('catalogue.list', {});
    expect(c.services.map((s) => s.code).sort()).toEqual([
      'education-document-duplicate',
      'grant-small-business',
      'home-schooling-compensation',
      'industrial-infrastructure',
      'unemployed-certificate',
    ]);
    expect(c.problems).toEqual([]);
  });
});

describe('a bad catalogue file', () => {
  it('is named with its field, and the app opens with the good services', async () => {
    const resources = mkdtempSync(join(tmpdir(), 'qyzmet-res-'));
    cpSync(join(ROOT, 'resources'), resources, { recursive: true });
    const good = JSON.parse(
      (await import('node:fs')).readFileSync(join(resources, 'services', 'unemployed-certificate.json'), 'utf8'),
    ) as { code: string; steps: { limit: { unit: string } }[] };
    good.code = 'broken-service';
    good.steps[0]!.limit.unit = 'hours';
    writeFileSync(join(resources, 'services', 'broken.json'), JSON.stringify(good));
    const logged: string[] = [];
    const opened = await createApp({
      dataDir: mkdtempSync(join(tmpdir(), 'qyzmet-app-')),
      resourcesDir: resources,
      serverUrl: null,
      version: '0.1.0',
      transport: 'bridge',
      healthEveryMs: 0,
      log: (m) => logged.push(m),
    });
    const c = opened.catalogue;
    expect(c.services).toHaveLength(5);
    expect(c.problems).toEqual([expect.objectContaining({ file: 'broken.json', field: 'steps.0.limit.unit' })]);
    expect(logged.some((l) => l.includes('broken.json') && l.includes('steps.0.limit.unit'))).toBe(true);
    await opened.close();
  });
});

describe('profile', () => {
  it('shows the user, saves a valid change with an outbox row, refuses a bad e-mail or phone', async () => {
    const before = await call<{ iin: string; fullName: string }>('profile.get', {});
    expect(isValidIin(before.iin)).toBe(true);
    const saved = await call<{ email: string; phone: string; positionKk: string | null }>('profile.update', {
      fullName: before.fullName,
      email: 'head@akimat.kz',
      phone: '+7 701 234 56 78',
      positionKk: 'Бөлім басшысы',
      positionRu: '',
    });
    expect(saved).toMatchObject({ email: 'head@akimat.kz', phone: '+7 701 234 56 78', positionKk: 'Бөлім басшысы' });
    const outbox = app.database.sqlite.prepare("SELECT count(*) AS n FROM outbox WHERE op = 'user.profile'").get() as {
      n: number;
    };
    expect(outbox.n).toBe(1);

    for (const bad of [{ email: 'not-an-email' }, { phone: '12345' }, { fullName: '' }]) {
      const r = await dispatch(
        app.handlers,
        'profile.update',
        { fullName: before.fullName, email: '', phone: '', positionKk: '', positionRu: '', ...bad },
        { transport: 'bridge' },
      );
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('invalid_input');
    }
    // Nothing of the refused changes was kept.
    expect(await call<{ email: string }>('profile.get', {})).toMatchObject({ email: 'head@akimat.kz' });
  });
});
