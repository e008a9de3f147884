/**
 * TUF rules as the specification states them, where notary's client is
 * looser: the action (node dist/index.js) against the real notary-server,
 * through the rewriting proxy with re-keyed data (test/stack/forger.ts) for
 * what only a server-held key could sign.
 *
 * - A threshold counts distinct keys: one key listed under two IDs (its
 *   ecdsa and ecdsa-x509 forms) counts once (TUF 1.0.33 5.3.4 ff.: "each KEY
 *   MUST only contribute one SIGNATURE"; notary counts key IDs).
 * - A newer snapshot keeps listing every targets role the remembered one
 *   listed while it is still delegated (TUF 1.0.33 5.5.5); a removal made
 *   with the notary CLI, whose snapshot still lists the removed file, passes.
 * - Sign on first use warns, naming the Root Key docker prints.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { serve, startProxy, type ProxyRule, type RewritingProxy } from '../stack/proxy.ts';
import { forge, keyJson, makeForgerKeys, readRealRepo, signWith, x509Twin, type Edit, type ForgeKey, type ForgerKeys, type RealRepo } from '../stack/forger.ts';
import { assertRefused, describeRun, initRepo, runAction, twoVersionRepo, useStack, type ActionRun } from './helpers.ts';

describe('TUF rules as the specification states them', () => {
  const ctx = useStack();
  let proxy: RewritingProxy;
  let gun: string;
  let v1: PushedImage;
  let real: RealRepo;
  let keys: ForgerKeys;

  const freshDir = () => mkdtemp(join(ctx.stack.dir, 'trust-'));
  const verify = async (trustDir: string, rule?: ProxyRule, image = v1.ref): Promise<ActionRun> => {
    proxy.setRule(rule);
    try {
      return await runAction(ctx.stack, { mode: 'verify', images: [image], trustServer: proxy.url }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir });
    } finally {
      await proxy.settled();
      proxy.setRule(undefined);
    }
  };
  const forged = (edit: Edit = {}) => serve(gun, forge(real, keys, edit));
  const releasesOf = (d: Map<string, Record<string, any>>) => d.get('targets')!.delegations.roles.find((r: { name: string }) => r.name === 'targets/releases'); // eslint-disable-line @typescript-eslint/no-explicit-any

  before(async () => {
    proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
    ({ gun, v1, real } = await twoVersionRepo(ctx.stack, 'rules/app', ctx.ci));
    keys = await makeForgerKeys(join(ctx.stack.dir, 'forger'), gun);
  });
  after(async () => {
    await proxy?.stop();
  });

  describe('a threshold counts keys, not key IDs', () => {
    /** Root asks `threshold` 2 for targets from the targets key and `second`, and targets carries both signatures. */
    const targetsSignedTwice = (second: ForgeKey): Edit => ({
      signed: (d, k) => {
        const root = d.get('root')!;
        root.keys[second.id] = keyJson(second);
        root.roles.targets = { keyids: [k.targets.id, second.id], threshold: 2 };
      },
      signatures: (role, c, own) => (role === 'targets' ? [signWith(keys.targets, c), signWith(second, c)] : own()),
    });
    /** Targets asks 2 of targets/releases from the delegation key and `second`, and targets/releases carries both signatures. */
    const releasesSignedTwice = (second: ForgeKey): Edit => ({
      signed: (d) => {
        d.get('targets')!.delegations.keys[second.id] = keyJson(second);
        Object.assign(releasesOf(d), { keyids: [keys.delegation.id, second.id], threshold: 2 });
      },
      signatures: (role, c, own) => (role === 'targets/releases' ? [signWith(keys.delegation, c), signWith(second, c)] : own()),
    });

    it('targets (re-keyed): root lists the targets key as ecdsa and as ecdsa-x509, threshold 2, one signature per ID: THRESHOLD_NOT_MET', async () => {
      const twin = x509Twin(keys.targets, gun);
      assert.notEqual(twin.id, keys.targets.id);
      const run = await verify(await freshDir(), forged(targetsSignedTwice(twin)));
      assertRefused(
        run,
        'THRESHOLD_NOT_MET',
        new RegExp(`targets\\.json has 1 valid signature\\(s\\), needs 2: 1 more signature\\(s\\) are by a key already counted under another ID \\(${twin.id.slice(0, 12)} is the key ${keys.targets.id.slice(0, 12)} again\\)`),
      );
    });

    it('targets (re-keyed): the same with two really distinct keys verifies', async () => {
      const run = await verify(await freshDir(), forged(targetsSignedTwice(keys.extra())));
      assert.equal(run.code, 0, describeRun(run));
    });

    // docker (its notary client) counts key IDs and accepts these targets (test/upstream/docker-cli.upstream.test.ts).
    it('a delegation (re-keyed): targets lists the delegation key as ecdsa and as ecdsa-x509 for targets/releases, threshold 2: skipped with a warning, NOT_SIGNED', async () => {
      const twin = x509Twin(keys.delegation, gun);
      const run = await verify(await freshDir(), forged(releasesSignedTwice(twin)));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
      assert.match(
        run.stdout,
        new RegExp(
          `::warning::.*targets/releases\\.json has 1 valid signature\\(s\\), needs 2: 1 more signature\\(s\\) are by a key already counted under another ID \\(${twin.id.slice(0, 12)} is the key ${keys.delegation.id.slice(0, 12)} again\\), and one key counts once; targets/releases is ignored`,
        ),
      );
    });

    it('a delegation (re-keyed): the same with two really distinct keys verifies', async () => {
      const run = await verify(await freshDir(), forged(releasesSignedTwice(keys.extra())));
      assert.equal(run.code, 0, describeRun(run));
      assert.doesNotMatch(run.stdout, /::warning::.*targets\/releases/);
    });
  });

  describe('a newer snapshot keeps every targets role still delegated', () => {
    /** A newer snapshot (version + 1) that leaves `role` out of its meta; the file is still served. */
    const dropping = (role: string): Edit => ({ signed: (d) => (d.get('snapshot')!.version += 1), snapshotMeta: (m) => delete m[role] });

    it('after a remembered run, a newer snapshot (re-keyed) without targets/releases, which targets still delegates: ROLLBACK naming it', async () => {
      const dir = await freshDir();
      const first = await verify(dir, forged());
      assert.equal(first.code, 0, describeRun(first));
      const run = await verify(dir, forged(dropping('targets/releases')));
      const version = real.signed.get('snapshot')!.version as number;
      assertRefused(run, 'ROLLBACK', new RegExp(`${gun.replace(/[.]/g, '\\.')}: snapshot\\.json version ${version + 1} no longer lists targets/releases, which the snapshot trusted before \\(version ${version}\\) listed and targets still delegates`));
    });

    it('on first use the same snapshot is no rollback: targets/releases reads as "nothing signed yet", so NOT_SIGNED', async () => {
      const run = await verify(await freshDir(), forged(dropping('targets/releases')));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
    });

    it('after a remembered run, targets stops delegating targets/releases and the snapshot (re-keyed) drops it: no rollback (the tag is simply no longer trusted, NOT_SIGNED)', async () => {
      const dir = await freshDir();
      assert.equal((await verify(dir, forged())).code, 0);
      const undelegated: Edit = {
        signed: (d) => {
          d.get('snapshot')!.version += 1;
          const dl = d.get('targets')!.delegations;
          dl.roles = dl.roles.filter((r: { name: string }) => r.name !== 'targets/releases');
        },
        snapshotMeta: (m) => delete m['targets/releases'],
      };
      const run = await verify(dir, forged(undelegated));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
    });

    // notary-server keeps listing the removed delegation's file in the snapshot, and docker trust signer remove
    // removes nothing here, so the notary CLI removes it (test/upstream/notary.upstream.test.ts, docker-cli.upstream.test.ts).
    it('a real removal after a remembered run still verifies: notary delegation remove, with the snapshot notary-server then makes', async () => {
      const removal = await initRepo(ctx.stack, 'rules/removal', ctx.ci);
      const ops = await ctx.stack.docker.keyGenerate('ops', join(ctx.stack.dir, 'keys-ops'));
      await ctx.stack.docker.signerAdd('ops', ops.publicKeyPath, removal);
      const [a, b] = [await pushImage(ctx.stack, 'rules/removal:a', { seed: 'rules-removal-a' }), await pushImage(ctx.stack, 'rules/removal:b', { seed: 'rules-removal-b' })];
      // ops signs a (targets/ops gets a file), then ci signs b (targets/releases is last signed by ci).
      const signOps = await runAction(ctx.stack, { mode: 'sign', images: [a.ref], key: ops.privateKeyPem }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': await freshDir() });
      assert.equal(signOps.code, 0, describeRun(signOps));
      const signCi = await runAction(ctx.stack, { mode: 'sign', images: [b.ref], key: ctx.ci.privateKeyPem }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': await freshDir() });
      assert.equal(signCi.code, 0, describeRun(signCi));

      const dir = await freshDir();
      const remembered = await verify(dir, undefined, b.ref);
      assert.equal(remembered.code, 0, describeRun(remembered));
      const state = async () => {
        const repo = await readRealRepo(ctx.stack.notary.url, ctx.stack.ca, removal);
        const listed = Object.keys(JSON.parse(repo.raw.get('snapshot')!.toString('utf8')).signed.meta).sort();
        const delegated = repo.signed
          .get('targets')!
          .delegations.roles.map((r: { name: string }) => r.name)
          .sort();
        return { listed, delegated };
      };
      assert.deepEqual(await state(), { listed: ['root', 'targets', 'targets/ci', 'targets/ops', 'targets/releases'], delegated: ['targets/ci', 'targets/ops', 'targets/releases'] });

      await ctx.stack.notaryCli.run(['delegation', 'remove', removal, 'targets/ops', '--publish'], 'yes\n');
      assert.deepEqual((await state()).delegated, ['targets/ci', 'targets/releases'], 'targets no longer delegates targets/ops');
      const run = await verify(dir, undefined, b.ref);
      assert.equal(run.code, 0, describeRun(run));
      // And a publish after the removal (ci signs again, as the action's sign does) keeps it so.
      const again = await runAction(ctx.stack, { mode: 'sign', images: [a.ref], key: ctx.ci.privateKeyPem }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': dir });
      assert.equal(again.code, 0, describeRun(again));
      assert.equal((await verify(dir, undefined, a.ref)).code, 0);
    });
  });

  describe('trust on first use', () => {
    let tofuGun: string;
    let rootId: string;
    const sign = async (image: PushedImage, trustDir: string, extra: Record<string, string> = {}) => {
      const run = await runAction(ctx.stack, { mode: 'sign', images: [image.ref], key: ctx.ci.privateKeyPem }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir, ...extra });
      assert.equal(run.code, 0, describeRun(run));
      return run;
    };
    const notice = () => new RegExp(`${tofuGun.replace(/[.]/g, '\\.')}: trusted on first use: .*\\(${rootId}\\).*root-keys: ${rootId}$`, 'm');

    before(async () => {
      tofuGun = await initRepo(ctx.stack, 'rules/tofu', ctx.ci);
      const [info] = await ctx.stack.docker.inspect(tofuGun);
      rootId = info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys[0]!.ID;
    });

    it('sign with a fresh trust dir and no root-keys warns, naming the Root Key docker trust inspect prints and how to pin it', async () => {
      const img = await pushImage(ctx.stack, 'rules/tofu:v1', { seed: 'rules-tofu-v1' });
      const run = await sign(img, await freshDir());
      const warnings = run.stdout.split('\n').filter((l) => l.startsWith('::warning::') && l.includes('trusted on first use'));
      assert.equal(warnings.length, 1, describeRun(run));
      assert.match(warnings[0]!.slice('::warning::'.length), notice());
    });

    it('no warning when root-keys pins the root, nor once trust is remembered', async () => {
      const img = await pushImage(ctx.stack, 'rules/tofu:v2', { seed: 'rules-tofu-v2' });
      const pinned = await sign(img, await freshDir(), { 'INPUT_ROOT-KEYS': rootId });
      assert.doesNotMatch(pinned.stdout, /trusted on first use/);
      const dir = await freshDir();
      assert.match((await sign(img, dir)).stdout, notice());
      assert.doesNotMatch((await sign(img, dir)).stdout, /trusted on first use/, 'the second run starts from the remembered root');
    });

    it('verify on first use says it in the log, not as an annotation', async () => {
      const img = await pushImage(ctx.stack, 'rules/tofu:v3', { seed: 'rules-tofu-v3' });
      await sign(img, await freshDir(), { 'INPUT_ROOT-KEYS': rootId });
      const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': await freshDir() });
      assert.equal(run.code, 0, describeRun(run));
      assert.match(run.stdout, notice());
      assert.doesNotMatch(run.stdout, /::warning::.*trusted on first use/);
    });
  });
});
