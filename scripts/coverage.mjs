// Line coverage of the unit tier, for scripts/test.mjs: the node --test
// arguments that turn Node's own coverage on (the spec reporter on stdout,
// as always, plus an lcov file), and the check of that file: a summary per
// source directory, and a failure when a directory with a floor is below it.
//
// Node's --test-coverage-lines is one threshold for all files together, so
// the per-directory floors are computed here from the lcov file. Node only
// measures files some test loads: a file under a floored directory that no
// unit test loads, and that has code once its types are stripped, fails the
// check too (one that only declares types has nothing to run).
import { globSync, readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { dirname, relative } from 'node:path';

/** Directories whose unit-tier line coverage may not drop below the floor (per cent). */
export const FLOORS = { 'src/notary': 90, 'src/tuf': 90, 'src/policy': 90 };

export function coverageArgs(lcovFile) {
  return ['--experimental-test-coverage', '--test-coverage-include=src/**', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=lcov', `--test-reporter-destination=${lcovFile}`];
}

/** lcov text → file (relative to cwd) → { found, hit } lines. */
export function parseLcov(text, cwd = process.cwd()) {
  const files = new Map();
  let current;
  for (const line of text.split('\n')) {
    if (line.startsWith('SF:')) {
      current = { found: 0, hit: 0 };
      files.set(relative(cwd, line.slice(3)).split('\\').join('/'), current);
    } else if (current && line.startsWith('LF:')) {
      current.found = Number(line.slice(3));
    } else if (current && line.startsWith('LH:')) {
      current.hit = Number(line.slice(3));
    } else if (line === 'end_of_record') {
      current = undefined;
    }
  }
  return files;
}

const pct = (c) => (c.found === 0 ? 100 : (100 * c.hit) / c.found);

/** True when a TypeScript file has anything to run once its types and comments are gone. */
function hasCode(file) {
  // stripTypeScriptTypes is stable in what it does here, but still warns that it is experimental.
  const emitWarning = process.emitWarning.bind(process);
  process.emitWarning = () => {};
  let js;
  try {
    js = stripTypeScriptTypes(readFileSync(file, 'utf8'));
  } finally {
    process.emitWarning = emitWarning;
  }
  return js.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '').trim() !== '';
}

/**
 * Prints line coverage per directory of src/ (and the total), and returns
 * the failures: a floored directory below its floor, or a file in one that
 * no unit test loads.
 */
export function checkCoverage(lcovFile, { floors = FLOORS, log = console.log } = {}) {
  const files = parseLcov(readFileSync(lcovFile, 'utf8'));
  const dirs = new Map();
  const total = { found: 0, hit: 0 };
  for (const [file, c] of files) {
    const dir = dirname(file);
    const d = dirs.get(dir) ?? { found: 0, hit: 0 };
    d.found += c.found;
    d.hit += c.hit;
    dirs.set(dir, d);
    total.found += c.found;
    total.hit += c.hit;
  }
  const failures = [];
  const floored = Object.entries(floors).map(([dir, floor]) => {
    const c = { found: 0, hit: 0 };
    for (const [file, f] of files) {
      if (file.startsWith(`${dir}/`)) {
        c.found += f.found;
        c.hit += f.hit;
      }
    }
    if (pct(c) < floor) failures.push(`${dir}: ${pct(c).toFixed(2)}% of lines covered by the unit tier, below the floor of ${floor}%`);
    for (const file of globSync(`${dir}/**/*.ts`).sort()) {
      if (!files.has(file) && hasCode(file)) failures.push(`${file}: no unit test loads it, so its lines are not measured`);
    }
    return /** @type {const} */ ([dir, c, floor]);
  });

  log('\nunit-tier line coverage (node --experimental-test-coverage):');
  const row = (name, c, note = '') => log(`  ${name.padEnd(22)} ${pct(c).toFixed(2).padStart(6)}%  ${`${c.hit}/${c.found}`.padStart(11)} lines${note}`);
  for (const dir of [...dirs.keys()].sort()) row(dir, dirs.get(dir));
  for (const [dir, c, floor] of floored) row(`${dir}/**`, c, `  (floor ${floor}%)`);
  row('all of src/', total);
  return failures;
}
