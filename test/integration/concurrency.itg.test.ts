/**
 * Two sign runs on one repository at once (two `node dist/index.js`
 * processes, different tags) both end with their tags signed: the loser of
 * the race gets the server's VERSION error, re-reads, re-plans, re-signs and
 * publishes again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startFaultProxy, type FaultProxy } from '../stack/fault-proxy.ts';
import { pushImage } from '../stack/index.ts';
import { describeRun, hex, initRepo, runAction, trustFile, useStack, type ActionRun } from './helpers.ts';

const RETRIED = /another publish changed the repository first; re-reading and retrying/;

describe('concurrent sign runs on one repository', () => {
  const ctx = useStack();
  let proxy: FaultProxy;

  before(async () => {
    proxy = await startFaultProxy(ctx.stack.notary.url, ctx.stack.ca);
  });
  after(async () => {
    await proxy?.stop();
  });

  it('a forced race: both publishes held until both arrived; one gets VERSION, re-reads and retries; both tags end signed', async () => {
    const gun = await initRepo(ctx.stack, 'race/forced', ctx.ci);
    const a = await pushImage(ctx.stack, 'race/forced:a');
    const b = await pushImage(ctx.stack, 'race/forced:b');
    // A barrier: the first two POSTs wait for each other, so both were planned on the same versions.
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    let posts = 0;
    proxy.setRule((r) => {
      if (r.method !== 'POST') return undefined;
      posts++;
      if (posts === 2) release();
      return posts <= 2 ? { hold: barrier } : undefined;
    });
    const logStart = proxy.log.length;
    let runs: ActionRun[];
    try {
      runs = await Promise.all([a, b].map((img) => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, trustServer: proxy.url })));
    } finally {
      proxy.setRule(undefined);
    }
    for (const run of runs) assert.equal(run.code, 0, describeRun(run));

    const postStatuses = proxy.log
      .slice(logStart)
      .filter((l) => l.method === 'POST')
      .map((l) => l.status);
    // Server fact: on PostgreSQL the two transactions can both pass the version
    // check, and the loser then fails the unique (gun, role, version) index:
    // 500. The client retries a 5xx, which the server now answers VERSION.
    // Memory storage serialises updates and always answers VERSION at once.
    const loser = ctx.stack.auth
      ? [
          [200, 200, 400],
          [200, 200, 400, 500],
        ]
      : [[200, 200, 400]];
    assert.ok(
      loser.some((want) => JSON.stringify([...postStatuses].sort()) === JSON.stringify(want)),
      `two held POSTs (one refused with VERSION${ctx.stack.auth ? ', or with 500 then VERSION on PostgreSQL' : ''}) and one retry: got ${postStatuses.join(', ')}`,
    );
    assert.equal(runs.filter((r) => RETRIED.test(r.text)).length, 1, 'exactly one run re-read and retried');

    const rows = (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => `${r.name} ${r.digest}`).sort();
    assert.deepEqual(rows, [`a ${hex(a.digest)}`, `b ${hex(b.digest)}`]);
    assert.equal((await trustFile(ctx.stack, gun, 'targets/releases'))!.signed.version, 2, 'one version per accepted publish');
  });

  it('unforced: three rounds of two simultaneous runs straight to the server; every tag ends signed', async (t) => {
    const gun = await initRepo(ctx.stack, 'race/free', ctx.ci);
    let conflicts = 0;
    const expected: string[] = [];
    for (let round = 1; round <= 3; round++) {
      const imgs = await Promise.all(['x', 'y'].map((tag) => pushImage(ctx.stack, `race/free:${tag}${round}`)));
      const runs = await Promise.all(imgs.map((img) => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem })));
      for (const run of runs) assert.equal(run.code, 0, describeRun(run));
      conflicts += runs.filter((r) => RETRIED.test(r.text)).length;
      expected.push(...imgs.map((i) => `${i.tag} ${hex(i.digest)}`));
    }
    const rows = (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => `${r.name} ${r.digest}`).sort();
    assert.deepEqual(rows, expected.sort());
    // Whether the processes overlapped is up to the scheduler; say what happened.
    t.diagnostic(`unforced rounds: ${conflicts} VERSION conflict(s) in 3 rounds of 2 runs`);
  });
});
