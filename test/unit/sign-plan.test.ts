import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { planSign, signableRoles, type NewTarget } from '../../src/notary/sign-plan.ts';
import { goTime } from '../../src/tuf/go-encoding.ts';
import type { TrustedRepo } from '../../src/notary/model.ts';
import { keyId } from '../../src/tuf/keys.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { parsePrivateKey, readPrivateKey, type SigningKey } from '../../src/tuf/private-key.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { ExpiredError, TrustError } from '../../src/errors.ts';
import { KEY_PEM, NOW, PASSPHRASE, delegationKey, loadRepo, scenario, parsePlanned, withSigned } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

const { one, two } = scenario.images;
const DAY = 86_400_000;
/** Parsed maps have no prototype; compare their content with plain literals. */
const plain = <T>(v: T): T => structuredClone(v);
const b64 = (digest: string) => Buffer.from(digest.slice('sha256:'.length), 'hex').toString('base64');
const otherKey = (): SigningKey => parsePrivateKey(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, undefined);

let repo: TrustedRepo;
let key: SigningKey;
before(async () => {
  repo = await loadRepo();
  key = delegationKey();
});

describe('signableRoles', () => {
  it('finds targets/releases and targets/<signer> for the docker-generated key', () => {
    const roles = signableRoles(repo, key, ['v3']);
    assert.deepEqual(roles.map((r) => r.role.name).sort(), ['targets/ci', 'targets/releases']);
    for (const r of roles) assert.deepEqual(r.keyIds, [scenario.delegationKey.canonicalId]);
  });

  it('another key is KEY_NOT_DELEGATE, and the message lists the delegations and their keys', () => {
    const other = otherKey();
    assertCode(
      () => signableRoles(repo, other, ['v3']),
      'KEY_NOT_DELEGATE',
      new RegExp(`${other.id}.*targets/ci \\(keys ${scenario.delegationKey.canonicalId.slice(0, 12)}\\).*targets/releases \\(keys ${scenario.delegationKey.canonicalId.slice(0, 12)}\\).*docker trust signer add`),
    );
  });

  it('a repository without delegations is KEY_NOT_DELEGATE', () => {
    const bare = withSigned(repo, 'targets', (s) => {
      s.delegations = { keys: {}, roles: [] };
    });
    assertCode(() => signableRoles(bare, key, ['v3']), 'KEY_NOT_DELEGATE', /has no delegations/);
  });

  it('leaves out roles whose paths do not allow every tag, and says so when none is left', () => {
    const narrowed = withSigned(repo, 'targets', (s) => {
      s.delegations.roles.find((r) => r.name === 'targets/releases')!.paths = ['release-'];
    });
    assert.deepEqual(
      signableRoles(narrowed, key, ['v3']).map((r) => r.role.name),
      ['targets/ci'],
    );
    assert.deepEqual(
      signableRoles(narrowed, key, ['release-1'])
        .map((r) => r.role.name)
        .sort(),
      ['targets/ci', 'targets/releases'],
    );
    assert.deepEqual(
      signableRoles(narrowed, key, ['release-1', 'v3']).map((r) => r.role.name),
      ['targets/ci'],
    );
    const both = withSigned(narrowed, 'targets', (s) => {
      for (const r of s.delegations.roles) r.paths = ['release-'];
    });
    assertCode(() => signableRoles(both, key, ['v3']), 'TAG_OUTSIDE_PATHS', /signer "ci" \(targets\/ci\) may sign only tags matching "release-\*".*"v3" is outside them; nothing was published/);
  });

  it("a signer's own role that does not allow every tag refuses the sign (TAG_OUTSIDE_PATHS names tag, signer, paths and the fix), even where releases would allow it", () => {
    const restricted = withSigned(repo, 'targets', (s) => {
      s.delegations.roles.find((r) => r.name === 'targets/ci')!.paths = ['v1.', 'rc-'];
    });
    assert.deepEqual(
      signableRoles(restricted, key, ['v1.2', 'rc-3'])
        .map((r) => r.role.name)
        .sort(),
      ['targets/ci', 'targets/releases'],
    );
    assertCode(
      () => signableRoles(restricted, key, ['v1.2', 'v2.0', 'latest']),
      'TAG_OUTSIDE_PATHS',
      /signer "ci" \(targets\/ci\) may sign only tags matching "v1\.\*", "rc-\*".*"v2\.0", "latest" are outside them.*remove the signer and add it again with wider paths/,
    );
    assertCode(() => planSign(restricted, key, [{ tag: 'v2.0', digest: one.digest, size: one.size }], NOW, 1095), 'TAG_OUTSIDE_PATHS', /"v2\.0" is outside/);
  });

  it('only direct children of targets count', () => {
    const nested = withSigned(repo, 'targets', (s) => {
      s.delegations.roles = s.delegations.roles.map((r) => ({ ...r, name: `${r.name}/sub` }));
    });
    assertCode(() => signableRoles(nested, key, ['v3']), 'KEY_NOT_DELEGATE');
  });

  it('matches a delegation key given as a certificate (ecdsa-x509) by its canonical ID', () => {
    const { keyObject } = readPrivateKey(KEY_PEM, PASSPHRASE);
    const cert = Buffer.from(rootCertificate({ gun: 'ci', key: keyObject, now: NOW })).toString('base64');
    const certId = keyId('ecdsa-x509', cert);
    const x509 = withSigned(repo, 'targets', (s) => {
      s.delegations.keys = { [certId]: { keytype: 'ecdsa-x509', keyval: { private: null, public: cert } } };
      for (const r of s.delegations.roles) r.keyids = [certId];
    });
    const roles = signableRoles(x509, key, ['v3']);
    assert.equal(roles.length, 2);
    for (const r of roles) assert.deepEqual(r.keyIds, [certId]);
  });
});

describe('planSign', () => {
  const v3: NewTarget = { tag: 'v3', digest: two.digest, size: two.size };

  it('signs both roles, bumping each version by one', () => {
    const plan = planSign(repo, key, [v3], NOW, 1095);
    assert.deepEqual([...plan.files.keys()].sort(), ['targets/ci', 'targets/releases']);
    assert.deepEqual([...plan.roles].sort(), ['targets/ci', 'targets/releases']);
    for (const role of plan.roles) {
      const meta = parsePlanned(repo, plan.files, role);
      assert.equal(meta.signed.version, repo.roles.get(role)!.meta.signed.version + 1);
      assert.equal(meta.signatures.length, 1);
      assert.equal(meta.signatures[0]!.keyid, scenario.delegationKey.canonicalId);
    }
  });

  it('sets the expiry 1095 days out, written as Go writes it', () => {
    const plan = planSign(repo, key, [v3], NOW, 1095);
    for (const role of plan.roles) {
      const meta = parseMetadata(plan.files.get(role)!, role, 'Targets');
      assert.equal(meta.expires.getTime() - NOW.getTime(), 1095 * DAY);
      assert.equal(meta.signed.expires, goTime(new Date(NOW.getTime() + 1095 * DAY)));
    }
    const whole = planSign(repo, key, [v3], new Date('2026-01-01T00:00:00.000Z'), 30);
    assert.equal(parseMetadata(whole.files.get('targets/ci')!, 'targets/ci', 'Targets').signed.expires, '2026-01-31T00:00:00Z');
  });

  it('adds the target (sha256 only, as docker does) and keeps every other target', () => {
    const plan = planSign(repo, key, [v3], NOW, 1095);
    for (const role of plan.roles) {
      const before = repo.roles.get(role)!.meta.signed.targets;
      const after = parsePlanned(repo, plan.files, role).signed.targets;
      assert.deepEqual(plain(after.v3), { hashes: { sha256: b64(two.digest) }, length: two.size });
      assert.deepEqual(plain({ ...after, v3: undefined }), plain({ ...before, v3: undefined }));
    }
  });

  it('moves an existing tag to the new digest', () => {
    const plan = planSign(
      repo,
      key,
      [
        { tag: 'latest', digest: two.digest, size: two.size },
        { tag: 'v1', digest: two.digest, size: two.size },
      ],
      NOW,
      1095,
    );
    const ci = parsePlanned(repo, plan.files, 'targets/ci').signed.targets;
    assert.equal(ci.latest!.hashes.sha256, b64(two.digest));
    assert.equal(ci.v1!.hashes.sha256, b64(two.digest));
    assert.equal(ci['ci-only']!.hashes.sha256, b64(two.digest));
    assert.equal(ci['\u{E000}']!.hashes.sha256, b64(one.digest));
  });

  it('writes the bytes a Go client would: HTML-escaped names, which still verify', () => {
    const plan = planSign(repo, key, [v3], NOW, 1095);
    const text = plan.files.get('targets/releases')!.toString('utf8');
    assert.ok(text.includes('"a\\u0026b\\u003cc\\u003eé"'), text);
    assert.ok(text.includes('"line\\u2028sep"'));
    assert.ok(!/[<>&\u2028]/.test(text));
    const meta = parsePlanned(repo, plan.files, 'targets/releases');
    assert.ok('a&b<c>é' in meta.signed.targets);
  });

  it("keeps target custom data, drops fields notary's Go types do not have (the server would snapshot other bytes)", () => {
    const extended = withSigned(repo, 'targets/releases', (s) => {
      (s as unknown as Record<string, unknown>).x_unknown = { a: 1 };
      s.targets.v1!.custom = { note: 'kept' };
      (s.targets.v1 as unknown as Record<string, unknown>).x_field = 1;
    });
    const plan = planSign(extended, key, [v3], NOW, 1095);
    const meta = parsePlanned(extended, plan.files, 'targets/releases');
    assert.deepEqual(plain(meta.signed.targets.v1!.custom), { note: 'kept' });
    assert.equal((meta.signed as unknown as Record<string, unknown>).x_unknown, undefined);
    assert.equal((meta.signed.targets.v1 as unknown as Record<string, unknown>).x_field, undefined);
    assert.deepEqual(Object.keys(meta.signed).sort(), ['_type', 'delegations', 'expires', 'targets', 'version']);
  });

  it('starts a role that has published nothing yet at version 1', () => {
    const roles = new Map(repo.roles);
    roles.delete('targets/ci');
    const snapshot = { ...repo.snapshot, signed: structuredClone(repo.snapshot.signed) };
    delete snapshot.signed.meta['targets/ci'];
    const fresh = { ...repo, roles, snapshot };
    const plan = planSign(fresh, key, [v3], NOW, 1095);
    const ci = parsePlanned(fresh, plan.files, 'targets/ci');
    assert.equal(ci.signed.version, 1);
    assert.deepEqual(plain(ci.signed.targets), { v3: { hashes: { sha256: b64(two.digest) }, length: two.size } });
    assert.deepEqual(plain(ci.signed.delegations), { keys: {}, roles: [] });
  });

  it('refuses a role the snapshot lists but that could not be read', () => {
    const roles = new Map(repo.roles);
    roles.delete('targets/ci');
    assertCode(() => planSign({ ...repo, roles }, key, [v3], NOW, 1095), 'METADATA_INVALID', /targets\/ci is listed in the snapshot/);
  });

  it('re-signs an expired delegation from its content; refuses one whose signatures failed', () => {
    const ciRole = repo.roles.get('targets/ci')!;
    const roles = new Map(repo.roles);
    roles.delete('targets/ci');
    const expired = { ...repo, roles, skipped: new Map([['targets/ci', { meta: ciRole.meta, error: new ExpiredError('expired') }]]) };
    const ci = parsePlanned(expired, planSign(expired, key, [v3], NOW, 1095).files, 'targets/ci');
    assert.equal(ci.signed.version, ciRole.meta.signed.version + 1);
    assert.ok('ci-only' in ci.signed.targets);
    const forged = { ...repo, roles, skipped: new Map([['targets/ci', { meta: ciRole.meta, error: new TrustError('THRESHOLD_NOT_MET', 'bad signature') }]]) };
    assertCode(() => planSign(forged, key, [v3], NOW, 1095), 'THRESHOLD_NOT_MET', /cannot sign targets\/ci.*bad signature/);
  });

  it('another key is KEY_NOT_DELEGATE and plans nothing', () => {
    assertCode(() => planSign(repo, otherKey(), [v3], NOW, 1095), 'KEY_NOT_DELEGATE');
  });

  it('does not change the trusted repository', () => {
    const before = structuredClone(repo.roles.get('targets/releases')!.meta.signed);
    planSign(repo, key, [v3], NOW, 1095);
    assert.deepEqual(plain(repo.roles.get('targets/releases')!.meta.signed), before);
  });
});
