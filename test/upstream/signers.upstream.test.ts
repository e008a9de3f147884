/**
 * What notary-server, the notary CLI and docker CLI 28 do with a signer's
 * keys and a delegation's paths: the facts the product's signer tag paths
 * and several keys per signer rest on (src/notary/admin/signers.ts,
 * src/notary/sign-plan.ts, src/notary/verify.ts). Each test names the
 * product tests that depend on it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { initRepo, libraryEnv, useStack } from '../integration/helpers.ts';
import { repoClient } from '../../src/notary/repository.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { bump, keyIdsOf, startFrom } from '../../src/notary/sign-plan.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { loadSigner, parsePrivateKey } from '../../src/tuf/private-key.ts';

describe('signers: keys and paths', () => {
  const ctx = useStack();

  /**
   * Publishes `tag` → `image` into `role`, signed by `pem`, bypassing every
   * client-side check. The product's own code reads the repository and wraps
   * the signature: a convenient signer, not the subject.
   */
  async function signByHand(gun: string, role: string, tag: string, image: PushedImage, pem: string): Promise<void> {
    await loadSigner();
    const env = libraryEnv(ctx.stack);
    try {
      const key = parsePrivateKey(pem, REPOSITORY_PASSPHRASE);
      const client = repoClient(env, parseReferences([`${gun}:${tag}`])[0]!, true);
      const repo = await updateRepo(client, { config: env.config });
      const signed = bump(startFrom(repo, role), new Date(), 30);
      signed.targets[tag] = { hashes: { sha256: Buffer.from(image.digest.slice('sha256:'.length), 'hex').toString('base64') }, length: image.size };
      const { meta, delegationKeys } = repo.roles.get('targets')!;
      const devIds = keyIdsOf(meta.signed.delegations.roles.find((r) => r.name === 'targets/dev')!.keyids, delegationKeys, key);
      await client.publish(new Map([[role, envelope(signed, key, devIds)]]));
    } finally {
      env.close();
    }
  }

  // Product side: admin-signers.itg.test.ts › several keys per signer (add-signer adds a key the way docker does).
  it('docker CLI 28: trust signer add with another key for an existing signer adds it to targets/<name> and targets/releases, threshold 1', async () => {
    const gun = await initRepo(ctx.stack, 'upstream/two-keys', ctx.ci);
    const second = await ctx.stack.docker.keyGenerate('ci-second', join(ctx.stack.dir, 'keys-ci-second'));
    await ctx.stack.docker.signerAdd('ci', second.publicKeyPath, gun);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ctx.ci.keyId }, { ID: second.keyId }] }]);
    const rows = await ctx.stack.notaryCli.delegationList(gun);
    assert.deepEqual(rows, [
      { role: 'targets/ci', paths: [''], keyIds: [ctx.ci.keyId, second.keyId], threshold: 1 },
      { role: 'targets/releases', paths: [''], keyIds: [ctx.ci.keyId, second.keyId], threshold: 1 },
    ]);
  });

  // Product side: admin-signers.itg.test.ts › a restricted signer (sign refuses tags outside the paths, as the notary CLI does;
  // a tag only in targets/<signer> is not what a DCT pull accepts).
  it('notary CLI 0.7: delegation add --paths makes a prefix-restricted role; addhash inside the paths publishes, outside is refused before publishing; docker CLI 28 trust inspect lists neither as a signed tag', async () => {
    const gun = await initRepo(ctx.stack, 'upstream/paths-cli', ctx.ci);
    const dev = await ctx.stack.docker.keyGenerate('dev', join(ctx.stack.dir, 'keys-dev-cli'));
    await ctx.stack.notaryCli.run(['delegation', 'add', gun, 'targets/dev', dev.publicKeyPath, '--paths', 'dev-', '--publish']);
    assert.deepEqual(
      (await ctx.stack.notaryCli.delegationList(gun)).find((r) => r.role === 'targets/dev'),
      { role: 'targets/dev', paths: ['dev-'], keyIds: [dev.keyId], threshold: 1 },
    );
    const img = await pushImage(ctx.stack, 'upstream/paths-cli:dev-1');
    await ctx.stack.notaryCli.addhash(gun, 'dev-1', img.size, img.digest, { role: 'targets/dev', publish: true });
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/dev' })).map((r) => r.name),
      ['dev-1'],
    );
    await assert.rejects(ctx.stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/dev', publish: true }), /Could not add all targets/);
    await ctx.stack.notaryCli.run(['reset', gun, '--all']); // the refused change stays staged otherwise
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/dev' })).map((r) => r.name),
      ['dev-1'],
    );
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [], 'targets/dev is neither targets nor targets/releases');
  });

  // Product side: admin-signers.itg.test.ts › a tag outside the paths signed by hand (verify ignores it, as notary and docker do).
  it('notary-server 0.7 stores a delegation listing a tag outside its paths; notary CLI 0.7 (list, lookup) and docker CLI 28 (trust inspect) ignore the tag; targets/releases signed by a key it does not list is refused', async () => {
    const gun = await initRepo(ctx.stack, 'upstream/paths-server', ctx.ci);
    const dev = await ctx.stack.docker.keyGenerate('dev', join(ctx.stack.dir, 'keys-dev-server'));
    await ctx.stack.notaryCli.run(['delegation', 'add', gun, 'targets/dev', dev.publicKeyPath, '--paths', 'dev-', '--publish']);
    const img = await pushImage(ctx.stack, 'upstream/paths-server:v1');
    await signByHand(gun, 'targets/dev', 'v1', img, dev.privateKeyPem); // accepted: the server does not check paths
    await assert.rejects(ctx.stack.notaryCli.run(['lookup', gun, 'v1']), /No valid trust data for v1/);
    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/dev' }), []);
    const [info] = await ctx.stack.docker.inspect(`${gun}:v1`);
    assert.deepEqual(info!.SignedTags, []);
    await assert.rejects(signByHand(gun, 'targets/releases', 'v1', img, dev.privateKeyPem), /HTTP 400.*valid signatures did not meet threshold for targets\/releases/);
  });
});
