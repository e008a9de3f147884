/**
 * What OpenSC's pkcs11-tool 0.23 does with a SoftHSM 2.6 token, where the
 * product (src/signer/pkcs11.ts) relies on it or works around it. The
 * product tests that depend on these: test/integration/hsm.itg.test.ts (every
 * PKCS#11 test) and test/unit/signer.test.ts (the listings).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeSoftHsm, type SoftHsm, type TokenKey } from '../stack/softhsm.ts';

describe('pkcs11-tool 0.23 with SoftHSM 2.6', () => {
  let dir: string;
  let hsm: SoftHsm;
  let first: TokenKey;
  let second: TokenKey;
  /** pkcs11-tool on the token's module; `pin` goes in the variable TOKEN_PIN of its own environment. */
  const tool = (args: string[], options: { pin?: string; input?: Buffer } = {}) => {
    const r = spawnSync('pkcs11-tool', ['--module', hsm.module, ...args], { env: { ...hsm.env, ...(options.pin !== undefined ? { TOKEN_PIN: options.pin } : {}) }, input: options.input ?? Buffer.alloc(0), timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
  };
  const digest = createHash('sha256').update('metadata').digest();
  const verifies = (key: KeyObject, sig: Buffer) => sig.length === 64 && verify('sha256', Buffer.from('metadata'), { key, dsaEncoding: 'ieee-p1363' }, sig);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pkcs11-tool-'));
    hsm = await makeSoftHsm(dir);
    first = await hsm.generate('first', '01');
    second = await hsm.generate('second', '02');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  // Product side: the PIN never on a command line (pkcs11.ts #run; hsm.itg.test.ts › signs through a PKCS#11 URI, the PIN never on a command line).
  it('pkcs11-tool 0.23: --pin env:NAME logs in with the value of NAME in its own environment; a wrong one fails with CKR_PIN_INCORRECT on stderr', () => {
    const list = (pin: string) => tool(['--token-label', hsm.label, '--login', '--pin', 'env:TOKEN_PIN', '--list-objects', '--type', 'privkey'], { pin });
    const right = list(hsm.pin);
    assert.equal(right.status, 0, right.stderr);
    assert.match(right.stdout.toString('utf8'), /Private Key Object; EC\n {2}label: {6}first\n {2}ID: {9}01\n/);
    const wrong = list('not-the-pin');
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /CKR_PIN_INCORRECT/);
  });

  // Product side: the key is chosen by ID from the listing, never by --label (pkcs11.ts chooseKey, sign).
  it('pkcs11-tool 0.23: --sign finds its key by --id only: with a --label no key has, it signs with the first private key anyway; with an --id no key has, it fails', () => {
    const r = tool(['--token-label', hsm.label, '--login', '--pin', 'env:TOKEN_PIN', '--sign', '--mechanism', 'ECDSA', '--label', 'no-such-key'], { pin: hsm.pin, input: digest });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(verifies(first.publicKey, r.stdout) || verifies(second.publicKey, r.stdout), 'a signature by one of the keys there');
    const byId = tool(['--token-label', hsm.label, '--login', '--pin', 'env:TOKEN_PIN', '--sign', '--mechanism', 'ECDSA', '--id', '7f'], { pin: hsm.pin, input: digest });
    assert.notEqual(byId.status, 0);
    assert.match(byId.stderr, /Private key not found/);
  });

  // Product side: the raw ECDSA mechanism over the digest the product makes (pkcs11.ts sign; signature.ts reads both forms).
  it('pkcs11-tool 0.23: --sign --mechanism ECDSA signs the bytes on stdin as the digest; --signature-format rs prints r‖s, openssl prints DER', () => {
    const sign = (format: string) => tool(['--token-label', hsm.label, '--login', '--pin', 'env:TOKEN_PIN', '--sign', '--mechanism', 'ECDSA', '--id', '02', '--signature-format', format], { pin: hsm.pin, input: digest });
    const rs = sign('rs');
    assert.equal(rs.status, 0, rs.stderr);
    assert.ok(verifies(second.publicKey, rs.stdout));
    const der = sign('openssl');
    assert.equal(der.stdout[0], 0x30, 'a DER SEQUENCE');
    assert.ok(verify('sha256', Buffer.from('metadata'), { key: second.publicKey, dsaEncoding: 'der' }, der.stdout));
  });

  // Product side: the token is chosen from the --list-token-slots listing and named by --slot (pkcs11.ts chooseSlot; hsm.itg.test.ts › a token that is not there).
  it("pkcs11-tool 0.23: --token-label matches a prefix of the token's label; --slot takes the slot ID as --list-token-slots prints it (0x…)", () => {
    const prefix = tool(['--token-label', hsm.label.slice(0, 1), '--list-objects', '--type', 'pubkey']);
    assert.equal(prefix.status, 0, prefix.stderr);
    assert.match(prefix.stdout.toString('utf8'), /label: {6}first/, 'a prefix of "ci" selects "ci"');
    const slots = tool(['--list-token-slots']).stdout.toString('utf8');
    const slot = new RegExp(`Slot \\d+ \\((0x[0-9a-f]+)\\): .*\\n {2}token label {8}: ${hsm.label}\\n`).exec(slots)?.[1];
    assert.ok(slot, slots);
    const bySlot = tool(['--slot', slot, '--list-objects', '--type', 'pubkey']);
    assert.equal(bySlot.status, 0, bySlot.stderr);
    assert.match(bySlot.stdout.toString('utf8'), /label: {6}second/);
  });

  // Product side: pkcs11.ts readPublicKey (DER first, the listing's EC_POINT/EC_PARAMS for other curves; hsm.itg.test.ts › a key that is not P-256 ECDSA).
  it('pkcs11-tool 0.23: --read-object --type pubkey prints a P-256 key as its DER SubjectPublicKeyInfo, but fails for a P-384 key ("cannot create EVP_PKEY"), whose EC_POINT and EC_PARAMS the listing shows', () => {
    const p256 = tool(['--token-label', hsm.label, '--read-object', '--type', 'pubkey', '--id', '01']);
    assert.equal(p256.status, 0, p256.stderr);
    assert.ok(createPublicKey({ key: p256.stdout, format: 'der', type: 'spki' }).equals(first.publicKey));
    const gen = tool(['--token-label', hsm.label, '--login', '--pin', 'env:TOKEN_PIN', '--keypairgen', '--key-type', 'EC:secp384r1', '--label', 'p384', '--id', '30'], { pin: hsm.pin });
    assert.equal(gen.status, 0, gen.stderr);
    const p384 = tool(['--token-label', hsm.label, '--read-object', '--type', 'pubkey', '--id', '30']);
    assert.notEqual(p384.status, 0);
    assert.match(p384.stderr, /cannot create EVP_PKEY/);
    const listing = tool(['--token-label', hsm.label, '--list-objects', '--type', 'pubkey']).stdout.toString('utf8');
    assert.match(listing, /Public Key Object; EC {2}EC_POINT 384 bits\n {2}EC_POINT: {3}0461[0-9a-f]{194}\n {2}EC_PARAMS: {2}06052b81040022\n {2}label: {6}p384\n {2}ID: {9}30\n/);
  });

  // Product side: PKCS11_MODULE_INVALID (pkcs11.ts #classify; hsm.itg.test.ts › a module that does not load).
  it('pkcs11-tool 0.23: a module that is no shared library fails with "Failed to load pkcs11 module"', () => {
    const r = spawnSync('pkcs11-tool', ['--module', '/etc/hostname', '--list-token-slots'], { env: hsm.env, timeout: 60_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.toString('utf8'), /Failed to load pkcs11 module/);
  });
});
