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
import { planAddSigner, planRemoveSigner } from '../../src/notary/admin/signers.ts';
import { planRevoke } from '../../src/notary/admin/revoke.ts';
import { planRefresh } from '../../src/notary/admin/refresh.ts';
import { planRotateRepository, planRotateRoot, planRotateServerKey, planRotateSigner } from '../../src/notary/admin/rotate.ts';
import { initRepository } from '../../src/notary/admin/init.ts';
import { parseSignerKeys, rootCertKey } from '../../src/notary/admin/common.ts';
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

  it('root: a new certificate, signed by the old root key and the new one; a client remembering the old root follows, and the old key signs no further root', async () => {
    const { fake, keys, run, read } = await setUp(['v1']);
    const before = await read();
    const next = generateKey();
    let asked = 0;
    const [out] = await run((repo, _c, now) => planRotateRoot(repo, keys.root, () => (asked++, next), now));
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
      run((repo, _c, now) => planRotateRoot(repo, keys.root, () => (asked++, generateKey()), now)),
      code('KEY_WRONG_ROLE', new RegExp(`the root key given \\(key ${keys.root.id}, role "root"\\) is not this repository's root key; it expects ${publicKeyId(next)}`)),
    );
    assert.equal(asked, 1);
    await assert.rejects(
      run((repo, _c, now) => planRotateRoot(repo, toSigningKey(next, 'root', undefined), () => next, now)),
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
    const cert = rootCertKey(GUN, generateKey(), NOW);
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
    const [out] = await run((repo, _c, now) => planRotateRepository(repo, keys.root, () => next, now));
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
      run((repo, _c, now) => planRotateRepository(repo, keys.root, () => next, now)),
      code('INPUT_INVALID', /the new repository key is the current repository key/),
    );
    await assert.rejects(
      run((repo, _c, now) => planRotateRepository(repo, toSigningKey(next, 'targets', GUN), () => generateKey(), now)),
      code('KEY_WRONG_ROLE', /is not this repository's root key/),
    );
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await assert.rejects(
      run((repo, _c, now) => planRotateRepository(repo, keys.root, () => rsa, now)),
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
    assert.deepEqual(again, { gun: GUN, created: false, rootKeyId: keys.root.id, targetsKeyId: keys.targets.id, generated: {} });
    assert.equal(fake.published.length, 0);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const n = fake.requests.length;
    await assert.rejects(initRepository(client, { rootKey: rsa }), code('KEY_UNSUPPORTED', /the root key is an RSA key/));
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
