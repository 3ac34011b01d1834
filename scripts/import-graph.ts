/**
 * The project's import graph and the layout's verdict on it (scripts/layout.mjs): each import against the matrix,
 * each relative path out of its folder, and each chain by which the server or the renderer would load what it must
 * not. Works on any set of files (path → text), so a test can plant a wrong import and see it refused.
 */
import { isBuiltin } from 'node:module';
import { posix } from 'node:path';
import { MAY_IMPORT, NEVER_LOADS } from './layout.mjs';

export interface Import {
  specifier: string;
  /** `import type …` / `export type …`: erased, loads nothing at run time. */
  typeOnly: boolean;
}

/** Every module a file names: static imports and re-exports, side-effect imports, import() and require(). */
export function importsOf(code: string): Import[] {
  const found: Import[] = [];
  const statement = /\b(import|export)\s+(type\s+)?[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(statement)) found.push({ specifier: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push({ specifier: m[1]!, typeOnly: false });
  for (const m of code.matchAll(/\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

export type Target = { kind: 'file'; path: string } | { kind: 'package'; name: string } | { kind: 'builtin' };

const EXTENSIONS = ['', '.ts', '.tsx', '.mts', '.js', '.mjs', '/index.ts'];

/** Where a specifier of `from` leads: a file of the set, a package, or a Node built-in. */
export function resolve(from: string, specifier: string, files: ReadonlySet<string>): Target | null {
  if (specifier.startsWith('node:') || isBuiltin(specifier)) return { kind: 'builtin' };
  let base: string;
  if (specifier.startsWith('.')) base = posix.normalize(posix.join(posix.dirname(from), specifier));
  else if (specifier.startsWith('#')) base = specifier.slice(1);
  else {
    const parts = specifier.split('/');
    return { kind: 'package', name: specifier.startsWith('@') ? parts.slice(0, 2).join('/') : specifier };
  }
  base = base.split('?')[0]!;
  const stem = base.replace(/\.(js|mjs|cjs)$/, '');
  for (const candidate of [base, ...EXTENSIONS.map((e) => stem + e)])
    if (files.has(candidate)) return { kind: 'file', path: candidate };
  return null;
}

const folderOf = (path: string): string | null => (path.includes('/') ? path.split('/')[0]! : null);
const isTest = (path: string) => /\.(test|spec)\.tsx?$/.test(path);

/**
 * The layout's complaints about a set of files (repository-relative path → source text; files that are not code,
 * such as JSON or HTML, with any text); none is a pass.
 */
export function layoutViolations(sources: ReadonlyMap<string, string>): string[] {
  const files = new Set(sources.keys());
  const out: string[] = [];
  const edges = new Map<string, { target: Target; typeOnly: boolean; specifier: string }[]>();
  for (const [file, code] of sources) {
    if (!/\.(ts|tsx|mts|js|mjs|cjs)$/.test(file)) continue;
    const list: { target: Target; typeOnly: boolean; specifier: string }[] = [];
    for (const { specifier, typeOnly } of importsOf(code)) {
      const target = resolve(file, specifier, files);
      if (target === null) {
        if (specifier.startsWith('.') || specifier.startsWith('#')) out.push(`${file}: ${specifier} names no file`);
        continue;
      }
      list.push({ target, typeOnly, specifier });
    }
    edges.set(file, list);

    const folder = folderOf(file);
    if (folder === null || !(folder in MAY_IMPORT)) continue;
    const allowed = new Set<string>([folder, ...MAY_IMPORT[folder as keyof typeof MAY_IMPORT]]);
    for (const { target, specifier } of list) {
      if (target.kind !== 'file') continue;
      const to = folderOf(target.path);
      if (to === null) out.push(`${file}: ${specifier} reaches a file at the root`);
      else if (!allowed.has(to)) out.push(`${file}: ${folder}/ may not import ${to}/ (${specifier})`);
      else if (to !== folder && specifier.startsWith('.'))
        out.push(`${file}: ${specifier} leaves ${folder}/ by a relative path`);
    }
  }

  // What each guarded folder loads at run time: a breadth-first walk of value imports from its non-test files.
  for (const [folder, rule] of Object.entries(NEVER_LOADS)) {
    const starts = [...files].filter((f) => folderOf(f) === folder && !isTest(f));
    const via = new Map<string, string>(starts.map((f) => [f, '']));
    const queue = [...starts];
    while (queue.length > 0) {
      const file = queue.shift()!;
      const chain = () => {
        const steps = [file];
        for (let at = via.get(file); at; at = via.get(at)) steps.unshift(at);
        return steps.join(' → ');
      };
      for (const { target, typeOnly, specifier } of edges.get(file) ?? []) {
        if (typeOnly) continue;
        if (target.kind === 'builtin') {
          if (rule.nodeBuiltins) out.push(`${folder}/ loads Node's ${specifier}: ${chain()}`);
        } else if (target.kind === 'package') {
          if (rule.packages.includes(specifier) || rule.packages.includes(target.name))
            out.push(`${folder}/ loads ${specifier}: ${chain()}`);
        } else {
          const to = folderOf(target.path);
          if (to !== null && (rule.folders as string[]).includes(to))
            out.push(`${folder}/ loads ${target.path}: ${chain()}`);
          else if (!via.has(target.path)) {
            via.set(target.path, file);
            queue.push(target.path);
          }
        }
      }
    }
  }
  return out;
}
