import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { useActionInputs } from './helpers/action-inputs.ts';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { getInputs, getList, keyInput, type KeyName } from '../../src/action/inputs.ts';
import { inputKeys } from '../../src/action/input-keys.ts';
import { loadPolicy } from '../../src/policy/load.ts';
import { parseSignerKeys } from '../../src/notary/admin/common.ts';
import { initRepository } from '../../src/notary/admin/init.ts';
import type { NotaryRepoClient } from '../../src/notary/server.ts';
import type { ContentTrustError } from '../../src/errors.ts';
import { KEY_PEM, PASSPHRASE, PUBLIC_PEM, scenario } from './helpers/fixtures.ts';
import { generateKey, keyFilePem, publicKeyId } from '../../src/tuf/key-file.ts';
import { parsePrivateKey, toSigningKey } from '../../src/tuf/private-key.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { makeBadFiles, makeFileNotDirectory } from './helpers/bad-files.ts';
import { assertCode } from './helpers/errors.ts';

describe('getList', () => {
  it('splits on new lines', () => {
    assert.deepEqual(getList('alpine:3\nghcr.io/o/app:v1\n'), ['alpine:3', 'ghcr.io/o/app:v1']);
  });

  it('splits on commas, with or without spaces', () => {
    assert.deepEqual(getList('a:1,b:2, c:3 ,d:4'), ['a:1', 'b:2', 'c:3', 'd:4']);
  });

  it('mixes both, as docker/metadata-action tags outputs and hand-written lists do', () => {
    assert.deepEqual(getList('a:1,a:2\nb:1\n  c:1 , c:2  \n'), ['a:1', 'a:2', 'b:1', 'c:1', 'c:2']);
  });

  it('drops blank lines, white space and CRLF ends', () => {
    assert.deepEqual(getList('\n\n  a:1  \r\n\r\n\tb:1\t\r\n,,\n , \n'), ['a:1', 'b:1']);
    assert.deepEqual(getList(''), []);
    assert.deepEqual(getList('   \n  '), []);
  });

  it('drops # comment lines, also indented ones', () => {
    assert.deepEqual(getList('# images to sign\na:1\n   # b:1\nc:1'), ['a:1', 'c:1']);
  });

  it('a commented-out line drops all of it, commas included', () => {
    assert.deepEqual(getList('a:1\n# b:1, b:2\n  #c:1,c:2,c:3\nd:1'), ['a:1', 'd:1']);
  });

  it('keeps order and duplicates (the caller decides)', () => {
    assert.deepEqual(getList('b,a\nb'), ['b', 'a', 'b']);
  });

  it('a # after a comma starts a comment item of its own', () => {
    assert.deepEqual(getList('a:1, #b:1'), ['a:1']);
  });
});

describe('key inputs (sign and the administrative modes read them the same way)', () => {
  useActionInputs({ INPUT_MODE: 'revoke', INPUT_IMAGES: 'alpine:3', 'INPUT_DELEGATION-KEY': KEY_PEM, 'INPUT_TRUST-DIR': '/tmp/unused' });

  it('the delegation passphrase falls back to DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE, then NOTARY_DELEGATION_PASSPHRASE', () => {
    for (const env of [{ NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE }, { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE, NOTARY_DELEGATION_PASSPHRASE: 'not-it' }]) {
      assert.equal(keyInput(getInputs(env), 'delegation')?.id, scenario.delegationKey.canonicalId);
    }
    process.env['INPUT_DELEGATION-PASSPHRASE'] = PASSPHRASE;
    assert.equal(keyInput(getInputs({ NOTARY_DELEGATION_PASSPHRASE: 'not-it' }), 'delegation')?.id, scenario.delegationKey.canonicalId, 'the input comes first');
  });

  it('an empty key input is undefined; a missing passphrase names the input and every variable read', () => {
    const inputs = getInputs({ DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE });
    assert.equal(keyInput(inputs, 'root'), undefined);
    assert.throws(
      () => keyInput(inputs, 'delegation'),
      (e: ContentTrustError) => {
        assert.equal(e.code, 'PASSPHRASE_MISSING');
        assert.match(e.message, /the delegation-key input is encrypted .*`delegation-passphrase` input \(or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE, NOTARY_DELEGATION_PASSPHRASE\)/);
        return true;
      },
    );
  });
});

describe('credential inputs (username, password, registry) and where the images came from', () => {
  useActionInputs({ INPUT_MODE: 'verify', 'INPUT_TRUST-DIR': '/tmp/unused' }, ['GITHUB_WORKSPACE']);

  it('listedImages holds images (and images-file), not the images only a Dockerfile names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cta-inputs-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM reg.b/org/base:1 AS build\nFROM reg.a/org/app:v1\n');
    Object.assign(process.env, { INPUT_IMAGES: 'reg.a/org/app:v1', INPUT_DOCKERFILE: 'Dockerfile', GITHUB_WORKSPACE: dir });
    const inputs = getInputs();
    assert.deepEqual(inputs.listedImages, ['reg.a/org/app:v1']);
    assert.ok(inputs.images.includes('reg.b/org/base:1'), "the Dockerfile's base images are still verified");
    assert.equal(inputs.registry, undefined);
  });

  it('registry is read as given, trimmed; without username/password it is INPUT_INVALID', () => {
    Object.assign(process.env, { INPUT_IMAGES: 'reg.a/org/app:v1', INPUT_USERNAME: 'ci', INPUT_PASSWORD: 'pw-123456', INPUT_REGISTRY: '  https://reg.a/  ' });
    assert.equal(getInputs().registry, 'https://reg.a/');
    delete process.env.INPUT_USERNAME;
    delete process.env.INPUT_PASSWORD;
    assertCode(() => getInputs(), 'INPUT_INVALID', /^input registry names the registry the username\/password inputs are for: give them too/);
  });
});

/**
 * The sweep: every input that names a file, a URL or a key, given each bad
 * form. Each must fail with its own code, name the input, and never be
 * INTERNAL or a raw Node error.
 */
describe('every bad input gets a named error', () => {
  useActionInputs({ INPUT_MODE: 'verify', INPUT_IMAGES: 'alpine:3', 'INPUT_TRUST-DIR': '/tmp/unused', INPUT_CACHE: 'false' });

  /** What a refusal must be: `code`, a message naming `named`, never INTERNAL or a raw Node error. */
  function refusal(code: string, named: RegExp, label: string): (e: ContentTrustError) => boolean {
    return (e) => {
      assert.equal(e.code, code, `${label}: ${e.message}`);
      assert.match(e.message, named, label);
      assert.doesNotMatch(e.message, /INTERNAL|unexpected error|\b(ENOENT|EISDIR|EIO|ENOTDIR)\b: /, label);
      return true;
    };
  }

  /** Runs `f` with the inputs set; it must throw `code` with a message naming `named`. */
  function refused(inputs: Record<string, string>, code: string, named: RegExp, f: () => unknown = () => getInputs({}), what = JSON.stringify(inputs)): void {
    for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
    const label = what.slice(0, 200);
    assert.throws(f, refusal(code, named, label), label);
    for (const k of Object.keys(inputs)) delete process.env[`INPUT_${k.toUpperCase()}`];
  }

  it('images-file, ca-cert, dockerfile and policy: each bad path has its own FILE_* code and names the input', async () => {
    const bound = { 'images-file': 8 * 1024 * 1024, 'ca-cert': 1024 * 1024, dockerfile: 1024 * 1024, policy: 1024 * 1024 };
    for (const [input, max] of Object.entries(bound)) {
      for (const bad of makeBadFiles(max)) {
        const named = new RegExp(`^input ${input} ${JSON.stringify(bad.path).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} `);
        // The policy is read when verify starts (loadPolicy, async), not by getInputs.
        if (input === 'policy') await assert.rejects(loadPolicy(bad.path, '/', 'input policy'), refusal(bad.code, named, `policy: ${bad.kind}`));
        else refused({ [input]: bad.path }, bad.code, named, undefined, `${input}: ${bad.kind}`);
      }
    }
  });

  it('ca-cert that is text but no certificate, or a certificate that does not parse: INPUT_INVALID naming the input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-'));
    writeFileSync(join(dir, 'notes.txt'), 'just some text\n');
    writeFileSync(join(dir, 'key.pem'), KEY_PEM);
    refused({ 'ca-cert': join(dir, 'notes.txt') }, 'INPUT_INVALID', /^input ca-cert \(file ".*notes\.txt"\) holds no PEM certificate/);
    refused({ 'ca-cert': join(dir, 'key.pem') }, 'INPUT_INVALID', /^input ca-cert \(file .*\) holds no PEM certificate/);
    refused({ 'ca-cert': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }, 'INPUT_INVALID', /^input ca-cert: certificate 1 of 1 cannot be parsed/);
  });

  it('trust-server: each malformed URL is TRUST_SERVER_INVALID naming the input, and the variable when it comes from there', () => {
    for (const bad of [
      'http://notary.example.com',
      'notary.example.com',
      'https://user:pw@notary.example.com',
      'https://notary.example.com/?a=b',
      'https://notary.example.com#x',
      'https://notary.example.com:70000',
      'https://[::1',
      'https://notary.example.com/a/../b',
    ]) {
      refused({ 'trust-server': bad }, 'TRUST_SERVER_INVALID', /^input trust-server ".*" .*write it as https:\/\/host/);
      refused({}, 'TRUST_SERVER_INVALID', /^DOCKER_CONTENT_TRUST_SERVER \(the default for input trust-server\)/, () => getInputs({ DOCKER_CONTENT_TRUST_SERVER: bad }));
    }
    process.env['INPUT_TRUST-SERVER'] = 'https://Notary.Example.com:443/';
    assert.equal(getInputs({}).trustServer, 'https://notary.example.com', 'a good one is normalised');
  });

  it('trust-dir that is a file: FILE_NOT_DIRECTORY naming the input', () => {
    refused({ 'trust-dir': makeFileNotDirectory() }, 'FILE_NOT_DIRECTORY', /^input trust-dir ".*" is a file, not a directory/);
  });

  it('key inputs of an unsupported type are KEY_UNSUPPORTED, a public key or certificate KEY_INVALID; each names the input', () => {
    const pkcs8 = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }) as string;
    const p256 = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const cert = readFileSync(new URL('../fixtures/notary/docker-signer-add/', import.meta.url).pathname + 'root.json', 'utf8');
    const certPem = Buffer.from(Object.values(JSON.parse(cert).signed.keys as Record<string, { keytype: string; keyval: { public: string } }>).find((k) => k.keytype === 'ecdsa-x509')!.keyval.public, 'base64').toString('utf8');
    const cases: [string, string, string][] = [
      ['RSA 1024', pkcs8(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey), 'KEY_UNSUPPORTED'],
      ['ed25519', pkcs8(generateKeyPairSync('ed25519').privateKey), 'KEY_UNSUPPORTED'],
      ['P-384', pkcs8(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey), 'KEY_UNSUPPORTED'],
      ['a public key', p256.publicKey.export({ type: 'spki', format: 'pem' }) as string, 'KEY_INVALID'],
      ['a certificate', certPem, 'KEY_INVALID'],
      ['garbage (an environment variable holds no NUL)', '\u00ff\u00fe\u0001 garbage', 'KEY_INVALID'],
    ];
    const inputs: [KeyName, string, RegExp][] = [
      ['delegation', 'sign', /^the delegation-key input /],
      ['root', 'refresh', /^the root-key input /],
      ['repository', 'rotate', /^the repository-key input /],
    ];
    // rotate (a signer's key) reads signer-name and signer-key too.
    Object.assign(process.env, { 'INPUT_SIGNER-NAME': 'ci', 'INPUT_SIGNER-KEY': p256.publicKey.export({ type: 'spki', format: 'pem' }) as string });
    for (const [name, mode, named] of inputs) {
      for (const [kind, pem, code] of cases) {
        process.env.INPUT_MODE = mode;
        process.env['INPUT_DELEGATION-KEY'] = KEY_PEM; // sign needs one to start
        process.env[`INPUT_${name.toUpperCase()}-KEY`] = pem;
        // Decoded when the mode's KeySource is made: before any request.
        refused({}, code, named, () => inputKeys(getInputs({ DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE }), []), `${name}-key: ${kind}`);
      }
    }
  });

  it('a delegation key of a supported type reads, with or without a passphrase it does not need', () => {
    process.env.INPUT_MODE = 'sign';
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
    process.env['INPUT_DELEGATION-KEY'] = rsa;
    assert.equal(keyInput(getInputs({}), 'delegation')?.keytype, 'rsa');
    process.env['INPUT_DELEGATION-PASSPHRASE'] = 'not needed';
    assert.equal(keyInput(getInputs({}), 'delegation')?.keytype, 'rsa');
  });

  it('signer-key: unsupported types are KEY_UNSUPPORTED, a private key KEY_INVALID without echoing it; each names the input and the signer', () => {
    const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'pem' }) as string;
    const cases: [string, string, string][] = [
      ['ed25519', spki(generateKeyPairSync('ed25519').publicKey), 'KEY_UNSUPPORTED'],
      ['P-384', spki(generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey), 'KEY_UNSUPPORTED'],
      ['RSA 1024', spki(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey), 'KEY_UNSUPPORTED'],
      ['a private key', KEY_PEM, 'KEY_INVALID'],
    ];
    for (const [kind, pem, code] of cases) {
      assert.throws(
        () => parseSignerKeys(pem, 'ci', 'the signer-key input'),
        (e: ContentTrustError) => {
          assert.equal(e.code, code, kind);
          assert.match(e.message, /^signer "ci": the signer-key input /, kind);
          for (const line of pem.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'))) assert.ok(!e.message.includes(line), `${kind}: the key is not echoed`);
          return true;
        },
        kind,
      );
    }
    assert.equal(parseSignerKeys(spki(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey), 'ci')[0]!.json.keytype, 'rsa');
  });

  it('init with an RSA root or repository key: KEY_UNSUPPORTED before any request', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const noNetwork = new Proxy({ gun: 'example.com/app' }, { get: (t, p) => (p in t ? t[p as 'gun'] : () => assert.fail(`a request was made (${String(p)})`)) }) as unknown as NotaryRepoClient;
    for (const options of [{ rootKey: toSigningKey(rsa, 'root', undefined) }, { targetsKey: toSigningKey(rsa, 'targets', 'example.com/app') }]) {
      await assertCode(initRepository(noNetwork, options), 'KEY_UNSUPPORTED', /^the (root|repository) key is an RSA key/);
    }
  });
});

/**
 * Each mode's own inputs are read by getInputs with the rest, and refused
 * there: before a credential helper runs or any request is made.
 */
describe("getInputs: each mode's own inputs", () => {
  useActionInputs({ INPUT_IMAGES: 'reg.example.com/org/app:v1', 'INPUT_TRUST-DIR': '/tmp/unused' });
  const set = (inputs: Record<string, string>) => {
    for (const [k, v] of Object.entries(inputs)) process.env[`INPUT_${k.toUpperCase()}`] = v;
  };
  const invalid = (message: RegExp) => (e: ContentTrustError) => e.code === 'INPUT_INVALID' && message.test(e.message);

  it('each mode gets its options: verify its signers, refresh expires-within, rotate rotate-role, add-signer the signer', () => {
    set({ mode: 'verify', signers: 'ci, ops' });
    assert.deepEqual(getInputs({}).options, { signers: ['ci', 'ops'], checkRegistry: true });
    set({ mode: 'refresh', 'expires-within': '30' });
    assert.deepEqual(getInputs({}).options, { withinDays: 30 });
    set({ mode: 'refresh', 'expires-within': '' });
    assert.deepEqual(getInputs({}).options, { withinDays: 182 }, 'the default');
    set({ mode: 'status', 'expires-within': '' });
    assert.deepEqual(getInputs({}).options, { withinDays: 30 }, "status's default");
    set({ mode: 'status', 'expires-within': '7' });
    assert.deepEqual(getInputs({}).options, { withinDays: 7 });
    set({ mode: 'rotate', 'rotate-role': 'Timestamp' });
    assert.deepEqual(getInputs({}).options, { role: 'timestamp' });
    set({ mode: 'add-signer', 'signer-name': ' ci ', 'signer-key': PUBLIC_PEM });
    const inputs = getInputs({});
    assert.equal(inputs.mode, 'add-signer');
    assert.ok(inputs.mode === 'add-signer' && inputs.options.signer.name === 'ci' && inputs.options.signer.keys.length === 1);
    set({ mode: 'init', 'signer-name': '', 'signer-key': '' });
    assert.deepEqual(getInputs({}).options, { signer: undefined }, 'init without a signer');
  });

  it("sign: digest and metadata (build-push-action's outputs) pin every image; the metadata's tagged names join images and listedImages", () => {
    const digest = `sha256:${'d'.repeat(64)}`;
    const metadata = JSON.stringify({ 'containerimage.digest': digest, 'image.name': 'reg.example.com/org/app:v2,reg.example.com/org/app' });
    set({ mode: 'sign', 'delegation-key': KEY_PEM, images: 'reg.example.com/org/app:v1', digest, metadata });
    const inputs = getInputs({ DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE });
    assert.deepEqual(inputs.images, ['reg.example.com/org/app:v1', 'reg.example.com/org/app:v2']);
    assert.deepEqual(inputs.listedImages, inputs.images, 'credentials may go to the metadata registry as to any listed one');
    assert.deepEqual(inputs.built?.untagged, ['reg.example.com/org/app']);
    assert.deepEqual(inputs.built?.every, { digest, by: 'input metadata' });

    set({ images: '', digest: '' });
    process.env.INPUT_METADATA = JSON.stringify({ 'containerimage.digest': digest, 'image.name': 'reg.example.com/org/app' });
    assert.throws(() => getInputs({ DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE }), invalid(/^input metadata names reg\.example\.com\/org\/app without a tag: not signed\./));

    set({ mode: 'verify', images: 'reg.example.com/org/app:v1', metadata: '', digest });
    assert.throws(() => getInputs(), invalid(/^input digest is for mode sign/));
    set({ digest: '', metadata: '{}' });
    assert.throws(() => getInputs(), invalid(/^input metadata is for mode sign/));
  });

  it('a missing or bad mode input is INPUT_INVALID from getInputs, naming the input', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ mode: 'add-signer', 'signer-key': PUBLIC_PEM }, /^mode add-signer needs the signer-name input/],
      [{ mode: 'add-signer', 'signer-name': 'ci' }, /^mode add-signer needs the signer-key input/],
      [{ mode: 'remove-signer' }, /^mode remove-signer needs the signer-name input/],
      [{ mode: 'rotate' }, /^mode rotate needs the signer-name input/],
      [{ mode: 'rotate', 'rotate-role': 'targets' }, /^input rotate-role is "targets": use signer, root, repository, snapshot or timestamp/],
      [{ mode: 'refresh', 'expires-within': '1.5' }, /^input expires-within is "1.5": a whole number of days/],
      [{ mode: 'refresh', 'expires-within': '-1' }, /^input expires-within is "-1"/],
      [{ mode: 'status', 'expires-within': 'soon' }, /^input expires-within is "soon": a whole number of days/],
      [{ mode: 'status', 'repository-key': PUBLIC_PEM }, /^mode status only reads and takes no keys: remove the repository-key input/],
      [{ mode: 'init', 'signer-name': 'ci' }, /^mode init needs the signer-key input with signer-name/],
      [{ mode: 'revoke', images: 'reg.example.com/org/app:v1\nreg.example.com/org/app' }, /^mode revoke needs a tag for each image \(it never assumes latest\): reg\.example\.com\/org\/app$/],
      [{ mode: 'bless' }, /^input mode is "bless": use sign, verify, or one of init, add-signer, remove-signer, revoke, refresh, rotate, status$/],
    ];
    for (const [inputs, message] of cases) {
      set(inputs);
      assert.throws(() => getInputs({}), invalid(message), JSON.stringify(inputs));
      for (const k of Object.keys(inputs)) delete process.env[`INPUT_${k.toUpperCase()}`];
    }
  });

  it('signer-paths restricts the signer add-signer or init adds, and is refused for any other mode; signer-key with remove-signer names the keys to remove', () => {
    set({ mode: 'add-signer', 'signer-name': 'dev', 'signer-key': PUBLIC_PEM, 'signer-paths': 'dev-*\nrelease-*' });
    const add = getInputs({});
    assert.ok(add.mode === 'add-signer');
    assert.deepEqual(add.options.signer.paths, ['dev-', 'release-']);
    set({ mode: 'init', 'signer-name': 'dev', 'signer-key': PUBLIC_PEM, 'signer-paths': 'v*' });
    const init = getInputs({});
    assert.ok(init.mode === 'init');
    assert.deepEqual(init.options.signer?.paths, ['v']);
    set({ mode: 'add-signer', 'signer-paths': 'v1' });
    assert.throws(() => getInputs({}), invalid(/^signer "dev": the signer-paths input pattern "v1" does not end in \*/));
    for (const mode of ['init', 'verify', 'remove-signer']) {
      set({ mode, 'signer-name': '', 'signer-key': '', 'signer-paths': 'v*' });
      assert.throws(() => getInputs({}), invalid(/^input signer-paths restricts the signer that mode add-signer \(or init with signer-name\) adds/), mode);
    }
    set({ mode: 'remove-signer', 'signer-name': 'ci', 'signer-key': PUBLIC_PEM, 'signer-paths': '' });
    assert.deepEqual(getInputs({}).options, { name: 'ci', keys: [scenario.delegationKey.canonicalId] });
    set({ mode: 'remove-signer', 'signer-name': 'ci', 'signer-key': '' });
    assert.deepEqual(getInputs({}).options, { name: 'ci', keys: undefined });
  });

  it('a reserved signer name is refused by getInputs, before any request', () => {
    set({ mode: 'add-signer', 'signer-name': 'releases', 'signer-key': PUBLIC_PEM });
    assertCode(() => getInputs({}), 'INPUT_INVALID', /reserved/);
  });

  it('the key inputs a mode needs are decoded and required when its KeySource is made', () => {
    const env = { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE };
    set({ mode: 'remove-signer', 'signer-name': 'ci' });
    assert.throws(() => inputKeys(getInputs(env), []), invalid(/^mode remove-signer needs the repository-key input/));
    set({ mode: 'revoke' });
    assert.throws(() => inputKeys(getInputs(env), []), invalid(/^mode revoke needs the delegation-key input \(a signer's key\) or the repository-key input$/));
    set({ mode: 'refresh' });
    assert.throws(() => inputKeys(getInputs(env), []), invalid(/^mode refresh needs a key to re-sign with/));
    set({ mode: 'rotate', 'rotate-role': 'snapshot' });
    assert.throws(() => inputKeys(getInputs(env), []), invalid(/^mode rotate needs the root-key input to rotate the snapshot key/));
    set({ mode: 'revoke', 'delegation-key': KEY_PEM });
    const keys = inputKeys(getInputs(env), []);
    assert.deepEqual(
      keys.signing(undefined as never, undefined).map((k) => k.id),
      [scenario.delegationKey.canonicalId],
    );
  });

  it('rotate root and repository: the new key given or generated; its passphrase, its role and its repositories are checked when the KeySource is made', () => {
    const root = keyFilePem(generateKey(), PASSPHRASE, { role: 'root' });
    assert.deepEqual((set({ mode: 'rotate', 'rotate-role': 'Root' }), getInputs({})).options, { role: 'root' });
    assert.deepEqual((set({ mode: 'rotate', 'rotate-role': 'repository' }), getInputs({})).options, { role: 'repository' });
    set({ mode: 'rotate', 'rotate-role': 'root' });
    assert.throws(() => inputKeys(getInputs({}), []), invalid(/^mode rotate needs the root-key input to rotate the root key/));
    set({ 'root-key': keyFilePem(generateKey(), '', { role: 'root' }) });
    assertCode(
      () => inputKeys(getInputs({}), []),
      'PASSPHRASE_MISSING',
      /^mode rotate generates the new root key when new-root-key is empty, and hands it back encrypted in the root-key output: set the `new-root-passphrase` input \(or the root-passphrase input, DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE\)$/,
    );
    set({ 'root-key': root });

    // Generated: handed back in the root-key output, encrypted with the root passphrase (new-root-passphrase's default); one key for every repository.
    const output = join(mkdtempSync(join(tmpdir(), 'rotate-out-')), 'output');
    writeFileSync(output, '');
    process.env.GITHUB_OUTPUT = output;
    set({ 'root-passphrase': PASSPHRASE });
    const refs = parseReferences(['reg.example.com/org/a', 'reg.example.com/org/b']);
    const keys = inputKeys(getInputs({}), refs);
    const a = keys.rotated('reg.example.com/org/a', 'root');
    assert.equal(keys.rotated('reg.example.com/org/b', 'root'), a, 'one new root key for every repository of the step');
    const handed = /^root-key<<(.+)\n([\s\S]*?)\n\1$/m.exec(readFileSync(output, 'utf8'));
    assert.ok(handed, 'the root-key output');
    assert.equal(parsePrivateKey(handed[2]!, PASSPHRASE).id, a.id);
    assert.match(handed[2]!, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n/);

    // Given: used as it is, decrypted with new-root-passphrase, else the root passphrase.
    const next = generateKey();
    set({ 'new-root-key': keyFilePem(next, 'new one', { role: 'root' }), 'new-root-passphrase': 'new one' });
    assert.equal(inputKeys(getInputs({}), refs).rotated('reg.example.com/org/a', 'root').id, publicKeyId(next));
    set({ 'new-root-passphrase': 'not it' });
    assertCode(() => inputKeys(getInputs({}), refs), 'PASSPHRASE_WRONG', /the new-root-key input.*`new-root-passphrase` input \(or the root-passphrase input, DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE\)/);

    // A new key for the other rotation, or for another role, is refused.
    set({ 'rotate-role': 'repository', 'new-root-passphrase': '' });
    assert.throws(() => inputKeys(getInputs({}), refs), invalid(/^input new-root-key is for mode rotate with rotate-role root: leave it empty here$/));
    set({ 'new-root-key': '', 'new-repository-key': root, 'repository-passphrase': PASSPHRASE });
    assertCode(() => inputKeys(getInputs({}), refs), 'KEY_WRONG_ROLE', /^the new-repository-key input is a key for role "root"/);
    set({ 'new-repository-key': '' });
    assert.throws(() => inputKeys(getInputs({}), refs), invalid(/^mode rotate generates one repository key per repository: give new-repository-key to rotate 2 repositories/));
    assert.ok(inputKeys(getInputs({}), refs.slice(0, 1)), 'one repository: its new key is generated');
    set({ 'repository-passphrase': '' });
    assertCode(() => inputKeys(getInputs({}), refs.slice(0, 1)), 'PASSPHRASE_MISSING', /set the `new-repository-passphrase` input \(or the repository-passphrase input, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE\)/);
  });

  it('init: generated keys need their passphrases, and one repository key per repository', () => {
    set({ mode: 'init', images: 'reg.example.com/org/a:1\nreg.example.com/org/b:1' });
    const refs = parseReferences(getInputs({}).images);
    assertCode(() => inputKeys(getInputs({}), refs), 'PASSPHRASE_MISSING', /set the `root-passphrase` input \(or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE\)/);
    const both = { DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE };
    assert.throws(() => inputKeys(getInputs(both), refs), invalid(/^mode init generates one repository key per repository: give repository-key to initialise 2 repositories/));
    assert.ok(inputKeys(getInputs(both), refs.slice(0, 1)), 'one repository: its keys are generated');
  });
});
