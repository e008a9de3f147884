/**
 * Faults between the action and the real notary-server and registry: a
 * fault proxy resets connections, truncates bodies, hangs, or answers
 * 502/503. Passing faults are retried with backoff and the run succeeds;
 * lasting ones end in a clear error after a bounded number of attempts, and
 * nothing is published.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { firstN, startFaultProxy, type FaultProxy, type FaultRequest } from '../stack/fault-proxy.ts';
import { pushImage } from '../stack/index.ts';
import { describeRun, hex, initRepo, runAction, trustState, useStack } from './helpers.ts';
import { HttpClient } from '../../src/http/client.ts';
import { AuthClient } from '../../src/http/auth.ts';
import { verifyImages } from '../../src/notary/verify.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { defaultConfig } from '../../src/config.ts';
import { ContentTrustError } from '../../src/errors.ts';
import type { TrustEnv } from '../../src/notary/env.ts';

const isGet = (r: FaultRequest) => r.method === 'GET';
const isPost = (r: FaultRequest) => r.method === 'POST';
const isTrustGet = (r: FaultRequest) => r.method === 'GET' && r.path.includes('/_trust/tuf/');
/** Attempts one request gets: the first try plus config.retries. */
const ATTEMPTS = defaultConfig.retries + 1;

/** Each failing request was tried exactly ATTEMPTS times, and none more. */
function assertBounded(log: { method: string; path: string }[]): void {
  const perRequest = new Map<string, number>();
  for (const l of log) perRequest.set(`${l.method} ${l.path}`, (perRequest.get(`${l.method} ${l.path}`) ?? 0) + 1);
  assert.ok(perRequest.size > 0);
  for (const [request, attempts] of perRequest) assert.equal(attempts, ATTEMPTS, `${request}: ${attempts} attempts, want ${ATTEMPTS}`);
}

describe('faults: resets, truncation, timeouts and 5xx from the Notary server and the registry', () => {
  const ctx = useStack();
  let notary: FaultProxy;
  let registry: FaultProxy;

  before(async () => {
    [notary, registry] = await Promise.all([startFaultProxy(ctx.stack.notary.url, ctx.stack.ca), startFaultProxy(ctx.stack.registry.url, ctx.stack.ca)]);
  });
  after(async () => {
    await Promise.all([notary?.stop(), registry?.stop()]);
  });

  /** Signs `repo:tag` through the Notary fault proxy (and the registry one when `viaRegistryProxy`). */
  async function signThrough(repo: string, tag: string, viaRegistryProxy = false) {
    const img = await pushImage(ctx.stack, `${repo}:${tag}`);
    const host = viaRegistryProxy ? registry.host : ctx.stack.registry.host;
    const gun = `${host}/${repo}`;
    await ctx.stack.docker.signerAdd(ctx.ci.name, ctx.ci.publicKeyPath, gun);
    const before = await trustState(ctx.stack, gun);
    // RUNNER_DEBUG: step debug on, so the retries are traced.
    const run = await runAction(ctx.stack, { mode: 'sign', images: [`${gun}:${tag}`], key: ctx.ci.privateKeyPem, trustServer: notary.url }, { RUNNER_DEBUG: '1' });
    return { img, gun, before, run };
  }

  function since(proxy: FaultProxy, start: number) {
    return proxy.log.slice(start);
  }

  it('Notary server 503 on the first two GETs: retried with backoff, the sign succeeds', async () => {
    const start = notary.log.length;
    notary.setRule(firstN(2, isTrustGet, { status: 503 }));
    const { img, gun, run } = await signThrough('faults/n503', 'v1').finally(() => notary.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    const log = since(notary, start);
    // The updater asks for root and timestamp at once: both get a 503, both are asked again.
    const refused = log.slice(0, 2);
    assert.deepEqual(
      refused.map((l) => l.action),
      ['503', '503'],
    );
    for (const r of refused)
      assert.ok(
        log.slice(2).some((l) => l.path === r.path && l.action === 'pass' && l.status === 200),
        `${r.path} retried`,
      );
    assert.match(run.stdout, /\.json: retry 1\/3 in \d+ ms/);
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );
  });

  it('connection resets and a truncated body from the Notary server: retried, the sign succeeds', async () => {
    let n = 0;
    notary.setRule((r) => {
      if (!isTrustGet(r)) return undefined;
      n++;
      return n === 1 ? { reset: true } : n === 2 ? { truncate: true } : n === 3 ? { reset: true } : undefined;
    });
    const start = notary.log.length;
    const { gun, run } = await signThrough('faults/nreset', 'v1').finally(() => notary.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      since(notary, start)
        .slice(0, 4)
        .map((l) => l.action),
      ['reset', 'truncate', 'reset', 'pass'],
    );
    assert.equal((await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).length, 1);
  });

  it('the publish POST reset before it reaches the server: retried once, one publish accepted', async () => {
    const start = notary.log.length;
    notary.setRule(firstN(1, isPost, { reset: true }));
    const { gun, before, run } = await signThrough('faults/postreset', 'v1').finally(() => notary.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    const posts = since(notary, start).filter((l) => l.method === 'POST');
    assert.deepEqual(
      posts.map((l) => `${l.action} ${l.status ?? ''}`.trim()),
      ['reset', 'pass 200'],
    );
    const after = await trustState(ctx.stack, gun);
    assert.equal(after.snapshot, before.snapshot + 1, 'exactly one accepted publish');
  });

  it('registry resets and 502s on the manifest: retried, the sign succeeds', async () => {
    let n = 0;
    registry.setRule((r) => {
      if (!r.path.includes('/manifests/')) return undefined;
      n++;
      return n === 1 ? { reset: true } : n === 2 ? { status: 502 } : undefined;
    });
    const start = registry.log.length;
    const { img, gun, run } = await signThrough('faults/regflaky', 'v1', true).finally(() => registry.setRule(undefined));
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      since(registry, start)
        .slice(0, 3)
        .map((l) => l.action),
      ['reset', '502', 'pass'],
    );
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );
  });

  it('a Notary server that keeps answering 503: a bounded number of attempts, a clear HTTP_ERROR, nothing published', async () => {
    const start = notary.log.length;
    notary.setRule((r) => (isGet(r) ? { status: 503 } : undefined));
    const { gun, before, run } = await signThrough('faults/ndown', 'v1').finally(() => notary.setRule(undefined));
    assert.equal(run.code, 1, describeRun(run));
    const [error] = run.errors;
    assert.match(error?.title ?? '', /^HTTP_ERROR: /, describeRun(run));
    assert.ok(error!.message.startsWith(`${gun}: the Notary server answered HTTP 503 for `), error!.message);
    const log = since(notary, start);
    assertBounded(log);
    assert.ok(
      log.every((l) => l.method === 'GET'),
      'no POST was sent',
    );
    assert.deepEqual(await trustState(ctx.stack, gun), before);
  });

  it('a publish that keeps failing with 502: a bounded number of POSTs, the error names the repository and roles, nothing published', async () => {
    const start = notary.log.length;
    notary.setRule((r) => (isPost(r) ? { status: 502 } : undefined));
    const { gun, before, run } = await signThrough('faults/postdown', 'v1').finally(() => notary.setRule(undefined));
    assert.equal(run.code, 1, describeRun(run));
    const [error] = run.errors;
    assert.match(error?.title ?? '', /^HTTP_ERROR: /, describeRun(run));
    assert.ok(error!.message.includes(`${gun}: the Notary server refused the update of `), error!.message);
    assert.match(error!.message, /targets\/releases/);
    assert.match(error!.message, /HTTP 502/);
    assert.equal(since(notary, start).filter((l) => l.method === 'POST').length, ATTEMPTS);
    assert.deepEqual(await trustState(ctx.stack, gun), { ...before, posts: before.posts }, 'no POST reached the server');
  });

  it('a registry that keeps answering 503 for one of two repositories: nothing is published in either', async () => {
    const ok = await pushImage(ctx.stack, 'faults/other:v1');
    const okGun = await initRepo(ctx.stack, 'faults/other', ctx.ci);
    const down = await pushImage(ctx.stack, 'faults/regdown:v1');
    const downGun = `${registry.host}/faults/regdown`;
    await ctx.stack.docker.signerAdd(ctx.ci.name, ctx.ci.publicKeyPath, downGun);
    const before = await Promise.all([trustState(ctx.stack, okGun), trustState(ctx.stack, downGun)]);
    registry.setRule((r) => (r.path.includes('/manifests/') ? { status: 503 } : undefined));
    const run = await runAction(ctx.stack, { mode: 'sign', images: [ok.ref, `${downGun}:v1`], key: ctx.ci.privateKeyPem, trustServer: notary.url }).finally(() => registry.setRule(undefined));
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.errors[0]?.title ?? '', /^HTTP_ERROR: /, describeRun(run));
    assert.ok(run.errors[0]!.message.includes(`image ${downGun}:v1: the registry answered HTTP 503`), run.errors[0]!.message);
    assert.equal(down.tag, 'v1');
    assert.deepEqual(await Promise.all([trustState(ctx.stack, okGun), trustState(ctx.stack, downGun)]), before, 'neither repository changed');
  });

  it('timeouts (library, 500 ms per attempt): one hang is retried; a server that never answers ends in TIMEOUT', async () => {
    const gun = await initRepo(ctx.stack, 'faults/hang', ctx.ci);
    const img = await pushImage(ctx.stack, 'faults/hang:v1');
    await ctx.stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/releases', publish: true });
    const http = new HttpClient({ ca: ctx.stack.ca.caPem, config: { timeoutMs: 500, backoffMs: 20 } });
    const env: TrustEnv = {
      client: new AuthClient(http),
      config: http.config,
      log: { info: () => {}, warning: () => {}, debug: () => {} },
      credentialsFor: () => undefined,
      serverFor: () => notary.url,
    };
    const refs = parseReferences([img.ref]);
    try {
      const start = notary.log.length;
      notary.setRule(firstN(1, isTrustGet, { hang: true }));
      const [result] = await verifyImages(env, refs, { signers: [], checkRegistry: true });
      assert.equal(result!.digest, img.digest);
      assert.equal(since(notary, start)[0]!.action, 'hang');

      const hangStart = notary.log.length;
      notary.setRule((r) => (isTrustGet(r) ? { hang: true } : undefined));
      const error = await verifyImages(env, refs, { signers: [], checkRegistry: true }).then(
        () => assert.fail('expected a TIMEOUT'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof ContentTrustError, String(error));
      assert.equal(error.code, 'TIMEOUT');
      assert.match(error.message, /did not answer within 500 ms/);
      assertBounded(since(notary, hangStart));
    } finally {
      notary.setRule(undefined);
      http.close();
    }
  });
});
