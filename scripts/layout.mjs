// The layout of the repository: which folder may import which. Every dependency runs one way; ESLint
// (eslint.config.js) refuses an import against it as it is typed, and the architecture test
// (scripts/architecture.test.ts) checks the whole tree, relative paths and what each side loads at run time included.
//
// A folder's code imports its own files, the folders named here, and packages. Another folder is reached through
// its alias (`#core/...`, package.json "imports"), never by a relative path out of the folder.

/** Folder → the project folders it may import. */
export const MAY_IMPORT = {
  // The domain: vocabulary, identity, catalogue schema, calendar, workflow rules, auth formats, the sync protocol.
  core: [],
  // The signer library: key files, PKCS#11, CMS, XMLDSig, certificates, trust, the CLI.
  signing: ['core'],
  // The workstation's SQLite schema, migrations, connection and integrity check.
  db: ['core'],
  // The demo data: generated from the core's rules; written into a workstation's database by its local part.
  demo: ['core', 'signing', 'db'],
  // The workstation's main process: services, composition root, rpc, shell, bridge.
  main: ['core', 'signing', 'db', 'demo', 'preload'],
  // The central server, with its own database code.
  server: ['core', 'signing', 'demo'],
  // The contract between renderer and main, and the preload.
  preload: ['core'],
  // The React app: the contract and the browser-safe part of core.
  renderer: ['preload', 'core'],
};

/** Folders that may import anything of the project: tests across systems, end-to-end runs, tools and benchmarks. */
export const FREE = ['integration', 'e2e', 'scripts', 'bench'];

/**
 * What a folder's code (tests aside) must not load at run time through any chain of imports, type-only imports
 * aside (checked on the import graph): the server never loads the workstation's database code, the domain no
 * database driver, the renderer never loads Node.
 */
export const NEVER_LOADS = {
  server: {
    folders: ['main', 'db', 'preload', 'renderer'],
    packages: ['better-sqlite3', 'drizzle-orm/better-sqlite3', 'electron'],
    nodeBuiltins: false,
  },
  // The domain holds no storage: neither side's database driver comes in with it.
  core: {
    folders: [],
    packages: ['better-sqlite3', 'drizzle-orm', 'pg', '@electric-sql/pglite', 'pkcs11js', 'electron'],
    nodeBuiltins: false,
  },
  renderer: {
    folders: ['main', 'db', 'server', 'signing', 'demo'],
    packages: ['electron'],
    nodeBuiltins: true,
  },
};

/** Every folder with code, for the aliases. */
export const FOLDERS = [...Object.keys(MAY_IMPORT), ...FREE];

/** The folders a folder may not import (none for the free ones). */
export function forbiddenFolders(folder) {
  const allowed = new Set([folder, ...(MAY_IMPORT[folder] ?? FOLDERS)]);
  return FOLDERS.filter((f) => !allowed.has(f));
}
