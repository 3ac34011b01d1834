/**
 * The regions of the monitoring report: the first level of the national
 * classifier of administrative-territorial objects (КАТО), as data in
 * `resources/regions/kato.json` (loaded by core/node/region-loader.ts). The
 * file names its source; each entry has the 9-digit code and kk/ru/en names.
 */
import { z } from 'zod';

export const regionEntry = z.strictObject({
  /** The region's KATO code: two digits of the region, seven zeros (e.g. Akmola 110000000). */
  kato: z.string().regex(/^\d{2}0{7}$/, 'Expected a first-level KATO code: 2 digits and 7 zeros'),
  /** A region (облыс) or a city of republican significance. */
  kind: z.enum(['region', 'city']),
  nameKk: z.string().trim().min(1),
  nameRu: z.string().trim().min(1),
  nameEn: z.string().trim().min(1),
});
export type RegionEntry = z.infer<typeof regionEntry>;

export const regionFile = z
  .strictObject({
    /** Where the codes come from (the classifier and its publisher). */
    source: z.string().trim().min(1),
    /** The classifier's state the list follows (YYYY-MM-DD). */
    asOf: z.iso.date(),
    regions: z.array(regionEntry).min(1),
  })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    file.regions.forEach((r, i) => {
      if (seen.has(r.kato)) ctx.addIssue({ code: 'custom', path: ['regions', i, 'kato'], message: 'Duplicate code' });
      seen.add(r.kato);
    });
  });
export type RegionFile = z.infer<typeof regionFile>;
