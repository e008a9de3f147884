/**
 * Sign exactly what was built (issue 13): the action's digest and metadata
 * inputs and the CLI's --digest and --metadata, against the real stack.
 * Images are pushed with skopeo; the metadata is buildx's JSON
 * (test/fixtures/buildx, whose README says where each shape comes from) with
 * the names and digests of those images put in, given as build-push-action
 * hands it over (the output text) or as the file buildx writes. A tag moved
 * between the push and the sign step (re-pushed with skopeo) must fail and
 * publish nothing; docker trust inspect reads the result.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pushImage, tagImage, type PushedImage } from '../stack/index.ts';
import { assertBadInput, assertCliBadInput, assertNoInternal, describeRun, hex, initRepo, resultOf, runAction, runCli, trustState, useStack } from './helpers.ts';

type Metadata = Record<string, unknown>;

/** A buildx metadata sample with `image`'s digest and media type and the names given (several targets for a bake). */
function metadataOf(fixture: string, image: PushedImage, names: readonly string[], target?: string): Metadata {
  const doc = JSON.parse(readFileSync(new URL(`../fixtures/buildx/${fixture}`, import.meta.url), 'utf8')) as Metadata;
  const build = (target === undefined ? doc : doc[target]) as Metadata;
  build['containerimage.digest'] = image.digest;
  // The size is the sample's, not the image's: what is signed must come from the registry's bytes, never from here.
  build['containerimage.descriptor'] = { ...(build['containerimage.descriptor'] as Metadata), digest: image.digest, mediaType: image.mediaType };
  build['image.name'] = names.join(',');
  return doc;
}

/** build-push-action's metadata output: the JSON re-printed with two-space indent. */
const asOutput = (doc: Metadata) => JSON.stringify(doc, null, 2);

describe('sign what the build pushed: digest and metadata', () => {
  const ctx = useStack();

  it("action, metadata only (images left out): every tagged name is signed with the registry's bytes; a name without a tag is left out with a warning", async () => {
    const gun = await initRepo(ctx.stack, 'built/meta', ctx.ci);
    const img = await pushImage(ctx.stack, 'built/meta:1.2.3');
    await tagImage(ctx.stack, 'built/meta:1.2.3', 'built/meta:1.2');
    const metadata = metadataOf('single-platform.json', img, [`${gun}:1.2.3`, `${gun}:1.2`, gun]);
    assert.notEqual((metadata['containerimage.descriptor'] as { size: number }).size, img.size, 'the sample size is not the real one');

    const run = await runAction(ctx.stack, { mode: 'sign', images: '', key: ctx.ci.privateKeyPem }, { INPUT_METADATA: asOutput(metadata) });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, new RegExp(`^::warning::input metadata names ${gun.replace(/[.]/g, '\\.')} without a tag: not signed\\.`, 'm'));

    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(
      [...info!.SignedTags].sort((a, b) => a.SignedTag.localeCompare(b.SignedTag)),
      [
        { SignedTag: '1.2', Digest: hex(img.digest), Signers: ['ci'] },
        { SignedTag: '1.2.3', Digest: hex(img.digest), Signers: ['ci'] },
      ],
    );
    assert.deepEqual(
      resultOf(run).map((r) => [r.image, r.tag, r.digest, r.size]),
      [
        [`${gun}:1.2.3`, '1.2.3', img.digest, img.size],
        [`${gun}:1.2`, '1.2', img.digest, img.size],
      ],
    );
    const rows = await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' });
    assert.deepEqual(rows.map((r) => r.size).sort(), [img.size, img.size], 'the length signed is the served manifest length');
  });

  it('action, a tag moved after the build: PIN_MISMATCH names the tag, both digests and the fix; nothing is published in any repository', async () => {
    const dbGun = await initRepo(ctx.stack, 'built/moved-db', ctx.ci);
    const webGun = await initRepo(ctx.stack, 'built/moved-web', ctx.ci);
    const db = await pushImage(ctx.stack, 'built/moved-db:1');
    const web = await pushImage(ctx.stack, 'built/moved-web:1');
    await tagImage(ctx.stack, 'built/moved-web:1', 'built/moved-web:1.0');
    // A bake of two targets, as bake-action's metadata output.
    const metadata = metadataOf('bake.json', db, [`${dbGun}:1`], 'db');
    Object.assign(metadata, { webapp: (metadataOf('bake.json', web, [`${webGun}:1`, `${webGun}:1.0`], 'webapp') as Record<string, unknown>).webapp });
    const before = await Promise.all([trustState(ctx.stack, dbGun), trustState(ctx.stack, webGun)]);

    // Someone with push access moves 1.0 between the push and the sign step.
    const moved = await pushImage(ctx.stack, 'built/moved-web:1.0');
    assert.notEqual(moved.digest, web.digest);

    const run = await runAction(ctx.stack, { mode: 'sign', images: '', key: ctx.ci.privateKeyPem }, { INPUT_METADATA: asOutput(metadata) });
    assert.equal(run.code, 1, describeRun(run));
    const failure = run.errors.find((e) => e.title.startsWith('PIN_MISMATCH'));
    assert.ok(failure, describeRun(run));
    assert.equal(failure.title, `PIN_MISMATCH: ${webGun}:1.0`);
    assert.ok(failure.message.includes(`image ${webGun}:1.0: the tag now points at ${moved.digest} in the registry, not at ${web.digest}, the digest the build pushed (input metadata (target "webapp"))`), failure.message);
    assert.match(failure.message, /nothing was signed\. Build and push again, then sign; if nobody meant to move it, find out who can push to /);
    assert.equal(run.errors.filter((e) => e.title.startsWith('PIN_MISMATCH')).length, 1, 'only the moved tag fails');
    assert.equal(run.outputs.digests, undefined);
    assertNoInternal(run.text);

    const after = await Promise.all([trustState(ctx.stack, dbGun), trustState(ctx.stack, webGun)]);
    assert.deepEqual(after, before, 'no publish, in either repository');
    for (const gun of [dbGun, webGun]) assert.deepEqual((await ctx.stack.docker.inspect(gun))[0]!.SignedTags, []);
  });

  it('CLI, --metadata FILE and no IMAGE:TAG: a multi-platform build is signed by its index digest; docker trust inspect shows the tags', async () => {
    const gun = await initRepo(ctx.stack, 'built/multi', ctx.ci);
    const img = await pushImage(ctx.stack, 'built/multi:2.0.0', { platforms: ['linux/amd64', 'linux/arm64'] });
    await tagImage(ctx.stack, 'built/multi:2.0.0', 'built/multi:2.0');
    assert.equal(img.mediaType, 'application/vnd.oci.image.index.v1+json');
    const file = join(ctx.stack.dir, 'multi-metadata.json');
    // buildx writes the file with json.MarshalIndent(…, "", "  ").
    await writeFile(file, asOutput(metadataOf('multi-platform.json', img, [`${gun}:2.0.0`, `${gun}:2.0`])));

    const run = await runCli(ctx.stack.docker.env(), ['sign', '--metadata', file]);
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
    assert.deepEqual(
      run.stdout.split('\n').map((l) => l.replace(/ \(.*\)$/, '')),
      [`Signed ${gun}:2.0.0 ${img.digest}`, `Signed ${gun}:2.0 ${img.digest}`, ''],
    );

    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(
      [...info!.SignedTags].sort((a, b) => a.SignedTag.localeCompare(b.SignedTag)),
      [
        { SignedTag: '2.0', Digest: hex(img.digest), Signers: ['ci'] },
        { SignedTag: '2.0.0', Digest: hex(img.digest), Signers: ['ci'] },
      ],
    );
    assert.ok(!img.manifests!.some((m) => m.digest === img.digest), 'the index, not a platform manifest');
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.size),
      [img.size, img.size],
    );
  });

  it('CLI, --digest with IMAGE:TAG: a tag moved since fails PIN_MISMATCH naming --digest, and nothing is published', async () => {
    const gun = await initRepo(ctx.stack, 'built/cli-moved', ctx.ci);
    const built = await pushImage(ctx.stack, 'built/cli-moved:v1');
    const moved = await pushImage(ctx.stack, 'built/cli-moved:v1');
    const before = await trustState(ctx.stack, gun);

    const run = await runCli(ctx.stack.docker.env(), ['sign', `${gun}:v1`, '--digest', built.digest]);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.stderr.includes(`content-trust: PIN_MISMATCH: image ${gun}:v1: the tag now points at ${moved.digest} in the registry, not at ${built.digest}, the digest the build pushed (--digest)`), run.stderr);
    assertNoInternal(run.stderr);
    assert.deepEqual(await trustState(ctx.stack, gun), before);

    // The digest of what the tag is now signs.
    const ok = await runCli(ctx.stack.docker.env(), ['sign', `${gun}:v1`, '--digest', moved.digest]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual((await ctx.stack.docker.inspect(gun))[0]!.SignedTags, [{ SignedTag: 'v1', Digest: hex(moved.digest), Signers: ['ci'] }]);
  });

  it('action, digest with images (metadata-action tags), and metadata as a file path: both sign', async () => {
    const gun = await initRepo(ctx.stack, 'built/digest', ctx.ci);
    const img = await pushImage(ctx.stack, 'built/digest:v1');
    await tagImage(ctx.stack, 'built/digest:v1', 'built/digest:latest');
    const byDigest = await runAction(ctx.stack, { mode: 'sign', images: `${gun}:v1\n${gun}:latest\n`, key: ctx.ci.privateKeyPem }, { INPUT_DIGEST: img.digest });
    assert.equal(byDigest.code, 0, describeRun(byDigest));
    assert.equal(byDigest.outputs.digests, `${gun}@${img.digest}\n${gun}@${img.digest}`);

    const v2 = await pushImage(ctx.stack, 'built/digest:v2');
    const file = join(ctx.stack.dir, 'digest-metadata.json');
    await writeFile(file, asOutput(metadataOf('single-platform.json', v2, [`${gun}:v2`])));
    const byFile = await runAction(ctx.stack, { mode: 'sign', images: '', key: ctx.ci.privateKeyPem }, { INPUT_METADATA: file, INPUT_DIGEST: v2.digest });
    assert.equal(byFile.code, 0, describeRun(byFile));
    assert.equal(byFile.outputs['pinned-refs'], `${gun}:v2@${v2.digest}`);
  });

  it('bad inputs are refused before any request, each named', async () => {
    const img = { digest: `sha256:${'a'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json' } as PushedImage;
    const key = ctx.ci.privateKeyPem;
    const sign = (env: Record<string, string>, images = '') => runAction(ctx.stack, { mode: 'sign', images, key }, env);
    assertBadInput(await sign({ INPUT_METADATA: '{"buildx.build.ref":"b/b0/x"}' }), 'BUILD_METADATA_INVALID', 'input metadata records no image build');
    assertBadInput(await sign({ INPUT_METADATA: '{"containerimage.digest": sha256' }), 'BUILD_METADATA_INVALID', 'input metadata is not JSON');
    assertBadInput(await sign({ INPUT_METADATA: join(ctx.stack.dir, 'no-such.json') }), 'FILE_NOT_FOUND', 'input metadata');
    assertBadInput(await sign({ INPUT_DIGEST: 'sha256:abc' }, 'r.example/a:1'), 'INPUT_INVALID', 'input digest "sha256:abc" is not an image digest');
    assertBadInput(await sign({ INPUT_DIGEST: `sha256:${'b'.repeat(64)}`, INPUT_METADATA: asOutput(metadataOf('single-platform.json', img, ['r.example/a:1'])) }), 'INPUT_INVALID', 'they are not the same build');
    assertBadInput(await sign({ INPUT_METADATA: asOutput(metadataOf('single-platform.json', img, ['r.example/a'])) }), 'INPUT_INVALID', 'input metadata names r.example/a without a tag: not signed');
    assertBadInput(await sign({ INPUT_METADATA: JSON.stringify({ 'containerimage.digest': img.digest }) }), 'INPUT_INVALID', 'input metadata has no image.name');
    assertBadInput(await sign({ INPUT_DIGEST: img.digest }, `r.example/a:1@sha256:${'c'.repeat(64)}`), 'INPUT_INVALID', 'but input digest says the build pushed');
    assertBadInput(await runAction(ctx.stack, { mode: 'verify', images: 'r.example/a:1' }, { INPUT_DIGEST: img.digest }), 'INPUT_INVALID', 'input digest is for mode sign');

    const env = ctx.stack.docker.env();
    assertCliBadInput(await runCli(env, ['sign', '--metadata', join(ctx.stack.dir, 'no-such.json')]), 'FILE_NOT_FOUND', '--metadata');
    assertCliBadInput(await runCli(env, ['sign', 'r.example/a:1', '--digest', 'latest']), 'INPUT_INVALID', '--digest "latest"');
    assertCliBadInput(await runCli(env, ['sign']), 'INPUT_INVALID', '--metadata FILE');
  });
});
