/**
 * Each failure of a sign run against the real stack: a clear message naming
 * what failed, a stable code, a non-zero exit, and nothing published in any
 * repository of the run.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeUntrustedCa, pushImage, type GeneratedKey, type PushedImage } from '../stack/index.ts';
import { freePort } from '../stack/ports.ts';
import { describeRun, initRepo, runAction, trustState, useStack, type ActionRun, type TrustState } from './helpers.ts';

/** Fails unless the run failed with `code`, annotated for `subject`, and returns the annotation's message. */
function failure(run: ActionRun, code: string, subject?: string): string {
  assert.notEqual(run.code, 0, describeRun(run));
  assert.match(run.stdout, new RegExp(`^::error::${code}: `, 'm'), `the failure line starts with ${code}\n${describeRun(run)}`);
  const annotation = run.errors.find((e) => e.title.startsWith(`${code}: `) && (subject === undefined || e.title === `${code}: ${subject}`));
  assert.ok(annotation, `an ::error annotation titled "${code}: ${subject ?? '…'}"\n${describeRun(run)}`);
  assert.equal(run.outputs.digests, undefined, 'no digests output on failure');
  assert.equal(run.outputs.result, undefined, 'no result output on failure');
  assert.match(run.summary, /Failed/, 'the job summary lists the failure');
  return annotation.message;
}

describe('sign errors publish nothing', () => {
  const ctx = useStack();
  let mallory: GeneratedKey;

  before(async () => {
    mallory = await ctx.stack.docker.keyGenerate('mallory', join(ctx.stack.dir, 'keys'));
  });

  /** A repository with `ci` as signer and one tag already signed, so "unchanged" means something. */
  async function signedRepo(repo: string): Promise<{ gun: string; img: PushedImage }> {
    const gun = await initRepo(ctx.stack, repo, ctx.ci);
    const signed = await pushImage(ctx.stack, `${repo}:signed`);
    await ctx.stack.notaryCli.addhash(gun, 'signed', signed.size, signed.digest, { role: 'targets/releases', publish: true });
    const img = await pushImage(ctx.stack, `${repo}:v1`);
    return { gun, img };
  }

  async function states(guns: string[]): Promise<TrustState[]> {
    return Promise.all(guns.map((g) => trustState(ctx.stack, g)));
  }

  async function assertUnchanged(guns: string[], before: TrustState[]): Promise<void> {
    assert.deepEqual(await states(guns), before, 'no POST reached the server and no version changed');
    for (const gun of guns) {
      const rows = await ctx.stack.notaryCli.list(gun).catch(() => []);
      assert.ok(!rows.some((r) => r.name === 'v1'), `${gun}:v1 is not signed`);
    }
  }

  it('wrong passphrase: PASSPHRASE_WRONG', async () => {
    const { gun, img } = await signedRepo('errors/passphrase');
    const before = await states([gun]);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, passphrase: 'not-the-passphrase' });
    const message = failure(run, 'PASSPHRASE_WRONG');
    assert.match(message, /passphrase does not decrypt the delegation-key input/);
    assert.match(message, /delegation-passphrase/);
    await assertUnchanged([gun], before);
  });

  it('a key that is no delegate of the repository: KEY_NOT_DELEGATE lists the delegations and their key IDs', async () => {
    const { gun, img } = await signedRepo('errors/not-delegate');
    const before = await states([gun]);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: mallory.privateKeyPem });
    const message = failure(run, 'KEY_NOT_DELEGATE', gun);
    assert.ok(message.includes(gun), message);
    assert.ok(message.includes(mallory.keyId), `names the key given: ${message}`);
    assert.match(message, /targets\/ci \(keys [0-9a-f]{12}/);
    assert.match(message, /targets\/releases \(keys [0-9a-f]{12}/);
    assert.ok(message.includes(ctx.ci.keyId.slice(0, 12)), `lists ci's key ID: ${message}`);
    assert.match(message, /mode add-signer \(the signer-name, signer-key and repository-key inputs\)/, "the action's way to add a signer");
    await assertUnchanged([gun], before);
  });

  it('a repository with no trust data: REPO_NOT_INITIALISED says how to initialise it (sign and verify)', async () => {
    const gun = ctx.stack.gun('errors/not-initialised');
    const img = await pushImage(ctx.stack, 'errors/not-initialised:v1');
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem });
    const message = failure(run, 'REPO_NOT_INITIALISED', gun);
    assert.ok(message.includes(gun), message);
    assert.match(message, /with mode init and the signer-name and signer-key inputs/, "the action's way to initialise");
    assert.deepEqual(await trustState(ctx.stack, gun), { snapshot: 0, releases: 0, signers: { ci: 0 }, posts: 0 });

    const verify = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] });
    assert.ok(failure(verify, 'REPO_NOT_INITIALISED').includes(gun));
  });

  it('a tag missing in the registry: TAG_NOT_FOUND', async () => {
    const { gun } = await signedRepo('errors/missing-tag');
    const before = await states([gun]);
    const ref = `${gun}:v1-missing`;
    const run = await runAction(ctx.stack, { mode: 'sign', images: [ref], key: ctx.ci.privateKeyPem });
    const message = failure(run, 'TAG_NOT_FOUND', ref);
    assert.ok(message.includes(ref), message);
    await assertUnchanged([gun], before);
  });

  it('a pin that is not what the tag serves: PIN_MISMATCH names both digests', async () => {
    const { gun, img } = await signedRepo('errors/pin');
    const other = await pushImage(ctx.stack, 'errors/pin:other');
    const before = await states([gun]);
    const ref = `${img.ref}@${other.digest}`;
    const run = await runAction(ctx.stack, { mode: 'sign', images: [ref], key: ctx.ci.privateKeyPem });
    const message = failure(run, 'PIN_MISMATCH', ref);
    assert.ok(message.includes(img.digest) && message.includes(other.digest) && message.includes(gun), message);
    await assertUnchanged([gun], before);
  });

  it('the notary server unreachable (closed port): SERVER_UNREACHABLE names the repository', async () => {
    const { gun, img } = await signedRepo('errors/unreachable');
    const before = await states([gun]);
    const port = await freePort();
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, trustServer: `https://127.0.0.1:${port}` });
    const message = failure(run, 'SERVER_UNREACHABLE', gun);
    assert.ok(message.includes(`127.0.0.1:${port}`), message);
    await assertUnchanged([gun], before);
  });

  it('TLS without the CA: TLS_FAILED names the image and asks for ca-cert', async () => {
    const { gun, img } = await signedRepo('errors/tls-no-ca');
    const before = await states([gun]);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, caCert: null });
    const message = failure(run, 'TLS_FAILED', img.ref);
    assert.match(message, /ca-cert/);
    await assertUnchanged([gun], before);
  });

  describe('a notary server whose certificate another CA signed', () => {
    let server: Server;
    let url: string;
    before(async () => {
      const other = await makeUntrustedCa(join(ctx.stack.dir, 'untrusted-ca'));
      server = createServer({ key: await readFile(other.serverKeyPath), cert: await readFile(other.serverCertPath) }, (_req, res) => res.end('{}'));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('TLS_FAILED names the repository', async () => {
      const { gun, img } = await signedRepo('errors/tls-untrusted');
      const before = await states([gun]);
      const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, trustServer: url });
      const message = failure(run, 'TLS_FAILED', gun);
      assert.ok(message.includes(new URL(url).host), message);
      await assertUnchanged([gun], before);
    });
  });

  it('a malformed reference: REFERENCE_INVALID, and the good image beside it is not signed', async () => {
    const { gun, img } = await signedRepo('errors/reference');
    const before = await states([gun]);
    const bad = `${ctx.stack.registry.host}/errors/Reference:v1`;
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref, bad], key: ctx.ci.privateKeyPem });
    const message = failure(run, 'REFERENCE_INVALID', bad);
    assert.ok(message.includes(bad), message);
    assert.match(message, /lowercase/);
    await assertUnchanged([gun], before);
  });

  it('a malformed key: KEY_INVALID, for text that is no PEM and for a PEM that does not decode', async () => {
    const { gun, img } = await signedRepo('errors/key');
    const before = await states([gun]);
    const notPem = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: 'this is not a key' });
    assert.match(failure(notPem, 'KEY_INVALID'), /the delegation-key input/);

    // Damaged key files with the right passphrase are KEY_INVALID, not taken for a wrong passphrase.
    const lines = ctx.ci.privateKeyPem.split('\n');
    const truncated = lines.filter((_, i) => i !== 4).join('\n'); // one base64 line lost
    const garbled = ctx.ci.privateKeyPem.replace(/\n\n[A-Za-z0-9+/]{20}/, '\n\nAAAAAAAAAAAAAAAAAAAA');
    for (const damaged of [truncated, garbled]) {
      assert.notEqual(damaged, ctx.ci.privateKeyPem);
      const broken = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: damaged });
      assert.match(failure(broken, 'KEY_INVALID'), /the delegation-key input is damaged/);
    }

    const pub = await readFile(ctx.ci.publicKeyPath, 'utf8');
    const publicOnly = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: pub });
    assert.match(failure(publicOnly, 'KEY_INVALID'), /public/);
    await assertUnchanged([gun], before);
  });

  it('a repository in which any image failed gets nothing published: [good A, missing A, good B] publishes neither A nor B', async () => {
    const a = await signedRepo('errors/all-or-nothing-a');
    const b = await signedRepo('errors/all-or-nothing-b');
    const before = await states([a.gun, b.gun]);
    const missing = `${a.gun}:not-pushed`;
    const run = await runAction(ctx.stack, { mode: 'sign', images: [a.img.ref, missing, b.img.ref], key: ctx.ci.privateKeyPem });
    failure(run, 'TAG_NOT_FOUND', missing);
    await assertUnchanged([a.gun, b.gun], before);
  });

  it('a repository-level failure in B keeps A unpublished too', async () => {
    const a = await signedRepo('errors/repo-fail-a');
    const bGun = await initRepo(ctx.stack, 'errors/repo-fail-b', mallory);
    const bImg = await pushImage(ctx.stack, 'errors/repo-fail-b:v1');
    const before = await states([a.gun, bGun]);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [a.img.ref, bImg.ref], key: ctx.ci.privateKeyPem });
    failure(run, 'KEY_NOT_DELEGATE', bGun);
    await assertUnchanged([a.gun, bGun], before);
  });

  it('several failures are each reported, with the first code on the failure line', async () => {
    const { gun, img } = await signedRepo('errors/several');
    const before = await states([gun]);
    const refs = [`${gun}:gone-1`, `${gun}:gone-2`, img.ref];
    const run = await runAction(ctx.stack, { mode: 'sign', images: refs, key: ctx.ci.privateKeyPem });
    failure(run, 'TAG_NOT_FOUND', refs[0]);
    failure(run, 'TAG_NOT_FOUND', refs[1]);
    assert.match(run.stdout, /^::error::TAG_NOT_FOUND: 2 images or repositories failed/m);
    await assertUnchanged([gun], before);
  });
});
