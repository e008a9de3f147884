/**
 * 429 and 503 with Retry-After between the action and the real servers: the
 * request is tried again after the announced wait (in order, a bounded
 * number of times), a wait longer than 30 s ends the retries at once, and
 * the same publish is never applied twice, even when the server applied it
 * and the answer was replaced by a 503: the retry is refused as an old
 * version. (The sign flow would then re-plan and publish the same tags as a
 * new version, were it not for src/notary/edit.ts checking, on a VERSION conflict,
 * whether the server now holds exactly the files sent: the test after it.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { firstN, startFaultProxy, type FaultProxy, type FaultRequest } from '../stack/fault-proxy.ts';
import { startProxy, type RewritingProxy } from '../stack/proxy.ts';
import { pushImage } from '../stack/index.ts';
import { describeRun, hex, runAction, trustState, useStack } from './helpers.ts';

const isPost = (r: { method: string }) => r.method === 'POST';
const isTrustGet = (r: FaultRequest) => r.method === 'GET' && r.path.includes('/_trust/tuf/');

describe('Retry-After: 429 and 503 from the Notary server and the registry', () => {
  const ctx = useStack();
  let notary: FaultProxy;
  let registry: FaultProxy;
  let rewriting: RewritingProxy;

  before(async () => {
    [notary, registry, rewriting] = await Promise.all([startFaultProxy(ctx.stack.notary.url, ctx.stack.ca), startFaultProxy(ctx.stack.registry.url, ctx.stack.ca), startProxy(ctx.stack.notary.url, ctx.stack.ca)]);
  });
  after(async () => {
    await Promise.all([notary?.stop(), registry?.stop(), rewriting?.stop()]);
  });

  /** Signs `repo:v1` with the trust server `trustServer`, the registry behind the fault proxy when `viaRegistry`. */
  async function sign(repo: string, trustServer: string, viaRegistry = false) {
    const img = await pushImage(ctx.stack, `${repo}:v1`);
    const gun = `${viaRegistry ? registry.host : ctx.stack.registry.host}/${repo}`;
    await ctx.stack.docker.signerAdd(ctx.ci.name, ctx.ci.publicKeyPath, gun);
    const before = await trustState(ctx.stack, gun);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [`${gun}:v1`], key: ctx.ci.privateKeyPem, trustServer }, { RUNNER_DEBUG: '1' });
    return { img, gun, before, run };
  }

  it('the publish POST answered 503 with Retry-After: 1 (not applied): sent again after the announced second, one publish accepted', async () => {
    const start = notary.log.length;
    notary.setRule(firstN(1, isPost, { status: 503, headers: { 'retry-after': '1' } }));
    const { img, gun, before, run } = await sign('retryafter/post503', notary.url).finally(() => notary.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    const posts = notary.log.slice(start).filter(isPost);
    assert.deepEqual(
      posts.map((l) => `${l.action} ${l.status ?? ''}`.trim()),
      ['503', 'pass 200'],
    );
    assert.match(run.stdout, /POST https:\/\/127\.0\.0\.1:\d+\/v2\/[^ ]+\/_trust\/tuf\/: retry 1\/3 in 1000 ms \(Retry-After\)/);
    const after = await trustState(ctx.stack, gun);
    assert.equal(after.snapshot, before.snapshot + 1, 'exactly one accepted publish');
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );
  });

  it('the registry answers 429 with Retry-After twice on the manifest: tried again after each wait, in order, then the sign succeeds', async () => {
    const start = registry.log.length;
    registry.setRule(firstN(2, (r) => r.path.includes('/manifests/'), { status: 429, headers: { 'retry-after': '1' } }));
    const { img, gun, run } = await sign('retryafter/reg429', ctx.stack.notary.url, true).finally(() => registry.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      registry.log
        .slice(start)
        .filter((l) => l.path.includes('/manifests/'))
        .slice(0, 3)
        .map((l) => l.action),
      ['429', '429', 'pass'],
    );
    assert.equal((run.stdout.match(/\/manifests\/v1: retry \d\/3 in 1000 ms \(Retry-After\)/g) ?? []).length, 2);
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );
  });

  it("a Retry-After of an hour on the Notary server's reads: no retry at all, HTTP_ERROR at once, nothing published", async () => {
    const start = notary.log.length;
    notary.setRule((r) => (isTrustGet(r) ? { status: 503, headers: { 'retry-after': '3600' } } : undefined));
    const { gun, before, run } = await sign('retryafter/maintenance', notary.url).finally(() => notary.setRule(undefined));
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.errors[0]?.title ?? '', /^HTTP_ERROR: /, describeRun(run));
    const log = notary.log.slice(start);
    const perPath = new Map<string, number>();
    for (const l of log) perPath.set(l.path, (perPath.get(l.path) ?? 0) + 1);
    for (const [path, n] of perPath) assert.equal(n, 1, `${path} asked ${n} times`);
    assert.match(run.stdout, /the server asks to wait 3600 s \(Retry-After\), more than the 30 s allowed: not retrying/);
    assert.ok(
      log.every((l) => l.method === 'GET'),
      'no POST',
    );
    assert.deepEqual(await trustState(ctx.stack, gun), before);
  });

  /** The scenario below, run once for the two tests after it. */
  let applied: Awaited<ReturnType<typeof sign>> & { posts: { status: number; rewritten: boolean }[]; after: Awaited<ReturnType<typeof trustState>> };

  it('a publish the server applied but whose answer became a 503 with Retry-After: the same files sent again are refused as an old version, not applied twice', async () => {
    let rewritten = 0;
    rewriting.setRule((r) => {
      if (r.method !== 'POST' || rewritten > 0) return undefined;
      rewritten++;
      return { rewrite: (body) => ({ body, status: 503, headers: { 'retry-after': '1' } }) };
    });
    const start = rewriting.log.length;
    const result = await sign('retryafter/applied', rewriting.url).finally(() => rewriting.setRule(undefined));
    const posts = rewriting.log.slice(start).filter(isPost);
    applied = { ...result, posts, after: await trustState(ctx.stack, result.gun) };
    const { img, gun, run } = applied;
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      posts.slice(0, 2).map((p) => `${p.status}${p.rewritten ? ' (rewritten)' : ''}`),
      ['503 (rewritten)', '400'],
      'the applied POST, then the very same files refused',
    );
    assert.match(run.stdout, /another publish changed the repository first, but the server already holds exactly the files sent/);
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );
  });

  it('… and the run then publishes nothing more: one version, not two (the server holds exactly the files sent)', () => {
    assert.ok(applied, 'the scenario ran');
    assert.equal(applied.posts.length, 2, `POSTs: ${applied.posts.map((p) => p.status).join(', ')}`);
    assert.equal(applied.after.snapshot, applied.before.snapshot + 1, 'one publish applied, not two');
    assert.match(applied.run.stdout, /the server already holds exactly the files sent \(a publish applied whose answer was lost\): not publishing again/);
  });
});
