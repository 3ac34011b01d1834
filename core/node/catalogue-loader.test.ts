import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue-loader.js';
import { serviceDefinition } from '../catalogue/schema.js';
import { minimalService } from '../testing.js';

const CATALOGUE_DIR = fileURLToPath(new URL('../../resources/services', import.meta.url));

const EXPECTED_CODES = [
  'education-document-duplicate',
  'grant-small-business',
  'home-schooling-compensation',
  'industrial-infrastructure',
  'unemployed-certificate',
];

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

it('the catalogue files are formatted JSON with a trailing newline', () => {
  for (const code of EXPECTED_CODES) {
    const text = readFileSync(join(CATALOGUE_DIR, `${code}.json`), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toMatchObject({ code });
  }
});
