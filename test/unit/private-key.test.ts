import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { parsePemBlocks, parsePrivateKey, type SigningKey } from '../../src/tuf/private-key.ts';
import { keyId, parsePublicKey, verifySignature } from '../../src/tuf/keys.ts';
import { ContentTrustError } from '../../src/errors.ts';
import { KEY_PEM, PASSPHRASE, PUBLIC_PEM, scenario } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

const code = (c: string) => (e: unknown) => e instanceof ContentTrustError && e.code === c;

function assertSignsVerifiably(key: SigningKey): void {
  const pub = parsePublicKey({ keytype: key.keytype, keyval: { public: key.public } });
  assert.equal(pub.id, key.id, 'a plain key: canonical ID = TUF ID');
  const message = Buffer.from('{"_type":"Targets","version":1}');
  const { method, sig } = key.sign(message);
  assert.equal(verifySignature(pub, method, message, sig), true, `${key.keytype}/${method} signature verifies`);
  assert.equal(verifySignature(pub, method, Buffer.from('other'), sig), false);
}

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spkiB64 = (k: ReturnType<typeof p256>['publicKey']) => k.export({ type: 'spki', format: 'der' }).toString('base64');

describe('parsePrivateKey', () => {
  describe('the key docker trust key generate wrote (captured)', () => {
    it("decrypts with the right passphrase; its ID is the file name's canonical ID", () => {
      const key = parsePrivateKey(KEY_PEM, PASSPHRASE);
      assert.equal(key.id, scenario.delegationKey.canonicalId);
      assert.equal(`${key.id}.key`, scenario.delegationKey.file);
      assert.equal(key.keytype, 'ecdsa');
      assert.equal(key.role, 'ci');
      assert.equal(key.gun, undefined);
    });

    it('its public half is the ci.pub docker wrote', () => {
      const key = parsePrivateKey(KEY_PEM, PASSPHRASE);
      const [pub] = parsePemBlocks(PUBLIC_PEM);
      assert.equal(pub!.label, 'PUBLIC KEY');
      assert.equal(pub!.headers.get('role'), 'ci');
      assert.equal(key.public, pub!.der.toString('base64'));
    });

    it('signs what keys.ts verifies', () => {
      assertSignsVerifiably(parsePrivateKey(KEY_PEM, PASSPHRASE));
    });

    it('a wrong passphrase is PASSPHRASE_WRONG', () => {
      assertCode(() => parsePrivateKey(KEY_PEM, 'not-the-passphrase'), 'PASSPHRASE_WRONG');
    });

    it('every wrong passphrase is PASSPHRASE_WRONG, also the ~1 in 600 that leave valid padding and fail as ASN.1', () => {
      // Before the fix these came out as KEY_INVALID ("asn1 encoding routines::header too long").
      for (let i = 0; i < 4000; i++) {
        assert.throws(() => parsePrivateKey(KEY_PEM, `wrong-${i}`), code('PASSPHRASE_WRONG'), `passphrase wrong-${i}`);
      }
    });

    it('no passphrase (or an empty one) is PASSPHRASE_MISSING', () => {
      assertCode(() => parsePrivateKey(KEY_PEM, undefined), 'PASSPHRASE_MISSING');
      assertCode(() => parsePrivateKey(KEY_PEM, ''), 'PASSPHRASE_MISSING');
    });

    it('accepts the PEM base64-encoded once, on one line or wrapped', () => {
      const b64 = Buffer.from(KEY_PEM).toString('base64');
      assert.equal(parsePrivateKey(b64, PASSPHRASE).id, scenario.delegationKey.canonicalId);
      const wrapped = `${b64.match(/.{1,76}/g)!.join('\n')}\n`;
      assert.equal(parsePrivateKey(wrapped, PASSPHRASE).id, scenario.delegationKey.canonicalId);
    });

    it('accepts CRLF line ends and surrounding white space', () => {
      const crlf = `\n  ${KEY_PEM.replace(/\n/g, '\r\n')}  \n`;
      assert.equal(parsePrivateKey(crlf, PASSPHRASE).id, scenario.delegationKey.canonicalId);
    });

    it('masks nothing into the error: messages do not contain the passphrase', () => {
      assert.throws(
        () => parsePrivateKey(KEY_PEM, 'secret-wrong-passphrase'),
        (e: unknown) => {
          assert.ok(e instanceof ContentTrustError && e.code === 'PASSPHRASE_WRONG', String(e));
          assert.ok(!e.message.includes('secret-wrong-passphrase'));
          return true;
        },
      );
    });
  });

  describe('other PEM forms', () => {
    it('unencrypted PKCS#8 PRIVATE KEY, with or without notary headers', () => {
      const { privateKey, publicKey } = p256();
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
      const key = parsePrivateKey(pem, undefined);
      assert.equal(key.id, keyId('ecdsa', spkiB64(publicKey)));
      assert.equal(key.role, undefined);
      const withHeaders = pem.replace('-----\n', '-----\nrole: releases\ngun: example.com/app\n\n');
      const k2 = parsePrivateKey(withHeaders, 'ignored');
      assert.equal(k2.id, key.id);
      assert.equal(k2.role, 'releases');
      assert.equal(k2.gun, 'example.com/app');
      assertSignsVerifiably(key);
    });

    it('SEC1 EC PRIVATE KEY, also after an EC PARAMETERS block as openssl ecparam -genkey writes it', () => {
      const { privateKey, publicKey } = p256();
      const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
      const key = parsePrivateKey(sec1, undefined);
      assert.equal(key.id, keyId('ecdsa', spkiB64(publicKey)));
      const params = '-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n';
      assert.equal(parsePrivateKey(params + sec1, undefined).id, key.id);
      assertSignsVerifiably(key);
    });

    it('legacy Proc-Type: 4,ENCRYPTED EC PRIVATE KEY', () => {
      const { privateKey, publicKey } = p256();
      const pem = privateKey.export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'legacy-pass' }) as string;
      assert.match(pem, /Proc-Type: 4,ENCRYPTED/);
      assert.equal(parsePrivateKey(pem, 'legacy-pass').id, keyId('ecdsa', spkiB64(publicKey)));
      assertCode(() => parsePrivateKey(pem, undefined), 'PASSPHRASE_MISSING');
      assertCode(() => parsePrivateKey(pem, 'wrong-pass'), 'PASSPHRASE_WRONG');
    });

    it('encrypted PKCS#8 written by OpenSSL (PBKDF2-HMAC-SHA256)', () => {
      const { privateKey, publicKey } = p256();
      const pem = privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pkcs8-pass' }) as string;
      assert.equal(parsePrivateKey(pem, 'pkcs8-pass').id, keyId('ecdsa', spkiB64(publicKey)));
      assertCode(() => parsePrivateKey(pem, 'wrong-pass'), 'PASSPHRASE_WRONG');
    });

    it('RSA keys (2048 bits and more) sign verifiably', () => {
      const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
      const rsaKey = parsePrivateKey(rsa, undefined);
      assert.equal(rsaKey.keytype, 'rsa');
      assertSignsVerifiably(rsaKey);
    });
  });

  describe('what is not a usable key', () => {
    it('a public key (ci.pub) is KEY_INVALID', () => {
      assertCode(() => parsePrivateKey(PUBLIC_PEM, PASSPHRASE), 'KEY_INVALID');
    });

    it('garbage, empty input and base64 of non-PEM are KEY_INVALID', () => {
      for (const input of ['garbage', '', '   ', 'aGVsbG8gd29ybGQ=', '{"keytype":"ecdsa"}']) {
        assert.throws(() => parsePrivateKey(input, PASSPHRASE), code('KEY_INVALID'), JSON.stringify(input));
      }
    });

    it('a PRIVATE KEY block with a corrupt body is KEY_INVALID', () => {
      assertCode(() => parsePrivateKey('-----BEGIN PRIVATE KEY-----\nAAAAAAAA\n-----END PRIVATE KEY-----\n', undefined), 'KEY_INVALID');
    });

    it('keys no docker repository can list for their owner are KEY_UNSUPPORTED, naming the key and the fix', () => {
      const label = { name: 'the test key', passphrase: 'TEST_PASSPHRASE' };
      const cases: [string, string][] = [
        ['P-384', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
        ['ed25519 (PKCS#8)', generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
        ['ed25519 as notary writes it', `-----BEGIN ED25519 PRIVATE KEY-----\nrole: targets\n\n${Buffer.alloc(64, 1).toString('base64')}\n-----END ED25519 PRIVATE KEY-----\n`],
        ['RSA 1024', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string],
        ['X25519', generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }) as string],
      ];
      for (const [name, pem] of cases) {
        assert.throws(
          () => parsePrivateKey(pem, undefined, label),
          (e: ContentTrustError) => {
            assert.equal(e.code, 'KEY_UNSUPPORTED', name);
            assert.match(e.message, /^the test key .*ECDSA P-256/, name);
            return true;
          },
        );
      }
    });

    it('a public key or a certificate where the private key belongs is KEY_INVALID saying so', () => {
      const { publicKey } = p256();
      const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string;
      assertCode(() => parsePrivateKey(pub, undefined, { name: 'the test key', passphrase: 'x' }), 'KEY_INVALID', /^the test key is a public key \(a \.pub file\)/);
      const cert = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
      assertCode(() => parsePrivateKey(cert, undefined, { name: 'the test key', passphrase: 'x' }), 'KEY_INVALID', /^the test key is a certificate/);
    });
  });
});

describe('parsePemBlocks', () => {
  it('reads headers up to the blank line and the base64 body', () => {
    const [block] = parsePemBlocks(KEY_PEM);
    assert.equal(block!.label, 'ENCRYPTED PRIVATE KEY');
    assert.deepEqual([...block!.headers], [['role', 'ci']]);
    assert.ok(block!.der.length > 100);
  });

  it('finds several blocks', () => {
    assert.deepEqual(
      parsePemBlocks(`${PUBLIC_PEM}\n${KEY_PEM}`).map((b) => b.label),
      ['PUBLIC KEY', 'ENCRYPTED PRIVATE KEY'],
    );
  });
});
