/**
 * Keys held outside the runner (src/signer/): the PKCS#11 URI parser, the
 * readings of a key service's signature output, pkcs11-tool's listings (as
 * pkcs11-tool 0.23 prints them for SoftHSM 2.6), the signing key that
 * checks every signature before use, the environment outside programs get,
 * and the action inputs that name such keys. No program runs here: the
 * token and the commands are driven in test/integration/hsm.itg.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { useActionInputs } from './helpers/action-inputs.ts';
import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { isPkcs11Uri, parsePkcs11Uri } from '../../src/signer/pkcs11-uri.ts';
import { derToRaw, signatureCandidates } from '../../src/signer/signature.ts';
import { ecdsaSigValue } from '../../src/tuf/der.ts';
import { parsePrivateKeys, parsePublicKeys, parseSlots } from '../../src/signer/pkcs11.ts';
import { childEnv, externalSigningKey } from '../../src/signer/external-key.ts';
import { readCommandPublicKey, signCommandSettings } from '../../src/signer/sign-command.ts';
import { keyId, parsePublicKey, verifySignature } from '../../src/tuf/keys.ts';
import { getInputs, keyInput } from '../../src/action/inputs.ts';
import { inputKeys } from '../../src/action/input-keys.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { assertCode } from './helpers/errors.ts';
import { KEY_PEM, PASSPHRASE, PUBLIC_PEM } from './helpers/fixtures.ts';

const WHERE = 'the delegation-key input';
const ACTION_NAMES = { publicKey: 'the delegation-public-key input', addSigner: '`docker trust signer add`' };

describe('PKCS#11 URIs (RFC 7512)', () => {
  it('reads the token, the key label and its ID (percent-decoded bytes, as hex); the scheme in any case', () => {
    assert.deepEqual(parsePkcs11Uri('pkcs11:token=ci;object=dct-signer', WHERE), { token: 'ci', object: 'dct-signer' });
    assert.deepEqual(parsePkcs11Uri(' PKCS11:token=ci;id=%01%Ab ', WHERE), { token: 'ci', id: '01ab' });
    assert.equal(isPkcs11Uri('pkcs11:object=x'), true);
    assert.equal(isPkcs11Uri('-----BEGIN ENCRYPTED PRIVATE KEY-----'), false);
  });

  it('percent-decodes text as UTF-8, whole characters outside the BMP included', () => {
    assert.deepEqual(parsePkcs11Uri('pkcs11:token=my%20token;object=cl%C3%A9-€-😀', WHERE), { token: 'my token', object: 'clé-€-😀' });
  });

  it('takes serial, manufacturer, model, slot-id, type=private, and module-path after "?"', () => {
    assert.deepEqual(parsePkcs11Uri('pkcs11:serial=6847253f87a79768;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;slot-id=128423784;type=private;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so', WHERE), {
      serial: '6847253f87a79768',
      manufacturer: 'SoftHSM project',
      model: 'SoftHSM v2',
      slotId: '128423784',
      id: '01',
      modulePath: '/usr/lib/softhsm/libsofthsm2.so',
    });
  });

  it('refuses a PIN in the URI, by name, without repeating it; and pin-source', () => {
    const e = assertCode(() => parsePkcs11Uri('pkcs11:token=ci;object=k?pin-value=S3cr3t-PIN', WHERE), 'PKCS11_URI_INVALID', /pin-value is not supported here: .*passphrase/);
    assert.ok(!e.message.includes('S3cr3t-PIN'));
    assertCode(() => parsePkcs11Uri('pkcs11:object=k?pin-source=file:/etc/pin', WHERE), 'PKCS11_URI_INVALID', /pin-source/);
  });

  it('refuses what it cannot honour rather than ignoring it: module-name, library-*, slot-description, vendor attributes, type other than private', () => {
    for (const [uri, named] of [
      ['pkcs11:object=k?module-name=softhsm2', 'module-name'],
      ['pkcs11:library-manufacturer=OpenSC;object=k', 'library-manufacturer'],
      ['pkcs11:slot-description=x;object=k', 'slot-description'],
      ['pkcs11:x-vendor=1;object=k', '"x-vendor"'],
      ['pkcs11:colour=red;object=k', '"colour"'],
      ['pkcs11:object=k?foo=bar', '"foo"'],
      ['pkcs11:object=k;type=cert', 'type must be "private"'],
    ] as const) {
      assertCode(() => parsePkcs11Uri(uri, WHERE), 'PKCS11_URI_INVALID', named);
    }
  });

  it('refuses malformed URIs, naming what is wrong and the input', () => {
    for (const [uri, why] of [
      ['pkcs11:token=ci', /names no key: add object=/],
      ['pkcs11:token=ci;token=x;object=k', /"token" is given twice/],
      ['pkcs11:object=%4', /"%" not followed by two hex digits/],
      ['pkcs11:object=%ff', /not UTF-8/],
      ['pkcs11:object=', /object is empty/],
      ['pkcs11:id=', /id is empty/],
      ['pkcs11:object=a b', /percent-encode it/],
      ['pkcs11:object=k;module-path=/x.so', /module-path is a query attribute/],
      ['pkcs11:slot-id=0x1;object=k', /slot-id must be a decimal number/],
      ['pkcs11:object', /is not a name=value attribute/],
      [`pkcs11:object=${'a'.repeat(5000)}`, /5014 characters long/],
      ['pkcs12:object=k', /does not start with "pkcs11:"/],
    ] as const) {
      assertCode(() => parsePkcs11Uri(uri, WHERE), 'PKCS11_URI_INVALID', new RegExp(`^${WHERE} is not a usable PKCS#11 URI: .*${why.source}`));
    }
  });
});

describe('signatures as key services print them', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const message = Buffer.from('{"signed":"metadata"}');
  const der = nodeSign('sha256', message, { key: privateKey, dsaEncoding: 'der' });
  const raw = derToRaw(der)!;

  it('DER becomes r‖s, 32 bytes each, and back', () => {
    assert.equal(raw.length, 64);
    assert.ok(verifySignature(parsePublicKey({ keytype: 'ecdsa', keyval: { public: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') } }), 'ecdsa', message, raw));
    assert.deepEqual(ecdsaSigValue(raw), der);
  });

  it('DER is read strictly: minimal positive integers of at most 32 bytes, nothing after', () => {
    const seq = (...ints: Buffer[]) => Buffer.concat([Buffer.from([0x30, ints.reduce((n, b) => n + b.length, 0)]), ...ints]);
    const int = (...bytes: number[]) => Buffer.from([0x02, bytes.length, ...bytes]);
    assert.deepEqual(derToRaw(seq(int(1), int(0x00, 0x80))), Buffer.concat([Buffer.alloc(31), Buffer.from([1]), Buffer.alloc(31), Buffer.from([0x80])]), 'short integers are left-padded; a 0 byte before a high bit is allowed');
    assert.equal(derToRaw(seq(int(0x00, 0x01), int(1))), undefined, 'not minimal');
    assert.equal(derToRaw(seq(int(0x80), int(1))), undefined, 'negative');
    assert.equal(derToRaw(seq(int(0), int(1))), undefined, 'zero');
    assert.equal(derToRaw(seq(int(...Array<number>(33).fill(1)), int(1))), undefined, 'over 32 bytes');
    assert.equal(derToRaw(Buffer.concat([der, Buffer.from([0])])), undefined, 'trailing bytes');
    assert.equal(derToRaw(der.subarray(0, der.length - 1)), undefined, 'truncated');
  });

  it('reads raw or DER, as binary, hex (either case) or base64 (standard or URL-safe, padded or not, quoted as JSON), white space around ignored', () => {
    const b64url = raw.toString('base64url');
    for (const output of [raw, der, `${raw.toString('hex')}\n`, der.toString('hex').toUpperCase(), `${raw.toString('base64')}\n`, der.toString('base64'), b64url, `"${der.toString('base64')}"\n`, `  ${b64url}  `]) {
      const candidates = signatureCandidates(Buffer.from(output));
      assert.ok(
        candidates.some((c) => c.equals(raw)),
        `read ${JSON.stringify(output.toString())}`,
      );
    }
  });

  it('no reading for output that is no signature', () => {
    for (const output of ['', 'signed\n', 'error: access denied', Buffer.alloc(63), Buffer.alloc(65).toString('hex')]) assert.deepEqual(signatureCandidates(Buffer.from(output)), []);
  });
});

describe("pkcs11-tool 0.23's listings (captured from SoftHSM 2.6)", () => {
  it('--list-token-slots: each token with its slot ID, label (spaces kept), manufacturer, model and serial; empty slots skipped', () => {
    const text = `Available slots:
Slot 0 (0x7a79768): SoftHSM slot ID 0x7a79768
  token label        : ci
  token manufacturer : SoftHSM project
  token model        : SoftHSM v2
  token flags        : login required, rng, token initialized, PIN initialized, other flags=0x20
  hardware version   : 2.6
  firmware version   : 2.6
  serial num         : 6847253f87a79768
  pin min/max        : 4/255
Slot 1 (0x500d7611): SoftHSM slot ID 0x500d7611
  token label        : second token
  token manufacturer : SoftHSM project
  token model        : SoftHSM v2
  token flags        : login required, rng, token initialized, PIN initialized, other flags=0x20
  hardware version   : 2.6
  firmware version   : 2.6
  serial num         : 675c63fad00d7611
  pin min/max        : 4/255
Slot 2 (0x2): SoftHSM slot ID 0x2
  token state:   uninitialized
`;
    assert.deepEqual(parseSlots(text), [
      { id: '0x7a79768', label: 'ci', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serial: '6847253f87a79768' },
      { id: '0x500d7611', label: 'second token', manufacturer: 'SoftHSM project', model: 'SoftHSM v2', serial: '675c63fad00d7611' },
    ]);
  });

  it('--list-objects --type privkey: label (spaces kept), ID and key type of each', () => {
    const text = `Private Key Object; EC
  label:      p384 key
  ID:         0a0b
  Usage:      decrypt, sign, unwrap, derive
  Access:     sensitive, always sensitive, never extractable, local
Private Key Object; RSA 
  label:      rsa
  ID:         05
  Usage:      decrypt, sign, unwrap
  Access:     sensitive, always sensitive, never extractable, local
Private Key Object; EC
  label:      dct-signer
  ID:         01
  Usage:      decrypt, sign, unwrap, derive
  Access:     sensitive, always sensitive, never extractable, local
Private Key Object; EC
  Usage:      sign
`;
    assert.deepEqual(parsePrivateKeys(text), [
      { label: 'p384 key', id: '0a0b', type: 'EC' },
      { label: 'rsa', id: '05', type: 'RSA' },
      { label: 'dct-signer', id: '01', type: 'EC' },
      { label: undefined, id: undefined, type: 'EC' },
    ]);
  });

  it('--list-objects --type pubkey: EC_POINT and EC_PARAMS by ID (RSA keys have none)', () => {
    const text = `Public Key Object; EC  EC_POINT 256 bits
  EC_POINT:   044104559f590864b4a763044022d17c606832f4ce6adbad1eee5365849499cac1464e4e589aced58cfa403300b7694931cc16ec4d6f781fefcdc88ef047d163220273
  EC_PARAMS:  06082a8648ce3d030107
  label:      dct-signer
  ID:         01
  Usage:      encrypt, verify, wrap, derive
  Access:     local
Public Key Object; RSA 2048 bits
  label:      rsa
  ID:         05
  Usage:      encrypt, verify, wrap
  Access:     local
`;
    assert.deepEqual(parsePublicKeys(text), [
      { id: '01', ecPoint: '044104559f590864b4a763044022d17c606832f4ce6adbad1eee5365849499cac1464e4e589aced58cfa403300b7694931cc16ec4d6f781fefcdc88ef047d163220273', ecParams: '06082a8648ce3d030107' },
      { id: '05', ecPoint: undefined, ecParams: undefined },
    ]);
  });
});

describe('a signing key held outside the process', () => {
  const pair = (namedCurve = 'prime256v1') => generateKeyPairSync('ec', { namedCurve });
  /** ECDSA over a digest as a token or key service makes it (node:crypto hashes what it signs; noble signs the digest as given). */
  const signDigest = (privateKey: KeyObject, digest: Buffer, format: 'compact' | 'der' = 'compact') => Buffer.from(p256.sign(digest, Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url'), { prehash: false, format }));
  const rawSigner = (privateKey: KeyObject) => (digest: Buffer) => [signDigest(privateKey, digest)];
  const mismatch = (id: string, n: number) => `no signature by ${id} among ${n}`;

  it('has the ID a key file of the same key has, signs with method ecdsa, and each signature verifies (checked before it is returned)', () => {
    const { privateKey, publicKey } = pair();
    let calls = 0;
    const key = externalSigningKey({
      publicKey,
      name: WHERE,
      mismatch,
      signDigest: (digest) => {
        calls++;
        return rawSigner(privateKey)(digest);
      },
    });
    assert.equal(calls, 1, 'one signature checks the key when it is opened');
    assert.equal(key.id, keyId('ecdsa', publicKey.export({ type: 'spki', format: 'der' }).toString('base64')));
    assert.equal(key.keytype, 'ecdsa');
    const message = Buffer.from('{"_type":"Targets"}');
    const { method, sig } = key.sign(message);
    assert.equal(method, 'ecdsa');
    assert.ok(verifySignature(parsePublicKey({ keytype: 'ecdsa', keyval: { public: key.public } }), 'ecdsa', message, sig));
  });

  it('takes the first reading that verifies (a DER signature among readings)', () => {
    const { privateKey, publicKey } = pair();
    const key = externalSigningKey({ publicKey, name: WHERE, mismatch, signDigest: (d) => signatureCandidates(signDigest(privateKey, d, 'der')) });
    assert.equal(key.sign(Buffer.from('x')).sig.length, 64);
  });

  it("a high-S signature (Go's ecdsa.Verify and node:crypto both accept it) is used as it is", () => {
    const { privateKey, publicKey } = pair();
    const n = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');
    const highS = (digest: Buffer) => {
      const sig = signDigest(privateKey, digest);
      const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
      const flipped = s > n / 2n ? s : n - s;
      return [Buffer.concat([sig.subarray(0, 32), Buffer.from(flipped.toString(16).padStart(64, '0'), 'hex')])];
    };
    const key = externalSigningKey({ publicKey, name: WHERE, mismatch, signDigest: highS });
    const { sig } = key.sign(Buffer.from('y'));
    assert.ok(BigInt(`0x${sig.subarray(32).toString('hex')}`) > n / 2n);
  });

  it("another key, garbage or nothing: SIGNATURE_INVALID when the key is opened, with the caller's message", () => {
    const { publicKey } = pair();
    const { privateKey: other } = pair();
    assertCode(() => externalSigningKey({ publicKey, name: WHERE, mismatch, signDigest: rawSigner(other) }), 'SIGNATURE_INVALID', /^no signature by [0-9a-f]{64} among 1$/);
    assertCode(() => externalSigningKey({ publicKey, name: WHERE, mismatch, signDigest: () => [Buffer.alloc(64)] }), 'SIGNATURE_INVALID');
    assertCode(() => externalSigningKey({ publicKey, name: WHERE, mismatch, signDigest: () => [] }), 'SIGNATURE_INVALID', /among 0/);
  });

  it('a key that is not P-256 ECDSA: KEY_UNSUPPORTED, before anything is signed', () => {
    const never = () => assert.fail('nothing is signed');
    assertCode(() => externalSigningKey({ publicKey: pair('secp384r1').publicKey, name: WHERE, mismatch, signDigest: never }), 'KEY_UNSUPPORTED', /secp384r1/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    assertCode(() => externalSigningKey({ publicKey: rsa, name: WHERE, mismatch, signDigest: never }), 'KEY_UNSUPPORTED', /ECDSA P-256/);
  });
});

describe('what an outside program gets in its environment', () => {
  it("the step's variables, less the action's inputs and the docker and CLI passphrase variables; the extras added", () => {
    const env = childEnv(
      {
        PATH: '/usr/bin',
        AWS_REGION: 'eu-west-1',
        GOOGLE_APPLICATION_CREDENTIALS: '/tmp/creds.json',
        'INPUT_DELEGATION-PASSPHRASE': 'secret',
        'INPUT_REPOSITORY-KEY': 'secret',
        input_password: 'secret',
        DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'secret',
        DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'secret',
        NOTARY_DELEGATION_PASSPHRASE: 'secret',
        CONTENT_TRUST_NEW_KEY_PASSPHRASE: 'secret',
        DOCKER_CONTENT_TRUST_SERVER: 'https://notary.example.com',
      },
      { CONTENT_TRUST_DIGEST: 'ab' },
    );
    assert.deepEqual(env, { PATH: '/usr/bin', AWS_REGION: 'eu-west-1', GOOGLE_APPLICATION_CREDENTIALS: '/tmp/creds.json', DOCKER_CONTENT_TRUST_SERVER: 'https://notary.example.com', CONTENT_TRUST_DIGEST: 'ab' });
  });
});

describe("sign-command's public key", () => {
  it('a PEM public key (role header and all, as docker writes it) or a certificate', () => {
    assert.equal(readCommandPublicKey(PUBLIC_PEM, ACTION_NAMES).asymmetricKeyType, 'ec');
  });

  it('a private key is refused without being repeated; anything else is KEY_INVALID naming the input', () => {
    const e = assertCode(() => readCommandPublicKey(KEY_PEM, ACTION_NAMES), 'KEY_INVALID', /the delegation-public-key input holds a private key/);
    assert.ok(!e.message.includes(KEY_PEM.split('\n')[3]!));
    assertCode(() => readCommandPublicKey('not a key', ACTION_NAMES), 'KEY_INVALID', /is not a PEM public key or certificate/);
    assertCode(
      () => readCommandPublicKey(undefined, { publicKey: '--public-key "k.pub"', addSigner: '`content-trust signer add --key`' }),
      'KEY_INVALID',
      /^--public-key "k.pub" is not a PEM public key .*as given to `content-trust signer add --key`$/,
    );
  });
});

describe("sign-command's settings, one check for the action's inputs and the CLI's flags", () => {
  const names = { key: '--key', command: '--sign-command', publicKey: '--public-key', timeout: '--sign-command-timeout', addSigner: '`content-trust signer add --key`' };
  const given = { key: false, command: 'cmd', publicKey: 'k.pub', timeout: undefined };

  it('a command with its public key; the timeout defaults to 60 s; none given: no command', () => {
    assert.deepEqual(signCommandSettings(given, names), { command: 'cmd', publicKey: 'k.pub', timeoutSeconds: 60 });
    assert.deepEqual(signCommandSettings({ ...given, command: undefined, publicKey: undefined, key: true }, names), { command: undefined, publicKey: undefined, timeoutSeconds: 60 });
  });

  it('refuses a command beside a key, without its public key (or the reverse), and a timeout that is no whole number of seconds from 1 to 3600, naming what the front end calls each', () => {
    assertCode(() => signCommandSettings({ ...given, key: true }, names), 'INPUT_INVALID', /^give --key or --sign-command, not both/);
    assertCode(() => signCommandSettings({ ...given, publicKey: undefined }, names), 'INPUT_INVALID', /^--sign-command needs --public-key: .*`content-trust signer add --key`$/);
    assertCode(() => signCommandSettings({ ...given, command: undefined }, names), 'INPUT_INVALID', /^--public-key names the key --sign-command signs with/);
    for (const t of ['0', '1.5', '3601', 'soon']) assertCode(() => signCommandSettings({ ...given, timeout: t }, names), 'INPUT_INVALID', `--sign-command-timeout is "${t}"`);
  });
});

describe('the inputs of keys held outside the runner', () => {
  useActionInputs({ INPUT_MODE: 'sign', INPUT_IMAGES: 'reg.example/org/app:v1', 'INPUT_TRUST-DIR': '/tmp/unused' });

  it('sign takes sign-command with delegation-public-key instead of delegation-key; the timeout defaults to 60 s', () => {
    Object.assign(process.env, { 'INPUT_SIGN-COMMAND': 'aws kms sign …', 'INPUT_DELEGATION-PUBLIC-KEY': PUBLIC_PEM, 'INPUT_PKCS11-MODULE': ' /usr/lib/x.so ' });
    assert.deepEqual(getInputs({}).external, { signCommand: 'aws kms sign …', publicKey: PUBLIC_PEM.trim(), timeoutSeconds: 60, pkcs11Module: '/usr/lib/x.so' });
  });

  it('refuses both keys, a command without its public key (or the reverse), and a timeout that is no whole number of seconds from 1 to 3600', () => {
    Object.assign(process.env, { 'INPUT_SIGN-COMMAND': 'cmd', 'INPUT_DELEGATION-KEY': KEY_PEM, 'INPUT_DELEGATION-PUBLIC-KEY': PUBLIC_PEM });
    assertCode(() => getInputs({}), 'INPUT_INVALID', /give the delegation-key input or the sign-command input, not both/);
    delete process.env['INPUT_DELEGATION-KEY'];
    delete process.env['INPUT_DELEGATION-PUBLIC-KEY'];
    assertCode(() => getInputs({}), 'INPUT_INVALID', /the sign-command input needs the delegation-public-key input: .*`docker trust signer add`$/);
    process.env['INPUT_DELEGATION-PUBLIC-KEY'] = PUBLIC_PEM;
    for (const t of ['0', '1.5', '3601', 'soon']) {
      process.env['INPUT_SIGN-COMMAND-TIMEOUT'] = t;
      assertCode(() => getInputs({}), 'INPUT_INVALID', /sign-command-timeout/);
    }
    delete process.env['INPUT_SIGN-COMMAND'];
    delete process.env['INPUT_SIGN-COMMAND-TIMEOUT'];
    process.env['INPUT_DELEGATION-KEY'] = KEY_PEM;
    assertCode(() => getInputs({}), 'INPUT_INVALID', /the delegation-public-key input names the key the sign-command input signs with/);
  });

  it('init and rotate take a PKCS#11 URI for the root and repository keys: the token is opened (here: no module given, named), never refused as no key file', () => {
    const refs = parseReferences(['reg.example/org/app']);
    Object.assign(process.env, { INPUT_MODE: 'init', 'INPUT_ROOT-KEY': 'pkcs11:token=ci;object=root', 'INPUT_REPOSITORY-PASSPHRASE': 'x' });
    assertCode(() => inputKeys(getInputs({}), refs), 'PKCS11_MODULE_INVALID', /the root-key input names a key on a PKCS#11 token but no module: set the pkcs11-module input/);
    delete process.env['INPUT_ROOT-KEY'];
    Object.assign(process.env, { 'INPUT_REPOSITORY-KEY': 'pkcs11:token=ci;object=repo', 'INPUT_ROOT-PASSPHRASE': 'x' });
    assertCode(() => inputKeys(getInputs({}), refs), 'PKCS11_MODULE_INVALID', /the repository-key input names a key on a PKCS#11 token/);
    delete process.env['INPUT_REPOSITORY-KEY'];
    Object.assign(process.env, { INPUT_MODE: 'rotate', 'INPUT_ROTATE-ROLE': 'root', 'INPUT_ROOT-KEY': KEY_PEM, 'INPUT_ROOT-PASSPHRASE': PASSPHRASE, 'INPUT_NEW-ROOT-KEY': 'pkcs11:token=ci;object=root2' });
    assertCode(() => inputKeys(getInputs({}), refs), 'PKCS11_MODULE_INVALID', /the new-root-key input names a key on a PKCS#11 token/);
  });

  it("a new key's PIN is its own passphrase input; the replaced key's passphrase stands in only when that key is on a token too (a key file's passphrase is never tried as a PIN)", () => {
    // Any file passes the module check; the PIN is checked before the module is loaded.
    Object.assign(process.env, { INPUT_MODE: 'rotate', 'INPUT_ROTATE-ROLE': 'root', 'INPUT_PKCS11-MODULE': process.execPath, 'INPUT_NEW-ROOT-KEY': 'pkcs11:token=ci;object=root2' });
    const inputs = { ...getInputs({}) };
    inputs.keys = { ...inputs.keys, root: { pem: KEY_PEM, passphrase: 'the key file passphrase' }, 'new-root': { pem: 'pkcs11:token=ci;object=root2', passphrase: 'the key file passphrase', inherited: true } };
    assertCode(() => keyInput(inputs, 'new-root'), 'PASSPHRASE_MISSING', /set the `new-root-passphrase` input \(or the root-passphrase input when root-key is on a token too\), which holds the token's user PIN/);
    inputs.keys = { ...inputs.keys, 'new-root': { pem: 'pkcs11:token=ci;object=root2', passphrase: undefined } };
    assertCode(() => keyInput(inputs, 'new-root'), 'PASSPHRASE_MISSING', /new-root-passphrase/);
    // Read from the inputs as the action reads them: new-root-passphrase empty, root-passphrase set, root-key a file.
    Object.assign(process.env, { 'INPUT_ROOT-KEY': KEY_PEM, 'INPUT_ROOT-PASSPHRASE': 'p' });
    const read = getInputs({});
    assert.equal(read.keys['new-root'].inherited, true);
    assertCode(() => keyInput(read, 'new-root'), 'PASSPHRASE_MISSING', /new-root-passphrase/);
  });
});
