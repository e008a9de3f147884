/**
 * The policy and dockerfile inputs as the runner runs them, against the real
 * stack: the first matching entry applies and is reported (result, summary),
 * its signers, root keys and minimum validity are enforced, unmatched images
 * follow `default`, and a Dockerfile's FROM images are verified.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { describeRun, initRepo, resultOf, runAction, useStack } from './helpers.ts';

describe('policy and dockerfile inputs', () => {
  const ctx = useStack();
  let app: PushedImage;
  let lib: PushedImage;
  let workspace: string;
  let rootKey: string;

  before(async () => {
    [app, lib] = await Promise.all([pushImage(ctx.stack, 'org/app:v1'), pushImage(ctx.stack, 'org/lib:v1'), pushImage(ctx.stack, 'other/unsigned:v1')]);
    for (const repo of ['org/app', 'org/lib']) {
      await initRepo(ctx.stack, repo, ctx.ci);
      const signed = await runAction(ctx.stack, { mode: 'sign', images: [`${ctx.stack.gun(repo)}:v1`], key: ctx.ci.privateKeyPem });
      assert.equal(signed.code, 0, describeRun(signed));
    }
    const [info] = await ctx.stack.docker.inspect(ctx.stack.gun('org/app'));
    rootKey = info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys[0]!.ID;
    workspace = await mkdtemp(join(ctx.stack.dir, 'workspace-'));
  });

  const verify = async (images: string[], files: Record<string, string>, inputs: Record<string, string>) => {
    for (const [name, text] of Object.entries(files)) await writeFile(join(workspace, name), text);
    // RUNNER_DEBUG: request traces are on, so "no ::debug::GET" below means no request was made.
    const env: Record<string, string> = { GITHUB_WORKSPACE: workspace, RUNNER_DEBUG: '1' };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    return runAction(ctx.stack, { mode: 'verify', images }, env);
  };

  it('applies the first matching entry (signers, pinned root key, validity) and reports it in result and summary', async () => {
    const policy = `# the org's verification policy
default: deny
repositories:
  - name: org apps
    match: ${ctx.stack.registry.host}/org/app
    root-keys: [${rootKey}]
    signers: [ci]
    min-validity: 365d
  - name: everything of org
    match: ${ctx.stack.registry.host}/org/*
`;
    const run = await verify([`${ctx.stack.gun('org/app')}:v1`, `${ctx.stack.gun('org/lib')}:v1`], { 'policy.yml': policy }, { policy: 'policy.yml' });
    assert.equal(run.code, 0, describeRun(run));
    const result = resultOf(run) as unknown as { repository: string; digest: string; policy: string }[];
    assert.deepEqual(
      result.map((r) => [r.repository, r.digest, r.policy]),
      [
        [ctx.stack.gun('org/app'), app.digest, 'org apps'],
        [ctx.stack.gun('org/lib'), lib.digest, 'everything of org'],
      ],
    );
    assert.match(run.summary, /Policy entry/);
    assert.match(run.summary, /org apps/);
    assert.match(run.summary, /days left/);
    assert.equal(run.outputs['pinned-refs'], `${ctx.stack.gun('org/app')}:v1@${app.digest}\n${ctx.stack.gun('org/lib')}:v1@${lib.digest}`);
    assert.match(run.text, new RegExp(`${ctx.stack.gun('org/app')}:v1: policy entry "org apps"`));
  });

  it('an image no entry matches fails POLICY_NO_MATCH under default deny; default allow-unsigned lets it through unverified', async () => {
    const entries = `repositories:\n  - match: ${ctx.stack.registry.host}/org/*\n`;
    const denied = await verify([`${ctx.stack.gun('org/app')}:v1`, `${ctx.stack.gun('other/unsigned')}:v1`], { 'deny.yml': entries }, { policy: 'deny.yml' });
    assert.equal(denied.code, 1, describeRun(denied));
    assert.deepEqual(
      denied.errors.filter((e) => e.title).map((e) => e.title),
      [`POLICY_NO_MATCH: ${ctx.stack.gun('other/unsigned')}:v1`],
    );
    assert.match(denied.errors[0]!.message, /no entry of policy deny\.yml matches repository .*other\/unsigned, and its default is deny/);

    const allowed = await verify([`${ctx.stack.gun('org/app')}:v1`, `${ctx.stack.gun('other/unsigned')}:v1`], { 'allow.yml': `default: allow-unsigned\n${entries}` }, { policy: 'allow.yml' });
    assert.equal(allowed.code, 0, describeRun(allowed));
    assert.deepEqual(
      resultOf(allowed).map((r) => r.repository),
      [ctx.stack.gun('org/app')],
    );
    assert.match(allowed.text, /::warning::image .*other\/unsigned:v1: not verified: no entry of policy allow\.yml matches it/);

    // Without allow-unsigned, default verify checks the unsigned image as DCT would, and it fails.
    const verified = await verify([`${ctx.stack.gun('other/unsigned')}:v1`], { 'verify.yml': `default: verify\n${entries}` }, { policy: 'verify.yml' });
    assert.equal(verified.code, 1);
    assert.deepEqual(
      verified.errors.filter((e) => e.title).map((e) => e.title.split(':')[0]),
      ['REPO_NOT_INITIALISED'],
    );
  });

  it('enforces the entry: minimum validity, required signers, pinned root keys (JSON policy)', async () => {
    const policy = (entry: Record<string, unknown>) => JSON.stringify({ repositories: [{ name: 'strict', match: `${ctx.stack.registry.host}/org/app`, ...entry }] });
    const image = [`${ctx.stack.gun('org/app')}:v1`];

    const validity = await verify(image, { 'p1.json': policy({ 'min-validity': '1000w' }) }, { policy: 'p1.json' });
    assert.equal(validity.code, 1);
    assert.equal(validity.errors[0]!.title, `POLICY_VALIDITY: ${image[0]}`);
    assert.match(validity.errors[0]!.message, /policy entry "strict" requires 1000w of validity left, but its trust data expires \d{4}-/);

    const signer = await verify(image, { 'p2.json': policy({ signers: ['release'] }) }, { policy: 'p2.json' });
    assert.equal(signer.code, 1);
    assert.equal(signer.errors[0]!.title, `SIGNER_MISSING: ${image[0]}`);
    assert.match(signer.errors[0]!.message, /signer "release" did not sign it .*\[policy entry "strict"\]/);

    const pinned = await verify(image, { 'p3.json': policy({ 'root-keys': ['0'.repeat(64)] }) }, { policy: 'p3.json' });
    assert.equal(pinned.code, 1);
    assert.equal(pinned.errors[0]!.title.split(':')[0], 'ROOT_NOT_PINNED');
    assert.match(pinned.errors[0]!.message, /\[policy entry "strict"\]/);
  });

  it('a broken policy is POLICY_INVALID with the line, before any request', async () => {
    const run = await verify([`${ctx.stack.gun('org/app')}:v1`], { 'bad.yml': 'repositories:\n  - match: a\n    signer: ci\n' }, { policy: 'bad.yml' });
    assert.equal(run.code, 1);
    assert.match(run.text, /POLICY_INVALID: policy bad\.yml: repositories\[0\]: unknown key "signer": the keys are match, name, root-keys, signers, min-validity \(line 3\)/);
    assert.doesNotMatch(run.text, /::debug::GET/);
  });

  it('cannot be weakened: __proto__ and a second default are refused before any request; a BOM, --- and ... are fine, and 0x10 stays a signer name', async () => {
    const images = [`${ctx.stack.gun('org/app')}:v1`, `${ctx.stack.gun('other/unsigned')}:v1`];
    const org = `${ctx.stack.registry.host}/org/*`;
    const refused = async (file: string, text: string, message: RegExp) => {
      const run = await verify(images, { [file]: text }, { policy: file });
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.text, message);
      assert.doesNotMatch(run.text, /::debug::GET/);
      assert.equal(run.outputs.digests, undefined, 'nothing verified, nothing skipped');
    };
    await refused('proto.yml', `__proto__: {default: allow-unsigned}\nrepositories:\n  - match: ${org}\n`, /POLICY_INVALID: policy proto\.yml: unknown key "__proto__": the keys are version, default, repositories \(line 1\)/);
    await refused('proto.json', JSON.stringify({ repositories: [{ match: org }] }).replace('{', '{"__proto__": {"default": "allow-unsigned"}, '), /POLICY_INVALID: policy proto\.json: unknown key "__proto__"/);
    await refused('entry.json', `{"repositories": [{"match": "${org}", "__proto__": {"signers": []}}]}`, /POLICY_INVALID: policy entry\.json: repositories\[0\]: unknown key "__proto__"/);
    await refused('twice.json', `{"default": "deny",\n "repositories": [{"match": "${org}"}],\n "default": "allow-unsigned"}`, /POLICY_INVALID: policy twice\.json: line 3, column 2: duplicate key "default"/);
    await refused('twice.yml', `default: deny\nrepositories:\n  - match: ${org}\ndefault: allow-unsigned\n`, /POLICY_INVALID: policy twice\.yml: line 4, column 1: duplicate key "default"/);

    // Read as written: the entry demands a signer named "0x10" (not 16), which nobody is.
    const marked = await verify([images[0]!], { 'marked.yml': `\uFEFF---\nrepositories:\n  - name: hex\n    match: ${org}\n    signers: [0x10]\n...\n` }, { policy: 'marked.yml' });
    assert.equal(marked.code, 1, describeRun(marked));
    assert.equal(marked.errors[0]!.title, `SIGNER_MISSING: ${images[0]}`);
    assert.match(marked.errors[0]!.message, /signer "0x10" did not sign it .*\[policy entry "hex"\]/);
  });

  it("verifies the images a Dockerfile's FROM lines name (ARG, --platform, stages, scratch)", async () => {
    const dockerfile = `ARG REGISTRY=${ctx.stack.registry.host}
ARG APP_TAG=v1
FROM --platform=$BUILDPLATFORM \${REGISTRY}/org/app:\${APP_TAG} AS build
FROM \${REGISTRY}/org/lib:v1
COPY --from=build /x /x
FROM scratch
FROM build
`;
    const run = await verify([], { Dockerfile: dockerfile }, { dockerfile: 'Dockerfile' });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs.digests, `${ctx.stack.gun('org/app')}@${app.digest}\n${ctx.stack.gun('org/lib')}@${lib.digest}`);

    const unsigned = await verify([], { 'Dockerfile.bad': `FROM ${ctx.stack.registry.host}/other/unsigned:v1\n` }, { dockerfile: 'Dockerfile.bad' });
    assert.equal(unsigned.code, 1);
    assert.deepEqual(
      unsigned.errors.filter((e) => e.title).map((e) => e.title),
      [`REPO_NOT_INITIALISED: ${ctx.stack.gun('other/unsigned')}:v1`],
    );
  });
});
