/**
 * mode: sign against the real stack, run as the runner runs it; the result
 * is read back with docker trust inspect, notary list and the server's files.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getManifest, pushImage } from '../stack/index.ts';
import { describeRun, hex, initRepo, libraryEnv, publishCount, resultOf, runAction, trustFile, trustState, useStack } from './helpers.ts';
import { signImages } from '../../src/notary/sign.ts';
import { verifyImages } from '../../src/notary/verify.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { REPOSITORY_PASSPHRASE } from '../stack/index.ts';
import { AuthClient, type AuthedInit } from '../../src/http/auth.ts';

describe('sign', () => {
  const ctx = useStack();

  it('signs a tag: docker trust inspect and notary list show it with the signer and the digest and size the registry serves', async () => {
    const gun = await initRepo(ctx.stack, 'sign/basic', ctx.ci);
    const img = await pushImage(ctx.stack, 'sign/basic:v1');
    const served = await getManifest(ctx.stack, 'sign/basic', 'v1');
    const before = await trustState(ctx.stack, gun);

    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem });
    assert.equal(run.code, 0, describeRun(run));

    // docker trust inspect: the tag, its digest, the signer.
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v1', Digest: hex(served.digest), Signers: ['ci'] }]);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] }]);

    // notary list: in targets/releases and targets/ci, with the registry's digest and byte size.
    const row = { name: 'v1', digest: hex(served.digest), size: served.body.length };
    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' }), [{ ...row, role: 'targets/releases' }]);
    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/ci' }), [{ ...row, role: 'targets/ci' }]);
    const all = await ctx.stack.notaryCli.list(gun);
    assert.equal(all.length, 1);
    assert.deepEqual({ ...all[0]!, role: undefined }, { ...row, role: undefined });
    assert.match(all[0]!.role, /^targets\/(releases|ci)$/);

    // One publish: snapshot +1, both delegation files at version 1.
    const afterState = await trustState(ctx.stack, gun);
    assert.deepEqual(afterState, { snapshot: before.snapshot + 1, releases: 1, signers: { ci: 1 }, posts: before.posts + 1 });

    // Outputs.
    assert.equal(run.outputs.digests, `${gun}@${served.digest}`);
    const [result, ...rest] = resultOf(run);
    assert.equal(rest.length, 0);
    assert.deepEqual(
      { ...result!, roles: [...result!.roles].sort(), expires: undefined },
      {
        image: img.ref,
        repository: gun,
        tag: 'v1',
        digest: served.digest,
        size: served.body.length,
        signers: ['ci'],
        roles: ['targets/ci', 'targets/releases'],
        expires: undefined,
      },
    );
    assert.ok(Date.parse(result!.expires) > Date.now() + 1000 * 86_400_000, `expires ${result!.expires} is about 3 years away`);

    // Job summary: a row with the image and its digest.
    assert.match(run.summary, /Content trust: sign/);
    assert.ok(run.summaryText.includes(`<tr><td>${gun}:v1</td><td><code>${served.digest}</code></td><td>ci</td>`), run.summary);
    assert.match(run.summary, /Signed 1 image\(s\)/);
  });

  it('signing more tags later keeps the earlier ones and bumps each delegation by one version', async () => {
    const gun = await initRepo(ctx.stack, 'sign/again', ctx.ci);
    const v1 = await pushImage(ctx.stack, 'sign/again:v1');
    const v2 = await pushImage(ctx.stack, 'sign/again:v2');
    const first = await runAction(ctx.stack, { mode: 'sign', images: [v1.ref], key: ctx.ci.privateKeyPem });
    assert.equal(first.code, 0, describeRun(first));
    const second = await runAction(ctx.stack, { mode: 'sign', images: [v2.ref], key: ctx.ci.privateKeyPem });
    assert.equal(second.code, 0, describeRun(second));

    const rows = (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).sort((a, b) => a.name.localeCompare(b.name));
    assert.deepEqual(
      rows.map((r) => [r.name, r.digest, r.size]),
      [
        ['v1', hex(v1.digest), v1.size],
        ['v2', hex(v2.digest), v2.size],
      ],
    );
    const state = await trustState(ctx.stack, gun);
    assert.equal(state.releases, 2);
    assert.equal(state.signers.ci, 2);
  });

  it('signs a multi-arch index by the index digest and size', async () => {
    const gun = await initRepo(ctx.stack, 'sign/multi', ctx.ci);
    const img = await pushImage(ctx.stack, 'sign/multi:v1', { platforms: ['linux/amd64', 'linux/arm64'] });
    assert.equal(img.mediaType, 'application/vnd.oci.image.index.v1+json');
    const children = img.manifests!.map((m) => m.digest);

    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs.digests, `${gun}@${img.digest}`);
    const [result] = resultOf(run);
    assert.equal(result!.digest, img.digest);
    assert.equal(result!.size, img.size);
    assert.ok(!children.includes(result!.digest), 'signed the index, not a platform manifest');

    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' }), [{ name: 'v1', digest: hex(img.digest), size: img.size, role: 'targets/releases' }]);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.equal(info!.SignedTags[0]!.Digest, hex(img.digest));

    // And it verifies, with the registry still serving the index.
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] });
    assert.equal(verify.code, 0, describeRun(verify));
    assert.equal(verify.outputs.digests, `${gun}@${img.digest}`);
  });

  it('signs Docker schema 2 manifest lists by the exact bytes the registry serves', async () => {
    const gun = await initRepo(ctx.stack, 'sign/docker-list', ctx.ci);
    const img = await pushImage(ctx.stack, 'sign/docker-list:v1', { format: 'docker', platforms: ['linux/amd64', 'linux/arm64'] });
    assert.equal(img.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' }), [{ name: 'v1', digest: hex(img.digest), size: img.size, role: 'targets/releases' }]);
  });

  it('many tags in two repositories make exactly one publish per repository', async () => {
    const gunA = await initRepo(ctx.stack, 'sign/many-a', ctx.ci);
    const gunB = await initRepo(ctx.stack, 'sign/many-b', ctx.ci);
    const tagsA = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const tagsB = ['b0', 'b1', 'b2'];
    const imagesA = await Promise.all(tagsA.map((t) => pushImage(ctx.stack, `sign/many-a:${t}`)));
    const imagesB = await Promise.all(tagsB.map((t) => pushImage(ctx.stack, `sign/many-b:${t}`)));
    const [beforeA, beforeB] = await Promise.all([trustState(ctx.stack, gunA), trustState(ctx.stack, gunB)]);

    // Interleave the two repositories in the input.
    const input = [...imagesA.slice(0, 6), ...imagesB, ...imagesA.slice(6)];
    const run = await runAction(ctx.stack, { mode: 'sign', images: input.map((i) => i.ref), key: ctx.ci.privateKeyPem });
    assert.equal(run.code, 0, describeRun(run));

    const [afterA, afterB] = await Promise.all([trustState(ctx.stack, gunA), trustState(ctx.stack, gunB)]);
    assert.equal(afterA.posts - beforeA.posts, 1, 'one POST to the notary server for repository A');
    assert.equal(afterB.posts - beforeB.posts, 1, 'one POST to the notary server for repository B');
    assert.equal(afterA.snapshot - beforeA.snapshot, 1, 'snapshot of A bumped once');
    assert.equal(afterB.snapshot - beforeB.snapshot, 1, 'snapshot of B bumped once');
    assert.equal(afterA.releases, 1);
    assert.equal(afterB.releases, 1);

    const listA = await ctx.stack.notaryCli.list(gunA, { role: 'targets/releases' });
    assert.deepEqual(listA.map((r) => [r.name, r.digest, r.size]).sort(), imagesA.map((i) => [i.tag, hex(i.digest), i.size]).sort());
    const listB = await ctx.stack.notaryCli.list(gunB, { role: 'targets/ci' });
    assert.deepEqual(listB.map((r) => r.name).sort(), tagsB);

    // Outputs keep the input order.
    assert.deepEqual(
      run.outputs.digests!.split('\n'),
      input.map((i) => `${i.gun}@${i.digest}`),
    );
    assert.deepEqual(
      resultOf(run).map((r) => r.image),
      input.map((i) => i.ref),
    );
  });

  it('the library: signImages then verifyImages agree with the registry (called directly)', async () => {
    const gun = await initRepo(ctx.stack, 'sign/library', ctx.ci);
    const a = await pushImage(ctx.stack, 'sign/library:a');
    const b = await pushImage(ctx.stack, 'sign/library:b');
    const env = libraryEnv(ctx.stack);
    try {
      const refs = parseReferences([a.ref, `${b.ref}@${b.digest}`]);
      const signed = await signImages(env, refs, parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE));
      assert.deepEqual(
        signed.map((r) => [r.tag, r.digest, r.size, r.signers]),
        [
          ['a', a.digest, a.size, ['ci']],
          ['b', b.digest, b.size, ['ci']],
        ],
      );
      assert.equal(await publishCount(ctx.stack, gun), 2, 'docker signer add, then one publish by signImages');
      const verified = await verifyImages(env, refs, { signers: ['ci'], checkRegistry: true });
      assert.deepEqual(verified, signed);
      const releases = await trustFile(ctx.stack, gun, 'targets/releases');
      assert.deepEqual(Object.keys(releases!.signed.targets!).sort(), ['a', 'b']);
    } finally {
      env.close();
    }
  });

  // notary-server hashes its Go re-encoding of what it stores into the snapshot it makes
  // (test/upstream/notary.upstream.test.ts): bytes Go would write differently break the repository.
  it('regression: an expiry whose milliseconds end in 0 is written as Go writes it, and the repository stays readable', async () => {
    const gun = await initRepo(ctx.stack, 'sign/round-millis', ctx.ci);
    const img = await pushImage(ctx.stack, 'sign/round-millis:v1');
    const env = libraryEnv(ctx.stack);
    const now = new Date();
    now.setUTCMilliseconds(150);
    env.now = () => now;
    try {
      const [result] = await signImages(env, parseReferences([img.ref]), parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE));
      assert.equal(result!.digest, img.digest);
    } finally {
      env.close();
    }
    const releases = await trustFile(ctx.stack, gun, 'targets/releases');
    assert.match((releases!.signed as unknown as { expires: string }).expires, /\.15Z$/);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v1', Digest: hex(img.digest), Signers: ['ci'] }]);
  });

  it('a publish that loses a race (VERSION from the server) re-reads, re-signs and keeps both updates', async () => {
    const gun = await initRepo(ctx.stack, 'sign/race', ctx.ci);
    const ours = await pushImage(ctx.stack, 'sign/race:ours');
    const theirs = await pushImage(ctx.stack, 'sign/race:theirs');
    const env = libraryEnv(ctx.stack);
    // Just before our first POST, someone else publishes targets/releases.
    let raced = false;
    const client = env.client;
    env.client = Object.assign(Object.create(AuthClient.prototype) as AuthClient, client, {
      send: async (url: string, init: AuthedInit = {}) => {
        if (init.method === 'POST' && !raced) {
          raced = true;
          await ctx.stack.notaryCli.addhash(gun, 'theirs', theirs.size, theirs.digest, { role: 'targets/releases', publish: true });
        }
        return client.send(url, init);
      },
    });
    const before = await publishCount(ctx.stack, gun);
    try {
      const [result] = await signImages(env, parseReferences([ours.ref]), parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE));
      assert.equal(result!.digest, ours.digest);
    } finally {
      env.close();
    }
    assert.ok(raced);
    assert.ok(
      env.logs.some((l) => /another publish changed the repository first; re-reading and retrying/.test(l)),
      env.logs.join('\n'),
    );
    assert.equal(await publishCount(ctx.stack, gun), before + 3, 'theirs, our refused one, our retry');
    const rows = await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' });
    assert.deepEqual(rows.map((r) => [r.name, r.digest]).sort(), [
      ['ours', hex(ours.digest)],
      ['theirs', hex(theirs.digest)],
    ]);
  });
});
