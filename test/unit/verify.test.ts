import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { ECDH, createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { keyId, parseKeyMap, parsePublicKey, type PublicKey } from '../../src/tuf/keys.ts';
import { parseMetadata, type Metadata, type RootSigned, type TargetsSigned } from '../../src/tuf/metadata.ts';
import { checkFileMeta, checkNoRollback, checkNotExpired, validRootCertificate, verifyRootRotation, verifyThreshold } from '../../src/tuf/verify.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { GUN, NOW, fixtureBytes } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

interface Signer {
  id: string;
  key: KeyObject;
  pub: PublicKey;
}
function newSigner(): Signer {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const json = { keytype: 'ecdsa', keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') } };
  return { id: keyId(json.keytype, json.keyval.public), key: privateKey, pub: parsePublicKey(json) };
}

const SIGNED: TargetsSigned = { _type: 'Targets', delegations: { keys: {}, roles: [] }, expires: '2029-11-24T09:03:20Z', targets: {}, version: 3 };

/** An envelope signed by each entry in turn; `bad` entries sign other bytes. */
function signedBy(entries: { signer: Signer; bad?: boolean }[]): Metadata<TargetsSigned> {
  const canonical = canonicalize(SIGNED);
  const signatures = entries.map(({ signer, bad }) => ({
    keyid: signer.id,
    method: 'ecdsa',
    sig: sign('sha256', bad ? Buffer.from('other') : canonical, { key: signer.key, dsaEncoding: 'ieee-p1363' }).toString('base64'),
  }));
  return parseMetadata(Buffer.from(JSON.stringify({ signed: SIGNED, signatures })), 'targets/releases', 'Targets');
}

const [a, b, c] = [newSigner(), newSigner(), newSigner()];
const keysOf = (...s: Signer[]) => new Map(s.map((x) => [x.id, x.pub]));

describe('verifyThreshold', () => {
  it('accepts the captured delegation with the keys and threshold targets.json assigns it', () => {
    const targets = parseMetadata(fixtureBytes('targets'), 'targets', 'Targets');
    const keys = parseKeyMap(targets.signed.delegations.keys, 'targets');
    const ci = parseMetadata(fixtureBytes('targets/ci'), 'targets/ci', 'Targets');
    const role = targets.signed.delegations.roles.find((r) => r.name === 'targets/ci')!;
    verifyThreshold(ci, keys, role, GUN);
  });

  it('counts distinct keys: two signatures by one key do not make threshold 2', () => {
    const meta = signedBy([{ signer: a }, { signer: a }]);
    assertCode(() => verifyThreshold(meta, keysOf(a, b), { keyids: [a.id, b.id], threshold: 2 }, GUN), 'THRESHOLD_NOT_MET', /1 valid signature\(s\), needs 2/);
  });

  it('threshold 2 is met by two listed keys', () => {
    verifyThreshold(signedBy([{ signer: a }, { signer: b }]), keysOf(a, b), { keyids: [a.id, b.id], threshold: 2 }, GUN);
    verifyThreshold(signedBy([{ signer: b }, { signer: c }, { signer: a }]), keysOf(a, b, c), { keyids: [a.id, b.id, c.id], threshold: 2 }, GUN);
  });

  it('ignores signatures by unlisted keys, even if the key map has them', () => {
    const meta = signedBy([{ signer: a }, { signer: c }]);
    assertCode(() => verifyThreshold(meta, keysOf(a, b, c), { keyids: [a.id, b.id], threshold: 2 }, GUN), 'THRESHOLD_NOT_MET');
    assertCode(() => verifyThreshold(signedBy([{ signer: c }]), keysOf(a, c), { keyids: [a.id], threshold: 1 }, GUN), 'THRESHOLD_NOT_MET', /no signature is by a key the role lists/);
    verifyThreshold(meta, keysOf(a, c), { keyids: [a.id], threshold: 1 }, GUN);
  });

  it('a bad signature does not count; a later good one by the same key does', () => {
    assertCode(() => verifyThreshold(signedBy([{ signer: a, bad: true }, { signer: b }]), keysOf(a, b), { keyids: [a.id, b.id], threshold: 2 }, GUN), 'THRESHOLD_NOT_MET', /do not verify/);
    verifyThreshold(signedBy([{ signer: a, bad: true }, { signer: a }]), keysOf(a), { keyids: [a.id], threshold: 1 }, GUN);
  });

  it('a listed key missing from the key map counts as nothing', () => {
    assertCode(() => verifyThreshold(signedBy([{ signer: a }]), keysOf(b), { keyids: [a.id], threshold: 1 }, GUN), 'THRESHOLD_NOT_MET');
  });

  it('no signatures at all says so, naming the repository and role', () => {
    const meta = parseMetadata(Buffer.from(JSON.stringify({ signed: SIGNED, signatures: [] })), 'targets/releases', 'Targets');
    assertCode(() => verifyThreshold(meta, keysOf(a), { keyids: [a.id], threshold: 1 }, GUN), 'THRESHOLD_NOT_MET', new RegExp(`${GUN.replace(/\./g, '\\.')}: targets/releases\\.json.*no signatures`));
  });
});

describe('verifyThreshold: one key under two IDs counts once (TUF: each KEY contributes one SIGNATURE)', () => {
  /** The ecdsa-x509 form of a signer's key: a certificate for the same key, another TUF key ID. */
  const x509Form = (s: Signer): Signer => {
    const json = { keytype: 'ecdsa-x509', keyval: { public: Buffer.from(rootCertificate({ gun: GUN, key: s.key })).toString('base64') } };
    return { id: keyId(json.keytype, json.keyval.public), key: s.key, pub: parsePublicKey(json) };
  };
  /** The same key with its EC point compressed in the SPKI: another TUF key ID and canonical ID, same signatures. */
  const compressedForm = (s: Signer): Signer => {
    const jwk = s.pub.keyObject!.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]);
    const compressed = ECDH.convertKey(point, 'prime256v1', undefined, undefined, 'compressed') as Buffer;
    const spki = Buffer.concat([Buffer.from('3039301306072a8648ce3d020106082a8648ce3d030107032200', 'hex'), compressed]).toString('base64');
    const json = { keytype: 'ecdsa', keyval: { public: spki } };
    return { id: keyId(json.keytype, spki), key: s.key, pub: parsePublicKey(json) };
  };

  for (const [form, twinOf] of [
    ['ecdsa-x509', x509Form],
    ['point-compressed ecdsa', compressedForm],
  ] as const) {
    it(`the ecdsa and ${form} forms of one key, each signing, do not make threshold 2`, () => {
      const twin = twinOf(a);
      assert.notEqual(twin.id, a.id);
      const meta = signedBy([{ signer: a }, { signer: twin }]);
      const role = { keyids: [a.id, twin.id], threshold: 2 };
      assertCode(
        () => verifyThreshold(meta, keysOf(a, twin), role, GUN),
        'THRESHOLD_NOT_MET',
        new RegExp(`has 1 valid signature\\(s\\), needs 2: 1 more signature\\(s\\) are by a key already counted under another ID \\(${twin.id.slice(0, 12)} is the key ${a.id.slice(0, 12)} again\\)`),
      );
      // Either form alone meets threshold 1; with a distinct second key, 2.
      verifyThreshold(signedBy([{ signer: twin }]), keysOf(twin), { keyids: [twin.id], threshold: 1 }, GUN);
      verifyThreshold(signedBy([{ signer: twin }, { signer: b }]), keysOf(a, twin, b), { keyids: [a.id, twin.id, b.id], threshold: 2 }, GUN);
    });
  }

  it('a root rotation: two certificates of one trusted root key do not make the trusted threshold 2', () => {
    const gun = '127.0.0.1:5000/org/app';
    const now = new Date('2027-01-01T00:00:00Z');
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const certs = [1, 2].map(() => ({ keytype: 'ecdsa-x509', keyval: { public: Buffer.from(rootCertificate({ gun, key, now })).toString('base64') } }));
    const ids = certs.map((c) => parsePublicKey(c).id);
    assert.notEqual(ids[0], ids[1], 'two certificates (different serials) of one key');
    const make = (version: number) => {
      const signed = {
        _type: 'Root',
        consistent_snapshot: false,
        expires: '2030-01-01T00:00:00Z',
        version,
        keys: Object.fromEntries(ids.map((id, i) => [id, certs[i]])),
        roles: { root: { keyids: ids, threshold: 2 }, targets: { keyids: [ids[0]], threshold: 1 }, snapshot: { keyids: [ids[0]], threshold: 1 }, timestamp: { keyids: [ids[0]], threshold: 1 } },
      };
      const signatures = ids.map((keyid) => ({ keyid, method: 'ecdsa', sig: sign('sha256', canonicalize(signed), { key, dsaEncoding: 'ieee-p1363' }).toString('base64') }));
      return parseMetadata(Buffer.from(JSON.stringify({ signed, signatures })), 'root', 'Root');
    };
    const trusted = make(1);
    assertCode(() => verifyRootRotation(trusted, parseKeyMap(trusted.signed.keys, 'root'), make(2), gun), 'ROOT_ROTATION_INVALID', /needs 2: 1 more signature\(s\) are by a key already counted/);
  });
});

describe('checkFileMeta', () => {
  const snapshot = parseMetadata(fixtureBytes('snapshot'), 'snapshot', 'Snapshot');
  const timestamp = parseMetadata(fixtureBytes('timestamp'), 'timestamp', 'Timestamp');

  it('accepts every captured file against what the snapshot and timestamp announce', () => {
    for (const role of ['root', 'targets', 'targets/releases', 'targets/ci'] as const) {
      checkFileMeta(fixtureBytes(role), snapshot.signed.meta[role]!, role);
    }
    checkFileMeta(fixtureBytes('snapshot'), timestamp.signed.meta.snapshot, 'snapshot');
  });

  it('rejects a body of another length', () => {
    const raw = fixtureBytes('targets/ci');
    assertCode(() => checkFileMeta(Buffer.concat([raw, Buffer.from(' ')]), snapshot.signed.meta['targets/ci']!, 'targets/ci.json'), 'HASH_MISMATCH', /bytes/);
    assertCode(() => checkFileMeta(raw.subarray(1), snapshot.signed.meta['targets/ci']!, 'targets/ci.json'), 'HASH_MISMATCH');
  });

  it('rejects a same-length body with another sha256', () => {
    const raw = Buffer.from(fixtureBytes('targets/ci'));
    raw[raw.length - 3] = raw.readUInt8(raw.length - 3) ^ 1;
    assertCode(() => checkFileMeta(raw, snapshot.signed.meta['targets/ci']!, 'targets/ci.json'), 'HASH_MISMATCH', /sha256/);
  });

  it('checks sha512 too, even when sha256 matches', () => {
    const entry = structuredClone(snapshot.signed.meta['targets/ci']!);
    entry.hashes.sha512 = createHash('sha512').update('other').digest('base64');
    assertCode(() => checkFileMeta(fixtureBytes('targets/ci'), entry, 'targets/ci.json'), 'HASH_MISMATCH', /sha512/);
  });

  it('one known hash is enough; unknown algorithms are ignored', () => {
    const raw = fixtureBytes('targets/ci');
    checkFileMeta(raw, { length: raw.length, hashes: { sha512: createHash('sha512').update(raw).digest('base64') } }, 'x');
    checkFileMeta(raw, { length: raw.length, hashes: { md5: 'AAAA', sha256: createHash('sha256').update(raw).digest('base64') } }, 'x');
  });

  it('no known hash is HASH_MISMATCH', () => {
    const raw = fixtureBytes('targets/ci');
    assertCode(() => checkFileMeta(raw, { length: raw.length, hashes: {} }, 'x'), 'HASH_MISMATCH', /no sha256 or sha512/);
    assertCode(() => checkFileMeta(raw, { length: raw.length, hashes: { md5: createHash('md5').update(raw).digest('base64') } }, 'x'), 'HASH_MISMATCH');
  });
});

describe('checkNoRollback', () => {
  const meta = parseMetadata(fixtureBytes('targets/ci'), 'targets/ci', 'Targets');
  const v = meta.signed.version;

  it('allows the same or a newer version, or nothing trusted before', () => {
    checkNoRollback(meta, v, GUN);
    checkNoRollback(meta, v - 1, GUN);
    checkNoRollback(meta, undefined, GUN);
  });

  it('refuses an older version with ROLLBACK', () => {
    assertCode(() => checkNoRollback(meta, v + 1, GUN), 'ROLLBACK', new RegExp(`targets/ci\\.json is version ${v}, older than the version ${v + 1}`));
  });
});

describe('checkNotExpired', () => {
  const timestamp = parseMetadata(fixtureBytes('timestamp'), 'timestamp', 'Timestamp');

  it('the captured timestamp is valid at capture time and 13 days later', () => {
    checkNotExpired(timestamp, NOW, GUN);
    checkNotExpired(timestamp, new Date(NOW.getTime() + 13 * 86_400_000), GUN);
  });

  it('is EXPIRED from its expiry instant on', () => {
    assertCode(() => checkNotExpired(timestamp, timestamp.expires, GUN), 'EXPIRED', /timestamp\.json expired at/);
    assertCode(() => checkNotExpired(timestamp, new Date(NOW.getTime() + 15 * 86_400_000), GUN), 'EXPIRED');
    checkNotExpired(timestamp, new Date(timestamp.expires.getTime() - 1), GUN);
  });
});

describe('validRootCertificate', () => {
  const root = parseMetadata(fixtureBytes('root'), 'root', 'Root');
  const rootKeys = parseKeyMap(root.signed.keys, 'root');
  const captured = rootKeys.get(root.signed.roles.root.keyids[0]!)!;
  const certKey = (pem: string) => parsePublicKey({ keytype: 'ecdsa-x509', keyval: { public: Buffer.from(pem).toString('base64') } });
  const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

  it('accepts the captured root certificate for its GUN', () => {
    assert.equal(validRootCertificate(captured, GUN, NOW), true);
  });

  it('refuses it for another GUN, a longer or shorter one', () => {
    assert.equal(validRootCertificate(captured, `${GUN}x`, NOW), false);
    assert.equal(validRootCertificate(captured, GUN.slice(0, -1), NOW), false);
    assert.equal(validRootCertificate(captured, 'docker.io/library/alpine', NOW), false);
  });

  it('accepts a CN that is a prefix ending in * (notary MatchCNToGun)', () => {
    const now = new Date('2027-01-01T00:00:00Z');
    const wildcard = certKey(rootCertificate({ gun: 'registry.example.com/org/*', key: p256(), now }));
    assert.equal(validRootCertificate(wildcard, 'registry.example.com/org/app', now), true);
    assert.equal(validRootCertificate(wildcard, 'registry.example.com/org/team/app', now), true);
    assert.equal(validRootCertificate(wildcard, 'registry.example.com/other/app', now), false);
    const star = certKey(rootCertificate({ gun: '*', key: p256(), now }));
    assert.equal(validRootCertificate(star, 'anything.example/x', now), true);
  });

  it('refuses an expired certificate; notBefore may be up to a day ahead', () => {
    const from = new Date('2020-01-01T00:00:00Z');
    const cert = certKey(rootCertificate({ gun: GUN, key: p256(), now: from, days: 30 }));
    assert.equal(validRootCertificate(cert, GUN, new Date('2020-01-15T00:00:00Z')), true);
    assert.equal(validRootCertificate(cert, GUN, new Date('2020-01-31T00:00:00Z')), true);
    assert.equal(validRootCertificate(cert, GUN, new Date('2020-01-31T00:00:01Z')), false);
    assert.equal(validRootCertificate(cert, GUN, NOW), false);
    assert.equal(validRootCertificate(cert, GUN, new Date('2019-12-31T12:00:00Z')), true);
    assert.equal(validRootCertificate(cert, GUN, new Date('2019-12-30T23:00:00Z')), false);
  });

  it('without now, ignores expiry but still refuses an inverted validity window (notary ValidateCertificate)', () => {
    const from = new Date('2020-01-01T00:00:00Z');
    const expired = certKey(rootCertificate({ gun: GUN, key: p256(), now: from, days: 30 }));
    assert.equal(validRootCertificate(expired, GUN, NOW), false);
    assert.equal(validRootCertificate(expired, GUN, undefined), true);
    assert.equal(validRootCertificate(expired, `${GUN}x`, undefined), false);
    // notAfter 18 hours before notBefore: inside the day of leeway, but never valid.
    const inverted = certKey(rootCertificate({ gun: GUN, key: p256(), now: from, days: -0.75 }));
    assert.equal(validRootCertificate(inverted, GUN, undefined), false);
    assert.equal(validRootCertificate(inverted, GUN, new Date('2019-12-31T00:00:00Z')), false);
  });

  it('refuses a CA certificate with the right CN', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-ca-'));
    try {
      const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-subj', `/CN=${GUN.replace(/\//g, '\\/')}`, '-days', '30'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const ca = certKey(pem);
      assert.equal(ca.certificate!.ca, true);
      assert.match(ca.certificate!.subject, new RegExp(`CN=${GUN.replace(/[./]/g, '\\$&')}`));
      assert.equal(validRootCertificate(ca, GUN, new Date()), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses plain keys (no certificate)', () => {
    const targetsKey = rootKeys.get(root.signed.roles.targets.keyids[0]!)!;
    assert.equal(validRootCertificate(targetsKey, GUN, NOW), false);
    const tsKey = rootKeys.get(root.signed.roles.timestamp.keyids[0]!)!;
    assert.equal(validRootCertificate(tsKey, GUN, NOW), false);
  });
});

describe('verifyRootRotation', () => {
  // A registry with a port, as every local and test registry has: the GUN holds a ':'.
  const gun = '127.0.0.1:5000/org/app';
  const now = new Date('2027-01-01T00:00:00Z');
  const rootKey = () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
    const json = { keytype: 'ecdsa-x509', keyval: { public: Buffer.from(rootCertificate({ gun, key, now })).toString('base64') } };
    return { key, json, id: parsePublicKey(json).id };
  };
  type RootKey = ReturnType<typeof rootKey>;
  /** A root listing `listed` as its root key, signed by each of `signers`. */
  const root = (version: number, listed: RootKey, signers: RootKey[]): Metadata<RootSigned> => {
    const role = { keyids: [listed.id], threshold: 1 };
    const signed = { _type: 'Root', consistent_snapshot: false, expires: '2030-01-01T00:00:00Z', version, keys: { [listed.id]: listed.json }, roles: { root: role, targets: role, snapshot: role, timestamp: role } };
    const signatures = signers.map((s) => ({ keyid: s.id, method: 'ecdsa', sig: sign('sha256', canonicalize(signed), { key: s.key, dsaEncoding: 'ieee-p1363' }).toString('base64') }));
    return parseMetadata(Buffer.from(JSON.stringify({ signed, signatures })), 'root', 'Root');
  };
  const [oldKey, newKey] = [rootKey(), rootKey()];
  const trusted = root(1, oldKey, [oldKey]);
  const trustedKeys = parseKeyMap(trusted.signed.keys, 'root');

  it('accepts a new root that the trusted root key also signs', () => {
    verifyRootRotation(trusted, trustedKeys, root(2, newKey, [newKey, oldKey]), gun);
  });

  it('refuses one signed only by the new key, naming the GUN once and why', () => {
    assertCode(
      () => verifyRootRotation(trusted, trustedKeys, root(2, newKey, [newKey]), gun),
      'ROOT_ROTATION_INVALID',
      new RegExp(
        `^${gun.replace(/[.]/g, '\\.')}: root\\.json version 2 is not signed by 1 of the root key\\(s\\) trusted before \\(root version 1, keys ${oldKey.id.slice(0, 12)}\\): root\\.json has 0 valid signature\\(s\\), needs 1: no signature is by a key the role lists\\. A root signed only by new keys is refused`,
      ),
    );
  });
});
