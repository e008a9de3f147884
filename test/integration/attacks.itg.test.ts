/**
 * Every rule of the notary client's update workflow, shown refusing an
 * attack: the action (node dist/index.js, mode verify) talks to the real
 * notary-server through a rewriting proxy on loopback.
 *
 * Two kinds of attack data:
 * - real: bytes the real server served (now or earlier), replayed, swapped,
 *   truncated, padded or with a signature byte flipped;
 * - re-keyed: the real repository's content signed again with keys the test
 *   holds (test/stack/forger.ts), then changed in exactly one way. The
 *   unchanged re-keyed repository verifies (first test of "re-keyed"), so a
 *   refusal is caused by the one change. This stands in for data signed with
 *   the server-held timestamp/snapshot keys, which no test can forge.
 */
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { serve, startProxy, tufPath, type ProxyRule, type RewritingProxy } from '../stack/proxy.ts';
import { forge, inDays, isHighS, makeForgerKeys, readRealRepo, signWith, type Edit, type ForgerKeys, type RealRepo } from '../stack/forger.ts';
import { assertRefused, describeRun, goQuirksRepo, initRepo, runAction, twoVersionRepo, useStack, type ActionRun } from './helpers.ts';

describe('attacks through a rewriting proxy', () => {
  const ctx = useStack();
  let proxy: RewritingProxy;
  let gun: string;
  let other: string;
  let v1: PushedImage;
  let old: RealRepo;
  let real: RealRepo;
  let keys: ForgerKeys;

  /** Runs verify through the proxy with `rule`; a fresh trust dir unless one is given. */
  const verify = async (rule: ProxyRule | undefined, extra: Record<string, string> = {}, image = v1.ref): Promise<ActionRun> => {
    proxy.setRule(rule);
    const trustDir = extra['INPUT_TRUST-DIR'] ?? (await mkdtemp(join(ctx.stack.dir, 'trust-')));
    const from = proxy.log.length;
    const run = await runAction(ctx.stack, { mode: 'verify', images: [image], trustServer: proxy.url }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir, ...extra });
    await proxy.settled();
    proxy.setRule(undefined);
    // The attack reached the client: something for this GUN was answered or rewritten by the rule.
    if (rule)
      assert.ok(
        proxy.log.slice(from).some((e) => e.rewritten && e.path.startsWith(tufPath(gun, ''))),
        `the proxy rewrote nothing\n${describeRun(run)}`,
      );
    return run;
  };
  const forged = (edit: Edit = {}) => serve(gun, forge(real, keys, edit));

  before(async () => {
    proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
    other = await initRepo(ctx.stack, 'attack/other', ctx.ci);
    const o1 = await pushImage(ctx.stack, 'attack/other:v1', { seed: 'attack-other' });
    await ctx.stack.notaryCli.addhash(other, 'v1', o1.size, o1.digest, { role: 'targets/releases', publish: true });
    ({ gun, v1, old, real } = await twoVersionRepo(ctx.stack, 'attack/app', ctx.ci));
    keys = await makeForgerKeys(join(ctx.stack.dir, 'forger'), gun);
  });
  after(async () => {
    await proxy?.stop();
  });

  describe('baseline', () => {
    it('the real repository verifies through the proxy untouched (ed25519 server keys from the local signer)', async () => {
      const root = real.signed.get('root')!;
      assert.equal(root.keys[root.roles.timestamp.keyids[0]].keytype, 'ed25519');
      const run = await verify(undefined);
      assert.equal(run.code, 0, describeRun(run));
      assert.ok(proxy.log.some((e) => e.path === tufPath(gun, 'timestamp.json') && e.status === 200));
    });

    it('the re-keyed repository verifies on first use (so each refusal below comes from its one change)', async () => {
      const run = await verify(forged());
      assert.equal(run.code, 0, describeRun(run));
    });

    it('Go quirk: high-S ecdsa signatures on every file verify', async () => {
      const files = forge(real, keys, { highS: true });
      const sigs = [...files.values()].flatMap((b) => JSON.parse(b.toString('utf8')).signatures as { sig: string }[]);
      assert.ok(sigs.length > 0 && sigs.every((s) => isHighS(s.sig)));
      const run = await verify(serve(gun, files));
      assert.equal(run.code, 0, describeRun(run));
    });
  });

  describe('what Go writes', () => {
    it('HTML-escaped JSON and an expires in +05:30, written by the notary CLI, verify', async () => {
      const { img } = await goQuirksRepo(ctx.stack, ctx.ci, 'attack/quirks');
      // The notary CLI writes both (test/upstream/notary.upstream.test.ts).
      const run = await verify(undefined, {}, img.ref);
      assert.equal(run.code, 0, describeRun(run));
      assert.doesNotMatch(run.stdout, /::warning::.*targets\/releases/);
    });
  });

  describe('arbitrary content', () => {
    it('a real timestamp with a flipped signature byte: THRESHOLD_NOT_MET', async () => {
      const run = await verify(({ path }) => (path === tufPath(gun, 'timestamp.json') ? { rewrite: (b) => flipSignature(b) } : undefined));
      assertRefused(run, 'THRESHOLD_NOT_MET', /timestamp\.json has 0 valid signature\(s\), needs 1: 1 signature\(s\) by listed keys do not verify/);
    });

    it('a real root with a flipped signature byte: THRESHOLD_NOT_MET', async () => {
      const run = await verify(({ path }) => (path === tufPath(gun, 'root.json') ? { rewrite: (b) => flipSignature(b) } : undefined));
      assertRefused(run, 'THRESHOLD_NOT_MET', /root\.json has 0 valid signature\(s\), needs 1/);
    });

    it('the real timestamp re-signed by a key the root does not list: THRESHOLD_NOT_MET', async () => {
      const stranger = keys.extra();
      const run = await verify(({ path }) =>
        path === tufPath(gun, 'timestamp.json')
          ? {
              rewrite: (b) => {
                const doc = JSON.parse(b.toString('utf8'));
                return Buffer.from(JSON.stringify({ signed: doc.signed, signatures: [signWith(stranger, canonicalOf(doc.signed))] }));
              },
            }
          : undefined,
      );
      assertRefused(run, 'THRESHOLD_NOT_MET', /timestamp\.json has 0 valid signature\(s\), needs 1: no signature is by a key the role lists/);
    });

    it('targets signed by an unlisted key (re-keyed): THRESHOLD_NOT_MET', async () => {
      const stranger = keys.extra();
      const run = await verify(forged({ signatures: (role, c, own) => (role === 'targets' ? [signWith(stranger, c)] : own()) }));
      assertRefused(run, 'THRESHOLD_NOT_MET', /targets\.json has 0 valid signature\(s\), needs 1: no signature is by a key the role lists/);
    });

    it('a snapshot whose signature does not verify (re-keyed): THRESHOLD_NOT_MET', async () => {
      const run = await verify(forged({ signatures: (role, _c, own) => (role === 'snapshot' ? own().map((s) => ({ ...s, sig: flipB64(s.sig) })) : own()) }));
      assertRefused(run, 'THRESHOLD_NOT_MET', /snapshot\.json has 0 valid signature\(s\), needs 1: 1 signature\(s\) by listed keys do not verify/);
    });

    it('too few signatures for the threshold (root asks 2 for targets, re-keyed): THRESHOLD_NOT_MET', async () => {
      const run = await verify(forged({ signed: (d) => (d.get('root')!.roles.targets.threshold = 2) }));
      assertRefused(run, 'THRESHOLD_NOT_MET', /targets\.json has 1 valid signature\(s\), needs 2/);
    });

    it('a key whose ID does not match its content (re-keyed root): KEY_ID_MISMATCH', async () => {
      const wrong = 'f'.repeat(64);
      const run = await verify(
        forged({
          signed: (d, k) => {
            const root = d.get('root')!;
            root.keys[wrong] = root.keys[k.timestamp.id];
            delete root.keys[k.timestamp.id];
            root.roles.timestamp.keyids = [wrong];
          },
        }),
      );
      assertRefused(run, 'KEY_ID_MISMATCH', new RegExp(`key listed as ${wrong} hashes to ${keys.timestamp.id}`));
    });

    it('a delegation key whose ID does not match its content (re-keyed targets): KEY_ID_MISMATCH', async () => {
      const wrong = 'e'.repeat(64);
      const run = await verify(
        forged({
          signed: (d, k) => {
            const dl = d.get('targets')!.delegations;
            dl.keys = { [wrong]: dl.keys[k.delegation.id] };
            for (const r of dl.roles) r.keyids = [wrong];
          },
        }),
      );
      assertRefused(run, 'KEY_ID_MISMATCH', /targets\.json delegations: key listed as e{64} hashes to/);
    });
  });

  describe('freeze', () => {
    for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
      it(`an expired ${role} (re-keyed): EXPIRED`, async () => {
        const run = await verify(forged({ signed: (d) => (d.get(role)!.expires = inDays(-1)) }));
        assertRefused(run, 'EXPIRED', new RegExp(`${role}\\.json expired at`));
      });
    }

    it('an expired delegation is ignored with a warning, so the tag is not trusted (re-keyed): EXPIRED, naming the role and its fix', async () => {
      const run = await verify(forged({ signed: (d) => (d.get('targets/releases')!.expires = inDays(-1)) }));
      assertRefused(run, 'EXPIRED', /v1 is signed in targets\/releases, whose file has expired, so its signatures are not trusted: .*targets\/releases\.json expired at .*re-sign it with a signer's key/);
      assert.match(run.stdout, /::warning::.*targets\/releases\.json expired at .*; targets\/releases is ignored/);
    });
  });

  describe('mix-and-match', () => {
    it("another repository's real snapshot served for this one: HASH_MISMATCH, or LENGTH_EXCEEDED when it is longer", async () => {
      const [theirs, ours] = await Promise.all([other, gun].map((g) => readRealRepo(ctx.stack.notary.url, ctx.stack.ca, g).then((r) => r.raw.get('snapshot')!)));
      const run = await verify(({ path }) => (path.startsWith(tufPath(gun, 'snapshot.')) ? { body: theirs! } : undefined));
      // Which check fires depends on the sizes (signatures vary by a byte): a longer body is cut off at the announced length.
      if (theirs!.length > ours!.length) assertRefused(run, 'LENGTH_EXCEEDED', /snapshot\.[0-9a-f]{64}\.json announces \d+ bytes/);
      else assertRefused(run, 'HASH_MISMATCH', /snapshot\.json (is \d+ bytes, its parent announced \d+|does not match the sha256 hash)/);
    });

    it('an older real targets.json served for the current checksum: HASH_MISMATCH', async () => {
      const run = await verify(({ path }) => (path.startsWith(tufPath(gun, 'targets/releases.')) ? { body: old.raw.get('targets/releases')! } : undefined));
      assertRefused(run, 'HASH_MISMATCH', /targets\/releases\.json (is \d+ bytes, its parent announced \d+|does not match the sha256 hash)/);
    });

    it('a snapshot announcing a different hash for targets (re-keyed): HASH_MISMATCH', async () => {
      const run = await verify(forged({ snapshotMeta: (m) => (m.targets!.hashes.sha512 = Buffer.alloc(64).toString('base64')) }));
      assertRefused(run, 'HASH_MISMATCH', /targets\.json does not match the sha512 hash its parent announced/);
    });
  });

  describe('endless data', () => {
    it('an endless timestamp: LENGTH_EXCEEDED, and the client hangs up after about 1 MiB', async (t) => {
      const run = await verify(({ path }) => (path === tufPath(gun, 'timestamp.json') ? { endless: true } : undefined));
      assertRefused(run, 'LENGTH_EXCEEDED', /timestamp\.json sent more than the 1048576 bytes allowed/);
      const e = proxy.log.findLast((x) => x.path === tufPath(gun, 'timestamp.json'))!;
      assert.equal(e.clientHungUp, true);
      // What the kernel buffers on loopback comes on top of what the client read.
      assert.ok(e.bytesSent < 16 * 1024 * 1024, `sent ${e.bytesSent} bytes before the client hung up`);
      t.diagnostic(`endless timestamp: the proxy wrote ${e.bytesSent} bytes before the client hung up`);
    });

    it('an endless snapshot: refused past the length the timestamp announced', async (t) => {
      const announced = JSON.parse(real.raw.get('timestamp')!.toString('utf8')).signed.meta.snapshot.length as number;
      const run = await verify(({ path }) => (path.startsWith(tufPath(gun, 'snapshot.')) ? { endless: true } : undefined));
      assertRefused(run, 'LENGTH_EXCEEDED', new RegExp(`snapshot\\.[0-9a-f]{64}\\.json sent more than the ${announced} bytes allowed`));
      const e = proxy.log.findLast((x) => x.path.startsWith(tufPath(gun, 'snapshot.')))!;
      assert.equal(e.clientHungUp, true);
      assert.ok(e.bytesSent < 16 * 1024 * 1024, `sent ${e.bytesSent} bytes`);
      t.diagnostic(`endless snapshot (announced ${announced} bytes): the proxy wrote ${e.bytesSent} bytes before the client hung up`);
    });

    it('a snapshot whose Content-Length is larger than announced: refused before reading the body', async () => {
      const run = await verify(({ path }) => (path.startsWith(tufPath(gun, 'snapshot.')) ? { body: real.raw.get('snapshot')!, contentLength: 10_000_000 } : undefined));
      assertRefused(run, 'LENGTH_EXCEEDED', /snapshot\.[0-9a-f]{64}\.json announces 10000000 bytes, more than the \d+ bytes allowed/);
    });

    it('a truncated snapshot: HASH_MISMATCH on its length', async () => {
      const body = real.raw.get('snapshot')!;
      const run = await verify(({ path }) => (path.startsWith(tufPath(gun, 'snapshot.')) ? { body: body.subarray(0, body.length >> 1) } : undefined));
      assertRefused(run, 'HASH_MISMATCH', new RegExp(`snapshot\\.json is ${body.length >> 1} bytes, its parent announced ${body.length}`));
    });
  });

  describe('delegations', () => {
    it('path restrictions are honoured: targets/releases limited to "other" cannot sign v1 (re-keyed): NOT_SIGNED', async () => {
      const run = await verify(forged({ signed: (d) => (d.get('targets')!.delegations.roles.find((r: { name: string }) => r.name === 'targets/releases').paths = ['other']) }));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
    });

    it('a delegation file the parent does not list is ignored (re-keyed): NOT_SIGNED', async () => {
      const run = await verify(
        forged({
          signed: (d) => {
            const dl = d.get('targets')!.delegations;
            dl.roles = dl.roles.filter((r: { name: string }) => r.name !== 'targets/releases');
          },
        }),
      );
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
    });

    it("the parent's threshold applies: targets asks 2 signatures of targets/releases, it has 1 (re-keyed): NOT_SIGNED with a warning", async () => {
      const run = await verify(forged({ signed: (d) => (d.get('targets')!.delegations.roles.find((r: { name: string }) => r.name === 'targets/releases').threshold = 2) }));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
      assert.match(run.stdout, /::warning::.*targets\/releases\.json has 1 valid signature\(s\), needs 2/);
    });

    it("the parent's keys apply: targets/releases signed by a key targets does not give it (re-keyed): ignored", async () => {
      const stranger = keys.extra();
      const run = await verify(forged({ signatures: (role, c, own) => (role === 'targets/releases' ? [signWith(stranger, c)] : own()) }));
      assertRefused(run, 'NOT_SIGNED', /v1 has no trust data/);
      assert.match(run.stdout, /::warning::.*targets\/releases\.json has 0 valid signature\(s\), needs 1: no signature is by a key the role lists/);
    });
  });
});

function canonicalOf(signed: unknown): Buffer {
  // Same encoder the verifier uses; the forged signature is by an unlisted key, so its bytes do not matter.
  return Buffer.from(JSON.stringify(signed));
}

function flipB64(sig: string): string {
  const b = Buffer.from(sig, 'base64');
  b[5]! ^= 0x01;
  return b.toString('base64');
}

/** Flips one bit of the first signature, leaving `signed` byte-identical. */
function flipSignature(body: Buffer): Buffer {
  const doc = JSON.parse(body.toString('utf8'));
  doc.signatures[0].sig = flipB64(doc.signatures[0].sig);
  return Buffer.from(JSON.stringify(doc));
}
