import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, ROOT_PASSPHRASE, REPOSITORY_PASSPHRASE, type GeneratedKey, type PushedImage } from '../stack/index.ts';
import { describeRun, hex, initRepo, runAction, trustFile, useStack, type ActionRun } from './helpers.ts';
import { dockerKeyPem, runAdminAction, serverState } from './admin-helpers.ts';

function failedWith(run: ActionRun, code: string, message: RegExp): void {
  assert.equal(run.code, 1, describeRun(run));
  assert.equal(run.errors[0]?.title.startsWith(`${code}:`), true, describeRun(run));
  assert.match(run.errors[0].message, message);
}

describe('administering a docker-initialised repository with the action', () => {
  const ctx = useStack();
  let bob: GeneratedKey;
  let gun: string;
  let repoKey: string;
  let v1: PushedImage;
  let v2: PushedImage;
  const repoInputs = () => ({ 'repository-key': repoKey, 'repository-passphrase': REPOSITORY_PASSPHRASE });

  before(async () => {
    bob = await ctx.stack.docker.keyGenerate('bob', join(ctx.stack.dir, 'keys'));
    gun = await initRepo(ctx.stack, 'org/app', ctx.ci);
    repoKey = await dockerKeyPem(ctx.stack, 'targets', gun);
    v1 = await pushImage(ctx.stack, 'org/app:v1');
    v2 = await pushImage(ctx.stack, 'org/app:v2');
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [v1.ref, v2.ref], key: ctx.ci.privateKeyPem });
    assert.equal(sign.code, 0, describeRun(sign));
  });

  it("add-signer with docker's repository key", async () => {
    const run = await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'bob', 'signer-key': await readFile(bob.publicKeyPath, 'utf8') });
    assert.equal(run.code, 0, describeRun(run));
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers, [
      { Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] },
      { Name: 'bob', Keys: [{ ID: bob.keyId }] },
    ]);
    const again = await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'bob', 'signer-key': await readFile(bob.publicKeyPath, 'utf8') });
    assert.equal(again.code, 0, describeRun(again));
    assert.match(again.stdout, /already has/);
  });

  it('bad inputs get a clear error and change nothing on the server', async () => {
    const before = await serverState(ctx.stack, gun);
    const pub = await readFile(bob.publicKeyPath, 'utf8');
    failedWith(await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'repository-passphrase': 'not-it', 'signer-name': 'x', 'signer-key': pub }), 'PASSPHRASE_WRONG', /repository-key input.*`repository-passphrase`/);
    failedWith(
      await runAdminAction(ctx.stack, 'add-signer', [gun], { 'repository-key': ctx.ci.privateKeyPem, 'repository-passphrase': REPOSITORY_PASSPHRASE, 'signer-name': 'x', 'signer-key': pub }),
      'KEY_WRONG_ROLE',
      new RegExp(`${gun}: the repository key given \\(key ${ctx.ci.keyId}, role "ci"\\) is not this repository's targets key`),
    );
    failedWith(await runAdminAction(ctx.stack, 'remove-signer', [gun], { ...repoInputs(), 'signer-name': 'nobody' }), 'SIGNER_NOT_FOUND', /there is no signer "nobody" \(signers: ci, bob\)/);
    failedWith(await runAdminAction(ctx.stack, 'rotate', [gun], { ...repoInputs(), 'signer-name': 'nobody', 'signer-key': pub }), 'SIGNER_NOT_FOUND', /no signer "nobody" to rotate/);
    failedWith(await runAdminAction(ctx.stack, 'revoke', [`${gun}:nope`], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE }), 'NOT_SIGNED', /no signature for nope/);
    failedWith(await runAdminAction(ctx.stack, 'revoke', [gun], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE }), 'INPUT_INVALID', /needs a tag/);
    failedWith(await runAdminAction(ctx.stack, 'add-signer', [gun], { ...repoInputs(), 'signer-name': 'releases', 'signer-key': pub }), 'INPUT_INVALID', /reserved/);
    const docker = await dockerKeyPem(ctx.stack, 'root');
    failedWith(await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': 'timestamp', 'root-key': repoKey, 'root-passphrase': REPOSITORY_PASSPHRASE }), 'KEY_WRONG_ROLE', /is not this repository's root key/);
    failedWith(await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': 'timestamp', 'root-key': docker, 'root-passphrase': 'wrong' }), 'PASSPHRASE_WRONG', /root-key input.*`root-passphrase`/);
    assert.deepEqual(await serverState(ctx.stack, gun), before);

    const fresh = ctx.stack.gun('org/never');
    const none = await serverState(ctx.stack, fresh);
    failedWith(await runAdminAction(ctx.stack, 'add-signer', [fresh], { ...repoInputs(), 'signer-name': 'x', 'signer-key': pub }), 'REPO_NOT_INITIALISED', /has no trust data.*initialise it first/);
    assert.deepEqual(await serverState(ctx.stack, fresh), none);
  });

  it('revoke removes the tag from every role the key signs (targets/ci and targets/releases)', async () => {
    const run = await runAdminAction(ctx.stack, 'revoke', [`${gun}:v1`], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.outputs.result!)[0].roles.sort(), ['targets/ci', 'targets/releases']);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v2', Digest: hex(v2.digest), Signers: ['ci'] }]);
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [v1.ref] });
    assert.equal(verify.code, 1, describeRun(verify));
  });

  it("remove-signer takes targets/bob out and bob's key out of targets/releases", async () => {
    const run = await runAdminAction(ctx.stack, 'remove-signer', [gun], { ...repoInputs(), 'signer-name': 'bob' });
    assert.equal(run.code, 0, describeRun(run));
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ctx.ci.keyId }] }]);
    const targets = (await trustFile(ctx.stack, gun, 'targets')) as unknown as { signed: { delegations: { keys: Record<string, unknown>; roles: { name: string; keyids: string[] }[] } } };
    assert.deepEqual(
      targets.signed.delegations.roles.map((r) => r.name),
      ['targets/ci', 'targets/releases'],
    );
    assert.deepEqual(Object.keys(targets.signed.delegations.keys), [ctx.ci.keyId]);
  });

  it('refresh re-signs what expires within the window, and nothing when nothing does', async () => {
    const idle = await runAdminAction(ctx.stack, 'refresh', [gun], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE, 'expires-within': '30' });
    assert.equal(idle.code, 0, describeRun(idle));
    assert.match(idle.stdout, /nothing these keys sign expires within 30 days/);
    const before = { targets: (await trustFile(ctx.stack, gun, 'targets'))!.signed.version, releases: (await trustFile(ctx.stack, gun, 'targets/releases'))!.signed.version };
    // 1200 days is beyond every 3-year expiry: everything these keys sign is due.
    const run = await runAdminAction(ctx.stack, 'refresh', [gun], { ...repoInputs(), 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE, 'expires-within': '1200' });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.outputs.result!)[0].roles.sort(), ['targets', 'targets/ci', 'targets/releases']);
    assert.equal((await trustFile(ctx.stack, gun, 'targets'))!.signed.version, before.targets + 1);
    assert.equal((await trustFile(ctx.stack, gun, 'targets/releases'))!.signed.version, before.releases + 1);
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [v2.ref], signers: 'ci' });
    assert.equal(verify.code, 0, describeRun(verify));
  });

  it('rotate a signer: new key in, old key out in one publish; its files re-signed with the new key', async () => {
    const ci2 = await ctx.stack.docker.keyGenerate('ci2', join(ctx.stack.dir, 'keys2'));
    const before = await serverState(ctx.stack, gun);
    const run = await runAdminAction(ctx.stack, 'rotate', [gun], {
      ...repoInputs(),
      'signer-name': 'ci',
      'signer-key': await readFile(ci2.publicKeyPath, 'utf8'),
      'delegation-key': ci2.privateKeyPem,
      'delegation-passphrase': REPOSITORY_PASSPHRASE,
    });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal((await serverState(ctx.stack, gun)).posts, (before.posts as number) + 1, 'one publish');
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers, [{ Name: 'ci', Keys: [{ ID: ci2.keyId }] }]);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v2', Digest: hex(v2.digest), Signers: ['ci'] }]);
    const v3 = await pushImage(ctx.stack, 'org/app:v3');
    const old = await runAction(ctx.stack, { mode: 'sign', images: [v3.ref], key: ctx.ci.privateKeyPem });
    failedWith(old, 'KEY_NOT_DELEGATE', /is not a signer of this repository/);
    const signed = await runAction(ctx.stack, { mode: 'sign', images: [v3.ref], key: ci2.privateKeyPem });
    assert.equal(signed.code, 0, describeRun(signed));
  });

  for (const role of ['timestamp', 'snapshot'] as const) {
    it(`rotate the server's ${role} key with the root key; docker and the action still read the repository`, async () => {
      const rootKey = await dockerKeyPem(ctx.stack, 'root');
      const before = (await trustFile(ctx.stack, gun, 'root')) as unknown as { signed: { version: number; roles: Record<string, { keyids: string[] }> } };
      const run = await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': role, 'root-key': rootKey, 'root-passphrase': ROOT_PASSPHRASE });
      assert.equal(run.code, 0, describeRun(run));
      const after = (await trustFile(ctx.stack, gun, 'root')) as unknown as typeof before;
      assert.equal(after.signed.version, before.signed.version + 1);
      assert.notDeepEqual(after.signed.roles[role]!.keyids, before.signed.roles[role]!.keyids);
      const stamp = (await trustFile(ctx.stack, gun, role)) as unknown as { signatures: { keyid: string }[] };
      assert.deepEqual(
        stamp.signatures.map((s) => s.keyid),
        after.signed.roles[role]!.keyids,
        `the server signs ${role} with the new key`,
      );
      const [info] = await ctx.stack.docker.inspect(gun);
      assert.equal(info!.SignedTags.length, 2);
      const verify = await runAction(ctx.stack, { mode: 'verify', images: [v2.ref] });
      assert.equal(verify.code, 0, describeRun(verify));
    });
  }
});
