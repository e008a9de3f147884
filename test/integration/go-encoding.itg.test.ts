/**
 * notary-server stores each uploaded delegation as sent, but hashes its own
 * Go re-encoding of it for the snapshot it makes. Bytes that differ from what
 * a Go client would write leave the snapshot naming a file the server does
 * not have, and the repository unreadable for everyone (that server fact is
 * pinned in test/upstream/notary.upstream.test.ts). These tests re-sign
 * roles whose content Go encodes specially and read the result back with
 * this code and with the notary CLI.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { httpsRequest } from '../stack/https.ts';
import { pushImage, REPOSITORY_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { defaultConfig } from '../../src/config.ts';
import { HttpClient } from '../../src/http/client.ts';
import { AuthClient } from '../../src/http/auth.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';
import { planSign } from '../../src/notary/sign-plan.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { useStack } from './helpers.ts';

describe("published bytes equal Go's encoding (the server snapshots its re-encoding)", () => {
  const ctx = useStack();
  let image: PushedImage;

  before(async () => {
    image = await pushImage(ctx.stack, 'enc/base:v1', { seed: 'go-encoding' });
  });

  /** A repository initialised by docker, with `names` signed into targets/releases by the notary CLI. */
  async function repoWith(repo: string, names: string[]): Promise<{ gun: string; client: NotaryRepoClient }> {
    const gun = ctx.stack.gun(repo);
    await ctx.stack.docker.signerAdd('ci', ctx.ci.publicKeyPath, gun);
    for (const name of names) await ctx.stack.notaryCli.addhash(gun, name, image.size, image.digest, { role: 'targets/releases' });
    await ctx.stack.notaryCli.publish(gun);
    return { gun, client: new NotaryRepoClient(new AuthClient(new HttpClient({ ca: ctx.stack.ca.caPem })), ctx.stack.notary.url, gun, undefined, true) };
  }

  async function snapshotMatchesServed(gun: string, role: string): Promise<void> {
    const get = async (path: string) => (await httpsRequest(`${ctx.stack.notary.url}/v2/${gun}/_trust/tuf/${path}`, { ca: ctx.stack.ca.caPem })).body;
    const served = await get(`${role}.json`);
    const entry = JSON.parse((await get('snapshot.json')).toString('utf8')).signed.meta[role];
    assert.equal(entry.length, served.length, `snapshot length of ${role}`);
    assert.equal(entry.hashes.sha256, createHash('sha256').update(served).digest('base64'), `snapshot sha256 of ${role}`);
  }

  it('re-signing a role that holds "a&b<c>" and U+2028 in target names keeps the repository readable', async () => {
    const { gun, client } = await repoWith('enc/html', ['a&b<c>', 'line\u2028sep', 'v1']);
    const repo = await updateRepo(client, { config: defaultConfig });
    const plan = planSign(repo, parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE), [{ tag: 'v2', digest: image.digest, size: image.size }], new Date(), 1095);
    assert.match(plan.files.get('targets/releases')!.toString('utf8'), /"a\\u0026b\\u003cc\\u003e"/);
    await client.publish(plan.files);

    await snapshotMatchesServed(gun, 'targets/releases');
    const again = await updateRepo(client, { config: defaultConfig });
    assert.ok('v2' in again.roles.get('targets/releases')!.meta.signed.targets);
    assert.deepEqual((await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.name).sort(), ['a&b<c>', 'v1', 'v2']);
  });

  it("fields notary's Go types lack are not published (the server would drop them from what it hashes)", async () => {
    const { gun, client } = await repoWith('enc/unknown', ['v1']);
    const repo = await updateRepo(client, { config: defaultConfig });
    const releases = repo.roles.get('targets/releases')!.meta.signed;
    (releases as unknown as Record<string, unknown>).x_unknown = { a: 1 };
    releases.targets.v1!.custom = { kept: true };
    const plan = planSign(repo, parsePrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE), [{ tag: 'v2', digest: image.digest, size: image.size }], new Date(), 1095);
    await client.publish(plan.files);

    await snapshotMatchesServed(gun, 'targets/releases');
    const again = await updateRepo(client, { config: defaultConfig });
    // Parsed objects have no prototype: compare the content.
    assert.deepEqual({ ...(again.roles.get('targets/releases')!.meta.signed.targets.v1!.custom as object) }, { kept: true });
    assert.deepEqual((await ctx.stack.notaryCli.list(gun)).map((r) => r.name).sort(), ['v1', 'v2']);
  });
});
