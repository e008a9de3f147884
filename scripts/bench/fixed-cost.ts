// The action's fixed and per-tag costs in a verify of a many-tag repository:
// `node scripts/bench/fixed-cost.ts TAGS RUNS [DIST]` seeds TAGS tags, signs
// them, then verifies the first tag alone and all TAGS, alternating, and
// prints the medians of wall and CPU time (user + system, GNU time). The
// single tag still reads the whole delegation file; the difference, divided
// by TAGS − 1, is what one more tag costs.
import os from 'node:os';
import { join, resolve } from 'node:path';
import { startStack } from '../../test/stack/index.ts';
import { seedRepository } from '../../test/stack/many-tags.ts';
import { median } from './measure.ts';
import { Contestants } from './tools.ts';

const [tagsArg = '5000', runsArg = '5', distArg] = process.argv.slice(2);
const TAGS = Number(tagsArg);
const RUNS = Number(runsArg);
const dist = distArg ? join(resolve(distArg), 'index.js') : undefined;
console.log(
  `load average at start: ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(', ')}`,
);
const stack = await startStack();
try {
  const key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
  const tools = new Contestants(stack, key.privateKeyPem);
  const repo = await seedRepository(stack, 'bench/fixed', TAGS);
  await stack.docker.signerAdd('ci', key.publicKeyPath, repo.gun);
  await tools.action('sign', [repo], dist);
  const one = { ...repo, tags: repo.tags.slice(0, 1) };
  const fig = { one: { ms: [] as number[], cpu: [] as number[], sys: [] as number[] }, all: { ms: [] as number[], cpu: [] as number[], sys: [] as number[] } };
  for (let i = 0; i <= RUNS; i++) {
    for (const [name, r] of [
      ['one', one],
      ['all', repo],
    ] as const) {
      const run = await tools.action('verify', [r], dist);
      if (i === 0) continue;
      fig[name].ms.push(run.ms);
      fig[name].cpu.push(run.cpuMs);
      fig[name].sys.push(run.sysMs);
    }
  }
  const m = (a: number[]) => median(a);
  for (const [name, f] of Object.entries(fig)) console.log(`${name === 'one' ? '1 tag' : `${TAGS} tags`}: wall ${m(f.ms).toFixed(0)} ms, CPU ${m(f.cpu).toFixed(0)} ms (system ${m(f.sys).toFixed(0)})`);
  console.log(`per extra tag: wall ${((m(fig.all.ms) - m(fig.one.ms)) / (TAGS - 1)).toFixed(3)} ms, CPU ${((m(fig.all.cpu) - m(fig.one.cpu)) / (TAGS - 1)).toFixed(3)} ms`);
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
  );
} finally {
  await stack.stop();
}
