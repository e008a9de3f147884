/**
 * Signers as docker and notary know them, through the action and the CLI
 * against the real stack: a signer restricted to tag patterns (notary's
 * delegation paths), several keys per signer, and root key IDs as
 * `docker trust inspect` prints them. Each change is read back by
 * `docker trust inspect` and the notary CLI, and verified by the action
 * with trust remembered from before the change. The facts about notary and
 * docker these rest on: test/upstream/signers.upstream.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type GeneratedKey, type PushedImage } from '../stack/index.ts';
import { assertBadInput, assertCliBadInput, describeRun, initRepo, libraryEnv, resultOf, runAction, runCli, trustFile, useStack, type ActionRun } from './helpers.ts';
import { dockerKeyPem, runAdminAction, serverState } from './admin-helpers.ts';
import { repoClient } from '../../src/notary/repository.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { bump, keyIdsOf, startFrom } from '../../src/notary/sign-plan.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { loadSigner, parsePrivateKey } from '../../src/tuf/private-key.ts';

describe('signers as docker and notary know them', () => {
  const ctx = useStack();
  let gun: string;
  let repoKey: string;
  let remembered: string;
  let v1: PushedImage;
  let dev: GeneratedKey;
  const repoInputs = () => ({ 'repository-key': repoKey, 'repository-passphrase': REPOSITORY_PASSPHRASE });
  const pub = (k: GeneratedKey) => readFile(k.publicKeyPath, 'utf8');
  const cli = (args: string[]) => runCli(ctx.stack.docker.env(), ['--server', ctx.stack.notary.url, ...args]);
  const cliOk = async (args: string[]) => {
    const r = await cli(args);
    assert.equal(r.code, 0, `content-trust ${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const sign = (images: PushedImage[], key: GeneratedKey) => runAction(ctx.stack, { mode: 'sign', images: images.map((i) => i.ref), key: key.privateKeyPem });
  /** verify with the trust directory every run of this suite shares: trust remembered from before each change. */
  const verify = (images: PushedImage[], signers?: string) => runAction(ctx.stack, { mode: 'verify', images: images.map((i) => i.ref), ...(signers ? { signers } : {}) }, { 'INPUT_TRUST-DIR': remembered });
  const ok = (run: ActionRun) => assert.equal(run.code, 0, describeRun(run));
  const signersOf = async (g: string) => (await ctx.stack.docker.inspect(g))[0]!.Signers;
  const delegation = async (g: string, role: string) => (await ctx.stack.notaryCli.delegationList(g)).find((r) => r.role === role);

  before(async () => {
    gun = await initRepo(ctx.stack, 'org/signers', ctx.ci);
    repoKey = await dockerKeyPem(ctx.stack, 'targets', gun);
    remembered = join(ctx.stack.dir, 'remembered-trust');
    v1 = await pushImage(ctx.stack, 'org/signers:v1');
    ok(await sign([v1], ctx.ci));
    ok(await verify([v1])); // remembers the repository as it was before any change below
    dev = await ctx.stack.docker.keyGenerate('dev', join(ctx.stack.dir, 'keys-dev'));
  });

  describe('a signer restricted to tag patterns', () => {
    it('add-signer with signer-paths makes targets/dev with paths ["dev-"] and leaves targets/releases alone; docker and notary read it', async () => {
      const run = await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'dev', 'signer-key': await pub(dev), 'signer-paths': 'dev-*' });
      ok(run);
      assert.match(run.stdout, /added signer "dev" .* to targets\/dev, for tags matching "dev-\*" \(not to targets\/releases/);
      assert.deepEqual(await delegation(gun, 'targets/dev'), { role: 'targets/dev', paths: ['dev-'], keyIds: [dev.keyId], threshold: 1 });
      assert.deepEqual(await delegation(gun, 'targets/releases'), { role: 'targets/releases', paths: [''], keyIds: [ctx.ci.keyId], threshold: 1 });
      assert.deepEqual(await signersOf(gun), [
        { Name: 'dev', Keys: [{ ID: dev.keyId }] },
        { Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] },
      ]);
      ok(await verify([v1], 'ci'));
    });

    it('the restricted signer signs a tag inside its paths into targets/dev alone; verify accepts it when signers names dev, and not as a DCT pull (docker lists no signed tag for it)', async () => {
      const img = await pushImage(ctx.stack, 'org/signers:dev-1');
      const signed = await sign([img], dev);
      ok(signed);
      assert.deepEqual(resultOf(signed)[0]!.roles, ['targets/dev']);
      assert.deepEqual(
        (await ctx.stack.notaryCli.list(gun, { role: 'targets/dev' })).map((r) => [r.name, r.digest]),
        [['dev-1', img.digest.slice('sha256:'.length)]],
      );
      const [info] = await ctx.stack.docker.inspect(gun);
      assert.deepEqual(
        info!.SignedTags.map((t) => t.SignedTag),
        ['v1'],
      );
      const byDev = await verify([img], 'dev');
      ok(byDev);
      assert.deepEqual(resultOf(byDev)[0]!.signers, ['dev']);
      const asPull = await verify([img]);
      assert.equal(asPull.code, 1, describeRun(asPull));
      assert.match(asPull.errors[0]!.message, /is signed only in targets\/dev; a DCT pull accepts only targets\/releases or targets/);
      const fromCli = await cliOk(['verify', img.ref, '--signer', 'dev']);
      assert.match(fromCli.stdout, new RegExp(`${gun}:dev-1 ${img.digest} signed by dev`));
    });

    it('sign refuses a tag outside the paths before publishing (TAG_OUTSIDE_PATHS naming tag, signer, paths); the action and the CLI alike; nothing is published', async () => {
      const v2 = await pushImage(ctx.stack, 'org/signers:v2');
      const okTag = await pushImage(ctx.stack, 'org/signers:dev-2');
      const state = await serverState(ctx.stack, gun, ['targets/releases', 'targets/ci', 'targets/dev']);
      const run = await sign([okTag, v2], dev);
      assertBadInput(run, 'TAG_OUTSIDE_PATHS', `${gun}: signer "dev" (targets/dev) may sign only tags matching "dev-*" (its delegation's paths), and "v2" is outside them; nothing was published for ${gun}`);
      const fromCli = await cli(['sign', v2.ref, '--signer', 'dev']);
      assertCliBadInput(fromCli, 'TAG_OUTSIDE_PATHS', '"v2" is outside them');
      assert.deepEqual(await serverState(ctx.stack, gun, ['targets/releases', 'targets/ci', 'targets/dev']), state);
    });

    it('a tag outside the paths signed by hand into targets/dev (the server stores it) is not accepted by verify; the restricted key cannot sign targets/releases', async () => {
      const v3 = await pushImage(ctx.stack, 'org/signers:v3');
      await loadSigner();
      const env = libraryEnv(ctx.stack);
      const key = parsePrivateKey(dev.privateKeyPem, REPOSITORY_PASSPHRASE);
      const forge = async (role: string) => {
        const client = repoClient(env, parseReferences([v3.ref])[0]!, true);
        const repo = await updateRepo(client, { config: env.config });
        const signed = bump(startFrom(repo, role), new Date(), 30);
        signed.targets.v3 = { hashes: { sha256: Buffer.from(v3.digest.slice('sha256:'.length), 'hex').toString('base64') }, length: v3.size };
        const { meta, delegationKeys } = repo.roles.get('targets')!;
        const ids = keyIdsOf(meta.signed.delegations.roles.find((r) => r.name === 'targets/dev')!.keyids, delegationKeys, key);
        await client.publish(new Map([[role, envelope(signed, key, ids)]]));
      };
      try {
        await forge('targets/dev');
        assert.ok((await trustFile(ctx.stack, gun, 'targets/dev'))!.signed.targets!.v3, 'the server stored the entry');
        // Not into releases: the restricted key is not one releases lists (test/upstream/signers.upstream.test.ts).
        await assert.rejects(forge('targets/releases'), /did not meet threshold for targets\/releases/);
      } finally {
        env.close();
      }
      assert.deepEqual(
        (await ctx.stack.notaryCli.list(gun, { role: 'targets/dev' })).map((r) => r.name),
        ['dev-1'],
        'notary ignores it',
      );
      const byDev = await verify([v3], 'dev');
      assert.equal(byDev.code, 1, describeRun(byDev));
      assert.match(byDev.errors[0]!.message, /signer "dev" did not sign it \(targets\/dev lists it, but its delegation allows only tags matching "dev-\*", so the entry is ignored, as notary and docker ignore it\)/);
      const asPull = await verify([v3]);
      assert.equal(asPull.code, 1, describeRun(asPull));
      assert.match(asPull.errors[0]!.title, /^NOT_SIGNED/);
      ok(await verify([v1], 'ci'));
    });

    it('a restricted signer gets no key another role allowed wider tags lists, and keeps its paths (SIGNER_PATHS_CONFLICT); bad patterns are refused by name; nothing changes', async () => {
      const state = await serverState(ctx.stack, gun, ['targets/releases', 'targets/ci', 'targets/dev']);
      assertBadInput(
        await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'qa', 'signer-key': await pub(ctx.ci), 'signer-paths': 'qa-*' }),
        'SIGNER_PATHS_CONFLICT',
        `key ${ctx.ci.keyId} would be listed by targets/ci (any tag) as well as by targets/qa, which may sign only tags matching "qa-*"`,
      );
      assertBadInput(
        await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'dev', 'signer-key': await pub(dev), 'signer-paths': 'v*' }),
        'SIGNER_PATHS_CONFLICT',
        'signer "dev" exists and may sign tags matching "dev-*", not tags matching "v*"',
      );
      assertBadInput(await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'qa', 'signer-key': await pub(dev), 'signer-paths': 'qa-?' }), 'INPUT_INVALID', 'the signer-paths input pattern "qa-?"');
      assertCliBadInput(await cli(['signer', 'add', '--key', dev.publicKeyPath, '--paths', 'qa', 'qa', gun]), 'INPUT_INVALID', '--paths pattern "qa" does not end in *');
      assert.deepEqual(await serverState(ctx.stack, gun, ['targets/releases', 'targets/ci', 'targets/dev']), state);
    });

    it('content-trust signer add --paths makes a restricted signer as the action does', async () => {
      const qa = await ctx.stack.docker.keyGenerate('qa', join(ctx.stack.dir, 'keys-qa'));
      await cliOk(['signer', 'add', '--key', qa.publicKeyPath, 'qa', gun, '--paths', 'qa-*,rc-*']);
      assert.deepEqual(await delegation(gun, 'targets/qa'), { role: 'targets/qa', paths: ['qa-', 'rc-'], keyIds: [qa.keyId], threshold: 1 });
      assert.deepEqual((await delegation(gun, 'targets/releases'))!.keyIds, [ctx.ci.keyId]);
      ok(await verify([v1], 'ci'));
    });
  });

  describe('several keys per signer', () => {
    let second: GeneratedKey;
    let v4: PushedImage;
    let v5: PushedImage;
    before(async () => {
      second = await ctx.stack.docker.keyGenerate('ci-second', join(ctx.stack.dir, 'keys-ci-second'));
    });

    it('add-signer with another key for ci adds it to targets/ci and targets/releases (threshold 1); both keys sign; docker, notary and the action read it', async () => {
      ok(await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'ci', 'signer-key': await pub(second) }));
      for (const role of ['targets/ci', 'targets/releases']) assert.deepEqual(await delegation(gun, role), { role, paths: [''], keyIds: [ctx.ci.keyId, second.keyId], threshold: 1 });
      assert.deepEqual(
        (await signersOf(gun)).find((s) => s.Name === 'ci'),
        { Name: 'ci', Keys: [{ ID: ctx.ci.keyId }, { ID: second.keyId }] },
      );
      v4 = await pushImage(ctx.stack, 'org/signers:v4');
      v5 = await pushImage(ctx.stack, 'org/signers:v5');
      ok(await sign([v4], ctx.ci));
      const bySecond = await sign([v5], second); // signed last by the second key: removing the first leaves every file verifying
      ok(bySecond);
      assert.deepEqual(resultOf(bySecond)[0]!.roles.sort(), ['targets/ci', 'targets/releases']);
      ok(await verify([v1, v4, v5], 'ci'));
      ok(await verify([v1, v4, v5]));
    });

    it('remove-signer with signer-key removes only that key; the signer stays and its other key signs; the removed key no longer can', async () => {
      const run = await runAdminAction(ctx.stack, 'remove-signer', [gun], { ...repoInputs(), 'signer-name': 'ci', 'signer-key': await pub(ctx.ci) });
      ok(run);
      assert.match(run.stdout, new RegExp(`removed key\\(s\\) ${ctx.ci.keyId} from signer "ci" \\(keys left: ${second.keyId}\\)`));
      for (const role of ['targets/ci', 'targets/releases']) assert.deepEqual((await delegation(gun, role))!.keyIds, [second.keyId], role);
      assert.deepEqual(
        (await signersOf(gun)).find((s) => s.Name === 'ci'),
        { Name: 'ci', Keys: [{ ID: second.keyId }] },
      );
      ok(await verify([v1, v4, v5], 'ci'));
      const v6 = await pushImage(ctx.stack, 'org/signers:v6');
      assert.match((await sign([v6], ctx.ci)).errors[0]!.title, /^KEY_NOT_DELEGATE/);
      ok(await sign([v6], second));
      ok(await verify([v6]));
      const state = await serverState(ctx.stack, gun);
      assertBadInput(await runAdminAction(ctx.stack, 'remove-signer', [gun], { ...repoInputs(), 'signer-name': 'ci', 'signer-key': await pub(second) }), 'SIGNER_LAST_KEY', 'would leave signer "ci" 0 key(s)');
      assertBadInput(await runAdminAction(ctx.stack, 'remove-signer', [gun], { ...repoInputs(), 'signer-name': 'ci', 'signer-key': await pub(ctx.ci) }), 'SIGNER_KEY_NOT_FOUND', `signer "ci" has no key ${ctx.ci.keyId}`);
      assert.deepEqual(await serverState(ctx.stack, gun), state);
    });

    it('the CLI adds a key back with signer add and removes one with signer remove --key-id; its last key is refused', async () => {
      await cliOk(['signer', 'add', '--key', ctx.ci.publicKeyPath, 'ci', gun]);
      assert.deepEqual((await delegation(gun, 'targets/ci'))!.keyIds, [second.keyId, ctx.ci.keyId]);
      const v7 = await pushImage(ctx.stack, 'org/signers:v7');
      await cliOk(['sign', v7.ref, '--signer', 'ci']);
      const removed = await cliOk(['signer', 'remove', 'ci', gun, '--key-id', ctx.ci.keyId]);
      assert.match(removed.stdout, new RegExp(`removed key\\(s\\) ${ctx.ci.keyId} from signer "ci"`));
      assert.deepEqual(
        (await signersOf(gun)).find((s) => s.Name === 'ci'),
        { Name: 'ci', Keys: [{ ID: second.keyId }] },
      );
      assertCliBadInput(await cli(['signer', 'remove', 'ci', gun, '--key', second.publicKeyPath]), 'SIGNER_LAST_KEY', 'signer "ci"');
      ok(await verify([v1, v7], 'ci'));
    });
  });

  describe('root key IDs as docker trust inspect prints them', () => {
    it("init's root-key-id is the Root key docker trust inspect prints; root-keys pins it or the key's canonical ID; the CLI prints the same ID", async () => {
      const fresh = ctx.stack.gun('org/root-id');
      const init = await runAdminAction(ctx.stack, 'init', [fresh], { 'root-passphrase': ROOT_PASSPHRASE, 'repository-passphrase': REPOSITORY_PASSPHRASE, 'signer-name': 'ci', 'signer-key': await pub(ctx.ci) });
      ok(init);
      const printed = init.outputs['root-key-id']!;
      const canonical = parsePrivateKey(init.outputs['root-key']!, ROOT_PASSPHRASE).id;
      assert.notEqual(printed, canonical);
      const [info] = await ctx.stack.docker.inspect(fresh);
      assert.deepEqual(info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys, [{ ID: printed }]);
      assert.match(init.stdout, new RegExp(`initialised \\(root key ${printed},`));

      const img = await pushImage(ctx.stack, 'org/root-id:v1');
      ok(await sign([img], ctx.ci));
      for (const pin of [printed, canonical]) ok(await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { 'INPUT_ROOT-KEYS': pin }));
      const wrong = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { 'INPUT_ROOT-KEYS': 'f'.repeat(64) });
      assert.match(wrong.errors[0]!.title, /^ROOT_NOT_PINNED/);
      assert.ok(wrong.errors[0]!.message.includes(`its root keys are ${printed} (canonical ${canonical})`), describeRun(wrong));

      const byCli = ctx.stack.gun('org/root-id-cli');
      const out = await cliOk(['init', byCli]);
      const [cliInfo] = await ctx.stack.docker.inspect(byCli);
      const cliRoot = cliInfo!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys[0]!.ID;
      assert.match(out.stdout, new RegExp(`^Initialised ${byCli}: root key ${cliRoot}, repository key `));
      const ours = await cliOk(['inspect', byCli]);
      assert.equal(JSON.parse(ours.stdout)[0].AdministrativeKeys[0].Keys[0].ID, cliRoot);
      // The key file docker and the CLI keep is named by the canonical ID, which root-keys also takes.
      assert.notEqual(parsePrivateKey(await dockerKeyPem(ctx.stack, 'root'), ROOT_PASSPHRASE).id, cliRoot);
    });
  });
});
