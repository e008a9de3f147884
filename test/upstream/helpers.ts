/**
 * Set-ups and facts shared by the upstream tests: a fact about notary-server
 * that holds on both of the stack's storage backends is written once here and
 * run by notary.upstream.test.ts (memory) and production-stack.upstream.test.ts
 * (PostgreSQL).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { httpsRequest } from '../stack/https.ts';
import { join } from 'node:path';
import { pushImage, REPOSITORY_PASSPHRASE } from '../stack/index.ts';
import { initRepo, libraryEnv, notaryHeaders, type StackUnderTest } from '../integration/helpers.ts';
import { readRealRepo } from '../stack/forger.ts';
import { repoClient } from '../../src/notary/repository.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { signableRoles } from '../../src/notary/sign-plan.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';

/**
 * notary-server accepts a delegation whose expiry JavaScript's toISOString
 * wrote (".150Z"), but the snapshot it then makes hashes its own Go
 * re-encoding of the file (".15Z"), so the snapshot names bytes it never
 * stored. On memory storage the current file is the uploaded bytes; on
 * PostgreSQL current files are served through the snapshot's checksum and no
 * stored row has Go's re-encoding, so the role cannot be read back (404).
 * The product signs as Go writes for this reason (test/integration/sign.itg.test.ts,
 * go-encoding.itg.test.ts, admin-expiry.itg.test.ts).
 */
export async function snapshotHashesGoReEncoding(ctx: StackUnderTest, repo: string): Promise<void> {
  const gun = await initRepo(ctx.stack, repo, ctx.ci);
  const env = libraryEnv(ctx.stack);
  try {
    // The product's own code reads the repository and wraps the signature: a convenient signer, not the subject.
    const key = parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE);
    const client = repoClient(env, parseReferences([`${gun}:x`])[0]!, true);
    const repository = await updateRepo(client, { config: env.config });
    const [releases] = signableRoles(repository, key, ['x']).filter((r) => r.role.name === 'targets/releases');
    const signed = { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2029-01-01T00:00:00.150Z', targets: {}, version: 1 };
    const uploaded = envelope(signed, key, releases!.keyIds);
    await client.publish(new Map([['targets/releases', uploaded]])); // accepted: HTTP 200

    const base = `${ctx.stack.notary.url}/v2/${gun}/_trust/tuf/`;
    const get = (path: string) => httpsRequest(`${base}${path}`, { ca: ctx.stack.ca.caPem, headers: notaryHeaders(ctx.stack, gun) });
    const current = await get('targets/releases.json');
    if (ctx.stack.postgres) {
      assert.equal(current.status, 404, 'on PostgreSQL the delegation cannot be read back');
    } else {
      assert.ok(current.body.equals(uploaded), 'the server stores the uploaded bytes as they are');
    }
    const snapshot = JSON.parse((await get('snapshot.json')).body.toString('utf8'));
    const listed = Buffer.from(snapshot.signed.meta['targets/releases'].hashes.sha256, 'base64').toString('hex');
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    assert.notEqual(listed, sha(uploaded), 'the snapshot does not hash the stored bytes');
    assert.equal(listed, sha(uploaded.toString('utf8').replace('.150Z', '.15Z')), "it hashes Go's spelling of the time");
    assert.equal((await get(`targets/releases.${listed}.json`)).status, 404);
  } finally {
    env.close();
  }
}

/**
 * A repository docker initialised with two signers, ci and ops, each of
 * whom has signed a tag into its own role and into targets/releases with the
 * notary CLI: every delegation has a file, so the snapshot lists them all.
 */
export async function twoSignerRepo(ctx: StackUnderTest, repo: string): Promise<{ gun: string; state: () => Promise<{ listed: string[]; delegated: string[] }> }> {
  const gun = await initRepo(ctx.stack, repo, ctx.ci);
  const ops = await ctx.stack.docker.keyGenerate('ops', join(ctx.stack.dir, `keys-ops-${repo.replace(/\W/g, '-')}`));
  await ctx.stack.docker.signerAdd('ops', ops.publicKeyPath, gun);
  for (const [tag, role] of [
    ['a', 'targets/ops'],
    ['b', 'targets/ci'],
  ] as const) {
    const img = await pushImage(ctx.stack, `${repo}:${tag}`, { seed: `${repo}-${tag}` });
    await ctx.stack.notaryCli.addhash(gun, tag, img.size, img.digest, { role });
    await ctx.stack.notaryCli.addhash(gun, tag, img.size, img.digest, { role: 'targets/releases', publish: true });
  }
  const state = async () => {
    const real = await readRealRepo(ctx.stack.notary.url, ctx.stack.ca, gun);
    const listed = Object.keys(JSON.parse(real.raw.get('snapshot')!.toString('utf8')).signed.meta).sort();
    const delegated = real.signed
      .get('targets')!
      .delegations.roles.map((r: { name: string }) => r.name)
      .sort();
    return { listed, delegated };
  };
  return { gun, state };
}
