/**
 * Loading the service catalogue at start: every `*.json` of a folder
 * (`resources/services`) is parsed and validated against the schema. A bad
 * file is reported and skipped, the good ones load, so one broken definition
 * never takes the whole catalogue down.
 *
 * Problems are plain English for the administrator: the file's base name,
 * the path of the offending field (e.g. `steps.2.limit.unit`, or `(file)` when
 * the file cannot be read or is not JSON) and a message.
 *
 * Writing the definitions into the workstation's database is main's
 * (main/catalogue/store.ts); the central server keeps its own.
 */
import { parseDataFile, readDataFolder, type DataFileProblem, type Parsed } from './data-files.js';
import { serviceDefinition, type ServiceDefinition } from '../catalogue/schema.js';

export { FILE_FIELD, FOLDER_FIELD } from './data-files.js';
export type CatalogueProblem = DataFileProblem;

export interface LoadedCatalogue {
  /** Valid definitions, in the order of their file names. */
  services: ServiceDefinition[];
  problems: CatalogueProblem[];
  /** Base name of the file each loaded service came from, by service code. */
  sourceFiles: Record<string, string>;
}

/** Parses and validates one file's text. */
export function parseServiceFile(file: string, text: string): Parsed<ServiceDefinition> {
  return parseDataFile(file, text, serviceDefinition);
}

/** Reads every `*.json` in `dir` (sorted by name), validates each and keeps the good ones. */
export function loadCatalogue(dir: string): LoadedCatalogue {
  const { files, problems } = readDataFolder(
    dir,
    parseServiceFile,
    (reason) => `Cannot read the catalogue folder: ${reason}`,
  );
  const services: ServiceDefinition[] = [];
  const sourceFiles: Record<string, string> = {};
  for (const { name, data: service } of files) {
    const earlier = sourceFiles[service.code];
    if (earlier !== undefined) {
      problems.push({
        file: name,
        field: 'code',
        message: `Duplicate service code "${service.code}" (already defined in ${earlier}); this file is skipped`,
      });
      continue;
    }
    sourceFiles[service.code] = name;
    services.push(service);
  }
  return { services, problems, sourceFiles };
}
