import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pushImage, ROOT_PASSPHRASE, REPOSITORY_PASSPHRASE } from '../stack/index.ts';
import { describeRun, hex, resultOf, runAction, useStack } from './helpers.ts';
import { placeKey, runAdminAction, serverState } from './admin-helpers.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';

describe('mode init and add-signer, as the runner runs them', () => {
  const ctx = useStack();
  let rootKey = '';
  let repoKey = '';
  const pass = { 'root-passphrase': ROOT_PASSPHRASE, 'repository-passphrase': REPOSITORY_PASSPHRASE };

  it('init generates root and repository keys, hands them back masked, and publishes root + targets', async () => {
    const gun = ctx.stack.gun('org/app');
    const run = await runAdminAction(ctx.stack, 'init', [gun], pass);
    assert.equal(run.code, 0, describeRun(run));
    rootKey = run.outputs['root-key']!;
    repoKey = run.outputs['repository-key']!;
    assert.match(rootKey, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n/);
    assert.match(repoKey, new RegExp(`^-----BEGIN ENCRYPTED PRIVATE KEY-----\\ngun: ${gun.replace(/[.]/g, '\\.')}\\nrole: targets\\n\\n`));
    // Masked before it was set: the runner got ::add-mask:: for the key body, and no log line holds it.
    const body = repoKey.split('\n')[4]!;
    assert.ok(run.stdout.includes(`::add-mask::${body}`), 'the key body is masked');
    assert.equal(run.stdout.split('\n').filter((l) => l.includes(body) && !l.startsWith('::add-mask::')).length, 0);
    // root-key-id is the Root key docker trust inspect prints (the certificate's ID), not the key file's canonical ID.
    assert.notEqual(parsePrivateKey(rootKey, ROOT_PASSPHRASE).id, run.outputs['root-key-id']);
    assert.equal(parsePrivateKey(repoKey, REPOSITORY_PASSPHRASE).id, run.outputs['repository-key-id']);

    // docker trust inspect reads the repository the action made.
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, []);
    assert.deepEqual(info!.Signers, []);
    assert.deepEqual(info!.AdministrativeKeys.find((k) => k.Name === 'Repository')!.Keys, [{ ID: run.outputs['repository-key-id'] }]);
    assert.deepEqual(info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys, [{ ID: run.outputs['root-key-id'] }]);
  });

  it('init twice is harmless: the repository is left as it is, and said so', async () => {
    const gun = ctx.stack.gun('org/app');
    const before = await serverState(ctx.stack, gun);
    const run = await runAdminAction(ctx.stack, 'init', [gun], pass);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /already initialised/);
    assert.equal(run.outputs['root-key'], undefined);
    assert.equal(run.outputs['repository-key'], undefined);
    assert.deepEqual(await serverState(ctx.stack, gun), before);
  });

  it('add-signer puts the signer key in targets/ci and targets/releases; docker inspect shows it; the action signs with it', async () => {
    const gun = ctx.stack.gun('org/app');
    const run = await runAdminAction(ctx.stack, 'add-signer', [gun], {
      'repository-key': repoKey,
      'repository-passphrase': REPOSITORY_PASSPHRASE,
      'signer-name': 'ci',
      'signer-key': await readFile(ctx.ci.publicKeyPath, 'utf8'),
    });
    assert.equal(run.code, 0, describeRun(run));
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] }]);

    const image = await pushImage(ctx.stack, 'org/app:v1');
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [image.ref], key: ctx.ci.privateKeyPem });
    assert.equal(sign.code, 0, describeRun(sign));
    const [after] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(after!.SignedTags, [{ SignedTag: 'v1', Digest: hex(image.digest), Signers: ['ci'] }]);
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [image.ref], signers: 'ci' });
    assert.equal(verify.code, 0, describeRun(verify));
    assert.equal(resultOf(verify)[0]!.digest, image.digest);
  });

  it('the notary CLI publishes to the action-initialised repository with the generated key files placed in its trust dir', async () => {
    const gun = ctx.stack.gun('org/app');
    await placeKey(ctx.stack.docker.trustDir, repoKey, REPOSITORY_PASSPHRASE);
    await placeKey(ctx.stack.docker.trustDir, rootKey, ROOT_PASSPHRASE);
    const image = await pushImage(ctx.stack, 'org/app:by-notary');
    await ctx.stack.notaryCli.addhash(gun, 'by-notary', image.size, image.digest, { publish: true });
    const rows = await ctx.stack.notaryCli.list(gun);
    assert.deepEqual(
      rows.find((r) => r.name === 'by-notary'),
      { name: 'by-notary', digest: hex(image.digest), size: image.size, role: 'targets' },
    );
  });

  it('docker trust signer add administers the action-initialised repository with the generated repository key', async () => {
    const gun = ctx.stack.gun('org/app');
    const alice = await ctx.stack.docker.keyGenerate('alice', join(ctx.stack.dir, 'keys'));
    await ctx.stack.docker.signerAdd('alice', alice.publicKeyPath, gun);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers.map((s) => s.Name).sort(), ['alice', 'ci']);
  });

  it('init with a given root key and a first signer publishes both in one go; the root key is reused', async () => {
    const gun = ctx.stack.gun('org/other');
    const run = await runAdminAction(ctx.stack, 'init', [gun], {
      ...pass,
      'root-key': rootKey,
      'signer-name': 'ci',
      'signer-key': await readFile(ctx.ci.publicKeyPath, 'utf8'),
    });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs['root-key'], undefined, 'a given root key is not handed back');
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys, [{ ID: run.outputs['root-key-id'] }]);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] }]);
  });
});
