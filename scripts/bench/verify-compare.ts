// Verify of one many-tag repository by several builds against the floor, in
// one stack: `node scripts/bench/verify-compare.ts TAGS RUNS DIST...` seeds
// a repository of TAGS tags, signs it once with the first build, then runs
// each build's verify and the curl floor (scenario 5 of `npm run bench`),
// rotating the order every round, and prints medians and ratios to curl, and
// the CPU time each run cost: its own process, and the registry's and
// notary-server's (from /proc), since on a shared machine the wall time
// follows the CPU others leave.
// For trying a change without a whole `npm run bench`: copy dist/ aside,
// rebuild, compare the two.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { startStack } from '../../test/stack/index.ts';
import { seedRepository } from '../../test/stack/many-tags.ts';
import { median, type JobRun } from './measure.ts';
import { Contestants } from './tools.ts';

const [tagsArg, runsArg, ...dists] = process.argv.slice(2);
if (!tagsArg || !runsArg || dists.length === 0) throw new Error('usage: verify-compare.ts TAGS RUNS DIST...');
const TAGS = Number(tagsArg);
const RUNS = Number(runsArg);
const builds = dists.map((d) => join(resolve(d), 'index.js'));
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
console.log(`load average at start: ${load()}`);
const stack = await startStack();
try {
  const key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
  const tools = new Contestants(stack, key.privateKeyPem);
  const repo = await seedRepository(stack, 'bench/compare', TAGS);
  await stack.docker.signerAdd('ci', key.publicKeyPath, repo.gun);
  await tools.action('sign', [repo], builds[0]);
  const want = repo.tags.map((t) => `${repo.gun}@${t.digest}`).join('\n');
  const contestants: { name: string; run: () => Promise<JobRun> }[] = [
    ...builds.map((dist, i) => ({
      name: dists[i]!,
      run: async () => {
        const r = await tools.action('verify', [repo], dist);
        if (r.digests.join('\n') !== want) throw new Error(`${dists[i]}: verify reported ${r.digests.length} digests, not the ${TAGS} seeded`);
        return r;
      },
    })),
    { name: 'curl', run: () => tools.curlHeads([repo]) },
  ];
  const fig = new Map<string, { ms: number[]; cpu: number[]; sys: number[]; registry: number[]; notary: number[] }>(contestants.map((c) => [c.name, { ms: [], cpu: [], sys: [], registry: [], notary: [] }]));
  for (let i = 0; i <= RUNS; i++) {
    for (let k = 0; k < contestants.length; k++) {
      const c = contestants[(i + k) % contestants.length]!;
      const before = [cpuOf(stack.registry.pid), cpuOf(stack.notary.pid)];
      const r = await c.run();
      if (i === 0) continue;
      const f = fig.get(c.name)!;
      f.ms.push(r.ms);
      f.cpu.push(r.cpuMs);
      f.sys.push(r.sysMs);
      f.registry.push(cpuOf(stack.registry.pid) - before[0]!);
      f.notary.push(cpuOf(stack.notary.pid) - before[1]!);
    }
  }
  const floor = median(fig.get('curl')!.ms);
  const m = (a: number[]) => median(a).toFixed(0);
  for (const [name, f] of fig) {
    console.log(`${name}: wall ${m(f.ms)} ms (${(median(f.ms) / floor).toFixed(2)}x curl), CPU: own ${m(f.cpu)} ms (system ${m(f.sys)}), registry ${m(f.registry)} ms, notary-server ${m(f.notary)} ms  ${JSON.stringify(f.ms.map(Math.round))}`);
  }
  console.log(`curl spoke HTTP/${tools.curlHttpVersion}`);
  console.log(`load average at end: ${load()}`);
} finally {
  await stack.stop();
}

/** CPU time (user + system) of a running process so far, in ms (USER_HZ 100). */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(stat[11]) + Number(stat[12])) * 10;
}
