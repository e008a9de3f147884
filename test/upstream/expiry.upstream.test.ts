/**
 * What notary-server 0.7 and the notary and docker CLIs do with metadata
 * that really expired on the server (test/integration/admin-helpers.ts
 * publishExpiring: a file published to expire seconds later, then met at the
 * real time by everyone). The product's revival (refresh) and its expiry
 * watch (status) rest on these facts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type Stack } from '../stack/index.ts';
import { hex, initRepo, libraryEnv, useStack } from '../integration/helpers.ts';
import { dockerKeyPem, publishEndingCertificate, publishExpiring } from '../integration/admin-helpers.ts';
import { readRealRepo, type RealRepo } from '../stack/forger.ts';
import { administer, type Planner } from '../../src/notary/admin/workflow.ts';
import { signableBy } from '../../src/notary/admin/common.ts';
import { bump, startFrom } from '../../src/notary/sign-plan.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { planRefresh } from '../../src/notary/admin/refresh.ts';
import { planRotateRoot } from '../../src/notary/admin/rotate.ts';
import { generateKey } from '../../src/tuf/key-file.ts';
import { parsePrivateKey, toSigningKey } from '../../src/tuf/private-key.ts';
import { parseReference } from '../../src/registry/reference.ts';

const DAY = 86_400_000;
const expiresOf = (repo: RealRepo, role: string) => Date.parse(repo.signed.get(role)!.expires as string);
const versionOf = (repo: RealRepo, role: string) => repo.signed.get(role)!.version as number;

/** A docker-initialised repository with v1 signed in targets/releases by the notary CLI. */
async function signedRepo(stack: Stack, ci: Parameters<typeof initRepo>[2], repo: string): Promise<{ gun: string; digest: string }> {
  const gun = await initRepo(stack, repo, ci);
  const img = await pushImage(stack, `${repo}:v1`, { seed: repo.replace('/', '-') });
  await stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/releases', publish: true });
  return { gun, digest: img.digest };
}

/** Re-signs the roles these keys sign that expired, as the product's refresh does once it may read them (the product's code as a convenient signer). */
async function resign(stack: Stack, gun: string, keys: { root?: string; targets?: string }): Promise<void> {
  const env = libraryEnv(stack);
  try {
    const root = keys.root ? parsePrivateKey(keys.root, ROOT_PASSPHRASE) : undefined;
    const signing = keys.targets ? [parsePrivateKey(keys.targets, REPOSITORY_PASSPHRASE)] : [];
    await administer(env, [parseReference(`${gun}:x`)], (repo, _c, now) => planRefresh(repo, { root, signing }, 0, now), { allowExpired: true });
  } finally {
    env.close();
  }
}

describe('expired metadata on notary-server 0.7, read by the notary and docker CLIs', () => {
  const ctx = useStack();

  // Product side: admin-expiry.itg.test.ts › refresh revives a repository whose targets.json expired.
  it('notary CLI 0.7 and docker CLI 28: a repository whose targets.json expired cannot be read, and notary cannot re-sign it (not even with witness)', async () => {
    const { stack } = ctx;
    const { gun } = await signedRepo(stack, ctx.ci, 'upstream/expired-targets');
    const expires = await publishExpiring(stack, gun, 'targets', await dockerKeyPem(stack, 'targets', gun), REPOSITORY_PASSPHRASE);
    const before = await readRealRepo(stack.notary.url, stack.ca, gun);
    assert.equal(expiresOf(before, 'targets'), expires.getTime(), 'the server serves the expired targets.json as it is');
    await assert.rejects(stack.notaryCli.list(gun), /fatal: targets expired at/);
    await assert.rejects(stack.docker.inspect(gun), /Metadata for targets expired[\s\S]*no signatures or cannot access/);
    for (const role of ['targets', 'targets/releases']) {
      await assert.rejects(stack.notaryCli.run(['witness', gun, role, '--publish']), /Could not publish Repository since we could not update: targets expired at/, role);
    }
    await assert.rejects(stack.notaryCli.run(['publish', gun]), /could not update: targets expired at/);
    assert.deepEqual((await readRealRepo(stack.notary.url, stack.ca, gun)).raw, before.raw, 'nothing changed on the server');
  });

  // Product side: admin-expiry.itg.test.ts (refresh revives targets.json; the snapshot and timestamp need no key).
  it('notary-server 0.7: takes a re-signed targets.json while the stored one has expired, and makes a new snapshot and timestamp for it', async () => {
    const { stack } = ctx;
    const { gun, digest } = await signedRepo(stack, ctx.ci, 'upstream/revive-targets');
    const repoKey = await dockerKeyPem(stack, 'targets', gun);
    await publishExpiring(stack, gun, 'targets', repoKey, REPOSITORY_PASSPHRASE);
    const expired = await readRealRepo(stack.notary.url, stack.ca, gun);
    await resign(stack, gun, { targets: repoKey });
    const after = await readRealRepo(stack.notary.url, stack.ca, gun);
    assert.equal(versionOf(after, 'targets'), versionOf(expired, 'targets') + 1);
    assert.equal(versionOf(after, 'snapshot'), versionOf(expired, 'snapshot') + 1, 'a new snapshot, made by the server');
    assert.ok(expiresOf(after, 'snapshot') > Date.now() + 1000 * DAY, 'the snapshot the server made runs for its three years');
    assert.ok(expiresOf(after, 'timestamp') > Date.now() + 7 * DAY, 'the timestamp the server made runs for its two weeks');
    assert.deepEqual(
      (await stack.notaryCli.list(gun)).map((r) => [r.name, r.digest, r.role]),
      [['v1', hex(digest), 'targets/releases']],
      'the notary CLI reads it again',
    );
  });

  // Product side: admin-expiry.itg.test.ts › refresh with the root key revives an expired root.json.
  it('notary-server 0.7: takes root.json version N+1 signed by the same root key while the stored root has expired', async () => {
    const { stack } = ctx;
    const { gun } = await signedRepo(stack, ctx.ci, 'upstream/revive-root');
    const rootKey = await dockerKeyPem(stack, 'root');
    await publishExpiring(stack, gun, 'root', rootKey, ROOT_PASSPHRASE);
    await assert.rejects(stack.notaryCli.list(gun), /fatal: root expired at/);
    const expired = await readRealRepo(stack.notary.url, stack.ca, gun);
    await resign(stack, gun, { root: rootKey });
    const after = await readRealRepo(stack.notary.url, stack.ca, gun);
    assert.equal(versionOf(after, 'root'), versionOf(expired, 'root') + 1);
    assert.ok(expiresOf(after, 'root') > Date.now() + 3000 * DAY);
    assert.equal((await stack.notaryCli.list(gun)).length, 1, 'the notary CLI reads it again');
  });
});

describe('a root certificate that ended while root.json has not, on notary-server 0.7, read by the notary and docker CLIs', () => {
  const ctx = useStack();

  // Product side: admin-expiry.itg.test.ts › a root certificate that ended (verify EXPIRED, status, refresh refuses); status.test.ts; and
  // src/notary/expiry.ts certificateFix (once ended, only new trust data helps: the watch must warn before), src/notary/admin/refresh.ts.
  it("notary CLI 0.7 and docker CLI 28 refuse the repository; notary-server 0.7 refuses every update of it, a root naming a new root key signed by the ended certificate's key and the new one included", async () => {
    const { stack } = ctx;
    const { gun } = await signedRepo(stack, ctx.ci, 'upstream/root-cert');
    assert.equal((await stack.notaryCli.list(gun)).length, 1, 'the notary CLI remembers the first root');
    const rootPem = await dockerKeyPem(stack, 'root');
    const repoPem = await dockerKeyPem(stack, 'targets', gun);
    const before = await readRealRepo(stack.notary.url, stack.ca, gun);
    const { keyId } = await publishEndingCertificate(stack, gun, rootPem, ROOT_PASSPHRASE);
    const ended = await readRealRepo(stack.notary.url, stack.ca, gun);
    assert.equal(versionOf(ended, 'root'), versionOf(before, 'root') + 1, 'the server took the short-lived certificate while it was valid');
    assert.deepEqual((ended.signed.get('root')!.roles as { root: { keyids: string[] } }).root.keyids, [keyId]);
    assert.ok(expiresOf(ended, 'root') > Date.now() + 3000 * DAY, 'root.json itself runs for years');

    // Neither says the certificate ended: notary finds no valid leaf certificate, docker calls the repository unsigned.
    await assert.rejects(stack.notaryCli.list(gun), /fatal: could not validate the path to a trusted root: unable to retrieve valid leaf certificates/);
    await assert.rejects(stack.docker.inspect(gun), /no signatures or cannot access [^\n]*upstream\/root-cert/);

    // The product's code as a convenient signer, reading past the ended certificate (allowExpired).
    const env = libraryEnv(stack);
    const publish = (plan: Planner) => administer(env, [parseReference(`${gun}:x`)], plan, { allowExpired: true });
    try {
      const rootKey = parsePrivateKey(rootPem, ROOT_PASSPHRASE);
      await assert.rejects(
        publish((repo, _c, now) => planRotateRoot(repo, rootKey, () => toSigningKey(generateKey(), 'root', undefined), now)),
        /refused the update of root: HTTP 400: INVALID_UPDATE/,
        'a new root key, signed by the old key and the new one',
      );
      const repoKey = parsePrivateKey(repoPem, REPOSITORY_PASSPHRASE);
      await assert.rejects(
        publish((repo, _c, now) => ({ files: new Map([['targets', envelope(bump(startFrom(repo, 'targets'), now, 1095), repoKey, signableBy(repo, [repoKey])[0]!.keyIds)]]), summary: 'targets' })),
        /refused the update of targets: HTTP 400: INVALID_UPDATE/,
        'targets.json re-signed with the repository key',
      );
    } finally {
      env.close();
    }
    assert.deepEqual((await readRealRepo(stack.notary.url, stack.ca, gun)).raw, ended.raw, 'nothing changed on the server');
  });
});
