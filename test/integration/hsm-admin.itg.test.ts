/**
 * Root and repository keys on a PKCS#11 token for init and for rotating to
 * a new key (issue 14), against the real stack with a SoftHSM token whose
 * keys are made inside it: the root certificate and the first root.json
 * are signed on the token, no key is generated for a key given, and docker
 * trust inspect, notary list and the action read the result. Every failure
 * is named and publishes nothing.
 *
 * Facts about pkcs11-tool this relies on: test/upstream/pkcs11-tool.upstream.test.ts.
 */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { makeSoftHsm, type SoftHsm, type TokenKey } from '../stack/softhsm.ts';
import { assertBadInput, assertCliBadInput, describeRun, hex, publishCount, resultOf, runAction, runCli, trustFile, useStack, type ActionRun } from './helpers.ts';
import { administrativeKeyIds, freshDocker, freshNotary } from './admin-helpers.ts';
import { keyId, parsePublicKey } from '../../src/tuf/keys.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { generateKey, keyFilePem } from '../../src/tuf/key-file.ts';
import { httpsRequest } from '../stack/https.ts';
import { tufPath } from '../stack/proxy.ts';

/** The key ID docker and notary give a public key: the TUF ID of the plain ECDSA key. */
const idOf = (key: TokenKey) => keyId('ecdsa', key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));

describe('root and repository keys on a PKCS#11 token for init and rotate, against the real stack and SoftHSM', () => {
  const ctx = useStack();
  let hsm: SoftHsm;
  const keys: Record<'root' | 'repository' | 'signer' | 'root2' | 'repository2' | 'root3' | 'cliRepository' | 'cliRepository2', TokenKey> = {} as never;
  let gun: string;
  let image: PushedImage;
  /** The action's trust directory, remembering the repository as init left it. */
  let remembered: string;

  /** The action in `mode` with the token's environment; inputs by their kebab-case names. */
  const admin = (mode: string, repository: string, inputs: Record<string, string>): Promise<ActionRun> => {
    const env: Record<string, string> = { INPUT_MODE: mode, INPUT_CACHE: 'false' };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    return runAction(ctx.stack, { mode: 'verify', images: [repository] }, hsm.actionEnv(env));
  };
  const verify = (trustDir: string, images: string[]) => runAction(ctx.stack, { mode: 'verify', images, signers: 'hsm' }, { INPUT_CACHE: 'false', 'INPUT_TRUST-DIR': trustDir });
  /** A trust file as the server serves it now, with its signatures. */
  const fetched = async (repository: string, role: 'root' | 'targets'): Promise<Buffer> => {
    const res = await httpsRequest(`${ctx.stack.notary.url}${tufPath(repository, `${role}.json`)}`, { ca: ctx.stack.ca.caPem });
    assert.equal(res.status, 200, `${repository} ${role}.json`);
    return res.body;
  };
  const served = async (repository: string, role: 'root') => parseMetadata(await fetched(repository, role), 'root', 'Root');
  /** The root certificate's public key: the token key that signs for the root role. */
  const rootCertKeyId = async (repository: string): Promise<string> => {
    const root = await served(repository, 'root');
    const [id] = root.signed.roles.root.keyids;
    return parsePublicKey(root.signed.keys[id!]!).canonicalId;
  };
  /** docker (remembering, and fresh) and notary (remembering, and fresh) read the repository: the signed tag as it was; docker's administrative keys. */
  const readByDockerAndNotary = async (repository: string): Promise<{ root: string[]; repository: string[] }> => {
    const tags = [{ SignedTag: 'v1', Digest: hex(image.digest), Signers: ['hsm'] }];
    const [rememberedInfo] = await ctx.stack.docker.inspect(repository);
    const [freshInfo] = await (await freshDocker(ctx.stack)).inspect(repository);
    assert.deepEqual(rememberedInfo!.SignedTags, tags, 'docker, remembering the earlier root');
    assert.deepEqual(freshInfo!.SignedTags, tags, 'docker, trusting on first use');
    assert.deepEqual(freshInfo!.AdministrativeKeys, rememberedInfo!.AdministrativeKeys);
    for (const notary of [ctx.stack.notaryCli, await freshNotary(ctx.stack)]) {
      const rows = (await notary.list(repository)).filter((r) => r.role === 'targets/hsm' || r.role === 'targets/releases');
      assert.deepEqual([...new Set(rows.map((r) => `${r.name} ${r.digest}`))], [`v1 ${hex(image.digest)}`]);
    }
    return { root: administrativeKeyIds(freshInfo!, 'Root'), repository: administrativeKeyIds(freshInfo!, 'Repository') };
  };

  before(async () => {
    hsm = await makeSoftHsm(ctx.stack.dir, 'owner');
    // Every key is made inside the token: none exists anywhere else.
    const made: [keyof typeof keys, string, string][] = [
      ['root', 'dct-root', '10'],
      ['repository', 'dct-repository', '11'],
      ['signer', 'dct-signer', '01'],
      ['root2', 'dct-root-2', '12'],
      ['repository2', 'dct-repository-2', '13'],
      ['root3', 'dct-root-3', '16'],
      ['cliRepository', 'cli-repository', '14'],
      ['cliRepository2', 'cli-repository-2', '15'],
    ];
    for (const [name, label, id] of made) keys[name] = await hsm.generate(label, id);
    gun = ctx.stack.gun('hsm/owned');
    image = await pushImage(ctx.stack, 'hsm/owned:v1', { seed: 'hsm-owned-v1' });
  });

  it('action init with root-key and repository-key as PKCS#11 URIs: no key generated; docker trust inspect shows the root key ID the action output and the token repository key', async () => {
    const run = await admin('init', gun, { 'root-key': hsm.uri('id=%10'), 'root-passphrase': hsm.pin, 'repository-key': hsm.uri('object=dct-repository'), 'repository-passphrase': hsm.pin });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs['root-key'], undefined, 'no root key was generated');
    assert.equal(run.outputs['repository-key'], undefined, 'no repository key was generated');
    assert.equal(run.outputs['repository-key-id'], idOf(keys.repository));
    assert.equal(await rootCertKeyId(gun), idOf(keys.root), "the root certificate carries the token root key's public key");
    const shown = run.text.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    assert.ok(!shown.some((l) => l.includes(hsm.pin)), 'the PIN is shown nowhere but in the mask command that hides it');

    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(administrativeKeyIds(info!, 'Root'), [run.outputs['root-key-id']], 'root-key-id is the Root key docker trust inspect prints');
    assert.deepEqual(administrativeKeyIds(info!, 'Repository'), [idOf(keys.repository)]);
    assert.match(run.stdout, new RegExp(`initialised \\(root key ${run.outputs['root-key-id']}, repository key ${idOf(keys.repository)}`));
  });

  it('then add-signer with the repository key on the token, sign with the signer key on the token: docker and notary read it, the action verifies it', async () => {
    const add = await admin('add-signer', gun, { 'repository-key': hsm.uri('id=%11'), 'repository-passphrase': hsm.pin, 'signer-name': 'hsm', 'signer-key': keys.signer.publicKeyPem });
    assert.equal(add.code, 0, describeRun(add));
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [image.ref], key: hsm.uri('id=%01'), passphrase: hsm.pin }, hsm.actionEnv());
    assert.equal(sign.code, 0, describeRun(sign));
    const read = await readByDockerAndNotary(gun);
    assert.deepEqual(read.repository, [idOf(keys.repository)]);
    remembered = await mkdtemp(join(ctx.stack.dir, 'remembered-'));
    const run = await verify(remembered, [image.ref]);
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(resultOf(run)[0]!.signers, ['hsm']);
  });

  it('rotate-role root with new-root-key on the token (old root key on the token, its PIN for both): root signed by both on the token; docker, notary and the action remembering the old root read it', async () => {
    const before = await served(gun, 'root');
    const untouched = await mkdtemp(join(ctx.stack.dir, 'untouched-'));
    await cp(remembered, untouched, { recursive: true });
    const run = await admin('rotate', gun, { 'rotate-role': 'root', 'root-key': hsm.uri('id=%10'), 'root-passphrase': hsm.pin, 'new-root-key': hsm.uri('id=%12') });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs['root-key'], undefined, 'no root key was generated');
    const root = await served(gun, 'root');
    assert.equal(root.signed.version, before.signed.version + 1);
    assert.deepEqual(root.signed.roles.root.keyids, [run.outputs['root-key-id']]);
    assert.deepEqual(root.signatures.map((s) => s.keyid).sort(), [...before.signed.roles.root.keyids, run.outputs['root-key-id']!].sort(), 'signed by the old root key and the new one');
    assert.equal(await rootCertKeyId(gun), idOf(keys.root2));
    assert.match(run.stdout, new RegExp(`the root key is now ${run.outputs['root-key-id']} \\(key ${idOf(keys.root2)}, held on token "owner", key "dct-root-2", id 12\\)`));

    const read = await readByDockerAndNotary(gun);
    assert.deepEqual(read.root, [run.outputs['root-key-id']], 'root-key-id is the Root key docker trust inspect prints');
    const old = await verify(untouched, [image.ref]);
    assert.equal(old.code, 0, `the action remembering the root from before the rotation verifies the old tag\n${describeRun(old)}`);
  });

  it('rotate-role repository with new-repository-key on the token: root names it, targets re-signed on the token; the token key then administers; docker and notary read it', async () => {
    const run = await admin('rotate', gun, { 'rotate-role': 'repository', 'root-key': hsm.uri('id=%12'), 'root-passphrase': hsm.pin, 'new-repository-key': hsm.uri('id=%13'), 'new-repository-passphrase': hsm.pin });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs['repository-key'], undefined, 'no repository key was generated');
    assert.equal(run.outputs['repository-key-id'], idOf(keys.repository2));
    const targets = parseMetadata(await fetched(gun, 'targets'), 'targets', 'Targets');
    assert.deepEqual(
      targets.signatures.map((s) => s.keyid),
      [idOf(keys.repository2)],
    );
    const read = await readByDockerAndNotary(gun);
    assert.deepEqual(read.repository, [idOf(keys.repository2)]);
    const remove = await admin('remove-signer', gun, { 'repository-key': hsm.uri('id=%11'), 'repository-passphrase': hsm.pin, 'signer-name': 'hsm' });
    assertBadInput(remove, 'KEY_WRONG_ROLE', "is not this repository's targets key");
    const again = await verify(remembered, [image.ref]);
    assert.equal(again.code, 0, describeRun(again));
  });

  it('rotate-role root from a root key file to a key on the token (new-root-passphrase holds the PIN)', async () => {
    const fileGun = ctx.stack.gun('hsm/from-file');
    const init = await admin('init', fileGun, { 'root-passphrase': ROOT_PASSPHRASE, 'repository-passphrase': REPOSITORY_PASSPHRASE });
    assert.equal(init.code, 0, describeRun(init));
    const rootFile = init.outputs['root-key']!;
    assert.match(rootFile, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: root\n/);
    await ctx.stack.docker.inspect(fileGun); // docker remembers the first root
    const run = await admin('rotate', fileGun, { 'rotate-role': 'root', 'root-key': rootFile, 'root-passphrase': ROOT_PASSPHRASE, 'new-root-key': hsm.uri('id=%16'), 'new-root-passphrase': hsm.pin });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(await rootCertKeyId(fileGun), idOf(keys.root3));
    const [info] = await ctx.stack.docker.inspect(fileGun);
    assert.deepEqual(administrativeKeyIds(info!, 'Root'), [run.outputs['root-key-id']]);
  });

  it('CLI: init --root-key pkcs11:… --repository-key pkcs11:…, then rotate repository --new-key pkcs11:…; no key file is made; docker reads both', async () => {
    const cliGun = ctx.stack.gun('hsm/cli');
    const config = await mkdtemp(join(ctx.stack.dir, 'cli-config-'));
    const env = { ...ctx.stack.docker.env(), ...hsm.env, DOCKER_CONFIG: config, DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: hsm.pin, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: hsm.pin };
    const cli = (args: string[]) => runCli(env, ['--tlscacert', ctx.stack.ca.caCertPath, ...args]);
    const init = await cli(['init', cliGun, '--root-key', hsm.uri('id=%10'), '--repository-key', hsm.uri('id=%14'), '--pkcs11-module', hsm.module]);
    assert.equal(init.code, 0, init.stderr);
    const printed = new RegExp(`^Initialised ${cliGun.replace(/[.]/g, '\\.')}: root key ([0-9a-f]{64}), repository key ${idOf(keys.cliRepository)}$`, 'm').exec(init.stdout);
    assert.ok(printed, init.stdout);
    const [info] = await ctx.stack.docker.inspect(cliGun);
    assert.deepEqual(administrativeKeyIds(info!, 'Root'), [printed[1]], 'the CLI prints the Root key as docker trust inspect does');
    assert.deepEqual(administrativeKeyIds(info!, 'Repository'), [idOf(keys.cliRepository)]);
    assert.equal(await rootCertKeyId(cliGun), idOf(keys.root));
    assert.deepEqual(await readdir(join(config, 'trust', 'private')).catch(() => []), [], 'no key file was made');

    const rotate = await cli(['rotate', cliGun, 'repository', '--new-key', hsm.uri('id=%15'), '--root-key', hsm.uri('id=%10'), '--pkcs11-module', hsm.module]);
    assert.equal(rotate.code, 0, rotate.stderr);
    assert.match(rotate.stdout, new RegExp(`the repository key is now ${idOf(keys.cliRepository2)} \\(key ${idOf(keys.cliRepository2)}, held on token "owner", key "cli-repository-2", id 15\\)`));
    const [after] = await (await freshDocker(ctx.stack)).inspect(cliGun);
    assert.deepEqual(administrativeKeyIds(after!, 'Repository'), [idOf(keys.cliRepository2)]);
    assert.deepEqual(await readdir(join(config, 'trust', 'private')).catch(() => []), [], 'still no key file');
  });

  it('CLI help: init and rotate say how to give root and repository keys on a token', async () => {
    const init = await runCli(ctx.stack.docker.env(), ['init', '--help']);
    assert.match(init.stdout, /^Usage: content-trust init REPOSITORY\.\.\. \[--root-key FILE\|URI\] \[--repository-key FILE\|URI\]$/m);
    assert.match(init.stdout, /--root-key FILE\|URI +the root key: a PEM file, or a PKCS#11 URI/);
    const rotate = await runCli(ctx.stack.docker.env(), ['rotate', '--help']);
    assert.match(rotate.stdout, /root, repository --new-key FILE\|URI: .*PKCS#11 URI of a key on a token/);
    const misplaced = await runCli(ctx.stack.docker.env(), ['rotate', gun, 'snapshot', '--new-key', hsm.uri('id=%12')]);
    assertCliBadInput(misplaced, 'INPUT_INVALID', '--new-key');
  });

  describe('each failure is named and publishes nothing', () => {
    it('init with a P-384 key on the token as root key: KEY_UNSUPPORTED naming the curve and root-key; the repository is not created', async () => {
      await hsm.tool(['--keypairgen', '--key-type', 'EC:secp384r1', '--label', 'p384-root', '--id', '20', '--usage-sign']);
      const p384Gun = ctx.stack.gun('hsm/p384');
      const run = await admin('init', p384Gun, { 'root-key': hsm.uri('id=%20'), 'root-passphrase': hsm.pin, 'repository-passphrase': REPOSITORY_PASSPHRASE });
      assertBadInput(run, 'KEY_UNSUPPORTED', 'secp384r1');
      assert.match(run.errors[0]!.message, /root-key input/);
      assert.equal(await publishCount(ctx.stack, p384Gun), 0);
      assert.equal(await trustFile(ctx.stack, p384Gun, 'root'), undefined, 'no root.json');
      assert.equal(run.outputs['repository-key'], undefined, 'no key was generated for a refused init');
    });

    it('rotate with a wrong PIN for the new root key: PKCS11_PIN_INCORRECT naming new-root-passphrase; no PIN for it (the old root key a file): PASSPHRASE_MISSING; nothing published', async () => {
      const fileGun = ctx.stack.gun('hsm/from-file');
      const posts = await publishCount(ctx.stack, fileGun);
      const rootFile = keyFilePem(generateKey(), ROOT_PASSPHRASE, { role: 'root' });
      const wrong = await admin('rotate', fileGun, { 'rotate-role': 'root', 'root-key': hsm.uri('id=%16'), 'root-passphrase': hsm.pin, 'new-root-key': hsm.uri('id=%12'), 'new-root-passphrase': 'not-the-pin-1234' });
      assertBadInput(wrong, 'PKCS11_PIN_INCORRECT', 'new-root-passphrase');
      // The file's passphrase is not tried as the token's PIN.
      const none = await admin('rotate', fileGun, { 'rotate-role': 'root', 'root-key': rootFile, 'root-passphrase': ROOT_PASSPHRASE, 'new-root-key': hsm.uri('id=%12') });
      assertBadInput(none, 'PASSPHRASE_MISSING', 'new-root-passphrase');
      assert.equal(await publishCount(ctx.stack, fileGun), posts, 'nothing was published');
    });

    it('CLI: init with a key on the token and a wrong PIN: PKCS11_PIN_INCORRECT naming the passphrase variable; the repository is not created', async () => {
      const pinGun = ctx.stack.gun('hsm/cli-pin');
      const env = { ...ctx.stack.docker.env(), ...hsm.env, DOCKER_CONFIG: await mkdtemp(join(ctx.stack.dir, 'cli-pin-')), DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: 'not-the-pin-1234', DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: hsm.pin };
      const run = await runCli(env, ['--tlscacert', ctx.stack.ca.caCertPath, 'init', pinGun, '--root-key', hsm.uri('id=%10'), '--repository-key', hsm.uri('id=%14'), '--pkcs11-module', hsm.module]);
      assertCliBadInput(run, 'PKCS11_PIN_INCORRECT', 'DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE');
      assert.equal(await trustFile(ctx.stack, pinGun, 'root'), undefined);
    });
  });
});
