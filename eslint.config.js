// One linter for the whole repository. Besides the usual rules it enforces
// the layout (scripts/layout.mjs): each folder imports only the folders it
// may, through their aliases, never by a relative path out of itself; only
// main/shell (and the preload) import 'electron'; no Node in the renderer.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { FOLDERS, FREE, forbiddenFolders } from './scripts/layout.mjs';

const NODE_BUILTINS = [
  'fs',
  'path',
  'os',
  'child_process',
  'crypto',
  'http',
  'https',
  'net',
  'url',
  'util',
  'worker_threads',
];

const ELECTRON_ALLOWED = ['main/shell/**', 'preload/index.ts', 'scripts/start-electron.ts'];
const CODE = '**/*.{ts,tsx,mts,js,mjs}';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'release/**',
      'node_modules/**',
      'db/migrations/**',
      'test-results/**',
      'playwright-report/**',
      '.data/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
    },
  },
  ...layoutRules(),
);

/**
 * `no-restricted-imports` for every folder at every depth (a flat config's later entry replaces the rule's options,
 * so each entry carries all of them): the aliases of folders it may not import, relative paths that leave the
 * folder, 'electron' outside the shell, Node in the renderer.
 */
function layoutRules() {
  const electron = {
    name: 'electron',
    message: "Only main/shell and the preload import 'electron'; services run in plain Node.",
  };
  const entries = [];
  for (const folder of FOLDERS) {
    for (let depth = 1; depth <= 6; depth++) {
      const here = `${folder}/${'*/'.repeat(depth - 1)}${CODE}`.replace('/**/', '/');
      const patterns = FREE.includes(folder)
        ? []
        : [
            {
              regex: `^(\\.\\./){${depth},}`,
              message: `Another folder is reached through its alias (#folder/...), not by a relative path out of ${folder}/.`,
            },
          ];
      const forbidden = forbiddenFolders(folder);
      if (forbidden.length > 0)
        patterns.push({
          regex: `^#(${forbidden.join('|')})/`,
          message: `${folder}/ may not import this (scripts/layout.mjs).`,
        });
      if (folder === 'renderer')
        patterns.push({ group: ['node:*', ...NODE_BUILTINS], message: 'No Node in the renderer.' });
      entries.push({ files: [here], rules: { 'no-restricted-imports': ['error', { paths: [electron], patterns }] } });
      entries.push({
        files: ELECTRON_ALLOWED.map((g) => [here, g]),
        rules: { 'no-restricted-imports': ['error', { patterns }] },
      });
    }
  }
  return entries;
}
