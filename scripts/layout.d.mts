// The types of layout.mjs (plain JavaScript so that eslint.config.js can import it).
type Folder = 'core' | 'signing' | 'db' | 'demo' | 'main' | 'server' | 'preload' | 'renderer';
type FreeFolder = 'integration' | 'e2e' | 'scripts' | 'bench';

export const MAY_IMPORT: Record<Folder, Folder[]>;
export const FREE: FreeFolder[];
export const NEVER_LOADS: Partial<
  Record<Folder, { folders: (Folder | FreeFolder)[]; packages: string[]; nodeBuiltins: boolean }>
>;
export const FOLDERS: (Folder | FreeFolder)[];
export function forbiddenFolders(folder: string): (Folder | FreeFolder)[];
