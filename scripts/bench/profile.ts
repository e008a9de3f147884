// Where the time goes: `node scripts/bench/profile.ts [TAGS] [REPOS]` starts
// the stack, seeds one repository of TAGS tags (default 2000) and REPOS
// repositories of 10 tags (default 20), signs them once with the action, then
// runs the action's verify on each under `node --cpu-prof` and prints the
// top self-time functions (by script) and the wall time of each run.
// `--plain` profiles an unminified build (written to a temporary directory)
// so the action's own functions show by name.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, REPOSITORY_PASSPHRASE } from '../../test/stack/index.ts';
import { seedRepository, type SeededRepo } from '../../test/stack/many-tags.ts';
import { build } from 'esbuild';
import { options } from '../build.mjs';

const args = process.argv.slice(2).filter((a) => a !== '--plain');
const TAGS = Number(args[0] ?? 2000);
const REPOS = Number(args[1] ?? 20);
let DIST = join(import.meta.dirname, '..', '..', 'dist', 'index.js');
if (process.argv.includes('--plain')) {
  const out = mkdtempSync(join(tmpdir(), 'cta-prof-dist-'));
  await build({ ...options(out), minify: false });
  DIST = join(out, 'index.js');
}
const stack = await startStack();
try {
  const key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
  const seed = async (name: string, n: number) => {
    const r = await seedRepository(stack, name, n);
    await stack.docker.signerAdd('ci', key.publicKeyPath, r.gun);
    return r;
  };
  const big = await seed('prof/big', TAGS);
  const many: SeededRepo[] = [];
  for (let i = 0; i < REPOS; i++) many.push(await seed(`prof/many${i}`, 10));
  const work = mkdtempSync(join(tmpdir(), 'cta-prof-'));
  const run = (mode: string, repos: SeededRepo[], prof?: string) => {
    const refs = repos.flatMap((r) => r.tags.map((t) => t.ref));
    const file = join(work, 'images.txt');
    writeFileSync(file, refs.join('\n'));
    writeFileSync(join(work, 'out'), '');
    const t = performance.now();
    const r = spawnSync(process.execPath, [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), DIST], {
      env: {
        PATH: process.env.PATH,
        HOME: work,
        RUNNER_TEMP: work,
        GITHUB_OUTPUT: join(work, 'out'),
        INPUT_MODE: mode,
        'INPUT_TRUST-SERVER': stack.notary.url,
        'INPUT_CA-CERT': stack.ca.caCertPath,
        'INPUT_IMAGES-FILE': file,
        ...(mode === 'sign' ? { 'INPUT_DELEGATION-KEY': key.privateKeyPem, 'INPUT_DELEGATION-PASSPHRASE': REPOSITORY_PASSPHRASE } : {}),
      },
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`${mode} failed: ${r.stdout.slice(-2000)}`);
    return performance.now() - t;
  };
  run('sign', [big]);
  run('sign', many);
  run('verify', [big]); // warm the trust state
  run('verify', many);
  for (const [name, repos] of [
    [`verify ${TAGS} tags`, [big]],
    [`verify 10 tags x ${REPOS} repositories`, many],
  ] as const) {
    const dir = mkdtempSync(join(tmpdir(), 'cta-cpuprof-'));
    const ms = run('verify', [...repos], dir);
    const prof = JSON.parse(readFileSync(join(dir, readdirSync(dir)[0]!), 'utf8')) as { nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]; samples: number[]; timeDeltas: number[] };
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    const byScript = new Map<string, number>();
    let total = 0;
    prof.samples.forEach((id, i) => {
      const d = prof.timeDeltas[i] ?? 0;
      total += d;
      const f = byId.get(id)!.callFrame;
      const where = f.url ? f.url.replace(/^.*\/(?:dist|cta-prof-dist-[^/]+)\//, 'dist/') : '(native)';
      const k = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber}`;
      self.set(k, (self.get(k) ?? 0) + d);
      byScript.set(where, (byScript.get(where) ?? 0) + d);
    });
    console.log(`\n== ${name}: wall ${ms.toFixed(0)} ms, profiled ${(total / 1000).toFixed(0)} ms`);
    for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
    // Who calls the busiest native functions (the socket writes, mostly): the JS frame above each.
    const parent = new Map<number, number>();
    for (const n of prof.nodes as { id: number; children?: number[] }[]) for (const c of n.children ?? []) parent.set(c, n.id);
    const callers = new Map<string, Map<string, number>>();
    prof.samples.forEach((id, i) => {
      const f = byId.get(id)!.callFrame;
      if (f.url || !/^write/.test(f.functionName)) return;
      let p = parent.get(id);
      const chain: string[] = [];
      while (p !== undefined && chain.length < 6) {
        const c = byId.get(p)!.callFrame;
        if (c.functionName && c.url) chain.push(`${c.functionName} ${c.url.replace(/^.*\//, '')}:${c.lineNumber}`);
        p = parent.get(p);
      }
      const m = callers.get(f.functionName) ?? new Map<string, number>();
      callers.set(f.functionName, m);
      const k = chain.join(' < ');
      m.set(k, (m.get(k) ?? 0) + (prof.timeDeltas[i] ?? 0));
    });
    for (const [fn, m] of callers) {
      console.log(`  ${fn} called from:`);
      for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`    ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
    }
    // Inclusive time: each function counted once per sample whose stack holds it.
    const inclusive = new Map<string, number>();
    prof.samples.forEach((id, i) => {
      const seen = new Set<string>();
      for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
        const c = byId.get(n)!.callFrame;
        if (!c.url) continue;
        seen.add(`${c.functionName || '(anonymous)'} ${c.url.replace(/^.*\//, '')}:${c.lineNumber}`);
      }
      for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + (prof.timeDeltas[i] ?? 0));
    });
    console.log('  inclusive:');
    for (const [k, us] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, 120)) console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
    console.log('  by script:');
    for (const [k, us] of [...byScript].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  ${(us / 1000).toFixed(0).padStart(6)} ms  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
} finally {
  await stack.stop();
}
