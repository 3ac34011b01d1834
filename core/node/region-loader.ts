/**
 * Loading the classifier's regions (`resources/regions/kato.json`) for the
 * monitoring report. A bad file is reported (file, field, message) and the
 * report then names regions by their codes alone.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { errorText, FILE_FIELD, parseDataFile, type DataFileProblem } from './data-files.js';
import { regionFile, type RegionEntry } from '../monitoring/regions.js';

export interface LoadedRegions {
  /** In the file's order (by KATO code). */
  regions: RegionEntry[];
  source: string | null;
  problems: DataFileProblem[];
}

/** Reads `kato.json` in `dir` (resources/regions). */
export function loadRegions(dir: string): LoadedRegions {
  const path = join(dir, 'kato.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return {
      regions: [],
      source: null,
      problems: [{ file: basename(path), field: FILE_FIELD, message: `Cannot read the file: ${errorText(err)}` }],
    };
  }
  const parsed = parseDataFile(basename(path), text, regionFile);
  if (!parsed.ok) return { regions: [], source: null, problems: parsed.problems };
  return { regions: parsed.data.regions, source: parsed.data.source, problems: [] };
}
