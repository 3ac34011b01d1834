import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { services as servicesTable } from '#db/schema.js';
import { loadCatalogue, syncCatalogueToDb } from './catalogue-loader.js';
import { serviceDefinition, type ServiceDefinition } from '../catalogue/schema.js';

const CATALOGUE_DIR = fileURLToPath(new URL('../../resources/services', import.meta.url));

const EXPECTED_CODES = [
  'education-document-duplicate',
  'grant-small-business',
  'home-schooling-compensation',
  'industrial-infrastructure',
  'unemployed-certificate',
];

/** The same table as `services` in db/schema.ts (db/migrations/0000_initial.sql). */
const CREATE_SERVICES = `
CREATE TABLE services (
  code text PRIMARY KEY NOT NULL,
  version integer NOT NULL,
  name_kk text NOT NULL,
  name_ru text NOT NULL,
  name_en text NOT NULL,
  definition text NOT NULL,
  source_file text NOT NULL,
  loaded_at integer NOT NULL
)`;

/** A small valid definition to build test files from. */
function minimalService(code: string): ServiceDefinition {
  const t = (en: string) => ({ kk: `${en} kk`, ru: `${en} ru`, en });
  return {
    code,
    version: 1,
    name: t(`Service ${code}`),
    providerKind: { code: 'local-executive-body', name: t('Local executive body') },
    channels: ['office', 'portal'],
    sections: [
      {
        code: 'applicant',
        title: t('Applicant'),
        stage: 'intake',
        fields: [{ code: 'applicantIin', label: t('IIN'), type: 'iin', required: true }],
      },
    ],
    documents: [{ code: 'application', name: t('Application'), required: true, form: 'original' }],
    steps: [
      { code: 'clerk-register', role: 'clerk', name: t('Register'), limit: { unit: 'minutes', value: 20 } },
      { code: 'head-review', role: 'head', name: t('Review'), limit: { unit: 'minutes', value: 20 } },
      { code: 'executor-check', role: 'executor', name: t('Check'), limit: { unit: 'working_days', value: 5 } },
    ],
    results: [
      { code: 'certificate', kind: 'positive', name: t('Certificate') },
      { code: 'reasoned-refusal', kind: 'negative', name: t('Refusal') },
    ],
    refusalReasons: [{ code: 'documents-mismatch', text: t('Documents do not match') }],
    source: { documents: [{ seed: '001', file: '001_test.txt', title: 'Test', parts: 'Item 5' }] },
  };
}

describe('the real catalogue (resources/services)', () => {
  const loaded = loadCatalogue(CATALOGUE_DIR);

  it('loads with zero problems', () => {
    expect(loaded.problems).toEqual([]);
  });

  it('has the five services, each with names in three languages and at least one step', () => {
    const codes = loaded.services.map((s) => s.code);
    for (const code of EXPECTED_CODES) expect(codes).toContain(code);
    for (const service of loaded.services) {
      expect(service.name.kk.trim()).not.toBe('');
      expect(service.name.ru.trim()).not.toBe('');
      expect(service.name.en.trim()).not.toBe('');
      expect(service.steps.length).toBeGreaterThan(0);
      expect(loaded.sourceFiles[service.code]).toBe(`${service.code}.json`);
    }
  });

  it('carries the step limits of the seeds', () => {
    const byCode = new Map(loaded.services.map((s) => [s.code, s]));
    const grant = byCode.get('grant-small-business');
    const commission = grant?.steps.find((s) => s.collegial);
    expect(commission?.role).toBe('commission');
    expect(commission?.limit).toEqual({ unit: 'working_days', value: 10 });
    const protocolFields = commission?.protocol?.fields.map((f) => f.type) ?? [];
    expect(protocolFields).toContain('date');

    const council = byCode.get('industrial-infrastructure')?.steps.find((s) => s.collegial);
    expect(council?.limit).toEqual({ unit: 'working_days', value: 5 });

    const unemployed = byCode.get('unemployed-certificate');
    expect(unemployed?.steps.every((s) => s.limit.unit === 'minutes')).toBe(true);

    const homeSchooling = byCode.get('home-schooling-compensation');
    const executor = homeSchooling?.steps.find((s) => s.role === 'executor');
    expect(executor?.limit).toEqual({ unit: 'working_days', value: 6 });
  });
});

describe('loadCatalogue on a temporary folder', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'qyzmet-catalogue-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, content: unknown) =>
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  it('loads the good file and reports the bad ones by file and field', () => {
    write('a-good.json', minimalService('good-service'));
    const bad = minimalService('bad-service');
    const wrong: unknown = JSON.parse(JSON.stringify(bad));
    (wrong as { steps: { limit: { unit: string } }[] }).steps[2]!.limit.unit = 'hours';
    write('b-bad-unit.json', wrong);
    write('c-not-json.json', '{ "code": "broken", ');
    write('notes.txt', 'not part of the catalogue');

    const { services, problems } = loadCatalogue(dir);

    expect(services.map((s) => s.code)).toEqual(['good-service']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatchObject({ file: 'b-bad-unit.json', field: 'steps.2.limit.unit' });
    expect(problems[0]!.message).toMatch(/minutes/);
    expect(problems[1]).toMatchObject({ file: 'c-not-json.json', field: '(file)' });
    expect(problems[1]!.message).toMatch(/^Not valid JSON/);
  });

  it('reports an unknown key with its own path', () => {
    const def = { ...minimalService('extra-key'), colour: 'green' };
    write('extra.json', def);
    const { services, problems } = loadCatalogue(dir);
    expect(services).toEqual([]);
    expect(problems).toEqual([{ file: 'extra.json', field: 'colour', message: 'Unknown field' }]);
  });

  it('skips the second file with the same service code', () => {
    write('first.json', minimalService('same-code'));
    write('second.json', { ...minimalService('same-code'), version: 2 });
    const { services, problems, sourceFiles } = loadCatalogue(dir);
    expect(services).toHaveLength(1);
    expect(services[0]!.version).toBe(1);
    expect(sourceFiles).toEqual({ 'same-code': 'first.json' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: 'second.json', field: 'code' });
    expect(problems[0]!.message).toContain('first.json');
  });

  it('reports a missing folder', () => {
    const { services, problems } = loadCatalogue(join(dir, 'missing'));
    expect(services).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ file: 'missing', field: '(folder)' })]);
  });
});

describe('serviceDefinition cross-field checks', () => {
  const pathsOf = (input: unknown): string[] => {
    const parsed = serviceDefinition.safeParse(input);
    return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join('.'));
  };

  it('accepts the minimal definition', () => {
    expect(pathsOf(minimalService('ok'))).toEqual([]);
  });

  it('rejects duplicate codes of steps, documents, refusal reasons and fields', () => {
    const def = minimalService('dups');
    def.steps.push({ ...def.steps[0]! });
    def.documents.push({ ...def.documents[0]! });
    def.refusalReasons.push({ ...def.refusalReasons[0]! });
    def.sections.push({ ...def.sections[0]!, code: 'applicant-2' });
    def.sections.push({ ...def.sections[0]! });
    expect(pathsOf(def)).toEqual(
      expect.arrayContaining([
        'steps.3.code',
        'documents.1.code',
        'refusalReasons.1.code',
        'sections.2.code',
        'sections.1.fields.0.code',
      ]),
    );
  });

  it('needs a positive and a negative result', () => {
    const def = minimalService('results');
    def.results = [def.results[0]!, { ...def.results[0]!, code: 'another' }];
    expect(pathsOf(def)).toEqual(['results']);
  });

  it('needs a positive integer limit', () => {
    const def = minimalService('limits');
    def.steps[0]!.limit.value = 0;
    def.steps[1]!.limit.value = 1.5;
    expect(pathsOf(def)).toEqual(['steps.0.limit.value', 'steps.1.limit.value']);
  });

  it('ties collegial steps to a protocol and select fields to options', () => {
    const def = minimalService('collegial');
    def.steps.push({
      code: 'commission',
      role: 'commission',
      name: def.steps[0]!.name,
      limit: { unit: 'working_days', value: 10 },
      collegial: true,
    });
    def.sections[0]!.fields.push({ code: 'kind', label: def.name, type: 'select', required: true });
    expect(pathsOf(def)).toEqual(['sections.0.fields.1.options', 'steps.3.protocol']);
  });
});

describe('syncCatalogueToDb', () => {
  it('upserts the definitions into the services table and reads them back', () => {
    const sqlite = new Database(':memory:');
    try {
      sqlite.exec(CREATE_SERVICES);
      const db = drizzle(sqlite);
      const { services, sourceFiles } = loadCatalogue(CATALOGUE_DIR);

      expect(syncCatalogueToDb(db, services, 1_700_000_000_000, sourceFiles)).toBe(services.length);
      const rows = db.select().from(servicesTable).all();
      expect(rows.map((r) => r.code).sort()).toEqual(services.map((s) => s.code).sort());
      const grant = rows.find((r) => r.code === 'grant-small-business');
      expect(grant).toMatchObject({
        version: 1,
        sourceFile: 'grant-small-business.json',
        loadedAt: 1_700_000_000_000,
      });
      const original = services.find((s) => s.code === 'grant-small-business');
      expect(grant?.nameKk).toBe(original?.name.kk);
      expect(grant?.definition).toEqual(original);
      // Stored as JSON text, readable by plain SQL too.
      const raw = sqlite.prepare("SELECT definition FROM services WHERE code = 'unemployed-certificate'").get() as {
        definition: string;
      };
      expect(serviceDefinition.parse(JSON.parse(raw.definition)).code).toBe('unemployed-certificate');

      // A second load updates in place: a new version replaces the row, nothing is duplicated.
      const bumped = services.map((s) => (s.code === 'grant-small-business' ? { ...s, version: 2 } : s));
      syncCatalogueToDb(db, bumped, 1_700_000_100_000);
      const after = db.select().from(servicesTable).all();
      expect(after).toHaveLength(services.length);
      const grantAfter = after.find((r) => r.code === 'grant-small-business');
      expect(grantAfter).toMatchObject({ version: 2, loadedAt: 1_700_000_100_000 });
      expect(grantAfter?.sourceFile).toBe('grant-small-business.json');
    } finally {
      sqlite.close();
    }
  });

  it('writes nothing when a row fails (one transaction)', () => {
    const sqlite = new Database(':memory:');
    try {
      // name_en may not be empty here, so the second row fails half-way.
      sqlite.exec(CREATE_SERVICES.replace('name_en text NOT NULL', "name_en text NOT NULL CHECK (name_en <> 'fail')"));
      const db = drizzle(sqlite);
      const a = minimalService('first-ok');
      const b = minimalService('second-fails');
      b.name.en = 'fail';
      expect(() => syncCatalogueToDb(db, [a, b], 1)).toThrow();
      expect(db.select().from(servicesTable).all()).toEqual([]);
    } finally {
      sqlite.close();
    }
  });
});

it('the catalogue files are formatted JSON with a trailing newline', () => {
  for (const code of EXPECTED_CODES) {
    const text = readFileSync(join(CATALOGUE_DIR, `${code}.json`), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ code });
  }
});
