import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { resolveTag, rolesListing, targetIn } from '../../src/notary/resolve.ts';
import type { TrustedRepo } from '../../src/notary/model.ts';
import { loadRepo, scenario, withPaths, withSigned } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';
import { ExpiredError } from '../../src/errors.ts';

const { one, two } = scenario.images;

let repo: TrustedRepo;
before(async () => {
  repo = await loadRepo();
});

describe('resolveTag', () => {
  it('finds a tag in targets/releases with its digest and size', () => {
    assert.deepEqual(resolveTag(repo, 'v1'), { role: 'targets/releases', digest: one.digest, size: one.size });
  });

  it('prefers targets/releases when targets/ci signed the tag differently', () => {
    assert.equal(scenario.signed['targets/ci'].latest, one.digest);
    assert.deepEqual(resolveTag(repo, 'latest'), { role: 'targets/releases', digest: two.digest, size: two.size });
  });

  it('reads target names the server sent HTML-escaped', () => {
    assert.equal(resolveTag(repo, 'a&b<c>é').digest, one.digest);
    assert.equal(resolveTag(repo, 'line\u2028sep').digest, two.digest);
  });

  it('rejects a tag signed only in targets/<signer> with NOT_SIGNED naming the role', () => {
    assertCode(() => resolveTag(repo, 'ci-only'), 'NOT_SIGNED', /signed only in targets\/ci.*docker trust signer add/);
    assertCode(() => resolveTag(repo, '\u{1F600}'), 'NOT_SIGNED', /only in targets\/ci/);
  });

  it("walks delegations breadth-first, as notary: a later child of targets is found before an earlier child's child", () => {
    const ci = repo.roles.get('targets/ci')!;
    const meta = { hashes: { sha256: Buffer.from(one.digest.slice(7), 'hex').toString('base64') }, length: one.size };
    const role = (name: string) => ({ ...ci, name, meta: { ...ci.meta, role: name, signed: { ...structuredClone(ci.meta.signed), targets: { deep: meta }, delegations: { keys: {}, roles: [] } } } });
    const delegate = (name: string) => ({ name, keyids: [], threshold: 1, paths: [''] });
    let r = withSigned(repo, 'targets', (s) => s.delegations.roles.push(delegate('targets/zz')));
    r = withSigned(r, 'targets/ci', (s) => s.delegations.roles.push(delegate('targets/ci/sub')));
    const roles = new Map(r.roles);
    roles.set('targets/ci/sub', role('targets/ci/sub'));
    roles.set('targets/zz', role('targets/zz'));
    // Depth-first would reach targets/ci/sub (under targets/ci, listed before targets/zz) first.
    assertCode(() => resolveTag({ ...r, roles }, 'deep'), 'NOT_SIGNED', /signed only in targets\/zz;/);
  });

  it('an unknown tag has no trust data', () => {
    assertCode(() => resolveTag(repo, 'nope'), 'NOT_SIGNED', /nope has no trust data/);
  });

  it('accepts a tag in the top-level targets role, after targets/releases', () => {
    const both = withSigned(repo, 'targets', (s) => {
      s.targets.toponly = { hashes: { sha256: Buffer.from(two.digest.slice(7), 'hex').toString('base64') }, length: two.size };
      s.targets.v1 = { hashes: { sha256: Buffer.from(two.digest.slice(7), 'hex').toString('base64') }, length: two.size };
    });
    assert.deepEqual(resolveTag(both, 'toponly'), { role: 'targets', digest: two.digest, size: two.size });
    assert.equal(resolveTag(both, 'v1').role, 'targets/releases');
  });

  it("ignores targets outside a role's allowed paths", () => {
    const narrowed = withPaths(repo, 'targets/releases', ['release-']);
    assertCode(() => resolveTag(narrowed, 'v1'), 'NOT_SIGNED', /only in targets\/ci/);
    const both = withPaths(narrowed, 'targets/ci', ['release-']);
    assertCode(() => resolveTag(both, 'v1'), 'NOT_SIGNED', /no trust data/);
    assert.equal(resolveTag(withPaths(repo, 'targets/releases', ['v']), 'v1').role, 'targets/releases');
  });

  it('ignores a target without a sha256 hash', () => {
    const sha512only = withSigned(repo, 'targets/releases', (s) => {
      s.targets.v1 = { hashes: { sha512: 'AAAA' }, length: 1 };
    });
    assertCode(() => resolveTag(sha512only, 'v1'), 'NOT_SIGNED', /only in targets\/ci/);
  });
});

describe('targetIn', () => {
  it('reads one role only', () => {
    assert.deepEqual(targetIn(repo, 'targets/ci', 'latest'), { role: 'targets/ci', digest: one.digest, size: one.size });
    assert.equal(targetIn(repo, 'targets/ci', 'a&b<c>é'), undefined);
    assert.equal(targetIn(repo, 'targets/none', 'v1'), undefined);
  });
});

describe('rolesListing', () => {
  it('lists every trusted role that signed the tag with this digest', () => {
    assert.deepEqual(rolesListing(repo, 'v1', one.digest).sort(), ['targets/ci', 'targets/releases']);
    assert.deepEqual(rolesListing(repo, 'latest', two.digest), ['targets/releases']);
    assert.deepEqual(rolesListing(repo, 'latest', one.digest), ['targets/ci']);
    assert.deepEqual(rolesListing(repo, 'v1', two.digest), []);
  });
});

describe('resolveTag: a tag whose only signatures are in an expired file', () => {
  it('is EXPIRED naming the role and carrying its fix, not NOT_SIGNED; a tag the expired file does not list is still NOT_SIGNED', () => {
    const releases = repo.roles.get('targets/releases')!;
    const roles = new Map(repo.roles);
    roles.delete('targets/releases');
    const error = new ExpiredError(`${repo.gun}: targets/releases.json expired at 2020-01-01T00:00:00.000Z; re-sign it with a signer's key`);
    const expired: TrustedRepo = { ...repo, roles, skipped: new Map([['targets/releases', { meta: releases.meta, error }]]) };
    assertCode(() => resolveTag(expired, 'v1'), 'EXPIRED', /:v1 is signed in targets\/releases, whose file has expired, so its signatures are not trusted: .*targets\/releases\.json expired at .*re-sign it with a signer's key/);
    assertCode(() => resolveTag(expired, 'never-signed'), 'NOT_SIGNED', /has no trust data/);
  });
});
