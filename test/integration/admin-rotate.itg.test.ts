/**
 * Root and repository key rotation against the real notary-server, read
 * back by the real docker and notary CLIs (with trust data remembered from
 * before the change and with none) and by the action verifying with a
 * trust directory that remembered the old root.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { httpsRequest } from '../stack/https.ts';
import { startProxy, tufPath, type RewritingProxy } from '../stack/proxy.ts';
import { assertRefused, describeRun, hex, initRepo, libraryEnv, runAction, runCli, useStack, type ActionRun, type CliRun } from './helpers.ts';
import { administrativeKeyIds, freshDocker, freshNotary, placeKey, runAdminAction, serverState } from './admin-helpers.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { parseMetadata, type RootSigned } from '../../src/tuf/metadata.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';

interface ServedRoot {
  raw: Buffer;
  signed: RootSigned;
  signatures: { keyid: string }[];
}

describe('rotating the root and repository keys, read back by docker, notary and the action', () => {
  const ctx = useStack();
  let gun: string;
  let v1: PushedImage;
  let v2: PushedImage;
  /** The action's trust dirs: `remembered` follows each change; `untouched` remembers root version 1 until the last test. */
  let remembered: string;
  let untouched: string;
  let dockerRoot: string;
  let dockerRepository: string;
  /** The CLI's DOCKER_CONFIG (its own trust directory) and environment. */
  let cliConfig: string;
  let cliEnv: NodeJS.ProcessEnv;
  let proxy: RewritingProxy;
  const keys: { root2?: string; root3?: string; repository4?: string } = {};

  const verify = (trustDir: string, images = [v1.ref, v2.ref], trustServer?: string): Promise<ActionRun> =>
    runAction(ctx.stack, { mode: 'verify', images, signers: 'ci', ...(trustServer ? { trustServer } : {}) }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir });
  const served = async (file = 'root.json'): Promise<ServedRoot> => {
    const res = await httpsRequest(`${ctx.stack.notary.url}${tufPath(gun, file)}`, { ca: ctx.stack.ca.caPem });
    assert.equal(res.status, 200, file);
    const meta = parseMetadata(res.body, 'root', 'Root');
    return { raw: res.body, signed: meta.signed, signatures: meta.signatures };
  };
  /** docker trust inspect (docker's remembered trust dir and a fresh one) and notary list (both too) read the repository, signed tags as they were. */
  const readByDockerAndNotary = async (): Promise<{ root: string[]; repository: string[] }> => {
    const tags = [
      { SignedTag: 'v1', Digest: hex(v1.digest), Signers: ['ci'] },
      { SignedTag: 'v2', Digest: hex(v2.digest), Signers: ['ci'] },
    ];
    const [rememberedInfo] = await ctx.stack.docker.inspect(gun);
    const [freshInfo] = await (await freshDocker(ctx.stack)).inspect(gun);
    assert.deepEqual(rememberedInfo!.SignedTags, tags, 'docker, remembering the old root');
    assert.deepEqual(freshInfo!.SignedTags, tags, 'docker, trusting on first use');
    assert.deepEqual(freshInfo!.AdministrativeKeys, rememberedInfo!.AdministrativeKeys);
    for (const notary of [ctx.stack.notaryCli, await freshNotary(ctx.stack)]) {
      const rows = (await notary.list(gun)).filter((r) => r.role === 'targets/ci' || r.role === 'targets/releases');
      assert.deepEqual([...new Set(rows.map((r) => `${r.name} ${r.digest}`))].sort(), [`v1 ${hex(v1.digest)}`, `v2 ${hex(v2.digest)}`]);
    }
    return { root: administrativeKeyIds(freshInfo!, 'Root'), repository: administrativeKeyIds(freshInfo!, 'Repository') };
  };
  const cli = (args: string[]): Promise<CliRun> => runCli(cliEnv, ['--tlscacert', ctx.stack.ca.caCertPath, ...args]);
  const okCli = async (args: string[]): Promise<CliRun> => {
    const r = await cli(args);
    assert.equal(r.code, 0, `content-trust ${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const privateKeys = async (trustDir: string, role: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const f of await readdir(join(trustDir, 'private'))) {
      const pem = await readFile(join(trustDir, 'private', f), 'utf8');
      if (new RegExp(`^role: ${role}$`, 'm').test(pem)) out.set(f.replace(/\.key$/, ''), pem);
    }
    return out;
  };

  before(async () => {
    gun = await initRepo(ctx.stack, 'rotate/app', ctx.ci);
    [dockerRoot] = [...(await privateKeys(ctx.stack.docker.trustDir, 'root')).values()] as [string];
    dockerRepository = [...(await privateKeys(ctx.stack.docker.trustDir, 'targets')).values()].find((pem) => pem.includes(`gun: ${gun}\n`))!;
    v1 = await pushImage(ctx.stack, 'rotate/app:v1', { seed: 'rotate-app-v1' });
    v2 = await pushImage(ctx.stack, 'rotate/app:v2', { seed: 'rotate-app-v2' });
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [v1.ref, v2.ref], key: ctx.ci.privateKeyPem });
    assert.equal(sign.code, 0, describeRun(sign));
    remembered = await mkdtemp(join(ctx.stack.dir, 'remembered-'));
    const first = await verify(remembered);
    assert.equal(first.code, 0, describeRun(first));
    untouched = await mkdtemp(join(ctx.stack.dir, 'untouched-'));
    await cp(remembered, untouched, { recursive: true });
    // docker's own trust dir remembers root version 1 too: docker trust signer add made it.
    await ctx.stack.docker.inspect(gun);
    cliConfig = await mkdtemp(join(ctx.stack.dir, 'cli-config-'));
    cliEnv = { ...ctx.stack.docker.env(), DOCKER_CONFIG: cliConfig };
    proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
  });
  after(async () => {
    await proxy?.stop();
  });

  it('action, rotate-role root: a new root key handed back once (encrypted, masked); root version 2 names it, signed by the old and the new key; docker, notary and the action remembering version 1 read the repository', async () => {
    const v1Root = await served();
    // root-keys pins the old root key: the rotation reads back under the new one and says to update the pin.
    const oldPin = v1Root.signed.roles.root.keyids.join(',');
    const run = await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': 'root', 'root-key': dockerRoot, 'root-passphrase': ROOT_PASSPHRASE, 'trust-dir': remembered, cache: 'false', 'root-keys': oldPin });
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, new RegExp(`^::warning.*root-keys pins the root key this rotation replaced: set root-keys to ${run.outputs['root-key-id']} for the runs that follow`, 'm'), describeRun(run));
    const newKey = run.outputs['root-key']!;
    assert.match(newKey, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n\n/);
    const body = newKey.split('\n')[3]!;
    assert.ok(run.stdout.includes(`::add-mask::${body}`), 'the key body is masked');
    assert.equal(run.stdout.split('\n').filter((l) => l.includes(body) && !l.startsWith('::add-mask::')).length, 0);
    keys.root2 = newKey;

    const root = await served();
    assert.equal(root.signed.version, 2);
    assert.deepEqual(root.signed.roles.root.keyids, [run.outputs['root-key-id']]);
    assert.deepEqual(root.signatures.map((s) => s.keyid).sort(), [...v1Root.signed.roles.root.keyids, run.outputs['root-key-id']!].sort(), 'signed by the old root key and the new one');
    assert.deepEqual(root.signed.roles.targets, v1Root.signed.roles.targets, 'the repository key is unchanged');
    assert.match(run.stdout, new RegExp(`the root key is now ${run.outputs['root-key-id']} \\(key file ${parsePrivateKey(newKey, ROOT_PASSPHRASE).id}\\.key\\)`));

    const read = await readByDockerAndNotary();
    assert.deepEqual(read.root, [run.outputs['root-key-id']], 'root-key-id is the Root key docker trust inspect prints');
    const again = await verify(remembered);
    assert.equal(again.code, 0, describeRun(again));
    const pinnedNew = await runAction(ctx.stack, { mode: 'verify', images: [v1.ref], signers: 'ci' }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': await mkdtemp(join(ctx.stack.dir, 'pin-new-')), 'INPUT_ROOT-KEYS': run.outputs['root-key-id']! });
    assert.equal(pinnedNew.code, 0, describeRun(pinnedNew));
  });

  it('the action remembering root version 1 verifies the old tags after the rotation, and remembers version 2', async () => {
    const dir = await mkdtemp(join(ctx.stack.dir, 'v1-'));
    await cp(untouched, dir, { recursive: true });
    const run = await verify(dir);
    assert.equal(run.code, 0, describeRun(run));
    const kept = JSON.parse(await readFile(join(dir, 'tuf', ...gun.split('/'), 'metadata', 'root.json'), 'utf8'));
    assert.equal(kept.signed.version, 2, 'the remembered root moved on to version 2');
  });

  it('the old root key no longer counts: another rotation with it is refused (action: KEY_WRONG_ROLE; server: a root it alone signs), and verify with remembered trust refuses a root signed by it alone', async () => {
    const before = await serverState(ctx.stack, gun);
    const current = await served();
    const run = await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': 'root', 'root-key': dockerRoot, 'root-passphrase': ROOT_PASSPHRASE, cache: 'false' });
    assertRefused(
      run,
      'KEY_WRONG_ROLE',
      new RegExp(
        `${gun.replace(/[.]/g, '\\.')}: the root key given \\(key ${parsePrivateKey(dockerRoot, ROOT_PASSPHRASE).id}, role "root"\\) is not this repository's root key; it expects ${current.signed.roles.root.keyids[0]} \\(key file ${parsePrivateKey(keys.root2!, ROOT_PASSPHRASE).id}\\.key\\)`,
      ),
    );
    assert.equal(run.outputs['root-key'], undefined, 'no new key is made for a refused rotation');
    assert.deepEqual(await serverState(ctx.stack, gun), before, 'nothing published');

    // By hand: version 3 naming the old certificate again, signed by the old root key alone.
    const v1Root = await served('1.root.json');
    const oldCert = v1Root.signed.roles.root.keyids[0]!;
    const back: RootSigned = structuredClone(current.signed);
    back.keys[oldCert] = v1Root.signed.keys[oldCert]!;
    back.roles.root = { keyids: [oldCert], threshold: 1 };
    back.version += 1;
    const forged = envelope(back, parsePrivateKey(dockerRoot, ROOT_PASSPHRASE), [oldCert]);
    const env = libraryEnv(ctx.stack);
    try {
      await assert.rejects(new NotaryRepoClient(env.client, ctx.stack.notary.url, gun, undefined, true).publish(new Map([['root', forged]])), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'PUBLISH_REJECTED', e.message);
        assert.match(e.message, /refused the update of root: HTTP 400: INVALID_UPDATE could not rotate trust to a new trusted root/);
        return true;
      });
    } finally {
      env.close();
    }
    assert.deepEqual((await served()).raw, current.raw, 'the server refused it: its root is unchanged');

    // Served anyway (a server that took it): the action remembering version 2 refuses it.
    proxy.setRule(({ path }) => (path === tufPath(gun, 'root.json') ? { body: forged } : undefined));
    try {
      const refused = await verify(remembered, [v1.ref], proxy.url);
      assertRefused(refused, 'ROOT_ROTATION_INVALID', new RegExp(`root\\.json version ${back.version} is not signed by 1 of the root key\\(s\\) trusted before \\(root version 2`));
    } finally {
      await proxy.settled();
      proxy.setRule(undefined);
    }
  });

  it('CLI, rotate REPOSITORY root: a new root key saved in the trust directory; docker, notary and the action remembering the previous root read the repository', async () => {
    const cliTrust = join(cliConfig, 'trust');
    const root2Id = await placeKey(cliTrust, keys.root2!, ROOT_PASSPHRASE);
    const r = await okCli(['rotate', gun, 'root']);
    const made = [...(await privateKeys(cliTrust, 'root')).entries()].filter(([id]) => id !== root2Id);
    assert.equal(made.length, 1, 'one new root key file in the trust directory');
    keys.root3 = made[0]![1];
    const root = await served();
    assert.equal(root.signed.version, 3);
    const rootId = root.signed.roles.root.keyids[0]!;
    assert.match(r.stdout, new RegExp(`the root key is now ${rootId} \\(key file ${made[0]![0]}\\.key\\)`), 'the CLI prints the Root key as docker prints it, and the key file');
    assert.equal(root.signatures.length, 2);
    const read = await readByDockerAndNotary();
    assert.deepEqual(read.root, [rootId]);
    const again = await verify(remembered);
    assert.equal(again.code, 0, describeRun(again));
  });

  it('action, rotate-role repository: root names a new repository key, targets re-signed with it, signers and their tags kept; the old key is refused, the new one administers', async () => {
    const before = await served();
    const targetsBefore = JSON.parse((await httpsRequest(`${ctx.stack.notary.url}${tufPath(gun, 'targets.json')}`, { ca: ctx.stack.ca.caPem })).body.toString('utf8'));
    const run = await runAdminAction(ctx.stack, 'rotate', [gun], { 'rotate-role': 'repository', 'root-key': keys.root3!, 'root-passphrase': ROOT_PASSPHRASE, 'repository-passphrase': REPOSITORY_PASSPHRASE, 'trust-dir': remembered, cache: 'false' });
    assert.equal(run.code, 0, describeRun(run));
    const newKey = run.outputs['repository-key']!;
    assert.match(newKey, new RegExp(`^-----BEGIN ENCRYPTED PRIVATE KEY-----\\ngun: ${gun.replace(/[.]/g, '\\.')}\\nrole: targets\\n\\n`));
    assert.equal(parsePrivateKey(newKey, REPOSITORY_PASSPHRASE).id, run.outputs['repository-key-id']);
    keys.repository4 = newKey;

    const root = await served();
    assert.equal(root.signed.version, before.signed.version + 1);
    assert.deepEqual(root.signed.roles.targets.keyids, [run.outputs['repository-key-id']]);
    assert.deepEqual(root.signed.roles.root, before.signed.roles.root);
    const targets = JSON.parse((await httpsRequest(`${ctx.stack.notary.url}${tufPath(gun, 'targets.json')}`, { ca: ctx.stack.ca.caPem })).body.toString('utf8'));
    assert.deepEqual(
      targets.signatures.map((s: { keyid: string }) => s.keyid),
      [run.outputs['repository-key-id']],
    );
    assert.deepEqual(targets.signed.delegations, targetsBefore.signed.delegations, 'the signers and their keys are kept');
    assert.equal(targets.signed.version, targetsBefore.signed.version + 1);

    const read = await readByDockerAndNotary();
    assert.deepEqual(read.repository, [run.outputs['repository-key-id']], 'repository-key-id is the Repository key docker trust inspect prints');
    const again = await verify(remembered);
    assert.equal(again.code, 0, describeRun(again));

    const bob = await ctx.stack.docker.keyGenerate('bob', join(ctx.stack.dir, 'keys'));
    const bobKey = await readFile(bob.publicKeyPath, 'utf8');
    assertRefused(
      await runAdminAction(ctx.stack, 'add-signer', [gun], { 'repository-key': dockerRepository, 'repository-passphrase': REPOSITORY_PASSPHRASE, 'signer-name': 'bob', 'signer-key': bobKey }),
      'KEY_WRONG_ROLE',
      /is not this repository's targets key/,
    );
    const add = await runAdminAction(ctx.stack, 'add-signer', [gun], { 'repository-key': newKey, 'repository-passphrase': REPOSITORY_PASSPHRASE, 'signer-name': 'bob', 'signer-key': bobKey });
    assert.equal(add.code, 0, describeRun(add));
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers.map((s) => s.Name).sort(), ['bob', 'ci']);
  });

  it('CLI, rotate REPOSITORY repository: a new repository key saved in the trust directory; docker and notary read the repository, the signers kept', async () => {
    const cliTrust = join(cliConfig, 'trust');
    const r = await okCli(['rotate', gun, 'repository']);
    const made = [...(await privateKeys(cliTrust, 'targets')).keys()];
    assert.equal(made.length, 1, 'one repository key file in the trust directory');
    const root = await served();
    assert.deepEqual(root.signed.roles.targets.keyids, made);
    assert.match(r.stdout, new RegExp(`the repository key is now ${made[0]} \\(key file ${made[0]}.key\\) instead of ${parsePrivateKey(keys.repository4!, REPOSITORY_PASSPHRASE).id}`));
    const read = await readByDockerAndNotary();
    assert.deepEqual(read.repository, made);
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.Signers.map((s) => s.Name).sort(), ['bob', 'ci']);
  });

  it('trust remembered before every rotation follows the chain (root version 1 to 5) and verifies the old tags', async () => {
    assert.equal((await served()).signed.version, 5);
    const run = await verify(untouched);
    assert.equal(run.code, 0, describeRun(run));
  });

  it('CLI usage lists every rotation: root|repository|snapshot|timestamp|signer NAME', async () => {
    const overview = await okCli(['--help']);
    assert.match(overview.stdout, /rotate REPOSITORY root\|repository\|snapshot\|timestamp\|signer NAME/);
    const help = await okCli(['rotate', '--help']);
    assert.match(help.stdout, /^Usage: content-trust rotate REPOSITORY root\|repository\|snapshot\|timestamp\|signer NAME \[--key NEW\.pub\]$/m);
    const bad = await cli(['rotate', gun, 'targets']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /INPUT_INVALID: usage: content-trust rotate REPOSITORY root\|repository\|snapshot\|timestamp\|signer NAME/);
  });
});
