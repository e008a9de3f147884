// `npm run bench`: the action against the notary CLI on a real stack.
//
//   npm run bench                      everything, 5 runs after a warm-up
//   npm run bench -- --runs 3          fewer runs
//   npm run bench -- --growth 10,100   growth sizes (default 10,100,1000,5000; '' for none)
//   npm run bench -- --floor 5000      tags for the verify-vs-registry floor (0: skip)
//   npm run bench -- --no-write        print, do not write docs/benchmarks.*
//   npm run bench -- --report          no runs: write docs/benchmarks.md anew from docs/benchmarks.json
//
// Starts notary-server and docker-registry on loopback, seeds the images,
// adds the signer with `docker trust signer add`, then times whole processes
// (see docs/benchmarks.md). Benchmarks report; no test asserts a time.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureDeps, ensureDockerTrust } from './ensure-deps.mjs';
import { startStack, REPOSITORY_PASSPHRASE } from '../test/stack/index.ts';
import { GNU_TIME, median, type JobRun } from './bench/measure.ts';
import { seedRepository, type SeededRepo } from '../test/stack/many-tags.ts';
import { Contestants, type ActionOutcome } from './bench/tools.ts';
import { measureStartup } from './bench/startup.ts';
import { describeMachine } from './bench/machine.ts';
import { ratio, writeReport, type Comparison, type Series } from './bench/report.ts';

const { values: opts } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, growth: { type: 'string', default: '10,100,1000,5000' }, floor: { type: 'string', default: '5000' }, 'no-write': { type: 'boolean', default: false }, report: { type: 'boolean', default: false } },
});
const RUNS = Number(opts.runs);
const GROWTH = opts.growth.split(',').filter(Boolean).map(Number);
const log = (s: string) => console.error(`bench: ${s}`);

if (opts.report) {
  writeReport(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'docs', 'benchmarks.json'), 'utf8')) as Parameters<typeof writeReport>[0]);
  process.exit(0);
}
if (!ensureDeps({ install: true }).ok || !ensureDockerTrust().ok) process.exit(1);
if (!existsSync(GNU_TIME)) {
  console.error(`bench: ${GNU_TIME} (GNU time, for peak memory) is missing: apt-get install time`);
  process.exit(1);
}
if (!existsSync(join(import.meta.dirname, '..', 'dist', 'index.js'))) {
  console.error('bench: dist/index.js is missing: npm run build');
  process.exit(1);
}

const loadStart = os
  .loadavg()
  .map((l) => l.toFixed(2))
  .join(', ');
const stack = await startStack();
try {
  const key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
  const tools = new Contestants(stack, key.privateKeyPem);
  const seed = async (name: string, tags: number): Promise<SeededRepo> => {
    const repo = await seedRepository(stack, name, tags);
    await stack.docker.signerAdd('ci', key.publicKeyPath, repo.gun);
    return repo;
  };
  const pair = async (name: string, tags: number) => ({ action: await seed(`bench/${name}-a`, tags), notary: await seed(`bench/${name}-n`, tags) });

  log('seeding scenario 1 and 2 repositories');
  const one = await pair('one', 100);
  const many = { action: [] as SeededRepo[], notary: [] as SeededRepo[] };
  for (let i = 1; i <= 20; i++) {
    const p = await pair(`many${String(i).padStart(2, '0')}`, 10);
    many.action.push(p.action);
    many.notary.push(p.notary);
  }

  const comparisons: Comparison[] = [];
  const series = (scenario: string, what: string, tool: Series['tool'], repos: readonly SeededRepo[], runs: JobRun[]): Series => ({
    scenario,
    what,
    tool,
    tags: repos.reduce((n, r) => n + r.tags.length, 0),
    repositories: repos.length,
    processes: runs[0]!.processes,
    ms: runs.map((r) => r.ms),
    maxRssKb: runs.map((r) => r.maxRssKb),
    cpuMs: runs.map((r) => r.cpuMs),
  });

  /** Warm-up + RUNS, the two tools alternating. Each action run is checked to have handled every tag. */
  async function compare(
    scenario: string,
    what: string,
    target: number | undefined,
    mode: 'sign' | 'verify',
    actionRepos: readonly SeededRepo[],
    notaryRun: (() => Promise<JobRun>) | undefined,
    notaryRepos: readonly SeededRepo[],
    against: Series['tool'] = 'notary CLI',
  ): Promise<Comparison> {
    const a: JobRun[] = [];
    const n: JobRun[] = [];
    for (let i = 0; i <= RUNS; i++) {
      const run = await tools.action(mode, actionRepos);
      checkDigests(run, actionRepos);
      const cli = notaryRun ? await notaryRun() : undefined;
      if (i === 0) continue;
      a.push(run);
      if (cli) n.push(cli);
    }
    const c: Comparison = { scenario, what, target, action: series(scenario, what, 'action', actionRepos, a), notary: notaryRun ? series(scenario, what, against, notaryRepos, n) : undefined };
    const q = ratio(c);
    const cpu = (s: Series) => `${median(s.cpuMs ?? []).toFixed(0)} ms CPU`;
    log(
      `${scenario} ${what}: action ${median(c.action.ms).toFixed(0)} ms (${cpu(c.action)})${c.notary ? `, ${against} ${median(c.notary.ms).toFixed(0)} ms (${cpu(c.notary)}), ratio ${q!.toFixed(2)}` : ''}; action peak ${(Math.max(...c.action.maxRssKb) / 1024).toFixed(0)} MiB`,
    );
    comparisons.push(c);
    return c;
  }

  // Targets (issue 11), as ratios in one run: sign 100 tags ≤ 0.3× the CLI;
  // verify 10 tags × 20 repositories ≤ 0.8× `notary list` per repository;
  // verify 5,000 tags ≤ 1.15× the registry answering their manifest HEADs.
  await compare('1 sign', 'sign 100 tags of one repository', 0.3, 'sign', [one.action], () => tools.notarySign([one.notary]), [one.notary]);
  await compare('2 sign', 'sign 10 tags in each of 20 repositories', 0.25, 'sign', many.action, () => tools.notarySign(many.notary), many.notary);
  // Both tools verify the repositories the action signed.
  await compare('3 verify', 'verify the 100 tags of scenario 1', undefined, 'verify', [one.action], () => tools.notaryVerify([one.action]), [one.action]);
  await compare('3 verify', 'verify the 200 tags of scenario 2 (20 repositories)', 0.8, 'verify', many.action, () => tools.notaryVerify(many.action), many.action);
  await checkNotarySide(tools, [one.notary, ...many.notary]);

  for (const size of GROWTH) {
    log(`seeding growth repository with ${size} tags`);
    const g = await pair(`grow${size}`, size);
    await compare('4 growth', 'sign', undefined, 'sign', [g.action], () => tools.notarySign([g.notary]), [g.notary]);
    await compare('4 growth', 'verify', undefined, 'verify', [g.action], () => tools.notaryVerify([g.action]), [g.action]);
    await checkNotarySide(tools, [g.notary]);
  }

  const FLOOR = Number(opts.floor);
  if (FLOOR > 0) {
    log(`seeding the floor repository with ${FLOOR} tags, signed once by the action`);
    const f = await seed(`bench/floor${FLOOR}`, FLOOR);
    checkDigests(await tools.action('sign', [f]), [f]);
    await compare('5 floor', `verify ${FLOOR} tags of one repository, against the registry answering their ${FLOOR} manifest HEADs (curl, 8 in parallel)`, 1.15, 'verify', [f], () => tools.curlHeads([f]), [f], 'curl');
    log(`curl spoke HTTP/${tools.curlHttpVersion} to the registry`);
  }

  log('start-up latency');
  const startup = await measureStartup(RUNS, key.privateKeyPem, REPOSITORY_PASSPHRASE);
  log(`start-up to first request: verify ${median(startup.verifyMs).toFixed(0)} ms, sign ${median(startup.signMs).toFixed(0)} ms, node floor ${median(startup.nodeFloorMs).toFixed(0)} ms`);

  const report = {
    date: new Date().toISOString(),
    runs: RUNS,
    machine: describeMachine(),
    comparisons,
    startup,
    notes: [
      "The action resolves every tag in the registry itself (sign) and compares each tag's current registry digest with the signed one (verify); the notary CLI is given the digests and sizes, and `notary list` checks nothing in the registry.",
      '`docker trust signer add ci` lets the key sign targets/releases and targets/ci; the action signs every role its key may sign, so the CLI is asked for both (`addhash -r targets/releases -r targets/ci`).',
      'Both tools remember trusted metadata between runs, as on a long-lived runner: the notary CLI in its trust directory, the action in ~/.docker/trust (the same HOME for every run; it warns that no Actions cache service is there). The action still fetches the current root and timestamp every run.',
      `Load average when the run started: ${loadStart}; when it ended: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(', ')} (other jobs shared this machine; both tools alternate run by run, so the ratios are fairer than the absolute times).`,
      'Each run re-signs the same tags, so each sign run publishes a new version of the same delegation files.',
      ...(FLOOR > 0
        ? [
            `The floor (scenario 5) is one \`curl --http2 --parallel --parallel-max 8 --head\` process asking the registry for every tag's manifest with the action's Accept header and the stack's CA; it spoke HTTP/${tools.curlHttpVersion} (docker-registry offers h2; the action speaks HTTP/1.1, see "HTTP/2"). The action's verify must also fetch and check the trust metadata, which the floor does not.`,
          ]
        : []),
      'Past 2,000 tags the action gets its images through the images-file input: an input is an environment variable, and Linux caps one at 128 KiB.',
    ],
  };
  if (!opts['no-write']) {
    writeReport(report);
    log('wrote docs/benchmarks.md and docs/benchmarks.json');
  }
} finally {
  await stack.stop();
}

function checkDigests(run: ActionOutcome, repos: readonly SeededRepo[]): void {
  const want = repos.flatMap((r) => r.tags.map((t) => `${r.gun}@${t.digest}`));
  if (run.digests.length !== want.length || run.digests.some((d, i) => d !== want[i])) {
    throw new Error(`the action reported ${run.digests.length} digests, expected ${want.length} matching the seeded images`);
  }
}

async function checkNotarySide(tools: Contestants, repos: readonly SeededRepo[]): Promise<void> {
  for (const r of repos) {
    const rows = await tools.notaryRows(r.gun);
    if (rows < r.tags.length) throw new Error(`notary list ${r.gun} shows ${rows} targets after signing ${r.tags.length}`);
  }
}
