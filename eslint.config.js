// One linter for the whole repository. Besides the usual rules it enforces
// the process boundaries: only main/shell (and the preload) may import
// 'electron', and the renderer imports nothing from main/, db/, server/ or Node.
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

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
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: "Only main/shell and the preload import 'electron'; services run in plain Node.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['main/shell/**', 'preload/index.ts', 'scripts/start-electron.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer reaches main only through the contract.' }],
          patterns: [
            {
              group: ['**/main/**', '**/db/**', '**/server/**'],
              message: 'The renderer reaches main only through the contract (preload/api.ts).',
            },
            { group: ['node:*', ...NODE_BUILTINS], message: 'No Node in the renderer.' },
          ],
        },
      ],
    },
  },
);
