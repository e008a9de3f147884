import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { before, describe, it } from 'node:test';
import { externalSigningKey } from '../../src/signer/external-key.ts';
import { loadSigner, toSigningKey } from '../../src/tuf/private-key.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { generateKey, publicKeyId } from '../../src/tuf/key-file.ts';
import { parsePublicKey } from '../../src/tuf/keys.ts';
import { validRootCertificate } from '../../src/tuf/verify.ts';

describe('root certificate', () => {
  const gun = '127.0.0.1:5000/org/app';
  const key = generateKey();
  const now = new Date('2026-11-25T10:00:00.250Z');
  const pem = rootCertificate({ gun, key, now });
  const cert = new X509Certificate(pem);

  it('is self-signed by the key, CN=<GUN> subject and issuer, not a CA, valid 3650 days', () => {
    assert.equal(cert.subject, `CN=${gun}`);
    assert.equal(cert.issuer, `CN=${gun}`);
    assert.equal(cert.ca, false);
    assert.equal(cert.verify(cert.publicKey), true);
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-11-25T10:00:00.000Z');
    assert.equal(new Date(cert.validTo).toISOString(), '2036-11-22T10:00:00.000Z');
    assert.equal(BigInt(`0x${cert.serialNumber}`) < 2n ** 128n, true);
  });

  it("carries exactly notary's three extensions", () => {
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pem, encoding: 'utf8' });
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
    assert.match(text, /X509v3 Extended Key Usage: \n\s+Code Signing\n/);
    assert.match(text, /X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    assert.equal((text.match(/X509v3 [A-Z]/g) ?? []).length, 3);
  });

  it("is a valid notary root key whose canonical ID is the plain key's ID", () => {
    const pub = parsePublicKey({ keytype: 'ecdsa-x509', keyval: { public: Buffer.from(pem).toString('base64'), private: null } });
    assert.equal(pub.canonicalId, publicKeyId(key));
    assert.notEqual(pub.id, pub.canonicalId);
    assert.equal(validRootCertificate(pub, gun, now), true);
    assert.equal(validRootCertificate(pub, 'other/gun', now), false);
  });

  it('uses UTF8String for a GUN PrintableString cannot hold', () => {
    const c = new X509Certificate(rootCertificate({ gun: 'registry.example/org/my_app', key, now }));
    assert.equal(c.subject, 'CN=registry.example/org/my_app');
  });

  describe("with the root key held elsewhere: the same builder signs the to-be-signed bytes with the key's signer (r‖s over SHA-256) and carries the signature as DER", () => {
    before(() => loadSigner());
    /** A token's key as the product opens one: SHA-256 digests signed outside, r‖s back. */
    const tokenKey = (k: KeyObject) =>
      externalSigningKey({
        publicKey: createPublicKey(k),
        name: 'the root-key input (token "ci")',
        mismatch: () => 'mismatch',
        signDigest: (digest) => [Buffer.from(p256.sign(digest, Buffer.from(k.export({ format: 'jwk' }).d!, 'base64url'), { prehash: false, format: 'compact' }))],
      });

    it("a key file's SigningKey and a token's key make certificates of the same shape, self-signed, DER signatures; the canonical ID is the key's", () => {
      for (const signer of [toSigningKey(key, 'root', undefined), tokenKey(key)]) {
        const made = rootCertificate({ gun, key: signer, now });
        const c = new X509Certificate(made);
        assert.equal(c.verify(createPublicKey(key)), true);
        assert.equal(c.subject, `CN=${gun}`);
        const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: made, encoding: 'utf8' });
        assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
        const pub = parsePublicKey({ keytype: 'ecdsa-x509', keyval: { public: Buffer.from(made).toString('base64'), private: null } });
        assert.equal(pub.canonicalId, signer.id);
        assert.equal(validRootCertificate(pub, gun, now), true);
      }
    });

    it('a signer that does not give ECDSA P-256 r‖s, or one whose signature does not verify, makes no certificate', () => {
      const signer = toSigningKey(key, 'root', undefined);
      assert.throws(() => rootCertificate({ gun, key: { ...signer, sign: () => ({ method: 'ecdsa', sig: Buffer.alloc(70) }) }, now }), /not ECDSA P-256 r‖s/);
      assert.throws(() => rootCertificate({ gun, key: { ...signer, sign: () => ({ method: 'ecdsa', sig: Buffer.alloc(64, 1) }) }, now }), /does not verify/);
      assert.throws(() => rootCertificate({ gun, key: { ...signer, keytype: 'rsa' }, now }), /needs an ECDSA P-256 key/);
    });
  });
});
