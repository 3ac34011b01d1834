/**
 * The classifier's regions as shipped (resources/regions/kato.json): 17
 * regions and 3 cities of republican significance as of 2022, the demo's
 * codes among them, and a broken file reported instead of loaded.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegions } from './region-loader.js';

const SHIPPED = join(import.meta.dirname, '..', '..', 'resources', 'regions');

describe('loadRegions', () => {
  it('loads every current region and city of republican significance, with its source named', () => {
    const { regions, source, problems } = loadRegions(SHIPPED);
    expect(problems).toEqual([]);
    expect(source).toMatch(/КАТО/);
    expect(regions.filter((r) => r.kind === 'region')).toHaveLength(17);
    expect(regions.filter((r) => r.kind === 'city').map((r) => r.nameEn)).toEqual([
      'Astana City',
      'Almaty City',
      'Shymkent City',
    ]);
    const codes = regions.map((r) => r.kato);
    for (const name of ['Abai Region', 'Jetisu Region', 'Ulytau Region', 'Turkistan Region']) {
      expect(regions.map((r) => r.nameEn)).toContain(name);
    }
    expect([...codes].sort()).toEqual(codes);
    // The codes the demo and the seed use (e.g. Akmola 110000000, Aktobe 150000000) keep their names.
    expect(regions.find((r) => r.kato === '110000000')?.nameRu).toBe('Акмолинская область');
    expect(regions.find((r) => r.kato === '150000000')?.nameRu).toBe('Актюбинская область');
    expect(regions.find((r) => r.kato === '710000000')?.nameKk).toBe('Астана қаласы');
  });

  it('reports a broken file (field and message) and loads nothing from it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'qyzmet-regions-'));
    try {
      writeFileSync(
        join(dir, 'kato.json'),
        JSON.stringify({
          source: 'x',
          asOf: '2022-06-08',
          regions: [{ kato: '11', kind: 'region', nameKk: 'a', nameRu: 'b', nameEn: 'c' }],
        }),
      );
      const loaded = loadRegions(dir);
      expect(loaded.regions).toEqual([]);
      expect(loaded.problems[0]).toMatchObject({ file: 'kato.json', field: 'regions.0.kato' });
      expect(loadRegions(join(dir, 'missing')).problems[0]?.field).toBe('(file)');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
