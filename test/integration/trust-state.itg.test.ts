/**
 * Pinned and remembered trust, against the real notary-server (through the
 * rewriting proxy where an attack is needed) and the real docker and notary
 * CLIs: the trusted metadata lives in docker's trust directory layout, the
 * docker CLI and the action each accept what the other stored, a later run
 * refuses rollbacks and roots that did not rotate properly, and `root-keys`
 * pins fail anything else before any publish.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { DockerCli } from '../stack/docker-cli.ts';
import { httpsRequest } from '../stack/https.ts';
import { serve, startProxy, tufPath, type ProxyRule, type RewritingProxy } from '../stack/proxy.ts';
import { asServed, forge, makeForgerKeys, type Edit, type ForgerKeys, type RealRepo } from '../stack/forger.ts';
import { assertRefused, describeRun, initRepo, runAction, trustState, twoVersionRepo, useStack, type ActionRun } from './helpers.ts';

const version = async (path: string) => JSON.parse(await readFile(path, 'utf8')).signed.version as number;

describe('pinned and remembered trust', () => {
  const ctx = useStack();
  let proxy: RewritingProxy;
  let gun: string;
  let v1: PushedImage;
  let old: RealRepo;
  let real: RealRepo;
  let keys: ForgerKeys;

  const verify = async (trustDir: string, rule?: ProxyRule, extra: Record<string, string> = {}, image = v1.ref): Promise<ActionRun> => {
    proxy.setRule(rule);
    const run = await runAction(ctx.stack, { mode: 'verify', images: [image], trustServer: proxy.url }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir, ...extra });
    await proxy.settled();
    proxy.setRule(undefined);
    return run;
  };
  const freshDir = () => mkdtemp(join(ctx.stack.dir, 'trust-'));
  const metadata = (trustDir: string, g = gun) => join(trustDir, 'tuf', ...g.split('/'), 'metadata');

  before(async () => {
    proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
    ({ gun, v1, old, real } = await twoVersionRepo(ctx.stack, 'state/app', ctx.ci));
    keys = await makeForgerKeys(join(ctx.stack.dir, 'forger'), gun);
  });
  after(async () => {
    await proxy?.stop();
  });

  describe('remembered trust', () => {
    it("stores the trusted metadata in docker's layout, tuf/<gun>/metadata/<role>.json, byte for byte as served", async () => {
      const dir = await freshDir();
      const run = await verify(dir);
      assert.equal(run.code, 0, describeRun(run));
      const md = metadata(dir);
      for (const role of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases']) {
        assert.deepEqual(await readFile(join(md, `${role}.json`)), real.raw.get(role), role);
      }
      assert.equal(existsSync(join(dir, 'private')), false, 'no keys are written');
    });

    it('a remembered file that matches what its parent announces is not fetched again; a changed one is', async () => {
      const byChecksum = (run: ActionRun) => [...run.stdout.matchAll(/::debug::GET \S+\/_trust\/tuf\/(\S+)\.[0-9a-f]{64}\.json -> HTTP 200/g)].map((m) => m[1]).sort();
      const cachedGun = await initRepo(ctx.stack, 'state/cached', ctx.ci);
      const a = await pushImage(ctx.stack, 'state/cached:a', { seed: 'cached-a' });
      await ctx.stack.notaryCli.addhash(cachedGun, 'a', a.size, a.digest, { role: 'targets/releases', publish: true });
      const dir = await freshDir();
      const run = (image: string) => runAction(ctx.stack, { mode: 'verify', images: [image] }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': dir, RUNNER_DEBUG: '1' });

      const first = await run(a.ref);
      assert.equal(first.code, 0, describeRun(first));
      assert.deepEqual(byChecksum(first), ['snapshot', 'targets', 'targets/releases']);
      const again = await run(a.ref);
      assert.equal(again.code, 0, describeRun(again));
      assert.deepEqual(byChecksum(again), [], 'snapshot, targets and targets/releases come from the trust dir');
      assert.match(again.stdout, /::debug::GET \S+\/_trust\/tuf\/timestamp\.json -> HTTP 200/);

      // A new tag changes snapshot and targets/releases, not targets: only the changed files are fetched.
      const b = await pushImage(ctx.stack, 'state/cached:b', { seed: 'cached-b' });
      await ctx.stack.notaryCli.addhash(cachedGun, 'b', b.size, b.digest, { role: 'targets/releases', publish: true });
      const changed = await run(b.ref);
      assert.equal(changed.code, 0, describeRun(changed));
      assert.deepEqual(byChecksum(changed), ['snapshot', 'targets/releases']);
    });

    it('a replay of older, validly signed metadata is accepted on first use but refused once trust is remembered: ROLLBACK', async () => {
      const replay = serve(gun, asServed(old));
      const firstUse = await verify(await freshDir(), replay);
      assert.equal(firstUse.code, 0, `without remembered state an old consistent set still verifies\n${describeRun(firstUse)}`);

      const dir = await freshDir();
      assert.equal((await verify(dir)).code, 0);
      const run = await verify(dir, replay);
      const oldTs = JSON.parse(old.raw.get('timestamp')!.toString('utf8')).signed.version;
      const newTs = JSON.parse(real.raw.get('timestamp')!.toString('utf8')).signed.version;
      assertRefused(run, 'ROLLBACK', new RegExp(`timestamp\\.json is version ${oldTs}, older than the version ${newTs} trusted before`));
      assert.equal(await version(join(metadata(dir), 'timestamp.json')), newTs, 'the remembered state is not lowered');
    });

    for (const role of ['snapshot', 'targets', 'targets/releases']) {
      it(`${role} one version back, everything else current (re-keyed): ROLLBACK`, async () => {
        const dir = await freshDir();
        assert.equal((await verify(dir, serve(gun, forge(real, keys)))).code, 0);
        const edit: Edit = { signed: (d) => (d.get(role)!.version -= 1) };
        const run = await verify(dir, serve(gun, forge(real, keys, edit)));
        assertRefused(run, 'ROLLBACK', new RegExp(`${role.replace('/', '\\/')}\\.json is version \\d+, older than the version \\d+ trusted before`));
      });
    }

    it('the action accepts what docker stored, and refuses a replay below it: ROLLBACK', async () => {
      // stack.docker's trust dir holds what docker trust signer add and notary addhash cached.
      const dir = await freshDir();
      await cp(join(ctx.stack.docker.trustDir, 'tuf'), join(dir, 'tuf'), { recursive: true });
      const dockerTs = await version(join(metadata(dir), 'timestamp.json'));
      const ok = await verify(dir);
      assert.equal(ok.code, 0, describeRun(ok));
      assert.ok((await version(join(metadata(dir), 'timestamp.json'))) >= dockerTs);
      assertRefused(await verify(dir, serve(gun, asServed(old))), 'ROLLBACK', /timestamp\.json is version \d+, older than the version \d+ trusted before/);
    });

    it('the docker CLI reads what the action stored: with that state it refuses a re-keyed root that a fresh docker accepts', async () => {
      const actionDir = await mkdtemp(join(ctx.stack.dir, 'docker-config-'));
      assert.equal((await verify(join(actionDir, 'trust'))).code, 0);
      const docker = (configDir: string) => new DockerCli({ configDir, notaryUrl: proxy.url, ca: ctx.stack.ca, rootPassphrase: ROOT_PASSPHRASE, repositoryPassphrase: REPOSITORY_PASSPHRASE });
      const withState = docker(actionDir);
      const fresh = docker(await mkdtemp(join(ctx.stack.dir, 'docker-config-')));
      await withState.init();
      await fresh.init();

      // Untouched, docker reads the action's state and the server alike.
      const [info] = await withState.inspect(gun);
      assert.deepEqual(info!.SignedTags.map((t) => t.SignedTag).sort(), ['v1', 'v2']);

      proxy.setRule(serve(gun, forge(real, keys)));
      try {
        const [forgedInfo] = await fresh.inspect(gun);
        assert.deepEqual(forgedInfo!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys, [{ ID: keys.root.id }], 'a fresh docker trusts the re-keyed root on first use');
        await assert.rejects(withState.inspect(gun), /root|certificate|valid|signature/i, 'docker with the action-stored root refuses the re-keyed one');
      } finally {
        proxy.setRule(undefined);
      }
    });

    it('an unreadable remembered file fails closed: METADATA_INVALID naming the path', async () => {
      const dir = await freshDir();
      assert.equal((await verify(dir)).code, 0);
      const { writeFile } = await import('node:fs/promises');
      await writeFile(join(metadata(dir), 'snapshot.json'), '{"signed":');
      assertRefused(await verify(dir), 'METADATA_INVALID', /remembered trust data .*snapshot\.json is unreadable/);
    });
  });

  describe('root rotation', () => {
    let rotGun: string;
    let rotImage: PushedImage;
    let rotDir: string;

    before(async () => {
      rotGun = await initRepo(ctx.stack, 'state/rotate', ctx.ci);
      rotImage = await pushImage(ctx.stack, 'state/rotate:v1', { seed: 'rotate-v1' });
      await ctx.stack.notaryCli.addhash(rotGun, 'v1', rotImage.size, rotImage.digest, { role: 'targets/releases', publish: true });
      rotDir = await freshDir();
      const first = await verify(rotDir, undefined, {}, rotImage.ref);
      assert.equal(first.code, 0, describeRun(first));
      assert.equal(await version(join(metadata(rotDir, rotGun), 'root.json')), 1);
    });

    it('follows two real rotations (notary key rotate root, twice) through 2.root.json to version 3', async () => {
      await ctx.stack.notaryCli.keyRotate(rotGun, 'root');
      await ctx.stack.notaryCli.keyRotate(rotGun, 'root');
      const served = await httpsRequest(`${ctx.stack.notary.url}${tufPath(rotGun, 'root.json')}`, { ca: ctx.stack.ca.caPem });
      const signedBy = JSON.parse(served.body.toString('utf8')).signatures.length as number;
      assert.equal(signedBy, 2, 'notary signs a rotated root with the old and the new root key');
      const from = proxy.log.length;
      const run = await verify(rotDir, undefined, {}, rotImage.ref);
      assert.equal(run.code, 0, describeRun(run));
      const asked = proxy.log.slice(from).map((e) => e.path);
      assert.ok(asked.includes(tufPath(rotGun, '2.root.json')), `asked for ${asked.join(', ')}`);
      assert.equal(await version(join(metadata(rotDir, rotGun), 'root.json')), 3);
    });

    it('a root older than the remembered one: ROLLBACK', async () => {
      const res = await httpsRequest(`${ctx.stack.notary.url}${tufPath(rotGun, '1.root.json')}`, { ca: ctx.stack.ca.caPem });
      assert.equal(res.status, 200);
      const run = await verify(rotDir, ({ path }) => (path === tufPath(rotGun, 'root.json') ? { body: res.body } : undefined), {}, rotImage.ref);
      assertRefused(run, 'ROLLBACK', /root\.json is version 1, older than the version 3 trusted before/);
    });
  });

  describe('a root signed only by new keys', () => {
    it('is refused once the old root is remembered: ROOT_ROTATION_INVALID', async () => {
      const dir = await freshDir();
      assert.equal((await verify(dir)).code, 0);
      const next = real.signed.get('root')!.version + 1;
      const run = await verify(dir, serve(gun, forge(real, keys, { signed: (d) => (d.get('root')!.version = next) })));
      assertRefused(run, 'ROOT_ROTATION_INVALID', new RegExp(`root\\.json version ${next} is not signed by 1 of the root key\\(s\\) trusted before .*A root signed only by new keys is refused`));
    });

    it('is refused when the intermediate N.root.json is missing: ROOT_ROTATION_INVALID', async () => {
      const dir = await freshDir();
      assert.equal((await verify(dir)).code, 0);
      const next = real.signed.get('root')!.version + 2;
      const run = await verify(dir, serve(gun, forge(real, keys, { signed: (d) => (d.get('root')!.version = next) })));
      assertRefused(run, 'ROOT_ROTATION_INVALID', new RegExp(`the server has no ${next - 1}\\.root\\.json`));
    });
  });

  describe('root-keys', () => {
    let rootId: string;
    before(async () => {
      const [info] = await ctx.stack.docker.inspect(gun);
      rootId = info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys[0]!.ID;
    });

    it('the Root key docker trust inspect prints is the TUF key ID in root.json; pinning it verifies', async () => {
      const root = real.signed.get('root')!;
      assert.deepEqual(root.roles.root.keyids, [rootId]);
      const run = await verify(await freshDir(), undefined, { 'INPUT_ROOT-KEYS': rootId });
      assert.equal(run.code, 0, describeRun(run));
    });

    it('a re-keyed root on first use is refused against the pin: ROOT_NOT_PINNED', async () => {
      const run = await verify(await freshDir(), serve(gun, forge(real, keys)), { 'INPUT_ROOT-KEYS': rootId });
      assertRefused(run, 'ROOT_NOT_PINNED', new RegExp(`is not signed by 1 of the pinned root keys in the root-keys input; its root keys are ${keys.root.id}`));
    });

    it('sign with a pin the repository does not match fails before any publish: ROOT_NOT_PINNED', async () => {
      const before = await trustState(ctx.stack, gun);
      const img = await pushImage(ctx.stack, 'state/app:v3', { seed: 'state-v3' });
      const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': await freshDir(), 'INPUT_ROOT-KEYS': keys.root.id });
      assertRefused(run, 'ROOT_NOT_PINNED', /not the root you pinned/);
      assert.deepEqual(await trustState(ctx.stack, gun), before, 'nothing published');
    });

    it('a prefix is not a pin: INPUT_INVALID', async () => {
      const run = await verify(await freshDir(), undefined, { 'INPUT_ROOT-KEYS': rootId.slice(0, 12) });
      assertRefused(run, 'INPUT_INVALID', /root-keys: .* is not a root key ID; give the full 64-hex-digit Root key ID/);
    });
  });

  describe('cache', () => {
    it('outside GitHub (no cache service): a warning, and the run goes on', async () => {
      const dir = await freshDir();
      proxy.setRule(undefined);
      const run = await runAction(ctx.stack, { mode: 'verify', images: [v1.ref], trustServer: proxy.url }, { 'INPUT_TRUST-DIR': dir });
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stdout, /::warning::cache: the GitHub Actions cache service is not available/);
      assert.ok((await readdir(metadata(dir))).includes('root.json'));
    });

    it('cache service down: a warning, and the run goes on', async () => {
      const dir = await freshDir();
      const run = await runAction(
        ctx.stack,
        { mode: 'verify', images: [v1.ref], trustServer: proxy.url },
        {
          'INPUT_TRUST-DIR': dir,
          INPUT_CACHE: 'true',
          ACTIONS_RUNTIME_TOKEN: 'not-a-token',
          ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/',
          ACTIONS_CACHE_SERVICE_V2: 'true',
          GITHUB_RUN_ID: '1',
        },
      );
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stdout, /::warning::.*(restor|cache)/i);
    });
  });
});
