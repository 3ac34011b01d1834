import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { isValidBin, isValidIin, parseIin } from '#core/identity/iin.js';
import { loadCalendars } from '#core/node/calendar-loader.js';
import { loadCatalogue } from '#core/node/catalogue-loader.js';
import type { ServiceDefinition } from '#core/catalogue/schema.js';
import { foldForSearch } from '#core/identity/text.js';
import { STATUSES } from '#core/vocabulary.js';
import { DEMO_USERS, generateDemo, type GenerateDemoResult } from './generate.js';
import { isValidIban, makeIban } from './form.js';
import type { FormField } from '#core/catalogue/schema.js';
import { checkValue, executorFields, missingRequired, type FieldValue } from '#core/workflow/fields.js';

const MIGRATIONS = join(dirname(fileURLToPath(import.meta.url)), '..', 'db', 'migrations');
const CATALOGUE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'services');
const SERVICES = loadCatalogue(CATALOGUE_DIR).services;
const CALENDAR = loadCalendars(join(dirname(fileURLToPath(import.meta.url)), '..', 'resources', 'calendars')).calendar;
const BY_CODE = new Map<string, ServiceDefinition>(SERVICES.map((s) => [s.code, s]));
const NOW = Date.UTC(2026, 4, 20, 7, 30); // 2026-05-20 12:30 in Kazakhstan
const SEED = 20260520;
const DAY = 86_400_000;

/** An in-memory database with the schema: drizzle-kit's SQL files applied in order. */
function emptyDatabase(): Database.Database {
  const sqlite = new Database(':memory:');
  sqlite.pragma('foreign_keys = ON');
  const files = readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  if (files.length === 0) throw new Error(`no migrations in ${MIGRATIONS}`);
  for (const file of files) {
    for (const statement of readFileSync(join(MIGRATIONS, file), 'utf8').split('--> statement-breakpoint')) {
      if (statement.trim()) sqlite.exec(statement);
    }
  }
  return sqlite;
}

interface AppRow {
  id: string;
  number: string;
  portal_number: string | null;
  provider_id: string;
  service_code: string;
  channel: string;
  applicant_iin: string;
  applicant_bin: string | null;
  applicant_name: string;
  applicant_name_norm: string;
  region_kato: string;
  locality: string;
  status: string;
  decision: string;
  responsible_user_id: string | null;
  current_step: string | null;
  submitted_at: number;
  status_changed_at: number;
  due_at: number | null;
  form_data: string;
  refusal_reason_code: string | null;
  refusal_text: string | null;
  rework_comment: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

function dump(sqlite: Database.Database): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const table of ['regions', 'providers', 'users', 'user_roles', 'provider_staff', 'applications']) {
    out[table] = sqlite.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all();
  }
  return out;
}

describe('generateDemo', () => {
  let sqlite: Database.Database;
  let result: GenerateDemoResult;
  let apps: AppRow[];

  beforeAll(() => {
    sqlite = emptyDatabase();
    result = generateDemo(sqlite, { applications: 2000, seed: SEED, now: NOW, services: SERVICES, calendar: CALENDAR });
    apps = sqlite.prepare('SELECT * FROM applications').all() as AppRow[];
  });

  it('writes and counts the rows', () => {
    expect(result.applications).toBe(2000);
    expect(apps).toHaveLength(2000);
    expect(result.events).toBe(0);
    const counted = (table: string) => (sqlite.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect(counted('users')).toBe(result.users);
    expect(counted('user_roles')).toBe(result.userRoles);
    expect(counted('provider_staff')).toBe(result.providerStaff);
    expect(counted('application_events')).toBe(0);
    expect(Object.values(result.byStatus).reduce((a, b) => a + b, 0)).toBe(2000);
    expect(sqlite.pragma('foreign_key_check')).toEqual([]);
  });

  it('has real regions with KATO codes and at least 5 providers in at least 3 regions', () => {
    const regions = sqlite.prepare('SELECT * FROM regions').all() as { kato: string; name_kk: string }[];
    expect(regions.length).toBeGreaterThanOrEqual(6);
    for (const kato of ['110000000', '150000000', '190000000', '230000000', '710000000', '750000000', '790000000']) {
      expect(regions.some((r) => r.kato === kato)).toBe(true);
    }
    const used = sqlite
      .prepare(
        'SELECT count(DISTINCT a.provider_id) AS providers, count(DISTINCT p.region_kato) AS regions FROM applications a JOIN providers p ON p.id = a.provider_id',
      )
      .get() as { providers: number; regions: number };
    expect(used.providers).toBeGreaterThanOrEqual(5);
    expect(used.regions).toBeGreaterThanOrEqual(3);
    const bins = sqlite.prepare('SELECT bin FROM providers').all() as { bin: string }[];
    expect(bins.length).toBeGreaterThanOrEqual(6);
    for (const { bin } of bins) expect(isValidBin(bin)).toBe(true);
  });

  it('gives every applicant a valid IIN that matches the age and, where the patronymic tells, the sex', () => {
    let sexChecked = 0;
    for (const a of apps) {
      expect(isValidIin(a.applicant_iin), a.applicant_iin).toBe(true);
      const info = parseIin(a.applicant_iin);
      const age = (a.submitted_at - Date.parse(info?.birthDate ?? '')) / (365.25 * DAY);
      expect(age).toBeGreaterThanOrEqual(17.9);
      expect(age).toBeLessThan(70);
      const last = a.applicant_name.split(' ').at(-1) ?? '';
      const sex = /(вич|ұлы|uly)$/i.test(last) ? 'male' : /(вна|қызы|kyzy)$/i.test(last) ? 'female' : null;
      if (sex) {
        expect(info?.sex, a.applicant_name).toBe(sex);
        sexChecked++;
      }
    }
    expect(sexChecked).toBeGreaterThan(1500);
  });

  it('has every status, with decisions consistent with them', () => {
    const statuses = new Set(apps.map((a) => a.status));
    for (const s of STATUSES) expect(statuses.has(s), s).toBe(true);
    for (const a of apps) {
      if (a.status === 'received' || a.status === 'in_processing' || a.status === 'external_processing') {
        expect(a.decision, a.status).toBe('none');
      }
      if (a.status === 'on_signing' || a.status === 'completed') {
        expect(['positive', 'negative']).toContain(a.decision);
      }
      if (a.decision === 'negative') {
        expect(a.refusal_reason_code).toBeTruthy();
        expect(a.refusal_text).toBeTruthy();
      } else {
        expect(a.refusal_reason_code).toBeNull();
        expect(a.refusal_text).toBeNull();
      }
    }
    // Plausible proportions: most are completed, a visible share is still open.
    const completed = apps.filter((a) => a.status === 'completed').length;
    expect(completed / apps.length).toBeGreaterThan(0.75);
    expect(completed / apps.length).toBeLessThan(0.97);
    const decisions = new Set(apps.map((a) => a.decision));
    expect([...decisions].sort()).toEqual(['negative', 'none', 'positive']);
  });

  it('assigns a responsible active executor of the provider to all but most received ones', () => {
    const executors = new Set(
      (
        sqlite
          .prepare(
            `SELECT s.provider_id || '/' || s.user_id AS k FROM provider_staff s
             JOIN user_roles r ON r.user_id = s.user_id AND r.provider_id = s.provider_id AND r.role = 'executor'
             WHERE s.active = 1`,
          )
          .all() as { k: string }[]
      ).map((r) => r.k),
    );
    let receivedUnassigned = 0;
    let received = 0;
    for (const a of apps) {
      if (a.status === 'received') {
        received++;
        if (a.responsible_user_id === null) receivedUnassigned++;
      } else {
        expect(a.responsible_user_id).not.toBeNull();
      }
      if (a.responsible_user_id !== null) {
        expect(executors.has(`${a.provider_id}/${a.responsible_user_id}`)).toBe(true);
      }
    }
    expect(receivedUnassigned).toBeGreaterThan(received / 2);
  });

  it('numbers applications uniquely per provider as seq-dd-mm-yy of the submission day', () => {
    const seen = new Set<string>();
    for (const a of apps) {
      const key = `${a.provider_id}/${a.number}`;
      expect(seen.has(key)).toBe(false);
      seen.add(key);
      const local = new Date(a.submitted_at + 5 * 3_600_000);
      const dd = String(local.getUTCDate()).padStart(2, '0');
      const mm = String(local.getUTCMonth() + 1).padStart(2, '0');
      const yy = String(local.getUTCFullYear() % 100).padStart(2, '0');
      expect(a.number).toMatch(new RegExp(`^\\d+-${dd}-${mm}-${yy}$`));
    }
  });

  it('uses all channels, with 14-digit portal numbers except for the office', () => {
    expect(new Set(apps.map((a) => a.channel))).toEqual(new Set(['office', 'centre', 'portal']));
    const portalNumbers = new Set<string>();
    for (const a of apps) {
      if (a.channel === 'office') {
        expect(a.portal_number).toBeNull();
      } else {
        expect(a.portal_number).toMatch(/^\d{14}$/);
        portalNumbers.add(a.portal_number ?? '');
      }
    }
    expect(portalNumbers.size).toBe(apps.filter((a) => a.channel !== 'office').length);
  });

  it('covers the five services, each at a provider that offers it, with BINs only for business services', () => {
    const services = new Set(apps.map((a) => a.service_code));
    expect([...services].sort()).toEqual([
      'education-document-duplicate',
      'grant-small-business',
      'home-schooling-compensation',
      'industrial-infrastructure',
      'unemployed-certificate',
    ]);
    const byProvider = new Map<string, Set<string>>();
    for (const a of apps) {
      const set = byProvider.get(a.provider_id) ?? new Set<string>();
      set.add(a.service_code);
      byProvider.set(a.provider_id, set);
    }
    for (const set of byProvider.values()) expect(set.size).toBeLessThanOrEqual(2);
    let withBin = 0;
    for (const a of apps) {
      if (a.applicant_bin !== null) {
        withBin++;
        expect(isValidBin(a.applicant_bin)).toBe(true);
        expect(['grant-small-business', 'industrial-infrastructure']).toContain(a.service_code);
      }
    }
    expect(withBin).toBeGreaterThan(50);
  });

  it('has Kazakh and Russian names, folded for search', () => {
    expect(apps.some((a) => /[әқөұүіңғ]/i.test(a.applicant_name))).toBe(true);
    for (const letter of ['ә', 'қ', 'ө', 'ұ', 'ү', 'і', 'ң', 'ғ']) {
      expect(
        apps.some((a) => a.applicant_name.toLowerCase().includes(letter)),
        letter,
      ).toBe(true);
    }
    expect(apps.some((a) => a.applicant_name.includes('ё'))).toBe(true);
    expect(apps.some((a) => /вич$/.test(a.applicant_name))).toBe(true);
    for (const a of apps) expect(a.applicant_name_norm).toBe(foldForSearch(a.applicant_name));
    const hit = sqlite
      .prepare('SELECT count(*) AS n FROM applications WHERE applicant_name_norm LIKE ?')
      .get(`%${foldForSearch('абдигаппаров')}%`) as { n: number };
    expect(hit.n).toBeGreaterThan(0);
  });

  it('keeps times plausible: 18 months back, status change after submission, deadlines for open ones', () => {
    for (const a of apps) {
      expect(a.submitted_at).toBeLessThan(NOW);
      expect(a.submitted_at).toBeGreaterThan(NOW - 560 * DAY);
      expect(a.status_changed_at).toBeGreaterThan(a.submitted_at);
      expect(a.status_changed_at).toBeLessThanOrEqual(NOW);
      const open = a.status === 'received' || a.status === 'in_processing' || a.status === 'on_signing';
      if (open) {
        expect(a.due_at).not.toBeNull();
        expect(a.due_at ?? 0).toBeGreaterThan(a.status_changed_at);
        expect(a.current_step).toBeTruthy();
      } else {
        // Completed ones have no step; waiting on an external system has no catalogue step either.
        expect(a.due_at).toBeNull();
        expect(a.current_step).toBeNull();
      }
      expect(a.version).toBe(1);
      expect(a.created_at).toBe(a.submitted_at);
      const form = JSON.parse(a.form_data) as Record<string, unknown>;
      expect(typeof form.phone).toBe('string');
      expect(typeof form.address).toBe('string');
      if (a.service_code === 'home-schooling-compensation') expect(isValidIin(String(form.childIin))).toBe(true);
    }
    const oldest = Math.min(...apps.map((a) => a.submitted_at));
    expect(oldest).toBeLessThan(NOW - 500 * DAY);
  });

  it("follows the catalogue: the service's channels, steps for the channel, deadlines and refusal reasons", () => {
    for (const a of apps) {
      const service = BY_CODE.get(a.service_code);
      expect(service, a.service_code).toBeDefined();
      if (!service) continue;
      expect(service.channels, a.service_code).toContain(a.channel);
      if (a.current_step !== null) {
        const step = service.steps.find((s) => s.code === a.current_step);
        expect(
          step?.code,
          `${a.service_code}: ${a.current_step} not in ${service.steps.map((s) => s.code).join(', ')}`,
        ).toBe(a.current_step);
        if (step?.channels) expect(step.channels, `${a.current_step} by ${a.channel}`).toContain(a.channel);
        // The deadline follows the working calendar (holidays, moved days off, working hours 09:00–18:00).
        const limit = step?.limit;
        const due = a.due_at ?? 0;
        if (limit?.unit === 'minutes') {
          expect(due - a.status_changed_at).toBeGreaterThanOrEqual(limit.value * 60_000);
          expect(CALENDAR.isWorkingDay(due)).toBe(true);
        }
        if (limit?.unit === 'working_days') {
          expect((due + 5 * 3_600_000) % DAY).toBe(18 * 3_600_000);
          expect(CALENDAR.isWorkingDay(due)).toBe(true);
          expect(CALENDAR.daysWaiting(a.status_changed_at, due)).toBe(limit.value);
        }
      }
      if (a.refusal_reason_code !== null) {
        const reason = service.refusalReasons.find((r) => r.code === a.refusal_reason_code);
        expect(reason?.code, `${a.service_code}: ${a.refusal_reason_code}`).toBe(a.refusal_reason_code);
        expect([reason?.text.kk, reason?.text.ru]).toContain(a.refusal_text);
      }
      if (a.decision === 'negative') expect(a.refusal_reason_code).not.toBeNull();
      if (a.decision === 'positive') {
        expect(a.refusal_reason_code).toBeNull();
        expect(a.refusal_text).toBeNull();
      }
    }
    const stepsOf = (status: string) => new Set(apps.filter((a) => a.status === status).map((a) => a.current_step));
    expect(stepsOf('received')).toEqual(
      new Set([
        'head-assign',
        'head-review',
        'executor-process',
        'executor-review',
        'executor-check',
        'executor-prepare',
      ]),
    );
    // Collegial steps appear for the services that have one.
    expect(apps.some((a) => a.status === 'in_processing' && a.current_step === 'commission-decision')).toBe(true);
    expect(stepsOf('on_signing')).toEqual(new Set(['head-sign']));
  });

  it("fills the form with the service definition's fields, each value one the workflow accepts", () => {
    const extra = new Set(['address', 'organization', 'childName']); // also read by the server's look-ups
    let decidedWithResult = 0;
    for (const a of apps) {
      const def = BY_CODE.get(a.service_code)!;
      const form = JSON.parse(a.form_data) as Record<string, unknown>;
      const fields = new Map<string, FormField>();
      for (const s of def.sections) for (const f of s.fields) fields.set(f.code, f);
      for (const step of def.steps) for (const f of step.protocol?.fields ?? []) fields.set(f.code, f);
      for (const [code, value] of Object.entries(form)) {
        if (extra.has(code)) continue;
        const field = fields.get(code);
        expect(field, `${a.service_code}: ${code}`).toBeDefined();
        if (!field) continue;
        if (field.type === 'file') {
          expect(typeof value, code).toBe('string');
          continue;
        }
        expect(checkValue(field, value as FieldValue), `${a.service_code}: ${code} = ${String(value)}`).toEqual({
          ok: true,
          value,
        });
        if (typeof value === 'string' && field.maxLength) expect(value.length).toBeLessThanOrEqual(field.maxLength);
      }
      // Every required field of the intake sections is filled; the applicant is the row's applicant.
      for (const s of def.sections.filter((x) => x.stage === 'intake'))
        for (const f of s.fields.filter((x) => x.required))
          expect(form[f.code], `${a.service_code}: ${f.code}`).toBeDefined();
      expect(form.applicantIin).toBe(a.applicant_iin);
      if (a.applicant_bin) expect(form.applicantBin).toBe(a.applicant_bin);
      if (typeof form.iban === 'string') expect(isValidIban(form.iban)).toBe(true);
      // A decided application: the executor's required fields (processing, result, the collegial protocol) too.
      const decided = a.decision !== 'none' && (a.status === 'on_signing' || a.status.startsWith('completed'));
      if (decided) {
        decidedWithResult++;
        const service = SERVICES.find((x) => x.code === a.service_code)!;
        expect(missingRequired(form, executorFields(service)), `${a.number}`).toEqual([]);
        for (const step of service.steps.filter((x) => x.protocol))
          expect(missingRequired(form, step.protocol!.fields), `${a.number}`).toEqual([]);
      } else if (a.status === 'received') {
        expect(form.documentsCheck).toBeUndefined();
        expect(form.resultNumber).toBeUndefined();
      }
    }
    expect(decidedWithResult).toBeGreaterThan(500);
  });

  it('makes IBANs with valid check digits', () => {
    expect(makeIban('601', '0000000000001')).toMatch(/^KZ\d{2}6010000000000001$/);
    expect(isValidIban(makeIban('722', '1234567890123'))).toBe(true);
    expect(isValidIban('KZ00722123456789012' + '3')).toBe(false);
    expect(isValidIban('KZ86125KZT5004100100')).toBe(true); // a published example
  });

  it('files applications only for the services given, and needs one it knows', () => {
    const db = emptyDatabase();
    const only = SERVICES.filter((s) => s.code === 'industrial-infrastructure');
    generateDemo(db, { applications: 2000, seed: 3, now: NOW, services: only });
    const rows = db.prepare('SELECT DISTINCT service_code, channel FROM applications').all();
    // No head step after the executor's in this service: on signing, it sits at the executor's last step.
    const signing = db
      .prepare("SELECT DISTINCT current_step AS step FROM applications WHERE status = 'on_signing'")
      .all();
    expect(signing).toEqual([{ step: 'executor-issue' }]);
    expect(new Set(rows.map((r) => (r as { service_code: string }).service_code))).toEqual(
      new Set(['industrial-infrastructure']),
    );
    expect(new Set(rows.map((r) => (r as { channel: string }).channel))).toEqual(new Set(['office', 'portal']));
    expect(() => generateDemo(emptyDatabase(), { applications: 1, seed: 3, now: NOW, services: [] })).toThrow(
      /needs at least one of the services/,
    );
  });

  it('has staff with roles: per provider a clerk, a head and 2–3 executors; centre operator, monitoring, admin', () => {
    const roles = sqlite.prepare('SELECT user_id, role, provider_id FROM user_roles').all() as {
      user_id: string;
      role: string;
      provider_id: string;
    }[];
    const providers = sqlite.prepare('SELECT id FROM providers').all() as { id: string }[];
    for (const { id } of providers) {
      const of = (role: string) => roles.filter((r) => r.provider_id === id && r.role === role).length;
      expect(of('clerk')).toBeGreaterThanOrEqual(1);
      expect(of('head')).toBe(1);
      expect(of('executor')).toBeGreaterThanOrEqual(2);
    }
    for (const role of ['operator', 'monitoring', 'admin']) {
      expect(roles.some((r) => r.role === role && r.provider_id === '')).toBe(true);
    }
    const users = sqlite.prepare('SELECT * FROM users').all() as {
      id: string;
      login: string;
      iin: string;
      full_name: string;
      password_hash: string | null;
      position_kk: string | null;
      position_ru: string | null;
    }[];
    for (const u of users) {
      expect(isValidIin(u.iin), u.full_name).toBe(true);
      expect(u.password_hash).toBeNull();
      expect(u.position_kk).toBeTruthy();
      expect(u.position_ru).toBeTruthy();
      expect(u.full_name.split(' ').length).toBeGreaterThanOrEqual(2);
      expect(u.login).toMatch(/^[a-z.0-9]+$/);
    }
  });

  it('has the well-known head.demo: head and admin of the first provider', () => {
    const head = sqlite.prepare('SELECT * FROM users WHERE login = ?').get('head.demo') as
      { id: string; full_name: string } | undefined;
    expect(head?.id).toBe(DEMO_USERS.head.id);
    expect(head?.id).toBe('user-head-demo');
    const roles = sqlite
      .prepare('SELECT role, provider_id FROM user_roles WHERE user_id = ? ORDER BY role')
      .all(head?.id);
    expect(roles).toEqual([
      { role: 'admin', provider_id: 'prov-astana-employment' },
      { role: 'head', provider_id: 'prov-astana-employment' },
    ]);
    const own = apps.filter((a) => a.provider_id === 'prov-astana-employment');
    expect(own.length).toBeGreaterThan(100);
    for (const login of Object.values(DEMO_USERS).map((u) => u.login)) {
      expect(sqlite.prepare('SELECT 1 FROM users WHERE login = ?').get(login), login).toBeTruthy();
    }
  });

  it('is deterministic for a seed and a now', () => {
    const again = emptyDatabase();
    // The same services in another order give the same rows.
    const reversed = [...SERVICES].reverse();
    generateDemo(again, {
      applications: 2000,
      seed: SEED,
      now: NOW,
      services: reversed,
      batchSize: 333,
      calendar: CALENDAR,
    });
    expect(dump(again)).toEqual(dump(sqlite));
    const other = emptyDatabase();
    generateDemo(other, { applications: 2000, seed: SEED + 1, now: NOW, services: SERVICES });
    expect((dump(other).applications ?? []).slice(0, 20)).not.toEqual((dump(sqlite).applications ?? []).slice(0, 20));
  });

  it('refuses a database that already has data', () => {
    expect(() => generateDemo(sqlite, { applications: 1, seed: SEED, now: NOW, services: SERVICES })).toThrow(
      /empty database/,
    );
  });

  it('writes one received event per application when asked', () => {
    const db = emptyDatabase();
    const r = generateDemo(db, { applications: 300, seed: 7, now: NOW, events: true, services: SERVICES });
    expect(r.events).toBe(300);
    const rows = db
      .prepare(
        `SELECT e.*, a.submitted_at, a.channel FROM application_events e JOIN applications a ON a.id = e.application_id`,
      )
      .all() as {
      seq: number;
      action: string;
      to_status: string;
      prev_hash: string;
      hash: string;
      at: number;
      submitted_at: number;
      channel: string;
      actor_user_id: string | null;
    }[];
    expect(rows).toHaveLength(300);
    for (const e of rows) {
      expect(e.seq).toBe(1);
      expect(e.action).toBe('received');
      expect(e.to_status).toBe('received');
      expect(e.prev_hash).toBe('');
      expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
      expect(e.at).toBe(e.submitted_at);
      expect(e.actor_user_id === null).toBe(e.channel === 'portal');
    }
  });
});
