#!/usr/bin/env node
// `npm test`: makes sure the real stack's programs are installed, checks the
// code (the full run: type check, lint, format), then runs the tests with
// Node's test runner on Node 24. Three tiers, told apart by directory and by name:
//
//   test/unit/**/*.test.ts                 the product, no network, no programs
//   test/integration/**/*.itg.test.ts      the product (node dist/index.js, dist/cli.js,
//                                          src/ called directly) against the real
//                                          programs test/stack/ starts on loopback
//   test/upstream/**/*.upstream.test.ts    the real programs alone: what the product
//                                          relies on notary-server, the notary and
//                                          docker CLIs and docker-registry to do, and
//                                          the harness (test/stack/) that drives them
//
//   npm test                        everything (type check, lint and format check, then every tier)
//   npm test -- unit                one tier; tiers combine: npm test -- unit upstream
//   npm test -- integration
//   npm test -- upstream
//   npm test -- FILE…               only these files (tiers and files combine too)
//
// dist/ and the build. Integration tests run dist/ as it is in the working
// tree, and test/unit/dist.test.ts builds into a temporary directory and fails
// when dist/ differs from that build. So:
// - The full run never builds into the working tree: in CI the working tree's
//   dist/ is the committed one, the integration tests test what ships, and a
//   stale committed dist/ fails dist.test.ts (a build here first would hide it).
// - A partial run that selects integration tests runs `npm run build` first, so
//   they test the source as it is now, not the last build. Not when dist.test.ts
//   is selected as well: building first would make that check pass whatever
//   was committed, so such a run tests dist/ as it is (and says so).
// - Upstream tests do not run dist/ (they drive the programs, and at most call
//   src/ directly), so they need no build.
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureDeps, ensureDockerTrust } from './ensure-deps.mjs';
import { checkCoverage, coverageArgs } from './coverage.mjs';
import { SERVICE_CRASHED } from './test-failures.mjs';

const TIERS = {
  unit: 'test/unit/**/*.test.ts',
  integration: 'test/integration/**/*.itg.test.ts',
  upstream: 'test/upstream/**/*.upstream.test.ts',
};
const DIST_CHECK = 'test/unit/dist.test.ts';

const args = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`npm test needs Node 24 (this is ${process.version}); run it through npm so node_modules/.bin/node (the "node" dev dependency) is used, after npm ci.`);
  process.exit(1);
}

const run = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'inherit' }).status ?? 1;
const tierOf = (file) => Object.keys(TIERS).find((tier) => file.startsWith(`test/${tier}/`));

const full = args.length === 0;
const selected = new Set();
for (const arg of full ? Object.keys(TIERS) : args) {
  if (Object.hasOwn(TIERS, arg)) {
    for (const file of globSync(TIERS[arg])) selected.add(file);
  } else if (existsSync(arg)) {
    selected.add(arg.replace(/^\.\//, ''));
  } else {
    console.error(`npm test: "${arg}" is neither a tier (${Object.keys(TIERS).join(', ')}) nor a file`);
    process.exit(1);
  }
}
const files = [...selected].sort();
if (files.length === 0) {
  console.error('npm test: no test files selected');
  process.exit(1);
}

if (files.some((f) => tierOf(f) !== 'unit')) {
  const deps = ensureDeps({ install: true });
  if (!deps.ok || !ensureDockerTrust().ok) process.exit(1);
}
if (full) {
  // Every check runs, so one run names all that is wrong; any failure stops
  // the run before the tests.
  const checks = [
    ['the type check (tsc)', 'tsc', ['--noEmit', '-p', '.']],
    ['the lint (npm run lint)', 'eslint', ['--max-warnings', '0', '.']],
    ['the format check (npm run format:check; npm run format rewrites the files)', 'prettier', ['--check', '.']],
  ];
  const failed = checks.filter(([, cmd, argv]) => run(cmd, argv) !== 0).map(([name]) => name);
  if (failed.length > 0) {
    console.error(`npm test: failed ${failed.join(', ')}`);
    process.exit(1);
  }
} else if (files.some((f) => tierOf(f) === 'integration')) {
  if (selected.has(DIST_CHECK)) {
    console.log(`npm test: ${DIST_CHECK} is selected, so dist/ is not rebuilt first: the integration tests run dist/ as it is`);
  } else {
    console.log('npm test: integration tests run dist/; building it from the source first (npm run build)');
    if (run(process.execPath, ['scripts/build.mjs']) !== 0) process.exit(1);
  }
}
// test/load-signer.ts loads the ECDSA signer, which the product loads lazily
// (src/tuf/ecdsa.ts), for the tests that sign without going through perform().
const TEST = ['--test', '--test-concurrency=2', '--test-timeout=300000', '--import', './test/load-signer.ts'];

/**
 * Runs test files that start the real stack. A file that failed because a
 * service of its stack (notary-server, the registry…) crashed by itself runs
 * once more, and says so: those programs are not the product, and notary-server
 * 0.7 has crashed mid-file in CI (exit code 2) under requests it had answered
 * thousands of times here. The crash report stays in the output above. A file
 * that fails again, or any failure without such a crash, fails the run.
 */
function runStackTests(stackFiles) {
  const dir = mkdtempSync(join(tmpdir(), 'content-trust-failures-'));
  const report = join(dir, 'failures.jsonl');
  try {
    const reporters = ['--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/test-failures.mjs', `--test-reporter-destination=${report}`];
    const status = run(process.execPath, [...TEST, ...reporters, ...stackFiles]);
    if (status === 0) return 0;
    const failed = existsSync(report)
      ? readFileSync(report, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line))
      : [];
    if (failed.length === 0 || failed.some((f) => !f.serviceCrashed)) return status;
    const again = failed.map((f) => relative(process.cwd(), f.file));
    for (const file of again) console.error(`npm test: ${file} failed because a service of its stack crashed by itself (see "${SERVICE_CRASHED}" above, with its crash report); running it once more`);
    return run(process.execPath, [...TEST, ...again]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (!full && !args.includes('unit')) process.exit(runStackTests(files));

// The whole unit tier (npm test, npm test -- unit) runs first and on its own,
// with Node's coverage: a summary per directory, and a failure when src/notary,
// src/tuf or src/policy drops below its floor (scripts/coverage.mjs). The
// other tiers then run as they always have, without it.
const dir = mkdtempSync(join(tmpdir(), 'content-trust-coverage-'));
let status;
try {
  status = run(process.execPath, [...TEST, ...coverageArgs(join(dir, 'lcov.info')), ...files.filter((f) => tierOf(f) === 'unit')]);
  const failures = checkCoverage(join(dir, 'lcov.info'));
  for (const f of failures) console.error(`npm test: coverage: ${f}`);
  if (failures.length > 0) status ||= 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const rest = files.filter((f) => tierOf(f) !== 'unit');
if (rest.length > 0) status = runStackTests(rest) || status;
process.exit(status);
