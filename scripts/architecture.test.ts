/**
 * The layout (scripts/layout.mjs) over the whole tree: every import in the direction the matrix allows, no
 * relative path out of a folder, the server never loading the workstation's database code and the renderer never
 * loading Node, through any chain. Then the same checks, and ESLint, shown refusing planted wrong imports. Also the
 * process boundary: only main/shell and the preload import 'electron'.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';
import { importsOf, layoutViolations } from './import-graph.js';
import { FOLDERS } from './layout.mjs';

const ROOT = join(import.meta.dirname, '..');
const SKIP = new Set(['node_modules', 'dist', 'release', '.git', '.data', 'test-results', 'playwright-report', 'docs']);

function walk(dir: string, out: Map<string, string>): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    const path = relative(ROOT, full).split('\\').join('/');
    if (entry.isDirectory()) walk(full, out);
    else out.set(path, /\.(ts|tsx|mts|js|mjs|cjs)$/.test(entry.name) ? readFileSync(full, 'utf8') : '');
  }
  return out;
}

/** The tree, this file aside: its planted imports are strings, not imports. */
const tree = walk(ROOT, new Map());
tree.delete('scripts/architecture.test.ts');
/** The real tree with some files added or replaced. */
const planted = (files: Record<string, string>) => new Map([...tree, ...Object.entries(files)]);

describe('the layout', () => {
  it('scans the real source tree', () => {
    for (const f of ['core/protocol.ts', 'signing/cms.ts', 'db/schema.ts', 'main/app.ts', 'server/src/server.ts'])
      expect(tree.has(f), f).toBe(true);
    expect([...tree.keys()].filter((f) => f.startsWith('renderer/src/')).length).toBeGreaterThan(20);
  });

  it('has one alias per folder, the same for Node (package.json "imports") and for Playwright (tsconfig "paths")', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, string> };
    const tsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.base.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    };
    const wanted = Object.fromEntries(FOLDERS.map((f) => [`#${f}/*`, `./${f}/*`]));
    expect(pkg.imports).toEqual(wanted);
    expect(Object.fromEntries(Object.entries(tsconfig.compilerOptions.paths).map(([k, [v]]) => [k, v]))).toEqual(
      wanted,
    );
  });

  it('finds every import form, and knows a type-only one', () => {
    const code = `import a from 'electron';\nimport type { B } from "#db/schema.js";\nconst c = await import('x');\nconst d = require("y");\nexport { e } from './e.js';\nimport 'side';`;
    expect(importsOf(code)).toEqual(
      expect.arrayContaining([
        { specifier: 'electron', typeOnly: false },
        { specifier: '#db/schema.js', typeOnly: true },
        { specifier: 'x', typeOnly: false },
        { specifier: 'y', typeOnly: false },
        { specifier: './e.js', typeOnly: false },
        { specifier: 'side', typeOnly: false },
      ]),
    );
  });

  it('holds over the whole tree', () => {
    expect(layoutViolations(tree)).toEqual([]);
  });

  it('refuses an import against the direction, by alias or by relative path', () => {
    const found = layoutViolations(
      planted({
        'core/planted.ts': "import { openDatabase } from '#db/connection.js';\n",
        'server/src/planted.ts': "import { WorkflowService } from '../../main/workflow/service.js';\n",
        'signing/planted.ts': "export type { CallName } from '#preload/api.js';\n",
        'db/planted.ts': "import { foldForSearch } from '../core/identity/text.js';\n",
      }),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        'core/planted.ts: core/ may not import db/ (#db/connection.js)',
        'server/src/planted.ts: server/ may not import main/ (../../main/workflow/service.js)',
        'signing/planted.ts: signing/ may not import preload/ (#preload/api.js)',
        'db/planted.ts: ../core/identity/text.js leaves db/ by a relative path',
      ]),
    );
  });

  it('refuses the server loading the database code through a folder it may import', () => {
    const found = layoutViolations(
      planted({
        'demo/planted.ts': "import Database from 'better-sqlite3';\nimport { users } from '#db/schema.js';\n",
        'server/src/planted.ts': "import '#demo/planted.js';\n",
        'core/planted.ts': "import { readFileSync } from 'node:fs';\n",
        'renderer/src/planted.ts': "import '#core/planted.js';\n",
      }),
    );
    expect(found).toContain('server/ loads better-sqlite3: server/src/planted.ts → demo/planted.ts');
    expect(found).toContain('server/ loads db/schema.ts: server/src/planted.ts → demo/planted.ts');
    expect(found).toContain("renderer/ loads Node's node:fs: renderer/src/planted.ts → core/planted.ts");
  });

  it('lets a type-only import through the run-time check (it loads nothing)', () => {
    const found = layoutViolations(
      planted({
        'demo/planted.ts': "import type Database from 'better-sqlite3';\nexport const n = 1;\n",
        'server/src/planted.ts': "import { n } from '#demo/planted.js';\nexport const m = n;\n",
      }),
    );
    expect(found.filter((v) => v.includes('planted'))).toEqual([]);
  });

  it('is refused by ESLint as it is typed', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const cases: [string, string][] = [
      [
        'core/workflow/planted.ts',
        "import { openDatabase } from '#db/connection.js';\nexport const o = openDatabase;\n",
      ],
      ['server/src/planted.ts', "import { x } from '#main/app.js';\nexport const y = x;\n"],
      ['db/planted.ts', "import { foldForSearch } from '../core/identity/text.js';\nexport const f = foldForSearch;\n"],
      ['renderer/src/planted.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;\n"],
      ['main/auth/planted.ts', "import { app } from 'electron';\nexport const a = app;\n"],
    ];
    for (const [filePath, code] of cases) {
      const [result] = await eslint.lintText(code, { filePath: join(ROOT, filePath) });
      expect(
        result!.messages.map((m) => m.ruleId),
        filePath,
      ).toContain('no-restricted-imports');
    }
    const [allowed] = await eslint.lintText(
      "import { foldForSearch } from '#core/identity/text.js';\nexport const f = foldForSearch;\n",
      {
        filePath: join(ROOT, 'db/planted.ts'),
      },
    );
    expect(allowed!.messages).toEqual([]);
  });
});

describe('process boundaries', () => {
  const ELECTRON_ALLOWED = [/^main\/shell\//, /^preload\/index\.ts$/, /^scripts\/start-electron\.ts$/];
  const code = [...tree].filter(([f]) => /\.(ts|tsx|mts|js|mjs|cjs)$/.test(f));

  it("lets only main/shell and the preload import 'electron'", () => {
    const offenders = code
      .filter(([f]) => !ELECTRON_ALLOWED.some((re) => re.test(f)))
      .filter(([, text]) => importsOf(text).some(({ specifier: s }) => s === 'electron' || s.startsWith('electron/')))
      .map(([f]) => f);
    expect(offenders).toEqual([]);
  });

  it('keeps main/shell the only part of main that needs Electron', () => {
    const offenders = code
      .filter(([f]) => !f.startsWith('main/shell/'))
      .filter(([, text]) => importsOf(text).some(({ specifier: s }) => /(^|\/)shell\/main(\.js)?$/.test(s)))
      .map(([f]) => f);
    expect(offenders).toEqual([]);
  });
});
