import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { keyId, parseKeyMap, parsePublicKey, verifySignature, type TufKeyJson } from '../../src/tuf/keys.ts';
import { ContentTrustError } from '../../src/errors.ts';
import { fixtureBytes, scenario, type FixtureRole } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

interface Envelope {
  signed: { keys?: Record<string, TufKeyJson>; roles?: Record<string, { keyids: string[] }>; delegations?: { keys: Record<string, TufKeyJson> } };
  signatures: { keyid: string; method: string; sig: string }[];
}
const parse = (role: FixtureRole) => JSON.parse(fixtureBytes(role).toString('utf8')) as Envelope;
const root = parse('root');
const rootKeys = root.signed.keys!;
const roleKeyId = (role: string) => root.signed.roles![role]!.keyids[0]!;
const code = (c: string) => (e: unknown) => e instanceof ContentTrustError && e.code === c;

/** P-256 group order n. */
const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
const toHex32 = (v: bigint) => v.toString(16).padStart(64, '0');

describe('keyId', () => {
  it("matches the key ID vector in docker/cli's cli/command/trust/key_load_test.go", () => {
    const pub = 'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEUIH9AYtrcDFzZrFJBdJZkn21d+4cH3nzy2O6Q/ct4BjOBKa+WCdRtPo78bA+C/7t81ADQO8Jqaj59W50rwoqDQ==';
    assert.equal(keyId('ecdsa', pub), '46157cb0becf9c72c3219e11d4692424fef9bf4460812ccc8a71a3dfcafc7e60');
  });

  it('is the sha256 of {"keytype","keyval":{"private":null,"public"}} in canonical form', () => {
    const expected = createHash('sha256').update('{"keytype":"ed25519","keyval":{"private":null,"public":"AAAA"}}').digest('hex');
    assert.equal(keyId('ed25519', 'AAAA'), expected);
  });

  it('reproduces every key ID in the captured root and targets', () => {
    for (const keys of [rootKeys, parse('targets').signed.delegations!.keys]) {
      for (const [id, k] of Object.entries(keys)) assert.equal(keyId(k.keytype, k.keyval.public), id);
    }
  });
});

describe('parsePublicKey', () => {
  it("root certificate (ecdsa-x509): TUF ID ≠ canonical ID, and the canonical ID names docker's root key file", () => {
    const id = roleKeyId('root');
    const key = parsePublicKey(rootKeys[id]!);
    assert.equal(key.keytype, 'ecdsa-x509');
    assert.equal(key.id, id);
    assert.notEqual(key.canonicalId, key.id);
    assert.equal(key.canonicalId, scenario.privateKeyFileIds.root);
    const spki = key.certificate!.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    assert.equal(key.canonicalId, keyId('ecdsa', spki));
    assert.match(key.certificate!.subject, new RegExp(`CN=${scenario.gun.replace(/[.]/g, '\\.')}`));
  });

  it("targets key (ecdsa): canonical ID = TUF ID = docker's targets key file name", () => {
    const key = parsePublicKey(rootKeys[roleKeyId('targets')]!);
    assert.equal(key.keytype, 'ecdsa');
    assert.equal(key.canonicalId, key.id);
    assert.equal(key.id, scenario.privateKeyFileIds.targets);
  });

  it('delegation key from docker trust signer add: ecdsa, ID = the private key file name', () => {
    const [id, json] = Object.entries(parse('targets').signed.delegations!.keys)[0]!;
    const key = parsePublicKey(json);
    assert.equal(key.keytype, 'ecdsa');
    assert.equal(key.id, id);
    assert.equal(key.canonicalId, scenario.delegationKey.canonicalId);
  });

  it('server-held timestamp and snapshot keys are ed25519 (the local signer)', () => {
    for (const role of ['timestamp', 'snapshot']) {
      const key = parsePublicKey(rootKeys[roleKeyId(role)]!);
      assert.equal(key.keytype, 'ed25519');
      assert.equal(Buffer.from(key.public, 'base64').length, 32);
      assert.equal(key.keyObject?.asymmetricKeyType, 'ed25519');
    }
  });

  it('rejects an ed25519 key that is not 32 bytes, and garbage SPKI, with METADATA_INVALID', () => {
    assertCode(() => parsePublicKey({ keytype: 'ed25519', keyval: { public: Buffer.alloc(31).toString('base64') } }), 'METADATA_INVALID');
    assertCode(() => parsePublicKey({ keytype: 'ecdsa', keyval: { public: 'bm90IGEga2V5' } }), 'METADATA_INVALID');
    assertCode(() => parsePublicKey({ keytype: 'ecdsa-x509', keyval: { public: 'bm90IGEgY2VydA==' } }), 'METADATA_INVALID');
  });

  it('parses an unknown key type but verifies nothing with it', () => {
    const key = parsePublicKey({ keytype: 'future', keyval: { public: 'AAAA' } });
    assert.equal(key.keyObject, undefined);
    assert.equal(verifySignature(key, 'ecdsa', Buffer.from('m'), Buffer.alloc(64)), false);
  });
});

describe('parseKeyMap', () => {
  it('parses the captured root keys by ID', () => {
    const keys = parseKeyMap(rootKeys, 'root');
    assert.deepEqual([...keys.keys()].sort(), Object.keys(rootKeys).sort());
  });

  it('a key listed under another ID is KEY_ID_MISMATCH naming where', () => {
    const [id, json] = Object.entries(rootKeys)[0]!;
    const forged = { ['0'.repeat(64)]: json };
    assert.throws(
      () => parseKeyMap(forged, 'gun root.json'),
      (e: unknown) => code('KEY_ID_MISMATCH')(e) && /gun root\.json/.test((e as Error).message) && (e as Error).message.includes(id),
    );
  });
});

describe('verifySignature', () => {
  const ci = parse('targets/ci');
  const ciSig = Buffer.from(ci.signatures[0]!.sig, 'base64');
  const ciKey = parsePublicKey(Object.values(parse('targets').signed.delegations!.keys)[0]!);
  const ciMessage = canonicalize((ci as unknown as { signed: unknown }).signed);

  it('verifies the captured ecdsa signature (raw r||s, 64 bytes)', () => {
    assert.equal(ciSig.length, 64);
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, ciSig), true);
  });

  it('accepts the other-S form: s → n−s of a captured signature still verifies (Go does not require low-S)', () => {
    const s = BigInt(`0x${ciSig.subarray(32).toString('hex')}`);
    const flipped = Buffer.concat([ciSig.subarray(0, 32), Buffer.from(toHex32(N - s), 'hex')]);
    assert.notDeepEqual(flipped, ciSig);
    const highS = s > N / 2n ? ciSig : flipped;
    assert.ok(BigInt(`0x${highS.subarray(32).toString('hex')}`) > N / 2n, 'one of the two is high-S');
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, flipped), true);
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, highS), true);
  });

  it('verifies the root signature with the certificate key and the timestamp one with ed25519', () => {
    const keys = parseKeyMap(rootKeys, 'root');
    const rootMsg = canonicalize((root as unknown as { signed: unknown }).signed);
    const rs = root.signatures[0]!;
    assert.equal(verifySignature(keys.get(rs.keyid)!, rs.method, rootMsg, Buffer.from(rs.sig, 'base64')), true);
    const ts = parse('timestamp');
    const t = ts.signatures[0]!;
    assert.equal(t.method, 'eddsa');
    assert.equal(verifySignature(keys.get(t.keyid)!, 'eddsa', canonicalize((ts as unknown as { signed: unknown }).signed), Buffer.from(t.sig, 'base64')), true);
  });

  it('rejects a tampered message', () => {
    const tampered = Buffer.from(ciMessage.toString('utf8').replace('"version":2', '"version":3'));
    assert.equal(verifySignature(ciKey, 'ecdsa', tampered, ciSig), false);
  });

  it('rejects a wrong method for the key', () => {
    for (const method of ['eddsa', 'rsapss', 'rsapkcs1v15', 'ECDSA', '']) {
      assert.equal(verifySignature(ciKey, method, ciMessage, ciSig), false, method);
    }
  });

  it('rejects ecdsa signatures that are not exactly 64 bytes, DER included', () => {
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, ciSig.subarray(0, 63)), false);
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, Buffer.concat([ciSig, Buffer.alloc(1)])), false);
    assert.equal(verifySignature(ciKey, 'ecdsa', ciMessage, Buffer.alloc(0)), false);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const pub = parsePublicKey({ keytype: 'ecdsa', keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') } });
    const der = sign('sha256', ciMessage, privateKey);
    assert.equal(verifySignature(pub, 'ecdsa', ciMessage, der), false);
    const raw = sign('sha256', ciMessage, { key: privateKey, dsaEncoding: 'ieee-p1363' });
    assert.equal(verifySignature(pub, 'ecdsa', ciMessage, raw), true);
  });

  it('rejects an ed25519 signature of the wrong length and by another key', () => {
    const keys = parseKeyMap(rootKeys, 'root');
    const ts = parse('timestamp');
    const msg = canonicalize((ts as unknown as { signed: unknown }).signed);
    const sig = Buffer.from(ts.signatures[0]!.sig, 'base64');
    const tsKey = keys.get(roleKeyId('timestamp'))!;
    assert.equal(verifySignature(tsKey, 'eddsa', msg, sig.subarray(1)), false);
    assert.equal(verifySignature(keys.get(roleKeyId('snapshot'))!, 'eddsa', msg, sig), false);
    assert.equal(verifySignature(tsKey, 'ecdsa', msg, sig), false);
  });

  it('verifies rsapss (salt 32) and rsapkcs1v15 for rsa keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const key = parsePublicKey({ keytype: 'rsa', keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') } });
    const msg = Buffer.from('{"a":1}');
    const pss = sign('sha256', msg, { key: privateKey, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 });
    const v15 = sign('sha256', msg, privateKey);
    assert.equal(verifySignature(key, 'rsapss', msg, pss), true);
    assert.equal(verifySignature(key, 'rsapkcs1v15', msg, v15), true);
    assert.equal(verifySignature(key, 'ecdsa', msg, pss), false);
  });
});
