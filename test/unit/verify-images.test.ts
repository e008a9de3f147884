/**
 * verifyImages, the verify workflow, against the in-memory Notary server and
 * registry (helpers/notary-fake.ts) serving the repository captured from the
 * real notary-server; expectations are derived from the capture's
 * scenario.json (which tag each role signed), negative cases from changing
 * one thing.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { signImages } from '../../src/notary/sign.ts';
import { verifyImages, type VerifyOptions } from '../../src/notary/verify.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { ContentTrustError, MultiError } from '../../src/errors.ts';
import { FakeNotary, NOTARY, fakeEnv, initialised } from './helpers/notary-fake.ts';
import { GUN, NOW, delegationKey, fixtureFiles, scenario } from './helpers/fixtures.ts';

const { one, two } = scenario.images;
const RELEASES = scenario.signed['targets/releases'];
const CI = scenario.signed['targets/ci'];
const NONE: VerifyOptions = { signers: [], checkRegistry: false };

const code = (c: string, what?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ContentTrustError, String(e));
  assert.equal(e.code, c, e.message);
  if (what) assert.match(e.message, what);
  return true;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function captured(): FakeNotary {
  const fake = new FakeNotary({ now: () => NOW });
  fake.seed(GUN, fixtureFiles());
  return fake;
}

/** The registry answers HEAD for GUN's tags with `digests[tag]` (404 when absent). */
function registryHeads(fake: FakeNotary, digests: Record<string, string>): void {
  fake.intercept = (req) => {
    const m = /\/manifests\/([^/]+)$/.exec(req.url);
    if (!m || req.method !== 'HEAD') return undefined;
    const digest = digests[decodeURIComponent(m[1]!)];
    return digest ? { headers: { 'docker-content-digest': digest } } : { status: 404 };
  };
}

describe('verifyImages: the captured repository', () => {
  it('each tag resolves as a DCT pull does (targets/releases first), with every role listing it and the signers among them', async () => {
    assert.ok(RELEASES.v1 && RELEASES.latest && CI.v1, 'the capture signs v1 and latest');
    const fake = captured();
    const env = fakeEnv(fake, NOW);
    const results = await verifyImages(env, parseReferences([`${GUN}:v1`, `${GUN}:latest`]), NONE);
    const expected = (tag: 'v1' | 'latest') => {
      const digest = RELEASES[tag]!;
      const roles = (['targets/releases', 'targets/ci'] as const).filter((r) => scenario.signed[r][tag] === digest);
      return { tag, digest, size: digest === one.digest ? one.size : two.size, roles: [...roles].sort(), signers: roles.filter((r) => r !== 'targets/releases').map((r) => r.slice('targets/'.length)) };
    };
    assert.deepEqual(
      results.map((r) => ({ tag: r.tag, digest: r.digest, size: r.size, roles: [...r.roles].sort(), signers: r.signers })),
      [expected('v1'), expected('latest')],
    );
    for (const r of results) assert.equal(r.repository, GUN);
    // Read-only: no publish, no registry look-up without checkRegistry.
    assert.deepEqual(fake.sent(/^(POST|HEAD) |\/manifests\//), []);
    // First use is a log line when verifying, not a warning.
    assert.equal(env.log.at('info').filter((m) => /trusted on first use/.test(m)).length, 1);
    assert.deepEqual(env.log.at('warning'), []);
    assert.deepEqual(env.log.at('info').filter((m) => /: trusted sha256:/.test(m)).length, 2);
  });

  it('one trust update per repository, however many tags', async () => {
    const fake = captured();
    await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`, `${GUN}:latest`, `${GUN}:v1`]), NONE);
    assert.equal(fake.sent(/\/root\.json$/).length, 1);
  });

  it('a tag signed only by a signer: NOT_SIGNED for a DCT pull, but accepted when that signer is required', async () => {
    assert.ok(CI['ci-only'] && !RELEASES['ci-only']);
    const fake = captured();
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:ci-only`]), NONE), code('NOT_SIGNED', /signed only in targets\/ci/));
    const [r] = await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:ci-only`]), { signers: ['ci'], checkRegistry: false });
    assert.equal(r!.digest, CI['ci-only']);
  });

  it('a required signer whose tag differs from what a DCT pull resolves is SIGNER_MISSING; so are signers that disagree', async () => {
    assert.notEqual(CI.latest, RELEASES.latest, 'the capture signs latest differently in ci and releases');
    const fake = captured();
    await assert.rejects(
      verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:latest`]), { signers: ['ci'], checkRegistry: false }),
      code('SIGNER_MISSING', new RegExp(`a DCT pull resolves it to ${RELEASES.latest} \\(targets/releases\\), but the named signers signed ${CI.latest}`)),
    );
    await assert.rejects(
      verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:latest`]), { signers: ['ci', 'releases'], checkRegistry: false }),
      code('SIGNER_MISSING', new RegExp(`signers disagree: targets/ci signed ${CI.latest}, targets/releases signed ${RELEASES.latest}`)),
    );
  });

  it('a signer that does not exist, or did not sign the tag, is SIGNER_MISSING saying which', async () => {
    const fake = captured();
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), { signers: ['nobody'], checkRegistry: false }), code('SIGNER_MISSING', /signer "nobody" did not sign it \(no such signer in this repository\)/));
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v2`]), { signers: ['ci'], checkRegistry: false }), code('SIGNER_MISSING', /signer "ci" did not sign it \(it has not signed this tag\)/));
  });

  it('a pinned digest must be the signed one (PIN_MISMATCH)', async () => {
    const fake = captured();
    const [ok] = await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1@${RELEASES.v1}`]), NONE);
    assert.equal(ok!.digest, RELEASES.v1);
    const other = RELEASES.v1 === one.digest ? two.digest : one.digest;
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1@${other}`]), NONE), code('PIN_MISMATCH', new RegExp(`signed as ${RELEASES.v1}, but the input pins ${other}`)));
  });

  it("checkRegistry: the registry's current digest must be the signed one; a trust failure is reported before a registry one", async () => {
    const fake = captured();
    const check = { signers: [], checkRegistry: true };
    registryHeads(fake, { v1: RELEASES.v1!, latest: RELEASES.v1! });
    const [ok] = await verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), check);
    assert.equal(ok!.digest, RELEASES.v1);
    assert.equal(fake.sent(/^HEAD .*\/v2\/org\/app\/manifests\/v1$/).length, 1);
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:latest`]), check), code('DIGEST_MISMATCH', new RegExp(`the registry now serves ${RELEASES.v1}, but the signed digest is ${RELEASES.latest}`)));
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:ci-only`]), check), code('NOT_SIGNED'));
    registryHeads(fake, {});
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), check), code('TAG_NOT_FOUND'));
  });

  it('several repositories: each image fails or passes on its own, failures named in input order', async () => {
    const fake = captured();
    const refs = parseReferences(['registry.test/org/none:v1', `${GUN}:v1`, `${GUN}:nope`]);
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), refs, NONE), (e: unknown) => {
      assert.ok(e instanceof MultiError);
      assert.deepEqual(
        e.failures.map((f) => [f.subject, f.error.code]),
        [
          ['registry.test/org/none:v1', 'REPO_NOT_INITIALISED'],
          [`${GUN}:nope`, 'NOT_SIGNED'],
        ],
      );
      return true;
    });
  });

  it('root-keys: the captured root key pins it (no first-use notice); another key is ROOT_NOT_PINNED', async () => {
    const fake = captured();
    const env = fakeEnv(fake, NOW, { rootKeys: [scenario.privateKeyFileIds.root] });
    await verifyImages(env, parseReferences([`${GUN}:v1`]), NONE);
    assert.deepEqual(
      env.log.at('info').filter((m) => /trusted on first use/.test(m)),
      [],
    );
    await assert.rejects(verifyImages(fakeEnv(fake, NOW, { rootKeys: ['0'.repeat(64)] }), parseReferences([`${GUN}:v1`]), NONE), code('ROOT_NOT_PINNED', new RegExp(esc(GUN))));
  });
});

describe('verifyImages: repositories the product initialised', () => {
  it('a signer delegated but with nothing signed yet is SIGNER_MISSING "it has signed nothing yet"', async () => {
    const fake = await initialised('registry.test/org/app');
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences(['registry.test/org/app:v1']), { signers: ['ci'], checkRegistry: false }), code('SIGNER_MISSING', /\(it has signed nothing yet\)/));
  });

  it('a delegation signed by a key its parent does not list is skipped with a warning; requiring that signer says why', async () => {
    const gun = 'registry.test/org/app';
    const fake = await initialised(gun);
    fake.pushImage(`${gun}:v1`);
    await signImages(fakeEnv(fake, NOW), parseReferences([`${gun}:v1`]), delegationKey());
    // Someone without the ci key replaces targets/ci (the fake server, like a compromised one, takes it).
    const ci = parseMetadata(fake.repos.get(gun)!.current.get('targets/ci')!, 'targets/ci', 'Targets');
    const forger = parsePrivateKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, undefined);
    const forged = envelope({ ...ci.signed, version: ci.signed.version + 1 }, forger, [forger.id]);
    await new NotaryRepoClient(fake.client, NOTARY, gun, undefined, true).publish(new Map([['targets/ci', forged]]));
    const env = fakeEnv(fake, NOW);
    const [r] = await verifyImages(env, parseReferences([`${gun}:v1`]), NONE);
    assert.deepEqual(r!.roles, ['targets/releases'], 'the forged role is not among the roles listing the tag');
    assert.ok(
      env.log.at('warning').some((w) => /targets\/ci is ignored/.test(w)),
      env.log.at('warning').join('\n'),
    );
    await assert.rejects(verifyImages(fakeEnv(fake, NOW), parseReferences([`${gun}:v1`]), { signers: ['ci'], checkRegistry: false }), code('SIGNER_MISSING', /signer "ci" did not sign it \(.*targets\/ci.*\)/));
  });
});
