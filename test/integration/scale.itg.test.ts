import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, type Stack } from '../stack/index.ts';
import { seedRepository } from '../stack/many-tags.ts';
import { startProxy, type RewritingProxy } from '../stack/proxy.ts';
import { describeRun, hex, resultOf, runAction, trustState, useStack } from './helpers.ts';

describe('scale and registry look-ups', () => {
  const ctx = useStack();
  let proxy: RewritingProxy;

  before(async () => {
    proxy = await startProxy(ctx.stack.registry.url, ctx.stack.ca);
  });
  after(async () => {
    await proxy?.stop();
  });

  it('signs 4,000 tags of one repository from images-file in one publish, and verifies them all', async () => {
    const repo = await seedRepository(ctx.stack, 'scale/many', 4000);
    await ctx.stack.docker.signerAdd('ci', ctx.ci.publicKeyPath, repo.gun);
    const list = repo.tags.map((t) => t.ref).join('\n');
    assert.ok(Buffer.byteLength(list) > 128 * 1024, 'the list must not fit in one environment variable');
    const file = join(ctx.stack.dir, 'images.txt');
    await writeFile(file, list);
    const before = await trustState(ctx.stack, repo.gun);

    const signed = await runAction(ctx.stack, { mode: 'sign', images: [], key: ctx.ci.privateKeyPem }, { 'INPUT_IMAGES-FILE': file });
    assert.equal(signed.code, 0, describeRun(signed));
    const after = await trustState(ctx.stack, repo.gun);
    assert.equal(after.posts - before.posts, 1, 'one publish for the whole repository');
    assert.equal(after.releases, before.releases + 1);
    assert.equal(after.snapshot, before.snapshot + 1);
    assert.deepEqual(
      signed.outputs.digests!.split('\n'),
      repo.tags.map((t) => `${repo.gun}@${t.digest}`),
    );

    const rows = await ctx.stack.notaryCli.list(repo.gun, { role: 'targets/releases' });
    assert.equal(rows.length, 4000);
    const want = new Map(repo.tags.map((t) => [t.tag, `${hex(t.digest)} ${t.size}`]));
    for (const r of rows) assert.equal(`${r.digest} ${r.size}`, want.get(r.name), r.name);

    const verified = await runAction(ctx.stack, { mode: 'verify', images: [] }, { 'INPUT_IMAGES-FILE': file });
    assert.equal(verified.code, 0, describeRun(verified));
    assert.equal(resultOf(verified).length, 4000);
  });

  it("sign GETs each manifest once and signs the bytes' hash; verify resolves tags with HEAD when the registry announces the digest: no manifest GET", async () => {
    const pushed = await pushImage(ctx.stack, 'scale/head:v1', { seed: 'head' });
    const seen = await startHeaderKeepingForwarder(ctx.stack);
    try {
      const gun = ctx.stack.gun('scale/head').replace(ctx.stack.registry.host, seen.host);
      await ctx.stack.docker.signerAdd('ci', ctx.ci.publicKeyPath, gun);
      const signed = await runAction(ctx.stack, { mode: 'sign', images: [`${gun}:v1`], key: ctx.ci.privateKeyPem });
      assert.equal(signed.code, 0, describeRun(signed));
      assert.deepEqual(
        seen.methods.filter((m) => m.includes('/manifests/')),
        ['GET /v2/scale/head/manifests/v1'],
      );
      assert.equal(resultOf(signed)[0]!.digest, pushed.digest);
      assert.equal(resultOf(signed)[0]!.size, pushed.size);

      seen.methods.length = 0;
      const verified = await runAction(ctx.stack, { mode: 'verify', images: [`${gun}:v1`] });
      assert.equal(verified.code, 0, describeRun(verified));
      assert.deepEqual(
        seen.methods.filter((m) => m.includes('/manifests/')),
        ['HEAD /v2/scale/head/manifests/v1'],
      );
      assert.equal(resultOf(verified)[0]!.digest, pushed.digest);
    } finally {
      await seen.stop();
    }
  });

  it('verify falls back to GET and hashes the bytes when HEAD gives no Docker-Content-Digest', async () => {
    const pushed = await pushImage(ctx.stack, 'scale/get:v1', { seed: 'get' });
    const gun = ctx.stack.gun('scale/get').replace(ctx.stack.registry.host, new URL(proxy.url).host);
    await ctx.stack.docker.signerAdd('ci', ctx.ci.publicKeyPath, gun);
    const signed = await runAction(ctx.stack, { mode: 'sign', images: [`${gun}:v1`], key: ctx.ci.privateKeyPem });
    assert.equal(signed.code, 0, describeRun(signed));
    proxy.log.length = 0;
    // A bare 200 to HEAD: no digest.
    proxy.setRule((req) => (req.method === 'HEAD' && req.path.includes('/manifests/') ? { body: Buffer.alloc(0) } : undefined));
    try {
      const run = await runAction(ctx.stack, { mode: 'verify', images: [`${gun}:v1`] });
      assert.equal(run.code, 0, describeRun(run));
      const manifests = proxy.log.filter((e) => e.path.includes('/manifests/'));
      assert.deepEqual(
        manifests.map((e) => e.method),
        ['HEAD', 'GET'],
      );
      assert.equal(resultOf(run)[0]!.digest, pushed.digest);
      assert.equal(resultOf(run)[0]!.size, pushed.size);
    } finally {
      proxy.setRule(undefined);
    }
  });
});

/** Forwards to the stack's registry keeping every header (HEAD included), and records "METHOD path" of each request. */
async function startHeaderKeepingForwarder(stack: Stack): Promise<{ host: string; methods: string[]; stop(): Promise<void> }> {
  const [key, cert] = await Promise.all([readFile(stack.ca.serverKeyPath), readFile(stack.ca.serverCertPath)]);
  const methods: string[] = [];
  const server = createServer({ key, cert }, (req, res) => {
    methods.push(`${req.method} ${req.url}`);
    const up = request(stack.registry.url + req.url, { method: req.method, headers: { ...req.headers, host: stack.registry.host }, ca: stack.ca.caPem, agent: false }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, methods, stop: () => new Promise((r) => server.close(() => r())) };
}
