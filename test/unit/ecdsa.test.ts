import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import { signP256 } from '../../src/tuf/ecdsa.ts';
import { parsePublicKey, verifySignature, type PublicKey } from '../../src/tuf/keys.ts';
import { toSigningKey } from '../../src/tuf/private-key.ts';

/** The order of the P-256 group (FIPS 186-4 D.1.2.3). */
const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const hex = (h: string) => Buffer.from(h, 'hex');
const scalar = (n: bigint) => hex(n.toString(16).padStart(64, '0'));
const rs = (sig: Buffer) => ({ r: BigInt(`0x${sig.subarray(0, 32).toString('hex')}`), s: BigInt(`0x${sig.subarray(32).toString('hex')}`) });
/** The same signature with s replaced by n - s (the other half of the order). */
const twin = (sig: Buffer) => Buffer.concat([sig.subarray(0, 32), scalar(N - rs(sig).s)]);

// RFC 6979 appendix A.2.5, ECDSA 256 bits (prime field): NIST P-256.
const X = 'C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721';
const UX = '60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6';
const UY = '7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299';
const VECTORS = [
  {
    message: 'sample', // With SHA-256, message = "sample"
    r: 'EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716',
    s: 'F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8',
  },
  {
    message: 'test', // With SHA-256, message = "test"
    r: 'F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367',
    s: '019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083',
  },
];

const jwk = { kty: 'EC', crv: 'P-256', x: hex(UX).toString('base64url'), y: hex(UY).toString('base64url'), d: hex(X).toString('base64url') };
const rfcPrivate = createPrivateKey({ key: jwk, format: 'jwk' });
/** The RFC's public key as a TUF "ecdsa" key, as notary publishes one. */
const rfcPublic: PublicKey = parsePublicKey({ keytype: 'ecdsa', keyval: { public: createPublicKey(rfcPrivate).export({ type: 'spki', format: 'der' }).toString('base64') } });

describe('signP256: RFC 6979 A.2.5 (P-256, SHA-256)', () => {
  for (const v of VECTORS) {
    const message = Buffer.from(v.message);
    const published = Buffer.concat([hex(v.r), hex(v.s)]);
    const high = BigInt(`0x${v.s}`) > N / 2n;

    it(`"${v.message}": r as published, s ${high ? "normalised to n - s (the RFC's s is high)" : 'as published (already low)'}`, () => {
      const sig = signP256(hex(X), message);
      assert.equal(sig.length, 64);
      assert.equal(sig.subarray(0, 32).toString('hex').toUpperCase(), v.r);
      assert.deepEqual(sig, high ? twin(published) : published);
    });

    it(`"${v.message}": the RFC's signature and its n - s twin both verify (node:crypto, as Go: either half of S)`, () => {
      assert.ok(verifySignature(rfcPublic, 'ecdsa', message, published));
      assert.ok(verifySignature(rfcPublic, 'ecdsa', message, twin(published)));
      assert.ok(!verifySignature(rfcPublic, 'ecdsa', Buffer.from(`${v.message}.`), published));
    });

    it(`"${v.message}": toSigningKey reads the scalar from the key object and signs the same bytes`, () => {
      const key = toSigningKey(rfcPrivate, undefined, undefined);
      assert.deepEqual(key.sign(message), { method: 'ecdsa', sig: signP256(hex(X), message) });
    });
  }

  it('the signing key shows its scalar nowhere (it lives in the sign closure only)', () => {
    const key = toSigningKey(rfcPrivate, 'targets/ci', 'example.com/app');
    const shown = `${JSON.stringify(key)}\n${inspect(key, { depth: Infinity, showHidden: true, getters: true })}`;
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      const d = hex(X).toString(encoding);
      assert.ok(!shown.toLowerCase().includes(d.toLowerCase()), `the scalar shows in ${encoding}`);
    }
  });

  it('covers one high-S and one low-S case', () => {
    assert.deepEqual(
      VECTORS.map((v) => BigInt(`0x${v.s}`) > N / 2n),
      [true, false],
    );
  });
});

describe('signP256', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const d = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
  const pub = parsePublicKey({ keytype: 'ecdsa', keyval: { public: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64') } });

  it('is deterministic: the same message gives the same bytes, another message others', () => {
    const m = Buffer.from('{"signed":{}}');
    assert.deepEqual(signP256(d, m), signP256(d, Buffer.from(m)));
    assert.notDeepEqual(signP256(d, m), signP256(d, Buffer.from('{"signed":{} }')));
  });

  it('always writes low S, 64 bytes, and verifies with node:crypto', () => {
    for (let i = 0; i < 40; i++) {
      const m = Buffer.from(`message ${i}`);
      const sig = signP256(d, m);
      assert.equal(sig.length, 64);
      const { r, s } = rs(sig);
      assert.ok(r > 0n && r < N && s > 0n && s <= N / 2n, `s is high for message ${i}`);
      assert.ok(verifySignature(pub, 'ecdsa', m, sig));
    }
  });

  it('a high-S signature (Go and OpenSSL write one half the time) still verifies, as does its low-S twin', () => {
    for (let i = 0; i < 3; i++) {
      const m = Buffer.from(`node ${i}`);
      const sig = nodeSign('sha256', m, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const high = rs(sig).s > N / 2n ? sig : twin(sig);
      assert.ok(rs(high).s > N / 2n);
      assert.ok(verifySignature(pub, 'ecdsa', m, high));
      assert.ok(verifySignature(pub, 'ecdsa', m, twin(high)));
    }
  });

  it('refuses a scalar that is not 32 bytes', () => {
    assert.throws(() => signP256(d.subarray(1), Buffer.from('m')), RangeError);
    assert.throws(() => signP256(Buffer.concat([d, Buffer.alloc(1)]), Buffer.from('m')), RangeError);
  });
});
