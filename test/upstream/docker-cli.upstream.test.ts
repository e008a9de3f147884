/**
 * What the docker CLI 28 (`docker trust`, the reference Notary v1 client the
 * product is compared with) does, where the product either matches it or
 * deliberately differs. Each test names the product tests that depend on it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE } from '../stack/index.ts';
import { DockerCli } from '../stack/docker-cli.ts';
import { serve, startProxy, type RewritingProxy } from '../stack/proxy.ts';
import { forge, keyJson, makeForgerKeys, signWith, x509Twin, type ForgerKeys } from '../stack/forger.ts';
import { initRepo, twoVersionRepo, useStack } from '../integration/helpers.ts';
import { twoSignerRepo } from './helpers.ts';
import { generateKey, keyFilePem } from '../../src/tuf/key-file.ts';

describe('docker CLI 28', () => {
  const ctx = useStack();

  // Product side: cli.itg.test.ts › key load (the package's key loader stores what it reads).
  it("docker CLI 28: trust key load says it imported an encrypted key file but stores nothing (its own keys and the package's alike)", async () => {
    // The package's key file format: a convenient maker of an encrypted key, not the subject.
    for (const [label, pem] of [
      ['package', keyFilePem(generateKey(), REPOSITORY_PASSPHRASE, { role: 'carol' })],
      ['docker', (await ctx.stack.docker.keyGenerate('dave', join(ctx.stack.dir, 'dave'))).privateKeyPem],
    ] as const) {
      const config = join(ctx.stack.dir, `empty-${label}`);
      const path = join(ctx.stack.dir, `${label}-encrypted.key`);
      await writeFile(path, pem, { mode: 0o600 });
      const loaded = await ctx.stack.docker.run(['--config', config, 'trust', 'key', 'load', path, '--name', 'x']);
      assert.match(loaded.stdout, /Successfully imported key/);
      const files = await readdir(join(config, 'trust', 'private')).catch(() => []);
      assert.deepEqual(files, [], `${label}: docker stored ${files.join(', ')}`);
    }
  });

  // Product side: prototype-names.itg.test.ts › the action refuses the signer names __proto__ and toString.
  it('docker CLI 28: refuses the signer names __proto__ and toString', async () => {
    const gun = await initRepo(ctx.stack, 'upstream/proto-signers', ctx.ci);
    const signer = await ctx.stack.docker.keyGenerate('constructor', join(ctx.stack.dir, 'keys-constructor'));
    await ctx.stack.docker.signerAdd('constructor', signer.publicKeyPath, gun);
    for (const name of ['__proto__', 'toString']) {
      await assert.rejects(ctx.stack.docker.signerAdd(name, signer.publicKeyPath, gun), new RegExp(`signer name "${name}" must start with lowercase alphanumeric`));
    }
  });

  // Product side: tuf-rules.itg.test.ts › a real removal (done there with the notary CLI for this reason).
  it('docker CLI 28: trust signer remove --force of a signer that is not the last one of targets/releases removes nothing', async () => {
    // docker/cli's maybePromptForSignerRemoval answers false when it need not prompt.
    const { gun, state } = await twoSignerRepo(ctx, 'upstream/signer-remove');
    const delegated = async () => (await state()).delegated;
    assert.deepEqual(await delegated(), ['targets/ci', 'targets/ops', 'targets/releases']);
    const docker = await ctx.stack.docker.run(['trust', 'signer', 'remove', '--force', 'ops', gun]);
    assert.doesNotMatch(docker.stdout, /Successfully removed/);
    assert.deepEqual(await delegated(), ['targets/ci', 'targets/ops', 'targets/releases']);
  });

  describe('behind a rewriting proxy serving re-keyed metadata', () => {
    let proxy: RewritingProxy;
    let gun: string;
    let keys: ForgerKeys;
    let real: Awaited<ReturnType<typeof twoVersionRepo>>['real'];

    before(async () => {
      proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
      ({ gun, real } = await twoVersionRepo(ctx.stack, 'upstream/twins', ctx.ci));
      keys = await makeForgerKeys(join(ctx.stack.dir, 'forger'), gun);
    });
    after(async () => {
      await proxy?.stop();
    });

    // Product side: tuf-rules.itg.test.ts › a threshold counts keys, not key IDs (the action refuses these targets).
    it('docker CLI 28 (its notary client) counts key IDs: accepts targets signed by one key under its ecdsa and ecdsa-x509 IDs, threshold 2', async () => {
      const twin = x509Twin(keys.targets, gun);
      assert.notEqual(twin.id, keys.targets.id);
      const files = forge(real, keys, {
        signed: (d, k) => {
          const root = d.get('root')!;
          root.keys[twin.id] = keyJson(twin);
          root.roles.targets = { keyids: [k.targets.id, twin.id], threshold: 2 };
        },
        signatures: (role, c, own) => (role === 'targets' ? [signWith(keys.targets, c), signWith(twin, c)] : own()),
      });
      const docker = new DockerCli({ configDir: await mkdtemp(join(ctx.stack.dir, 'docker-config-')), notaryUrl: proxy.url, ca: ctx.stack.ca, rootPassphrase: ROOT_PASSPHRASE, repositoryPassphrase: REPOSITORY_PASSPHRASE });
      await docker.init();
      proxy.setRule(serve(gun, files));
      try {
        const [info] = await docker.inspect(gun);
        assert.deepEqual(
          info!.AdministrativeKeys.find((k) => k.Name === 'Repository')!
            .Keys.map((k) => k.ID)
            .sort(),
          [keys.targets.id, twin.id].sort(),
        );
        assert.deepEqual(info!.SignedTags.map((t) => t.SignedTag).sort(), ['v1', 'v2']);
      } finally {
        proxy.setRule(undefined);
      }
    });
  });
});
