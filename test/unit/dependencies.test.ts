/**
 * Hygiene: every runtime dependency earns its place. The runtime
 * dependencies are the packages src/ imports for their values (not only
 * their types); dist/ bundles them all, so package.json declares them, pinned
 * exactly, among the devDependencies (an installed package needs nothing
 * but its tarball). Each has a row in the README's Dependencies table that
 * names a file importing it and says truly whether it loads at start-up or
 * lazily, and no other package has a row.
 */
import assert from 'node:assert/strict';
import { globSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

const ROOT = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), 'utf8');
const manifest = JSON.parse(read('package.json')) as { dependencies?: Record<string, string>; devDependencies: Record<string, string> };
const sources = new Map(globSync('src/**/*.ts', { cwd: ROOT }).map((f) => [f.split('\\').join('/'), read(f)]));
/** A bare specifier's package: `@scope/name` or `name`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');
/** Every package src/ imports for its values, statically or dynamically (type-only imports left out). */
const dependencies = [
  ...new Set(
    [...sources.values()].flatMap((text) =>
      [...text.matchAll(/^\s*(?:import\s+(?!type\s)(?:[^;]*?\sfrom\s*)?|export\s+(?!type\s)[^;]*?\sfrom\s*)['"]([^'".][^'"]*)['"]|(?<!typeof\s*)\bimport\(\s*['"]([^'".][^'"]*)['"]\s*\)/gm)]
        .map((m) => (m[1] ?? m[2])!)
        .filter((spec) => !spec.startsWith('node:'))
        .map(packageOf),
    ),
  ),
].sort();

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
/** The module itself or one of its subpaths, in quotes. */
const specifier = (dep: string) => `['"]${escape(dep)}(?:/[^'"]*)?['"]`;
/** `import x from`, `import * as x from`, `import { a } from`, `import 'dep'`, `export … from`: not `import type`. */
const staticImport = (dep: string) => new RegExp(`^\\s*(?:import\\s+(?!type\\s)(?:[^;]*?\\sfrom\\s*)?|export\\s+(?!type\\s)[^;]*?\\sfrom\\s*)${specifier(dep)}`, 'm');
/** `import('dep')`, not the type query `typeof import('dep')`. */
const dynamicImport = (dep: string) => new RegExp(`(?<!typeof\\s*)\\bimport\\(\\s*${specifier(dep)}\\s*\\)`);
const importers = (dep: string, how: (dep: string) => RegExp) => [...sources].filter(([, text]) => how(dep).test(text)).map(([file]) => file);

interface Row {
  name: string;
  files: string[];
  loaded: string;
}

/** The rows of the table under "## Dependencies" in README.md. */
function table(): Row[] {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Dependencies\n');
  assert.ok(start >= 0, 'README.md has no "## Dependencies" section');
  const end = readme.indexOf('\n## ', start + 1);
  const lines = readme
    .slice(start, end < 0 ? undefined : end)
    .split('\n')
    .filter((l) => l.startsWith('|'));
  assert.deepEqual(
    lines[0]!
      .split('|')
      .map((c) => c.trim())
      .filter(Boolean),
    ['dependency', 'what it is for', 'imported in', 'loaded'],
  );
  return lines.slice(2).map((line) => {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    assert.equal(cells.length, 4, `a Dependencies row has four cells: ${line}`);
    const name = /^`([^`]+)`$/.exec(cells[0]!)?.[1];
    assert.ok(name, `the first cell names one package in backquotes: ${line}`);
    return { name, files: [...cells[2]!.matchAll(/`(src\/[^`]+\.ts)`/g)].map((m) => m[1]!), loaded: cells[3]! };
  });
}

describe('runtime dependencies', () => {
  it('the helpers tell imports apart', () => {
    const cases: [string, boolean, boolean][] = [
      ["import * as core from '@actions/core';", true, false],
      ["import { getExecOutput } from '@actions/exec';", true, false],
      ["import {\n  a,\n  b,\n} from '@actions/exec';", true, false],
      ["import { p256 } from '@noble/curves/nist.js';", true, false],
      ["import type { Document } from 'yaml';", false, false],
      ["type Yaml = typeof import('yaml');", false, false],
      ["const yaml = (await import('yaml')).default;", false, true],
      [" * import x from '@actions/exec' in a comment", false, false],
      ["import { x } from '@actions/execute';", false, false],
    ];
    for (const [text, isStatic, isDynamic] of cases) {
      const dep = /'(@actions\/exec|@actions\/core|@noble\/curves|yaml)/.exec(text)?.[1] ?? '@actions/exec';
      assert.equal(staticImport(dep).test(text), isStatic, text);
      assert.equal(dynamicImport(dep).test(text), isDynamic, text);
    }
  });

  it('src/ imports the runtime dependencies the project allows, each pinned exactly, none an install-time dependency', () => {
    assert.deepEqual(dependencies, ['@actions/cache', '@actions/core', '@actions/exec', '@noble/curves', 'undici', 'yaml']);
    assert.deepEqual(Object.keys(manifest.dependencies ?? {}), [], 'dist/ bundles everything: the package needs no dependencies at install time');
    for (const dep of dependencies) assert.match(manifest.devDependencies[dep] ?? '', /^\d+\.\d+\.\d+$/, `${dep} is declared with an exact version`);
  });

  for (const dep of dependencies) {
    it(`${dep} is imported under src/ for its values`, () => {
      assert.ok(importers(dep, staticImport).length + importers(dep, dynamicImport).length > 0, `nothing under src/ imports ${dep} (type-only imports do not count)`);
    });
  }

  it('the README table has one row per runtime dependency, and no other', () => {
    assert.deepEqual(
      table()
        .map((r) => r.name)
        .sort(),
      [...dependencies].sort(),
    );
  });

  for (const dep of dependencies) {
    it(`${dep}'s row names files that import it, and says truly how it loads`, () => {
      const row = table().find((r) => r.name === dep);
      assert.ok(row, `${dep} has no row in the README's Dependencies table`);
      assert.ok(row.files.length > 0, `${dep}: "imported in" names no src/ file`);
      for (const file of row.files) {
        const text = sources.get(file);
        assert.ok(text !== undefined, `${dep}: ${file} does not exist`);
        assert.ok(staticImport(dep).test(text) || dynamicImport(dep).test(text), `${dep}: ${file} does not import it`);
      }
      const statics = importers(dep, staticImport);
      if (row.loaded.startsWith('lazily')) {
        assert.deepEqual(statics, [], `${dep} is said to load lazily, but these files import it statically`);
      } else {
        assert.match(row.loaded, /^at start-up/, `${dep}: "loaded" says "at start-up" or "lazily"`);
        assert.ok(statics.length > 0, `${dep} is said to load at start-up, but only dynamic imports load it`);
      }
    });
  }
});
