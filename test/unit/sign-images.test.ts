/**
 * signImages, the sign workflow, against the in-memory Notary server and
 * registry (helpers/notary-fake.ts): a repository initialised by the product
 * with the captured delegation key as signer "ci", then signed with the
 * captured private key; and the negative cases derived from it.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { signImages } from '../../src/notary/sign.ts';
import { verifyImages } from '../../src/notary/verify.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { parseMetadata, type TargetsSigned } from '../../src/tuf/metadata.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { ContentTrustError, MultiError } from '../../src/errors.ts';
import { FakeNotary, fakeEnv, initialised } from './helpers/notary-fake.ts';
import { GUN, NOW, delegationKey, fixtureFiles } from './helpers/fixtures.ts';

const APP = 'registry.test/org/app';
const WEB = 'registry.test/org/web';

const code = (c: string, what?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ContentTrustError, String(e));
  assert.equal(e.code, c, e.message);
  if (what) assert.match(e.message, what);
  return true;
};

function published(fake: FakeNotary, gun: string, role: string): TargetsSigned {
  return parseMetadata(fake.repos.get(gun)!.current.get(role)!, role, 'Targets').signed;
}

const hex = (b64: string) => `sha256:${Buffer.from(b64, 'base64').toString('hex')}`;
const versionConflict = { status: 400, body: Buffer.from(JSON.stringify({ errors: [{ code: 'VERSION', message: 'version conflict' }] })) };

describe('signImages', () => {
  it('signs what the registry GET served into every role the key may sign, in one publish, and reports it as a DCT pull sees it', async () => {
    const fake = await initialised(APP);
    const image = fake.pushImage(`${APP}:v1`);
    const env = fakeEnv(fake, NOW);
    const [result] = await signImages(env, parseReferences([`${APP}:v1`]), delegationKey());
    assert.deepEqual(result, { image: `${APP}:v1`, repository: APP, tag: 'v1', digest: image.digest, size: image.size, signers: ['ci'], roles: ['targets/ci', 'targets/releases'], expires: result!.expires });
    for (const role of ['targets/ci', 'targets/releases']) {
      const t = published(fake, APP, role).targets.v1!;
      assert.equal(hex(t.hashes.sha256!), image.digest, role);
      assert.equal(t.length, image.size, role);
    }
    assert.deepEqual(fake.published, [{ gun: APP, roles: ['targets/ci', 'targets/releases'] }]);
    // The earliest expiry among root, snapshot and the roles the tag is in.
    const kinds = { root: 'Root', snapshot: 'Snapshot', 'targets/ci': 'Targets', 'targets/releases': 'Targets' } as const;
    const earliest = Math.min(...Object.entries(kinds).map(([r, k]) => Date.parse(parseMetadata(fake.repos.get(APP)!.current.get(r)!, r, k).signed.expires)));
    assert.equal(result.expires, new Date(earliest).toISOString());
    // First use is a warning when signing.
    assert.equal(env.log.at('warning').filter((w) => /trusted on first use/.test(w)).length, 1);
    assert.deepEqual(env.log.at('info'), [`${APP}: published 1 tag(s) in targets/ci, targets/releases`]);
    // And verify agrees.
    const [verified] = await verifyImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`]), { signers: ['ci'], checkRegistry: true });
    assert.equal(verified!.digest, image.digest);
  });

  it('one publish per repository for many tags; results keep the input order; a tag given twice is signed once', async () => {
    const fake = await initialised(APP, WEB);
    const images = { a1: fake.pushImage(`${APP}:v1`), w1: fake.pushImage(`${WEB}:v1`), a2: fake.pushImage(`${APP}:v2`) };
    const refs = parseReferences([`${APP}:v1`, `${WEB}:v1`, `${APP}:v2`, `${APP}:v1`]);
    const results = await signImages(fakeEnv(fake, NOW), refs, delegationKey());
    assert.deepEqual(
      results.map((r) => [r.image, r.digest]),
      [
        [`${APP}:v1`, images.a1.digest],
        [`${WEB}:v1`, images.w1.digest],
        [`${APP}:v2`, images.a2.digest],
        [`${APP}:v1`, images.a1.digest],
      ],
    );
    assert.deepEqual(fake.published.map((p) => p.gun).sort(), [APP, WEB]);
    assert.deepEqual(Object.keys(published(fake, APP, 'targets/releases').targets).sort(), ['v1', 'v2']);
  });

  it('a pinned digest the registry does not serve is PIN_MISMATCH, and nothing is published anywhere', async () => {
    const fake = await initialised(APP, WEB);
    fake.pushImage(`${APP}:v1`);
    fake.pushImage(`${WEB}:v1`);
    const pin = `sha256:${'0'.repeat(64)}`;
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${WEB}:v1`, `${APP}:v1@${pin}`]), delegationKey()), (e: unknown) => {
      assert.ok(e instanceof MultiError);
      assert.deepEqual(
        e.failures.map((f) => [f.subject, f.error.code]),
        [[`${APP}:v1@${pin}`, 'PIN_MISMATCH']],
      );
      assert.match(e.message, /the registry serves sha256:[0-9a-f]{64}, but the input pins sha256:0{64}/);
      return true;
    });
    assert.deepEqual(fake.published, []);
  });

  it('a tag the registry does not have is TAG_NOT_FOUND; every failing image is named, nothing published', async () => {
    const fake = await initialised(APP);
    fake.pushImage(`${APP}:v1`);
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`, `${APP}:nope`, `${APP}:gone`]), delegationKey()), (e: unknown) => {
      assert.ok(e instanceof MultiError);
      assert.deepEqual(
        e.failures.map((f) => [f.subject, f.error.code]),
        [
          [`${APP}:nope`, 'TAG_NOT_FOUND'],
          [`${APP}:gone`, 'TAG_NOT_FOUND'],
        ],
      );
      return true;
    });
    assert.deepEqual(fake.published, []);
    assert.equal(fake.sent(/^POST /).length, 0);
  });

  it('one tag served with two digests within a run is INPUT_INVALID, nothing published', async () => {
    const fake = await initialised(APP);
    fake.pushImage(`${APP}:v1`);
    const other = new FakeNotary();
    other.pushImage(`${APP}:v1`, 'another build');
    let gets = 0;
    fake.intercept = (req) => {
      if (req.method !== 'GET' || !req.url.endsWith('/manifests/v1') || ++gets !== 2) return undefined;
      const { body, mediaType } = other.images.get(`${APP}:v1`)!;
      return { body, headers: { 'content-type': mediaType } };
    };
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`, `${APP}:v1`]), delegationKey()), code('INPUT_INVALID', /org\/app:v1 is given twice with different digests/));
    assert.deepEqual(fake.published, []);
  });

  it('a key that is no signer of the repository is KEY_NOT_DELEGATE; an uninitialised repository is REPO_NOT_INITIALISED', async () => {
    const fake = await initialised(APP);
    fake.pushImage(`${APP}:v1`);
    fake.pushImage(`${WEB}:v1`);
    const stranger = parsePrivateKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, undefined);
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`]), stranger), code('KEY_NOT_DELEGATE', new RegExp(stranger.id)));
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${WEB}:v1`]), delegationKey()), code('REPO_NOT_INITIALISED', /org\/web has no trust data/));
    assert.deepEqual(fake.published, []);
  });

  it('a VERSION conflict re-reads the repository and re-plans on what the other publisher left', async () => {
    const fake = await initialised(APP);
    const v1 = fake.pushImage(`${APP}:v1`);
    const v2 = fake.pushImage(`${APP}:v2`);
    const env = fakeEnv(fake, NOW);
    // Someone else signs v2 between our read and our publish: our first publish conflicts.
    let raced = false;
    fake.intercept = async (req) => {
      if (req.method !== 'POST' || raced) return undefined;
      raced = true;
      await signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v2`]), delegationKey());
      return versionConflict;
    };
    const [result] = await signImages(env, parseReferences([`${APP}:v1`]), delegationKey());
    assert.equal(result!.digest, v1.digest);
    const releases = published(fake, APP, 'targets/releases');
    assert.deepEqual(Object.keys(releases.targets).sort(), ['v1', 'v2'], "the re-plan kept the other publisher's tag");
    assert.equal(hex(releases.targets.v2!.hashes.sha256!), v2.digest);
    assert.equal(fake.published.length, 2, 'the other publisher, then the re-planned publish');
    assert.ok(
      env.log.at('info').some((m) => /another publish changed the repository first; re-reading and retrying \(1\/3\)/.test(m)),
      env.log.at('info').join('\n'),
    );
  });

  it('conflicts on every publish: VERSION_CONFLICT after publishAttempts publishes', async () => {
    const fake = await initialised(APP);
    fake.pushImage(`${APP}:v1`);
    fake.intercept = (req) => (req.method === 'POST' ? versionConflict : undefined);
    const env = fakeEnv(fake, NOW);
    await assert.rejects(signImages({ ...env, config: { ...env.config, publishAttempts: 2 } }, parseReferences([`${APP}:v1`]), delegationKey()), code('VERSION_CONFLICT'));
    assert.equal(fake.sent(/^POST /).length, 2);
  });

  it('a server that accepts the publish but does not serve it is POST_VERIFY_FAILED (not signed; or signed as something else)', async () => {
    const fake = await initialised(APP);
    const first = fake.pushImage(`${APP}:v1`);
    const swallow = (req: { method: string }) => (req.method === 'POST' ? { status: 201 } : undefined);
    fake.intercept = swallow;
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`]), delegationKey()), code('POST_VERIFY_FAILED', /was published, but a DCT pull would not accept it/));
    fake.intercept = () => undefined;
    await signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`]), delegationKey());
    fake.pushImage(`${APP}:v1`, 'rebuilt');
    fake.intercept = swallow;
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${APP}:v1`]), delegationKey()), code('POST_VERIFY_FAILED', new RegExp(`resolves the tag to ${first.digest} \\(in targets/releases\\), not the signed sha256:`)));
  });

  it('the captured repository: the server does not hold its snapshot key, so a delegation key cannot publish (SNAPSHOT_KEY_NOT_ON_SERVER)', async () => {
    const fake = new FakeNotary({ now: () => NOW });
    fake.seed(GUN, fixtureFiles());
    fake.pushImage(`${GUN}:v9`);
    await assert.rejects(signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v9`]), delegationKey()), code('SNAPSHOT_KEY_NOT_ON_SERVER', /notary key rotate .* snapshot -r/));
  });
});
