/**
 * Names that are also Object.prototype's, against the real programs: tags
 * `__proto__`, `constructor` and `toString` are pushed to the registry,
 * signed and verified by the action, and read back by `docker trust
 * inspect` and `notary list`; a signer named `constructor` (docker accepts
 * it) signs and is required; `__proto__` is revoked. Then a hostile Notary
 * server (the rewriting proxy in front of the real one) serves metadata
 * nested 100,000 deep within the size cap: refused by name.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, tagImage, REPOSITORY_PASSPHRASE, type GeneratedKey, type PushedImage } from '../stack/index.ts';
import { startProxy, tufPath, type RewritingProxy } from '../stack/proxy.ts';
import { assertRefused, describeRun, hex, initRepo, resultOf, runAction, useStack } from './helpers.ts';
import { runAdminAction } from './admin-helpers.ts';

const TAGS = ['__proto__', 'constructor', 'toString'] as const;

describe('prototype names against the real stack', () => {
  const ctx = useStack();
  let gun: string;
  const images = new Map<string, PushedImage>();
  const ref = (tag: string) => `${gun}:${tag}`;

  before(async () => {
    gun = await initRepo(ctx.stack, 'proto/app', ctx.ci);
    // targets/releases already has content (the action copies and extends it);
    // targets/ci has none yet (the action starts it empty): both ways are signed below.
    const v1 = await pushImage(ctx.stack, 'proto/app:v1', { seed: 'proto-v1' });
    await ctx.stack.notaryCli.addhash(gun, 'v1', v1.size, v1.digest, { role: 'targets/releases', publish: true });
    // skopeo's oci: transport refuses `__proto__` as a reference name, so
    // each tag is pushed under a plain name and then set over the registry API.
    for (const [i, tag] of TAGS.entries()) {
      await pushImage(ctx.stack, `proto/app:base${i}`, { seed: `proto-${i}` });
      images.set(tag, await tagImage(ctx.stack, `proto/app:base${i}`, `proto/app:${tag}`));
    }
  });

  it('sign: each tag is signed; docker trust inspect and notary list show the same digests', async () => {
    const run = await runAction(ctx.stack, { mode: 'sign', images: TAGS.map(ref), key: ctx.ci.privateKeyPem });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      resultOf(run).map((r) => [r.tag, r.digest]),
      TAGS.map((t) => [t, images.get(t)!.digest]),
    );

    const [info] = await ctx.stack.docker.inspect(gun);
    const signed = Object.fromEntries(info!.SignedTags.map((t) => [t.SignedTag, t]));
    for (const tag of TAGS) {
      assert.ok(Object.hasOwn(signed, tag), `docker trust inspect lists ${tag}: ${JSON.stringify(info!.SignedTags)}`);
      assert.equal(signed[tag]!.Digest, hex(images.get(tag)!.digest));
      assert.deepEqual(signed[tag]!.Signers, ['ci']);
    }
    for (const role of ['targets/releases', 'targets/ci']) {
      const rows = (await ctx.stack.notaryCli.list(gun, { role })).filter((r) => r.name !== 'v1');
      assert.deepEqual(rows.map((r) => [r.name, r.digest, r.size]).sort(), TAGS.map((t) => [t, hex(images.get(t)!.digest), images.get(t)!.size]).sort(), role);
    }
  });

  it('verify: each tag verifies to its digest', async () => {
    const run = await runAction(ctx.stack, { mode: 'verify', images: TAGS.map(ref) });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      resultOf(run).map((r) => [r.tag, r.digest, r.signers]),
      TAGS.map((t) => [t, images.get(t)!.digest, ['ci']]),
    );
  });

  it('a pushed tag named hasOwnProperty or valueOf that nobody signed is NOT_SIGNED (not a prototype hit)', async () => {
    for (const [i, tag] of ['hasOwnProperty', 'valueOf'].entries()) {
      await tagImage(ctx.stack, `proto/app:base${i}`, `proto/app:${tag}`);
      assertRefused(await runAction(ctx.stack, { mode: 'verify', images: [ref(tag)] }), 'NOT_SIGNED', new RegExp(`${gun}:${tag} has no trust data`));
    }
  });

  describe('a signer named constructor', () => {
    let signer: GeneratedKey;
    let image: PushedImage;

    before(async () => {
      signer = await ctx.stack.docker.keyGenerate('constructor', join(ctx.stack.dir, 'keys'));
      await ctx.stack.docker.signerAdd('constructor', signer.publicKeyPath, gun);
      image = await pushImage(ctx.stack, 'proto/app:by-constructor', { seed: 'proto-by-constructor' });
    });

    // docker refuses these names too (test/upstream/docker-cli.upstream.test.ts).
    it('the action refuses the signer names __proto__ and toString by name', async () => {
      for (const name of ['__proto__', 'toString']) {
        assertRefused(await runAction(ctx.stack, { mode: 'verify', images: [ref('constructor')], signers: name }), 'INPUT_INVALID', new RegExp(`signer name "${name}" is not valid`));
      }
    });

    it('signs with its key; verify with `signers: constructor` accepts it and docker trust inspect names it', async () => {
      const sign = await runAction(ctx.stack, { mode: 'sign', images: [image.ref], key: signer.privateKeyPem });
      assert.equal(sign.code, 0, describeRun(sign));
      assert.deepEqual(resultOf(sign)[0]!.roles.sort(), ['targets/constructor', 'targets/releases']);

      const run = await runAction(ctx.stack, { mode: 'verify', images: [image.ref], signers: 'constructor' });
      assert.equal(run.code, 0, describeRun(run));
      assert.deepEqual(
        resultOf(run).map((r) => [r.digest, r.signers]),
        [[image.digest, ['constructor']]],
      );
      // A tag the signer did not sign is not taken from the prototype either.
      assertRefused(await runAction(ctx.stack, { mode: 'verify', images: [ref('toString')], signers: 'constructor' }), 'SIGNER_MISSING', /signer "constructor" did not sign it \(it has not signed this tag\)/);

      const [info] = await ctx.stack.docker.inspect(gun);
      assert.deepEqual(
        info!.SignedTags.find((t) => t.SignedTag === 'by-constructor'),
        { SignedTag: 'by-constructor', Digest: hex(image.digest), Signers: ['constructor'] },
      );
      assert.ok(
        info!.Signers.some((s) => s.Name === 'constructor' && s.Keys.some((k) => k.ID === signer.keyId)),
        JSON.stringify(info!.Signers),
      );
    });
  });

  it('revoke __proto__: gone for notary list and docker trust inspect, NOT_SIGNED for verify, the other tags stay', async () => {
    const run = await runAdminAction(ctx.stack, 'revoke', [ref('__proto__')], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    const names = (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.name);
    assert.ok(!names.includes('__proto__') && names.includes('constructor') && names.includes('toString'), names.join(','));
    const [info] = await ctx.stack.docker.inspect(gun);
    assert.ok(!info!.SignedTags.some((t) => t.SignedTag === '__proto__'));
    assertRefused(await runAction(ctx.stack, { mode: 'verify', images: [ref('__proto__')] }), 'NOT_SIGNED', /:__proto__ has no trust data/);
    const still = await runAction(ctx.stack, { mode: 'verify', images: [ref('constructor')] });
    assert.equal(still.code, 0, describeRun(still));
  });

  describe('a hostile Notary server serving metadata nested 100,000 deep', () => {
    let proxy: RewritingProxy;
    const deep = Buffer.from('['.repeat(100_000) + ']'.repeat(100_000));

    before(async () => {
      proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
    });
    after(async () => {
      await proxy?.stop();
    });

    /** Verify through the proxy with `file` answered by `body`; then once more under /usr/bin/time -v for the peak memory. */
    const verifyServing = async (file: string, body: Buffer) => {
      proxy.setRule(({ path }) => (path === tufPath(gun, file) ? { body } : undefined));
      const trustDir = await mkdtemp(join(ctx.stack.dir, 'trust-'));
      const run = await runAction(ctx.stack, { mode: 'verify', images: [ref('constructor')], trustServer: proxy.url }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir });
      proxy.setRule(undefined);
      assert.ok(
        proxy.log.some((e) => e.rewritten && e.path === tufPath(gun, file)),
        'the proxy served the nested file',
      );
      return { run, peakKiB: await peakMemory(ref('constructor'), file, body) };
    };

    it('timestamp.json (200 KB, within its 1 MiB cap) is METADATA_INVALID naming timestamp.json', async (t) => {
      const { run, peakKiB } = await verifyServing('timestamp.json', deep);
      assertRefused(run, 'METADATA_INVALID', /timestamp\.json nests arrays or objects more than 64 deep/);
      t.diagnostic(`peak RSS of the action refusing it: ${peakKiB} KiB`);
    });

    it('root.json nested 100,000 deep is METADATA_INVALID naming root.json', async (t) => {
      const { run, peakKiB } = await verifyServing('root.json', deep);
      assertRefused(run, 'METADATA_INVALID', /root\.json nests arrays or objects more than 64 deep/);
      t.diagnostic(`peak RSS of the action refusing it: ${peakKiB} KiB`);
    });

    it('an error body nested 100,000 deep still gives the HTTP status, named', async () => {
      const errorBody = Buffer.from(`{"errors":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
      proxy.setRule(({ path }) => (path === tufPath(gun, 'root.json') ? { body: errorBody, status: 500 } : undefined));
      const trustDir = await mkdtemp(join(ctx.stack.dir, 'trust-'));
      const run = await runAction(ctx.stack, { mode: 'verify', images: [ref('constructor')], trustServer: proxy.url }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir });
      proxy.setRule(undefined);
      assertRefused(run, 'HTTP_ERROR', new RegExp(`${gun}: the Notary server answered HTTP 500 for root\\.json`));
    });

    /**
     * The peak resident memory (KiB) of one more `node dist/index.js` run
     * against the same answer, as /usr/bin/time -v reports it: reported, not
     * asserted (the machine is shared).
     */
    async function peakMemory(image: string, file: string, body: Buffer): Promise<number> {
      proxy.setRule(({ path }) => (path === tufPath(gun, file) ? { body } : undefined));
      const home = await mkdtemp(join(ctx.stack.dir, 'time-'));
      const env = {
        HOME: home,
        RUNNER_TEMP: home,
        GITHUB_OUTPUT: join(home, 'out'),
        GITHUB_STEP_SUMMARY: join(home, 'summary'),
        INPUT_MODE: 'verify',
        INPUT_IMAGES: image,
        'INPUT_TRUST-SERVER': proxy.url,
        'INPUT_CA-CERT': ctx.stack.ca.caCertPath,
        INPUT_CACHE: 'false',
        'INPUT_TRUST-DIR': join(home, 'trust'),
      };
      const node = new URL('../../node_modules/.bin/node', import.meta.url).pathname;
      const dist = new URL('../../dist/index.js', import.meta.url).pathname;
      const stderr = await new Promise<string>((resolve) => {
        execFile('/usr/bin/time', ['-v', node, dist], { env, cwd: home, timeout: 90_000, encoding: 'utf8' }, (_e, _out, err) => resolve(err));
      });
      proxy.setRule(undefined);
      const kib = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1];
      assert.ok(kib, `/usr/bin/time -v reported a peak:\n${stderr.slice(-2000)}`);
      assert.ok(!(await readFile(env.GITHUB_OUTPUT, 'utf8').catch(() => '')).includes('digests'), 'the measured run set no digests');
      return Number(kib);
    }
  });
});
