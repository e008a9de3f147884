#!/usr/bin/env node
// `npm test`: makes sure the real stack's programs are installed, checks that
// dist/ is what `npm run build` makes, type-checks, then runs every test
// (unit and real-stack integration) with Node's test runner on Node 24.
//
//   npm test                 everything
//   npm test -- unit         only test/unit
//   npm test -- FILE…        only these files
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { ensureDeps, ensureDockerTrust } from './ensure-deps.mjs';

const args = process.argv.slice(2);
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`npm test needs Node 24 (this is ${process.version}); run it through npm so node_modules/.bin/node (the "node" dev dependency) is used, after npm ci.`);
  process.exit(1);
}

const run = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'inherit' }).status ?? 1;

const onlyUnit = args[0] === 'unit';
if (!onlyUnit) {
  const deps = ensureDeps({ install: true });
  if (!deps.ok || !ensureDockerTrust().ok) process.exit(1);
}
let files;
if (onlyUnit) files = globSync('test/unit/**/*.test.ts');
else if (args.length > 0) files = args;
else files = [...globSync('test/unit/**/*.test.ts'), ...globSync('test/integration/**/*.test.ts')];
files.sort();

if (args.length === 0) {
  if (run('tsc', ['--noEmit', '-p', '.']) !== 0) process.exit(1);
}
process.exit(run(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files]));
