/**
 * Loading the output document templates at start: every `*.json` of
 * `resources/documents`, each validated on its own (a bad file is reported
 * and skipped), codes unique.
 */
import { parseDataFile, readDataFolder, type DataFileProblem, type Parsed } from './data-files.js';
import { documentTemplate, type DocumentTemplate } from '../documents/template.js';

export interface LoadedTemplates {
  /** Valid templates, in the order of their file names. */
  templates: DocumentTemplate[];
  problems: DataFileProblem[];
}

export function parseTemplateFile(file: string, text: string): Parsed<DocumentTemplate> {
  return parseDataFile(file, text, documentTemplate);
}

export function loadDocumentTemplates(dir: string): LoadedTemplates {
  const { files, problems } = readDataFolder(
    dir,
    parseTemplateFile,
    (reason) => `Cannot read the document templates folder: ${reason}`,
  );
  const templates: DocumentTemplate[] = [];
  const seen = new Map<string, string>();
  for (const { name, data } of files) {
    const earlier = seen.get(data.code);
    if (earlier !== undefined) {
      problems.push({
        file: name,
        field: 'code',
        message: `Duplicate template code "${data.code}" (already defined in ${earlier}); this file is skipped`,
      });
      continue;
    }
    seen.set(data.code, name);
    templates.push(data);
  }
  return { templates, problems };
}
