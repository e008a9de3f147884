import assert from 'node:assert/strict';
import { createDecipheriv, pbkdf2Sync } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generateKey, keyFilePem, pkcs8, publicKeyId, publicKeyPem } from '../../src/tuf/key-file.ts';
import { parsePemBlocks, parsePrivateKey, readPrivateKey } from '../../src/tuf/private-key.ts';
import { assertCode } from './helpers/errors.ts';

const fixtureDir = new URL('../fixtures/notary/docker-signer-add/', import.meta.url);
const fixtureName = readdirSync(fixtureDir).find((f) => f.endsWith('.key'))!;
const fixturePem = readFileSync(new URL(fixtureName, fixtureDir), 'utf8');
const fixturePass = readFileSync(new URL('passphrase.txt', fixtureDir), 'utf8').trim();

/** PBES2 decryption by hand, reading salt, iterations and IV at docker's fixed offsets. */
function decryptByHand(pem: string, passphrase: string): Buffer {
  const d = parsePemBlocks(pem)[0]!.der;
  // 30 81 ee | 30 49 | 06 09 pbes2 | 30 3c | 30 1b | 06 09 pbkdf2 | 30 0e | 04 08 salt | 02 02 0800 | 30 1d | 06 09 aes | 04 10 iv | 04 81 a0 data
  const salt = d.subarray(35, 43);
  const iter = d.readUInt16BE(45);
  const iv = d.subarray(62, 78);
  const data = d.subarray(81);
  const key = pbkdf2Sync(passphrase, salt, iter, 32, 'sha1');
  const decipher = createDecipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([decipher.update(data), decipher.final()]);
}

function asn1(pem: string): string {
  const der = parsePemBlocks(pem)[0]!.der;
  return execFileSync('openssl', ['asn1parse', '-inform', 'DER'], { input: der, encoding: 'utf8' });
}

describe("key files in docker's format", () => {
  it('has the same ASN.1 layout as a key docker wrote (PBES2, PBKDF2-SHA1 2048 iterations, 8-byte salt, AES-256-CBC)', () => {
    const ours = keyFilePem(generateKey(), 'a passphrase', { role: 'ci' });
    // Offsets and lengths equal; only salt, IV and ciphertext bytes differ.
    const shape = (s: string) => s.replace(/\[HEX DUMP\]:[0-9A-F]+/g, '[HEX]');
    assert.equal(shape(asn1(ours)), shape(asn1(fixturePem)));
    assert.match(asn1(ours), /INTEGER +:0800/);
  });

  it("writes the plaintext docker writes: re-encoding docker's decrypted key gives its bytes", () => {
    const plain = decryptByHand(fixturePem, fixturePass);
    const { keyObject } = readPrivateKey(fixturePem, fixturePass);
    assert.deepEqual(pkcs8(keyObject), plain);
  });

  it("round-trips through the package's reader and keeps role and gun headers (sorted)", () => {
    const key = generateKey();
    const pem = keyFilePem(key, 'pw-123456', { role: 'targets', gun: 'example.com/org/app' });
    assert.match(pem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\ngun: example.com\/org\/app\nrole: targets\n\n/);
    const back = parsePrivateKey(pem, 'pw-123456');
    assert.equal(back.id, publicKeyId(key));
    assert.equal(back.role, 'targets');
    assert.equal(back.gun, 'example.com/org/app');
    assert.equal(decryptByHand(pem, 'pw-123456').equals(pkcs8(key)), true);
  });

  it('decrypts with openssl', () => {
    const pem = keyFilePem(generateKey(), 'pw-openssl', { role: 'ci' });
    const body = pem
      .split('\n')
      .filter((l) => !/^[a-z]+: /.test(l))
      .join('\n')
      .replace('-----\n\n', '-----\n');
    const out = execFileSync('openssl', ['pkey', '-passin', 'pass:pw-openssl', '-noout', '-text'], { input: body, encoding: 'utf8' });
    assert.match(out, /prime256v1|P-256/);
  });

  it('refuses the wrong passphrase with PASSPHRASE_WRONG', () => {
    const pem = keyFilePem(generateKey(), 'right', { role: 'ci' });
    assertCode(() => parsePrivateKey(pem, 'wrong'), 'PASSPHRASE_WRONG');
  });

  it('writes an unencrypted PRIVATE KEY block for an empty passphrase, as notary does', () => {
    const key = generateKey();
    const pem = keyFilePem(key, '', { role: 'root' });
    assert.match(pem, /^-----BEGIN PRIVATE KEY-----\nrole: root\n\n/);
    assert.equal(parsePrivateKey(pem, undefined).id, publicKeyId(key));
  });

  it('writes <name>.pub with a role header', () => {
    const key = generateKey();
    const pub = publicKeyPem(key, 'ci');
    assert.match(pub, /^-----BEGIN PUBLIC KEY-----\nrole: ci\n\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/);
  });
});
