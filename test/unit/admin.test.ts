/**
 * The administrative planners (src/notary/admin/) run through administer()
 * (the edit pipeline: read, plan, publish, read back) against the in-memory
 * Notary server (helpers/notary-fake.ts), on repositories the product
 * initialised with signer "ci" holding the captured delegation key. Each
 * change is checked by reading the repository back as a client would, and
 * by what can still be signed and verified afterwards.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { administer, readRepo, type Planner } from '../../src/notary/admin/workflow.ts';
import { planAddSigner, planRemoveSigner, planRemoveSignerKeys } from '../../src/notary/admin/signers.ts';
import { planRevoke } from '../../src/notary/admin/revoke.ts';
import { planRefresh } from '../../src/notary/admin/refresh.ts';
import { planRotateRepository, planRotateRoot, planRotateServerKey, planRotateSigner } from '../../src/notary/admin/rotate.ts';
import { initRepository } from '../../src/notary/admin/init.ts';
import { parseSignerKeys, parseSignerPaths, signerKeyIds } from '../../src/notary/admin/common.ts';
import { rootCertKey } from '../../src/notary/admin/owner-keys.ts';
import { printedRootKeyIds } from '../../src/notary/model.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';
import { signImages } from '../../src/notary/sign.ts';
import { verifyImages } from '../../src/notary/verify.ts';
import { updateRepoFor } from '../../src/notary/repository.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { parsePrivateKey, toSigningKey } from '../../src/tuf/private-key.ts';
import { ContentTrustError } from '../../src/errors.ts';
import type { TrustedRepo } from '../../src/notary/model.ts';
import type { TrustStore } from '../../src/notary/trust-store.ts';
import { generateKey, publicKeyId } from '../../src/tuf/key-file.ts';
import { cloneSigned } from '../../src/tuf/metadata.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { NOTARY, fakeEnv, initialised } from './helpers/notary-fake.ts';
import { NOW, PUBLIC_PEM, delegationKey } from './helpers/fixtures.ts';

const GUN = 'registry.test/org/app';
const DAY = 86_400_000;
const code = (c: string, what?: RegExp) => (e: unknown) => {
  const err = e instanceof ContentTrustError && 'failures' in e ? (e as { failures: { error: ContentTrustError }[] }).failures[0]!.error : e;
  assert.ok(err instanceof ContentTrustError, String(e));
  assert.equal(err.code, c, err.message);
  if (what) assert.match(err.message, what);
  return true;
};
const ecKeyPair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return { priv: parsePrivateKey(privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, undefined), pub: publicKey.export({ type: 'spki', format: 'pem' }) as string };
};

async function setUp(tags: string[] = []) {
  const fake = await initialised(GUN);
  const init = fake.inits.get(GUN)!;
  const keys = { root: toSigningKey(init.generated.root!, 'root', undefined), targets: toSigningKey(init.generated.targets!, 'targets', GUN) };
  for (const t of tags) fake.pushImage(`${GUN}:${t}`);
  if (tags.length) await signImages(fakeEnv(fake, NOW), parseReferences(tags.map((t) => `${GUN}:${t}`)), delegationKey());
  const env = fakeEnv(fake, NOW);
  const run = (plan: Planner) => administer(env, parseReferences([`${GUN}:latest`, `${GUN}:v1`]), plan);
  const read = (): Promise<TrustedRepo> => updateRepoFor(fakeEnv(fake, NOW), new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, false));
  return { fake, keys, env, run, read };
}

const roleKeys = (repo: TrustedRepo, role: string) => repo.roles.get('targets')!.meta.signed.delegations.roles.find((r) => r.name === role)?.keyids ?? [];

describe('add and remove signers', () => {
  it('add-signer: targets/<name> and targets/releases list the new key, published once per repository; the new signer can sign', async () => {
    const { fake, keys, run, read } = await setUp();
    const qa = ecKeyPair();
    const qaKeys = parseSignerKeys(qa.pub, 'qa');
    const [out] = await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'qa', qaKeys, now));
    assert.deepEqual(out, { repository: GUN, changed: true, roles: ['targets'], summary: `${GUN}: added signer "qa" (keys ${qaKeys[0]!.id}) to targets/qa and targets/releases` });
    assert.equal(fake.published.length, 1, 'two references to one repository: one publish');
    const repo = await read();
    assert.deepEqual(roleKeys(repo, 'targets/qa'), [qaKeys[0]!.id]);
    assert.ok(roleKeys(repo, 'targets/releases').includes(qaKeys[0]!.id));
    fake.pushImage(`${GUN}:qa`);
    const [signed] = await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:qa`]), qa.priv);
    assert.deepEqual(signed!.signers, ['qa']);
    // Again: nothing to change, nothing published.
    const [again] = await run((r, _c, now) => planAddSigner(r, keys.targets, 'qa', qaKeys, now));
    assert.equal(again!.changed, false);
    assert.match(again!.summary, /already has .*nothing to change/);
  });

  it('remove-signer: targets/<name> goes, its key leaves releases; the last signer gone is said; an unknown one is SIGNER_NOT_FOUND', async () => {
    const { keys, run, read } = await setUp(['v1']);
    const [out] = await run((repo, _c, now) => planRemoveSigner(repo, keys.targets, 'ci', now));
    assert.match(out!.summary, /removed signer "ci" .*no signer is left in targets\/releases/);
    const repo = await read();
    assert.equal(roleKeys(repo, 'targets/ci').length, 0);
    assert.deepEqual(roleKeys(repo, 'targets/releases'), []);
    assert.ok(!repo.roles.has('targets/ci'));
    await assert.rejects(
      run((r, _c, now) => planRemoveSigner(r, keys.targets, 'ci', now)),
      code('SIGNER_NOT_FOUND', /there is no signer "ci" \(signers: none\)/),
    );
  });

  it('a key that is not the repository key is KEY_WRONG_ROLE, naming the expected key; nothing is published', async () => {
    const { fake, keys, run } = await setUp();
    await assert.rejects(
      run((repo, _c, now) => planAddSigner(repo, delegationKey(), 'qa', parseSignerKeys(ecKeyPair().pub, 'qa'), now)),
      code('KEY_WRONG_ROLE', new RegExp(`not this repository's targets key; it expects ${keys.targets.id}`)),
    );
    assert.deepEqual(fake.published, []);
  });
});

describe('signer tag paths (notary delegation paths: tag prefixes)', () => {
  it('parseSignerPaths: a prefix followed by * each; "*" is every tag; anything else is refused by name', () => {
    assert.deepEqual(parseSignerPaths(['v1.*', ' release-* ', 'v1.*'], 'dev', 'the signer-paths input'), ['v1.', 'release-']);
    assert.deepEqual(parseSignerPaths(['v*', '*'], 'dev', '--paths'), ['']);
    const bad: [string[], RegExp][] = [
      [['v1'], /signer "dev": --paths pattern "v1" does not end in \*: notary and docker match a signer's paths as tag prefixes/],
      [['v?.*'], /pattern "v\?\.\*" holds the glob character "\?" before its end: .*only a trailing \* is supported/],
      [['v*.1*'], /holds the glob character "\*"/],
      [['[vV]1*'], /holds the glob character "\["/],
      [['-rc*'], /is not the start of a tag/],
      [['a/b*'], /is not the start of a tag/],
      [[`${'a'.repeat(128)}*`], /is not the start of a tag/],
      [[], /--paths is empty/],
    ];
    for (const [patterns, message] of bad) assert.throws(() => parseSignerPaths(patterns, 'dev', '--paths'), code('INPUT_INVALID', message), JSON.stringify(patterns));
  });

  it('a restricted signer gets targets/<name> with its paths and is kept out of targets/releases; it signs inside them, sign refuses outside them before publishing', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const dev = ecKeyPair();
    const devKeys = parseSignerKeys(dev.pub, 'dev');
    const [out] = await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', devKeys, now, ['dev-']));
    assert.match(out!.summary, /added signer "dev" .* to targets\/dev, for tags matching "dev-\*" \(not to targets\/releases/);
    const repo = await read();
    const delegation = repo.roles.get('targets')!.meta.signed.delegations.roles.find((r) => r.name === 'targets/dev')!;
    assert.deepEqual([delegation.paths, delegation.keyids, delegation.threshold], [['dev-'], [devKeys[0]!.id], 1]);
    assert.ok(!roleKeys(repo, 'targets/releases').includes(devKeys[0]!.id));

    fake.pushImage(`${GUN}:dev-1`);
    const [signed] = await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:dev-1`]), dev.priv);
    assert.deepEqual([signed!.roles, signed!.signers], [['targets/dev'], ['dev']]);
    const [verified] = await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:dev-1`]), { signers: ['dev'], checkRegistry: false });
    assert.equal(verified!.digest, signed!.digest);
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:dev-1`]), { signers: [], checkRegistry: false }), code('NOT_SIGNED', /signed only in targets\/dev/));

    const published = fake.published.length;
    fake.pushImage(`${GUN}:v2`);
    await assert.rejects(
      signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), dev.priv),
      code('TAG_OUTSIDE_PATHS', new RegExp(`${GUN}: signer "dev" \\(targets/dev\\) may sign only tags matching "dev-\\*".*"v2" is outside them; nothing was published for ${GUN}`)),
    );
    assert.equal(fake.published.length, published, 'nothing published');
  });

  it('paths are not changed in place, and a restricted signer shares no key with a role allowed wider tags (SIGNER_PATHS_CONFLICT); nothing is published', async () => {
    const { fake, keys, run } = await setUp();
    const ciKeys = parseSignerKeys(PUBLIC_PEM, 'ci');
    await assert.rejects(
      run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', ciKeys, now, ['dev-'])),
      code('SIGNER_PATHS_CONFLICT', new RegExp(`key ${ciKeys[0]!.id} would be listed by targets/(ci|releases) \\(any tag\\) as well as by targets/dev, which may sign only tags matching "dev-\\*"`)),
    );
    await assert.rejects(
      run((repo, _c, now) => planAddSigner(repo, keys.targets, 'ci', ciKeys, now, ['v'])),
      code('SIGNER_PATHS_CONFLICT', /signer "ci" exists and may sign any tag, not tags matching "v\*": a signer's paths are not changed in place/),
    );
    assert.equal(fake.published.length, 0);

    const dev = parseSignerKeys(ecKeyPair().pub, 'dev');
    await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', dev, now, ['dev-']));
    await assert.rejects(
      run((repo, _c, now) => planAddSigner(repo, keys.targets, 'ops', dev, now)),
      code('SIGNER_PATHS_CONFLICT', /as well as by targets\/dev/),
    );
    // The same paths again, or none: the signer stays as it is.
    const [same] = await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', dev, now, ['dev-']));
    const [none] = await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', dev, now));
    assert.deepEqual([same!.changed, none!.changed], [false, false]);
  });
});

describe('rotating a restricted signer', () => {
  it('its new key goes into targets/<name> alone, never targets/releases, and its files are re-signed there; a new key releases holds is SIGNER_PATHS_CONFLICT', async () => {
    const { fake, keys, run, read } = await setUp();
    const dev = ecKeyPair();
    await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'dev', parseSignerKeys(dev.pub, 'dev'), now, ['dev-']));
    fake.pushImage(`${GUN}:dev-1`);
    await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:dev-1`]), dev.priv);
    const next = ecKeyPair();
    const nextKeys = parseSignerKeys(next.pub, 'dev');
    const [out] = await run((repo, _c, now) => planRotateSigner(repo, keys.targets, 'dev', nextKeys, next.priv, now));
    assert.deepEqual(out!.roles.sort(), ['targets', 'targets/dev']);
    const repo = await read();
    assert.deepEqual(roleKeys(repo, 'targets/dev'), [nextKeys[0]!.id]);
    assert.ok(!roleKeys(repo, 'targets/releases').includes(nextKeys[0]!.id));
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:dev-1`]), { signers: ['dev'], checkRegistry: false });
    await assert.rejects(
      run((r, _c, now) => planRotateSigner(r, keys.targets, 'dev', parseSignerKeys(PUBLIC_PEM, 'dev'), undefined, now)),
      code('SIGNER_PATHS_CONFLICT', /as well as by targets\/dev/),
    );
  });
});

describe('several keys per signer', () => {
  it('add-signer with another key adds it to the signer and releases (threshold 1); either key signs; removing one key keeps the signer', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const second = ecKeyPair();
    const secondKeys = parseSignerKeys(second.pub, 'ci');
    const first = parseSignerKeys(PUBLIC_PEM, 'ci')[0]!.id;
    const [added] = await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'ci', secondKeys, now));
    assert.match(added!.summary, new RegExp(`added key\\(s\\) ${secondKeys[0]!.id} to signer "ci" \\(now ${first}, ${secondKeys[0]!.id}\\) in targets/ci and targets/releases`));
    let repo = await read();
    for (const role of ['targets/ci', 'targets/releases']) assert.deepEqual(roleKeys(repo, role), [first, secondKeys[0]!.id], role);
    fake.pushImage(`${GUN}:v2`);
    const [signed] = await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), second.priv);
    assert.deepEqual(signed!.roles.sort(), ['targets/ci', 'targets/releases']);
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`, `${GUN}:v2`]), { signers: ['ci'], checkRegistry: false });

    // Remove the first key: the second signed both files last, so nothing stops verifying.
    const [removed] = await run((r, _c, now) => planRemoveSignerKeys(r, keys.targets, 'ci', signerKeyIds(parseSignerKeys(PUBLIC_PEM, 'ci')), now));
    assert.equal(removed!.summary, `${GUN}: removed key(s) ${first} from signer "ci" (keys left: ${secondKeys[0]!.id})`);
    repo = await read();
    for (const role of ['targets/ci', 'targets/releases']) assert.deepEqual(roleKeys(repo, role), [secondKeys[0]!.id], role);
    assert.ok(!(first in repo.roles.get('targets')!.meta.signed.delegations.keys), 'a key nobody lists goes');
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`, `${GUN}:v2`]), { signers: ['ci'], checkRegistry: false });
    fake.pushImage(`${GUN}:v3`);
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v3`]), delegationKey()), code('KEY_NOT_DELEGATE'));

    await assert.rejects(
      run((r, _c, now) => planRemoveSignerKeys(r, keys.targets, 'ci', [secondKeys[0]!.id], now)),
      code('SIGNER_LAST_KEY', /would leave signer "ci" 0 key\(s\).*remove it without naming keys/),
    );
    await assert.rejects(
      run((r, _c, now) => planRemoveSignerKeys(r, keys.targets, 'ci', [first], now)),
      code('SIGNER_KEY_NOT_FOUND', new RegExp(`signer "ci" has no key ${first}; its keys are ${secondKeys[0]!.id}`)),
    );
    await assert.rejects(
      run((r, _c, now) => planRemoveSignerKeys(r, keys.targets, 'qa', [first], now)),
      code('SIGNER_NOT_FOUND', /there is no signer "qa"/),
    );
  });

  it('removing the key that signed the files last says they stop verifying until a remaining key signs them', async () => {
    const { keys, run } = await setUp(['v1']);
    const second = parseSignerKeys(ecKeyPair().pub, 'ci');
    await run((repo, _c, now) => planAddSigner(repo, keys.targets, 'ci', second, now));
    const [out] = await run((r, _c, now) => planRemoveSignerKeys(r, keys.targets, 'ci', [delegationKey().id], now));
    assert.match(out!.summary, /; targets\/ci and targets\/releases were last signed by the removed key, so what they list stops verifying until a remaining key signs them again/);
  });
});

describe('revoke', () => {
  it('removes the tags from every role the key signs; they stop verifying, the others still verify', async () => {
    const { fake, run } = await setUp(['v1', 'v2']);
    const [out] = await run((repo, _c, now) => planRevoke(repo, [delegationKey()], ['v1'], now));
    assert.deepEqual(out!.roles.sort(), ['targets/ci', 'targets/releases']);
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), { signers: [], checkRegistry: false }), code('NOT_SIGNED'));
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), { signers: ['ci'], checkRegistry: false });
  });

  it("every tag when none is named; a tag not signed is NOT_SIGNED; a stranger's key is KEY_NOT_DELEGATE", async () => {
    const { run, read } = await setUp(['v1', 'v2']);
    await assert.rejects(
      run((repo, _c, now) => planRevoke(repo, [delegationKey()], ['v1', 'nope'], now)),
      code('NOT_SIGNED', /no signature for nope .*nothing was revoked/),
    );
    await assert.rejects(
      run((repo, _c, now) => planRevoke(repo, [ecKeyPair().priv], undefined, now)),
      code('KEY_NOT_DELEGATE'),
    );
    await run((repo, _c, now) => planRevoke(repo, [delegationKey()], undefined, now));
    const repo = await read();
    assert.deepEqual(Object.keys(repo.roles.get('targets/releases')!.meta.signed.targets), []);
    await assert.rejects(
      run((r, _c, now) => planRevoke(r, [delegationKey()], undefined, now)),
      code('NOT_SIGNED', /no signed tags/),
    );
  });
});

describe('refresh', () => {
  it('re-signs, with a new version and expiry, each role these keys sign that expires within the window; content unchanged', async () => {
    const { keys, run, read } = await setUp(['v1']);
    const before = await read();
    const later = new Date(NOW.getTime() + 10 * DAY);
    const [out] = await run((repo) => planRefresh(repo, { root: keys.root, signing: [keys.targets, delegationKey()] }, 4000, later));
    assert.deepEqual(out!.roles.sort(), ['root', 'targets', 'targets/ci', 'targets/releases']);
    const after = await read();
    for (const role of ['targets', 'targets/ci', 'targets/releases']) {
      const [b, a] = [before.roles.get(role)!.meta, after.roles.get(role)!.meta];
      assert.equal(a.signed.version, b.signed.version + 1, role);
      assert.ok(a.expires > b.expires, role);
      assert.deepEqual(a.signed.targets, b.signed.targets, role);
    }
    assert.equal(after.root.signed.version, before.root.signed.version + 1);
  });

  it('nothing within the window: nothing published, the summary says so; keys signing nothing are KEY_NOT_DELEGATE', async () => {
    const { fake, run } = await setUp(['v1']);
    const published = fake.published.length;
    const [out] = await run((repo, _c, now) => planRefresh(repo, { signing: [delegationKey()] }, 1, now));
    assert.equal(out!.changed, false);
    assert.match(out!.summary, /nothing these keys sign expires within 1 days \(targets\/ci, targets\/releases\)/);
    assert.equal(fake.published.length, published);
    await assert.rejects(
      run((repo, _c, now) => planRefresh(repo, { signing: [ecKeyPair().priv] }, 1, now)),
      code('KEY_NOT_DELEGATE'),
    );
  });
});

describe('rotate', () => {
  it("a signer's key: the new key replaces the old in targets/<name> and releases, its files re-signed; the old key can no longer sign", async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const next = ecKeyPair();
    const nextKeys = parseSignerKeys(next.pub, 'ci');
    const [out] = await run((repo, _c, now) => planRotateSigner(repo, keys.targets, 'ci', nextKeys, next.priv, now));
    assert.deepEqual(out!.roles.sort(), ['targets', 'targets/ci', 'targets/releases']);
    const repo = await read();
    assert.deepEqual(roleKeys(repo, 'targets/ci'), [nextKeys[0]!.id]);
    assert.deepEqual(roleKeys(repo, 'targets/releases'), [nextKeys[0]!.id]);
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), { signers: ['ci'], checkRegistry: false });
    fake.pushImage(`${GUN}:v2`);
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), delegationKey()), code('KEY_NOT_DELEGATE'));
    await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), next.priv);
  });

  it('refuses: no such signer, the same keys, a new private key that is not among the new public keys', async () => {
    const { keys, run } = await setUp();
    const next = ecKeyPair();
    await assert.rejects(
      run((repo, _c, now) => planRotateSigner(repo, keys.targets, 'qa', parseSignerKeys(next.pub, 'qa'), undefined, now)),
      code('SIGNER_NOT_FOUND', /no signer "qa" to rotate \(signers: ci\)/),
    );
    const current = parseSignerKeys(PUBLIC_PEM, 'ci');
    await assert.rejects(
      run((repo, _c, now) => planRotateSigner(repo, keys.targets, 'ci', current, undefined, now)),
      code('INPUT_INVALID', /already has exactly these keys/),
    );
    await assert.rejects(
      run((repo, _c, now) => planRotateSigner(repo, keys.targets, 'ci', parseSignerKeys(next.pub, 'ci'), ecKeyPair().priv, now)),
      code('KEY_WRONG_ROLE'),
    );
  });

  it('a server key: the server makes a new one, a root signed by the root key names it, and clients follow', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const before = await read();
    const [out] = await run((repo, client) => planRotateServerKey(client, repo, keys.root, 'timestamp'));
    assert.deepEqual(out!.roles, ['root']);
    assert.equal(fake.sent(/^POST .*timestamp\.key$/).length, 1);
    const after = await read();
    assert.equal(after.root.signed.version, before.root.signed.version + 1);
    assert.notDeepEqual(after.root.signed.roles.timestamp.keyids, before.root.signed.roles.timestamp.keyids);
    assert.equal(Object.keys(after.root.signed.keys).length, Object.keys(before.root.signed.keys).length, 'the old timestamp key is dropped');
    await assert.rejects(
      run((repo, client) => planRotateServerKey(client, repo, keys.targets, 'snapshot')),
      code('KEY_WRONG_ROLE'),
    );
  });
});

describe('rotate the root and repository keys', () => {
  /** A trust store remembering `repo` as a client that read it before (root and versions). */
  const remembering = (repo: TrustedRepo): TrustStore => ({
    load: async () => ({
      root: repo.root,
      versions: new Map(
        [...repo.roles]
          .map(([n, r]) => [n, r.meta.signed.version] as [string, number])
          .concat([
            ['snapshot', repo.snapshot.signed.version],
            ['timestamp', repo.timestamp.signed.version],
          ]),
      ),
      source: 'memory',
      files: new Map(),
    }),
    save: async () => {},
  });
  const readRemembering = (fake: Awaited<ReturnType<typeof setUp>>['fake'], repo: TrustedRepo) => updateRepoFor(fakeEnv(fake, NOW, { trustStore: remembering(repo) }), new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, false));
  const publishRoot = (fake: Awaited<ReturnType<typeof setUp>>['fake'], body: Buffer) => new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, true).publish(new Map([['root', body]]));

  it('root with root-keys pinned: the read-back pins the new key and says to update root-keys, unless the pins already name it by its canonical ID', async () => {
    for (const pinNew of [false, true]) {
      const { fake, keys, read } = await setUp(['v1']);
      const oldPin = (await read()).root.signed.roles.root.keyids[0]!;
      const next = generateKey();
      const env = fakeEnv(fake, NOW, { rootKeys: pinNew ? [oldPin, publicKeyId(next).toUpperCase()] : [oldPin] });
      const [out] = await administer(env, parseReferences([`${GUN}:v1`]), (repo, _c, now) => planRotateRoot(repo, keys.root, () => toSigningKey(next, 'root', undefined), now));
      assert.equal(out!.changed, true);
      const told = env.log.at('warning').filter((w) => w.includes('root-keys pins the root key this rotation replaced'));
      assert.deepEqual(
        told,
        pinNew ? [] : [`${GUN}: root-keys pins the root key this rotation replaced: set root-keys to ${out!.rootKeyId} for the runs that follow, or they refuse the repository (ROOT_NOT_PINNED)`],
        `pinned the new key too: ${pinNew}`,
      );
    }
  });

  it('root: a new certificate, signed by the old root key and the new one; a client remembering the old root follows, and the old key signs no further root', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const before = await read();
    const next = generateKey();
    let asked = 0;
    const [out] = await run((repo, _c, now) => planRotateRoot(repo, keys.root, () => (asked++, toSigningKey(next, 'root', undefined)), now));
    const after = await readRemembering(fake, before);
    assert.deepEqual(out!.roles, ['root']);
    assert.equal(after.root.signed.version, before.root.signed.version + 1);
    assert.deepEqual(after.root.signed.roles.root.keyids, [out!.rootKeyId], 'rootKeyId is the TUF ID root.json lists, as docker trust inspect prints it');
    assert.equal(after.rootKeys.get(out!.rootKeyId!)!.canonicalId, publicKeyId(next));
    assert.equal(after.root.signatures.length, 2, 'signed by the old root key and the new one');
    assert.ok(!Object.hasOwn(after.root.signed.keys, before.root.signed.roles.root.keyids[0]!), 'the old certificate is dropped');
    assert.equal(asked, 1);
    const [v1] = await verifyImages(fakeEnv(fake, NOW, { trustStore: remembering(before) }), parseReferences([`${GUN}:v1`]), { signers: ['ci'], checkRegistry: false });
    assert.deepEqual(v1!.signers, ['ci']);

    // The old key is no root key any more: refused before a new key is even asked for.
    await assert.rejects(
      run((repo, _c, now) => planRotateRoot(repo, keys.root, () => (asked++, toSigningKey(generateKey(), 'root', undefined)), now)),
      code('KEY_WRONG_ROLE', new RegExp(`the root key given \\(key ${keys.root.id}, role "root"\\) is not this repository's root key; it expects ${out!.rootKeyId} \\(key file ${publicKeyId(next)}\\.key\\)`)),
    );
    assert.equal(asked, 1);
    await assert.rejects(
      run((repo, _c, now) => planRotateRoot(repo, toSigningKey(next, 'root', undefined), () => toSigningKey(next, 'root', undefined), now)),
      code('INPUT_INVALID', /the new root key is the current root key/),
    );

    // A root made by hand, naming the old certificate again and signed by the old key alone: the remembering client refuses it.
    const rotated = await read();
    const back = cloneSigned(rotated.root.signed);
    const oldCert = before.root.signed.roles.root.keyids[0]!;
    back.keys = { ...back.keys, [oldCert]: before.root.signed.keys[oldCert]! };
    back.roles.root = { keyids: [oldCert], threshold: 1 };
    back.version += 1;
    await publishRoot(fake, envelope(back, keys.root, [oldCert]));
    await assert.rejects(readRemembering(fake, rotated), code('ROOT_ROTATION_INVALID', new RegExp(`root\\.json version ${back.version} is not signed by 1 of the root key\\(s\\) trusted before`)));
  });

  it('root: a new root signed by the old key alone (not by the key it names) is refused by a client remembering the old root', async () => {
    const { fake, keys, read } = await setUp();
    const before = await read();
    const cert = rootCertKey(GUN, toSigningKey(generateKey(), 'root', undefined), NOW);
    const root = cloneSigned(before.root.signed);
    root.keys[cert.id] = cert.json;
    root.roles.root = { keyids: [cert.id], threshold: 1 };
    root.version += 1;
    await publishRoot(fake, envelope(root, keys.root, before.root.signed.roles.root.keyids));
    await assert.rejects(readRemembering(fake, before), code('THRESHOLD_NOT_MET'));
  });

  it('repository: root names the new key and targets is re-signed with it, signers kept; their tags still verify; the old key is refused', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const before = await read();
    const next = generateKey();
    const published = fake.published.length;
    const [out] = await run((repo, _c, now) => planRotateRepository(repo, keys.root, () => toSigningKey(next, 'targets', GUN), now));
    assert.deepEqual(out!.roles, ['root', 'targets']);
    assert.equal(fake.published.length, published + 1, 'one publish');
    assert.equal(out!.repositoryKeyId, publicKeyId(next));
    const after = await readRemembering(fake, before);
    assert.deepEqual(after.root.signed.roles.targets.keyids, [publicKeyId(next)]);
    assert.ok(!Object.hasOwn(after.root.signed.keys, keys.targets.id), 'the old repository key is dropped');
    const targets = after.roles.get('targets')!.meta;
    assert.deepEqual(
      targets.signatures.map((s) => s.keyid),
      [publicKeyId(next)],
    );
    assert.deepEqual(targets.signed.delegations, before.roles.get('targets')!.meta.signed.delegations);
    assert.deepEqual(targets.signed.targets, before.roles.get('targets')!.meta.signed.targets);
    assert.equal(targets.signed.version, before.roles.get('targets')!.meta.signed.version + 1);
    const [v1] = await verifyImages(fakeEnv(fake, NOW, { trustStore: remembering(before) }), parseReferences([`${GUN}:v1`]), { signers: ['ci'], checkRegistry: false });
    assert.deepEqual(v1!.signers, ['ci']);
    await assert.rejects(
      run((repo, _c, now) => planAddSigner(repo, keys.targets, 'qa', parseSignerKeys(ecKeyPair().pub, 'qa'), now)),
      code('KEY_WRONG_ROLE'),
    );
    await run((repo, _c, now) => planAddSigner(repo, toSigningKey(next, 'targets', GUN), 'qa', parseSignerKeys(ecKeyPair().pub, 'qa'), now));
    await assert.rejects(
      run((repo, _c, now) => planRotateRepository(repo, keys.root, () => toSigningKey(next, 'targets', GUN), now)),
      code('INPUT_INVALID', /the new repository key is the current repository key/),
    );
    await assert.rejects(
      run((repo, _c, now) => planRotateRepository(repo, toSigningKey(next, 'targets', GUN), () => toSigningKey(generateKey(), 'targets', GUN), now)),
      code('KEY_WRONG_ROLE', /is not this repository's root key/),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await assert.rejects(
      run((repo, _c, now) => planRotateRepository(repo, keys.root, () => toSigningKey(rsa, 'targets', GUN), now)),
      code('KEY_UNSUPPORTED', /the new repository key is an RSA key/),
    );
  });
});

describe('init and reading for administration', () => {
  it('init on an initialised repository changes nothing and names its keys; RSA keys are refused before any request', async () => {
    const { fake, keys } = await setUp();
    const client = new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, true);
    const requests = fake.requests.length;
    const again = await initRepository(client, { now: NOW });
    const repo = await updateRepoFor(fakeEnv(fake, NOW), new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, false));
    const [printed] = printedRootKeyIds(repo.root.signed);
    // The root key ID docker trust inspect prints is its certificate's TUF ID, not the key file's canonical ID.
    assert.notEqual(printed, keys.root.id);
    assert.equal(repo.rootKeys.get(printed!)!.canonicalId, keys.root.id);
    assert.deepEqual(again, { gun: GUN, created: false, rootKeyId: printed, targetsKeyId: keys.targets.id, generated: {} });
    assert.equal(fake.published.length, 0);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const n = fake.requests.length;
    await assert.rejects(initRepository(client, { rootKey: toSigningKey(rsa, 'root', undefined) }), code('KEY_UNSUPPORTED', /the root key is an RSA key/));
    assert.equal(fake.requests.length, n);
    assert.ok(n > requests);
  });

  it('readRepo explains an uninitialised repository to an administrator', async () => {
    const { fake, env } = await setUp();
    const client = new NotaryRepoClient(fake.client, NOTARY, 'registry.test/org/none', undefined, true);
    await assert.rejects(readRepo(env, client, NOW), code('REPO_NOT_INITIALISED', /initialise it first \(mode: init, or `content-trust init registry\.test\/org\/none`\)/));
  });
});

describe('refresh revives what has expired', () => {
  const LATER = new Date(NOW.getTime() + 1100 * DAY); // targets and the signers' files (3 years) expired; root (10 years) not
  async function expiredRepo() {
    const s = await setUp(['v1']);
    // The server signs its snapshot and timestamp at the time of the publish, as notary-server does.
    s.fake.now = () => LATER;
    const run = (plan: Planner) => administer(fakeEnv(s.fake, LATER), parseReferences([`${GUN}:latest`]), plan, { allowExpired: true });
    return { ...s, run };
  }

  it('re-signs an expired targets.json with the repository key; the strict read-back passes and nothing else changes', async () => {
    const { keys, run, fake } = await expiredRepo();
    const published = fake.published.length;
    const [out] = await run((repo, _c, now) => planRefresh(repo, { signing: [keys.targets] }, 0, now));
    assert.deepEqual(out!.roles, ['targets']);
    assert.equal(fake.published.length, published + 1);
    const repo = await updateRepoFor(fakeEnv(fake, LATER), new NotaryRepoClient(fake.client, NOTARY, GUN, undefined, false));
    assert.ok(repo.roles.get('targets')!.meta.expires > LATER);
    assert.deepEqual([...repo.skipped.keys()].sort(), ['targets/ci', 'targets/releases'], 'the signers still have to refresh theirs');
  });

  it('a plan that would leave targets.json expired is EXPIRED, naming the key it needs, and publishes nothing', async () => {
    const { run, fake } = await expiredRepo();
    const published = fake.published.length;
    await assert.rejects(
      run((repo, _c, now) => planRefresh(repo, { signing: [delegationKey()] }, 0, now)),
      code('EXPIRED', /targets\.json expired at .*no key given here signs it.*re-sign it with the repository key \(mode: refresh, input repository-key.*Nothing was published/),
    );
    assert.equal(fake.published.length, published);
  });

  it('without allowExpired the plan cannot even read the repository (what notary 0.7 does)', async () => {
    const { keys, fake } = await expiredRepo();
    await assert.rejects(
      administer(fakeEnv(fake, LATER), parseReferences([`${GUN}:latest`]), (repo, _c, now) => planRefresh(repo, { signing: [keys.targets] }, 0, now)),
      code('EXPIRED'),
    );
  });
});
