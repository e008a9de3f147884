/**
 * What the registry answers for a manifest, and how long it may take.
 *
 * Sign signs the digest and length of the bytes its GET received, never a
 * header: a rewriting proxy (test/stack/proxy.ts) in front of the real
 * docker-registry serves a portal page, lying headers, a body of the wrong
 * shape; each is refused by name and the Notary server's trust data is
 * unchanged. Every exchange has a deadline: the fault proxy drips the real
 * registry's answer a byte at a time, and the client hangs up at the deadline
 * though bytes keep arriving.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { startProxy, type ProxyRule, type RewritingProxy } from '../stack/proxy.ts';
import { startFaultProxy, type FaultProxy } from '../stack/fault-proxy.ts';
import { assertRefused, describeRun, hex, resultOf, runAction, trustState, useStack, type ActionRun } from './helpers.ts';
import { HttpClient } from '../../src/http/client.ts';
import { AuthClient } from '../../src/http/auth.ts';
import { fetchManifest } from '../../src/registry/manifest.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { NetworkError } from '../../src/errors.ts';
import type { Config } from '../../src/config.ts';

const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const ctx = useStack();

describe('sign signs only the bytes it hashed', () => {
  let proxy: RewritingProxy;
  /** Another image: the digest and length a lying header claims. */
  let other: PushedImage;

  before(async () => {
    proxy = await startProxy(ctx.stack.registry.url, ctx.stack.ca);
    other = await pushImage(ctx.stack, 'answers/other:v1', { seed: 'answers-other' });
  });
  after(async () => {
    await proxy?.stop();
  });

  /**
   * `answers/<name>:v1` pushed to the real registry, addressed through the
   * proxy, in a repository with ci as signer and one tag already signed (so
   * "unchanged" means something).
   */
  async function repoBehindProxy(name: string): Promise<{ gun: string; image: string; pushed: PushedImage; manifestPath: string }> {
    const pushed = await pushImage(ctx.stack, `answers/${name}:v1`, { seed: `answers-${name}` });
    const gun = `${new URL(proxy.url).host}/answers/${name}`;
    await ctx.stack.docker.signerAdd('ci', ctx.ci.publicKeyPath, gun);
    await ctx.stack.notaryCli.addhash(gun, 'signed', other.size, other.digest, { role: 'targets/releases', publish: true });
    return { gun, image: `${gun}:v1`, pushed, manifestPath: `/v2/answers/${name}/manifests/v1` };
  }

  /** Signs `image` with `rule` on its manifest requests; returns the run and the manifest requests the proxy saw. */
  async function signThrough(image: string, manifestPath: string, rule: ProxyRule, mode: 'sign' | 'verify' = 'sign'): Promise<{ run: ActionRun; methods: string[] }> {
    const from = proxy.log.length;
    proxy.setRule((req) => (req.path === manifestPath ? rule(req) : undefined));
    try {
      const run = await runAction(ctx.stack, mode === 'sign' ? { mode, images: [image], key: ctx.ci.privateKeyPem } : { mode, images: [image] });
      await proxy.settled();
      const seen = proxy.log.slice(from).filter((e) => e.path === manifestPath);
      return { run, methods: seen.map((e) => `${e.method}${e.rewritten ? ' (rewritten)' : ''}`) };
    } finally {
      proxy.setRule(undefined);
    }
  }

  /** Refused: nothing reached the Notary server, v1 is not signed. */
  async function refusedAndUnchanged(gun: string, run: ActionRun, code: string, message: RegExp, before: Awaited<ReturnType<typeof trustState>>): Promise<void> {
    assertRefused(run, code, message);
    assert.deepEqual(await trustState(ctx.stack, gun), before, 'no POST reached the server and no version changed');
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun)).map((r) => r.name),
      ['signed'],
      'v1 is not signed',
    );
  }

  it("a HEAD announcing another manifest's digest and length is never asked: sign GETs and signs what the bytes hash to; verify compares that HEAD with the signed digest", async () => {
    const { gun, image, pushed, manifestPath } = await repoBehindProxy('head-lies');
    const lie: ProxyRule = ({ method }) => (method === 'HEAD' ? { rewrite: (body, status) => ({ body, status, headers: { 'docker-content-digest': other.digest, 'content-length': String(other.size) } }) } : undefined);

    const signed = await signThrough(image, manifestPath, lie);
    assert.equal(signed.run.code, 0, describeRun(signed.run));
    assert.deepEqual(signed.methods, ['GET'], 'sign asks with one GET and no HEAD');
    assert.deepEqual(
      resultOf(signed.run).map((r) => [r.digest, r.size]),
      [[pushed.digest, pushed.size]],
    );
    const row = (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).find((r) => r.name === 'v1');
    assert.deepEqual([row?.digest, row?.size], [hex(pushed.digest), pushed.size], 'the notary CLI lists the digest and length of the bytes the registry serves');

    // Verify keeps its HEAD: the header is compared with the signed digest, never trusted instead of it.
    const verified = await signThrough(image, manifestPath, lie, 'verify');
    assert.deepEqual(verified.methods, ['HEAD (rewritten)']);
    assertRefused(verified.run, 'DIGEST_MISMATCH', new RegExp(`the registry now serves ${other.digest}, but the signed digest is ${pushed.digest}`));
  });

  it('an HTML portal page served with 200 and a manifest Content-Type: MANIFEST_INVALID, nothing published', async () => {
    const { gun, image, manifestPath } = await repoBehindProxy('portal');
    const before = await trustState(ctx.stack, gun);
    const page = Buffer.from('<!DOCTYPE html>\n<html><head><title>Corporate login</title></head><body><form method="post" action="/sso"></form></body></html>\n');
    const { run, methods } = await signThrough(image, manifestPath, () => ({ body: page, headers: { 'content-type': DOCKER } }));
    assert.deepEqual(methods, ['GET (rewritten)']);
    await refusedAndUnchanged(gun, run, 'MANIFEST_INVALID', new RegExp(`image ${gun}:v1: a web page \\(${DOCKER.replace(/[.+]/g, '\\$&')}\\) answered instead of the Registry API; check the registry host and the login`), before);
    assert.ok(!run.text.includes('Corporate login'), 'the page is not echoed');
  });

  it("a GET whose Docker-Content-Digest is another manifest's: DIGEST_MISMATCH, nothing published", async () => {
    const { gun, image, pushed, manifestPath } = await repoBehindProxy('get-digest');
    const before = await trustState(ctx.stack, gun);
    const { run } = await signThrough(image, manifestPath, () => ({ rewrite: (body, status) => ({ body, status, headers: { 'docker-content-digest': other.digest } }) }));
    await refusedAndUnchanged(gun, run, 'DIGEST_MISMATCH', new RegExp(`image ${gun}:v1: the registry announced ${other.digest} but served bytes hashing to ${pushed.digest}`), before);
  });

  it('a GET whose Content-Length is shorter than its body: the client reads what was announced, the bytes do not hash to the announced digest: DIGEST_MISMATCH, nothing published', async () => {
    const { gun, image, pushed, manifestPath } = await repoBehindProxy('get-short');
    const before = await trustState(ctx.stack, gun);
    const { run } = await signThrough(image, manifestPath, () => ({ rewrite: (body, status) => ({ body, status, headers: { 'content-length': String(body.length - 16) } }) }));
    await refusedAndUnchanged(gun, run, 'DIGEST_MISMATCH', new RegExp(`the registry announced ${pushed.digest} but served bytes hashing to sha256:`), before);
  });

  it('a GET whose Content-Length is longer than its body (the connection cut): retried, then SERVER_UNREACHABLE, nothing published', async () => {
    const { gun, image, manifestPath } = await repoBehindProxy('get-long');
    const before = await trustState(ctx.stack, gun);
    const { run, methods } = await signThrough(image, manifestPath, () => ({ rewrite: (body, status) => ({ body, status, headers: { 'content-length': String(body.length + 16) } }) }));
    assert.deepEqual(methods, Array(4).fill('GET (rewritten)'), 'the first try and three retries');
    await refusedAndUnchanged(gun, run, 'SERVER_UNREACHABLE', /cannot reach 127\.0\.0\.1:\d+ \(the connection closed mid-answer\)/, before);
  });

  it("a Content-Type that disagrees with the body's mediaType: MANIFEST_MISMATCH, nothing published", async () => {
    const { gun, image, pushed, manifestPath } = await repoBehindProxy('content-type');
    const before = await trustState(ctx.stack, gun);
    const { run } = await signThrough(image, manifestPath, () => ({ rewrite: (body, status) => ({ body, status, headers: { 'content-type': OCI_INDEX } }) }));
    await refusedAndUnchanged(gun, run, 'MANIFEST_MISMATCH', new RegExp(`the Content-Type header says "${OCI_INDEX.replace(/[.+]/g, '\\$&')}" but the manifest's "mediaType" is "${pushed.mediaType.replace(/[.+]/g, '\\$&')}"`), before);
  });

  it('JSON of the wrong shape (a manifest without layers), its digest header consistent: MANIFEST_INVALID, nothing published', async () => {
    const { gun, image, manifestPath } = await repoBehindProxy('shape');
    const before = await trustState(ctx.stack, gun);
    const { run } = await signThrough(image, manifestPath, () => ({
      rewrite: (body, status) => {
        const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
        delete doc.layers;
        const out = Buffer.from(JSON.stringify(doc));
        return { body: out, status, headers: { 'docker-content-digest': sha256(out) } };
      },
    }));
    await refusedAndUnchanged(gun, run, 'MANIFEST_INVALID', new RegExp(`image ${gun}:v1: the manifest has no "layers" array`), before);
  });

  it('a schema 1 manifest (prettyjws): MANIFEST_UNSUPPORTED says to push the image again, nothing published', async () => {
    const { gun, image, manifestPath } = await repoBehindProxy('schema1');
    const before = await trustState(ctx.stack, gun);
    const v1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'answers/schema1', tag: 'v1', architecture: 'amd64', fsLayers: [], history: [], signatures: [] }, null, 3));
    const { run } = await signThrough(image, manifestPath, () => ({ body: v1, headers: { 'content-type': 'application/vnd.docker.distribution.manifest.v1+prettyjws', 'docker-content-digest': sha256(v1) } }));
    await refusedAndUnchanged(gun, run, 'MANIFEST_UNSUPPORTED', /schema 1 manifest .* push the image again with a current docker or buildx/, before);
  });
});

describe('every exchange has a deadline', () => {
  let faults: FaultProxy;
  let pushed: PushedImage;

  before(async () => {
    faults = await startFaultProxy(ctx.stack.registry.url, ctx.stack.ca);
    pushed = await pushImage(ctx.stack, 'answers/drip:v1', { seed: 'answers-drip' });
  });
  after(async () => {
    await faults?.stop();
  });

  /** fetchManifest for answers/drip:v1 through the fault proxy, each manifest GET dripped a byte every `dripMs`. */
  async function fetchDripped(dripMs: number, config: Partial<Config>) {
    const http = new HttpClient({ ca: ctx.stack.ca.caPem, config });
    const from = faults.log.length;
    faults.setRule((r) => (r.path.includes('/manifests/') ? { dripMs } : undefined));
    try {
      const [ref] = parseReferences([`${faults.host}/answers/drip:v1`]);
      const outcome = await fetchManifest(new AuthClient(http), ref!, undefined).then(
        (m) => m,
        (e: unknown) => e,
      );
      const drips = () => faults.log.slice(from).filter((r) => r.action === 'drip');
      // The proxy learns of a hang-up when its socket closes: wait for that event, not for a time.
      for (let i = 0; i < 200 && drips().some((r) => !r.clientHungUp && r.bytesSent !== pushed.size); i++) await new Promise((r) => setTimeout(r, 25));
      return { outcome, drips: drips() };
    } finally {
      faults.setRule(undefined);
      http.close();
    }
  }

  it('a registry that drips its answer a byte every 200 ms, never silent for the 5 s idle timeout, is cut off at the 1 s deadline: TIMEOUT naming the host, within the retry bound', async () => {
    const { outcome, drips } = await fetchDripped(200, { deadlineMs: 1000, timeoutMs: 5000, retries: 1, backoffMs: 10 });
    assert.ok(outcome instanceof NetworkError, String(outcome));
    assert.equal(outcome.code, 'TIMEOUT');
    assert.equal(outcome.message, `${faults.host} did not finish answering within the 1000 ms deadline for one exchange; check the server and the network in between`);
    assert.equal(drips.length, 2, 'the first try and one retry, no more');
    for (const d of drips) {
      assert.ok(d.clientHungUp, 'the client hung up');
      assert.ok(d.bytesSent! >= 2 && d.bytesSent! < pushed.size, `bytes kept arriving until then (${d.bytesSent} of ${pushed.size})`);
    }
  });

  it('an answer dripped a byte every millisecond finishes within the default deadline: the same bytes, hashed', async () => {
    const { outcome, drips } = await fetchDripped(1, {});
    assert.ok(!(outcome instanceof Error), String(outcome));
    assert.equal((outcome as { digest: string }).digest, pushed.digest);
    assert.equal(drips.length, 1);
    assert.equal(drips[0]!.bytesSent, pushed.size);
    assert.equal(drips[0]!.clientHungUp, false);
  });
});
