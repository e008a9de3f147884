/**
 * Keys that never enter the runner (issue 14), against the real stack with a
 * SoftHSM token made for this run: the signer's key is made inside the token
 * with pkcs11-tool and added with `docker trust signer add`; the action and
 * the CLI sign through a PKCS#11 URI and through a sign-command wrapping
 * pkcs11-tool (standing in for a cloud KMS's CLI); docker trust inspect
 * shows the tags under that signer and the action verifies them. The
 * administrative modes sign with a repository key and a root key on the
 * token. Every failure is named, and publishes nothing.
 *
 * Facts about pkcs11-tool this relies on: test/upstream/pkcs11-tool.upstream.test.ts.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type PushedImage } from '../stack/index.ts';
import { makeSoftHsm, type SoftHsm, type TokenKey } from '../stack/softhsm.ts';
import { assertBadInput, assertCliBadInput, describeRun, hex, publishCount, resultOf, runAction, runCli, trustFile, useStack, type ActionRun } from './helpers.ts';
import { keyId } from '../../src/tuf/keys.ts';
import { generateKey, keyFilePem } from '../../src/tuf/key-file.ts';
import { which } from '../../scripts/ensure-deps.mjs';

/** The key ID docker and notary give a public key: the TUF ID of the plain ECDSA key. */
const idOf = (key: TokenKey) => keyId('ecdsa', key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));

describe('keys on a PKCS#11 token and behind a sign-command, against the real stack and SoftHSM', () => {
  const ctx = useStack();
  let hsm: SoftHsm;
  let signer: TokenKey;
  let other: TokenKey;
  let publicKeyPath: string;
  let gun: string;
  /** A sign-command standing in for a cloud KMS CLI: pkcs11-tool signs; the signature is printed as DER in base64 (as AWS KMS gives it). */
  let kmsScript: string;
  let images: PushedImage[];

  const uri = (attributes = 'object=dct-signer') => hsm.uri(attributes);
  const tokenEnv = (extra: Record<string, string> = {}) => hsm.actionEnv(extra);
  /** The variables kmsScript reads: which token, key and PIN (from the step's environment, as cloud credentials would be). */
  const kmsEnv = (keyIdHex: string) => ({ ...hsm.env, HSM_MODULE: hsm.module, HSM_TOKEN: hsm.label, HSM_PIN: hsm.pin, HSM_KEY_ID: keyIdHex });
  const signWithToken = (image: PushedImage, key: string, extra: Record<string, string> = {}, passphrase: string | null = hsm.pin) => runAction(ctx.stack, { mode: 'sign', images: [image.ref], key, passphrase }, tokenEnv(extra));
  const signWithCommand = (image: PushedImage, command: string, extra: Record<string, string> = {}) =>
    runAction(ctx.stack, { mode: 'sign', images: [image.ref], passphrase: null }, { ...kmsEnv('01'), 'INPUT_SIGN-COMMAND': command, 'INPUT_DELEGATION-PUBLIC-KEY': signer.publicKeyPem, ...extra });
  /** The run was refused with `code` naming `named`, and the repository got no publish. */
  const refusedUnpublished = async (run: ActionRun, code: string, named: string, postsBefore: number) => {
    assertBadInput(run, code, named);
    assert.equal(await publishCount(ctx.stack, gun), postsBefore, 'nothing was published');
  };

  before(async () => {
    hsm = await makeSoftHsm(ctx.stack.dir);
    signer = await hsm.generate('dct-signer', '01');
    other = await hsm.generate('other-key', '03');
    publicKeyPath = join(ctx.stack.dir, 'hsm.pub');
    await writeFile(publicKeyPath, signer.publicKeyPem);
    gun = ctx.stack.gun('hsm/app');
    // The repository owner adds the token's public key as signer "hsm", with docker's own command.
    await ctx.stack.docker.signerAdd('hsm', publicKeyPath, gun);
    kmsScript = join(ctx.stack.dir, 'kms-sign.sh');
    await writeFile(
      kmsScript,
      [
        '#!/bin/bash',
        '# Stands in for a cloud KMS CLI: the digest in hex on stdin, the signature (DER, base64) on stdout.',
        'set -euo pipefail',
        'read -r digest',
        'echo "inputs visible: $(env | grep -c "^INPUT_" || true)" >&2',
        String.raw`printf "$(sed "s/../\\\\x&/g" <<<"$digest")" | pkcs11-tool --module "$HSM_MODULE" --token-label "$HSM_TOKEN" --login --pin env:HSM_PIN --sign --mechanism ECDSA --id "$HSM_KEY_ID" --signature-format openssl | base64 -w0`,
        '',
      ].join('\n'),
    );
    await chmod(kmsScript, 0o755);
    images = await Promise.all(['v1', 'v2', 'v3', 'v4', 'bad'].map((t) => pushImage(ctx.stack, `hsm/app:${t}`, { seed: `hsm-${t}` })));
  });

  it("docker trust signer add took the token's public key: the signer's key ID is the one the product computes from the token's public key", async () => {
    const [entry] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(
      entry!.Signers.find((s) => s.Name === 'hsm')?.Keys.map((k) => k.ID),
      [idOf(signer)],
    );
  });

  it('action: signs through a PKCS#11 URI, the PIN never on a command line; docker trust inspect shows the tag under the signer; the action verifies it', async () => {
    const v1 = images[0]!;
    // A recorder in front of the real pkcs11-tool: every command line the action gave it.
    const shimDir = join(ctx.stack.dir, 'pkcs11-shim');
    await mkdir(shimDir, { recursive: true });
    const log = join(shimDir, 'argv.log');
    await writeFile(join(shimDir, 'pkcs11-tool'), `#!/bin/sh\nprintf '%s\\n' "$*" >> "${log}"\nexec "${which('pkcs11-tool')}" "$@"\n`, { mode: 0o755 });
    const run = await signWithToken(v1, uri(), { PATH: `${shimDir}:${hsm.env.PATH}` });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      resultOf(run).map((r) => [r.tag, r.digest, r.signers]),
      [['v1', v1.digest, ['hsm']]],
    );

    const argv = await readFile(log, 'utf8');
    assert.match(argv, /--sign --mechanism ECDSA --id 01/, 'it signed through pkcs11-tool, by key ID');
    assert.match(argv, /--login --pin env:CONTENT_TRUST_PKCS11_PIN/, 'the PIN came from its environment');
    assert.ok(!argv.includes(hsm.pin), 'the PIN is on no command line');

    const [entry] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(
      entry!.SignedTags.find((t) => t.SignedTag === 'v1'),
      { SignedTag: 'v1', Digest: hex(v1.digest), Signers: ['hsm'] },
    );
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [v1.ref], signers: 'hsm' });
    assert.equal(verify.code, 0, describeRun(verify));
    assert.deepEqual(resultOf(verify)[0]!.signers, ['hsm']);
  });

  it('action: signs through a sign-command wrapping pkcs11-tool (DER in base64); its standard error is shown, the action inputs are not in its environment; docker trust inspect and verify agree', async () => {
    const v2 = images[1]!;
    const run = await signWithCommand(v2, `bash ${kmsScript}`);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(run.stdout, /the sign-command input: .*Using signature algorithm ECDSA/, "the command's standard error is shown");
    assert.match(run.stdout, /inputs visible: 0/, "the command does not see the action's inputs (keys, passphrases, the password)");
    assert.ok(!run.text.includes(hsm.pin), "the command's environment is not shown");
    const [entry] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(
      entry!.SignedTags.find((t) => t.SignedTag === 'v2'),
      { SignedTag: 'v2', Digest: hex(v2.digest), Signers: ['hsm'] },
    );
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [v2.ref], signers: 'hsm' });
    assert.equal(verify.code, 0, describeRun(verify));
  });

  it('CLI: content-trust sign --key pkcs11:… and --sign-command … --public-key; docker trust inspect shows both tags; content-trust verify passes', async () => {
    const [, , v3, v4] = images;
    const env = { ...ctx.stack.docker.env(), ...kmsEnv('01'), DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: hsm.pin };
    const byUri = await runCli(env, ['sign', '--key', uri('id=%01'), '--pkcs11-module', hsm.module, v3!.ref]);
    assert.equal(byUri.code, 0, byUri.stderr);
    assert.match(byUri.stdout, new RegExp(`Signed ${gun}:v3 ${v3!.digest}`));
    const byCommand = await runCli(env, ['sign', '--sign-command', `bash ${kmsScript}`, '--public-key', publicKeyPath, v4!.ref]);
    assert.equal(byCommand.code, 0, byCommand.stderr);
    assert.match(byCommand.stderr, /--sign-command: .*Using signature algorithm ECDSA/);
    const [entry] = await ctx.stack.docker.inspect(gun);
    for (const image of [v3!, v4!]) assert.deepEqual(entry!.SignedTags.find((t) => t.SignedTag === image.tag)?.Signers, ['hsm']);
    const verify = await runCli(env, ['verify', '--signer', 'hsm', v3!.ref, v4!.ref]);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('admin modes: add-signer with the repository key on the token, refresh with the root key on the token; docker reads the result', async () => {
    const adminGun = ctx.stack.gun('hsm/admin');
    // The owner's keys as files, also imported into the token: init from the files, the other modes from the token (init from the token: hsm-admin.itg.test.ts).
    const root = generateKey();
    const targets = generateKey();
    await hsm.importKey(root, 'dct-root', '10');
    await hsm.importKey(targets, 'dct-repository', '11');
    const init = await runAction(
      ctx.stack,
      { mode: 'verify', images: [adminGun] },
      {
        INPUT_MODE: 'init',
        'INPUT_ROOT-KEY': keyFilePem(root, ROOT_PASSPHRASE, { role: 'root' }),
        'INPUT_ROOT-PASSPHRASE': ROOT_PASSPHRASE,
        'INPUT_REPOSITORY-KEY': keyFilePem(targets, REPOSITORY_PASSPHRASE, { role: 'targets', gun: adminGun }),
        'INPUT_REPOSITORY-PASSPHRASE': REPOSITORY_PASSPHRASE,
      },
    );
    assert.equal(init.code, 0, describeRun(init));

    const add = await runAction(
      ctx.stack,
      { mode: 'verify', images: [adminGun] },
      tokenEnv({ INPUT_MODE: 'add-signer', 'INPUT_SIGNER-NAME': 'hsm', 'INPUT_SIGNER-KEY': signer.publicKeyPem, 'INPUT_REPOSITORY-KEY': uri('id=%11'), 'INPUT_REPOSITORY-PASSPHRASE': hsm.pin }),
    );
    assert.equal(add.code, 0, describeRun(add));
    const image = await pushImage(ctx.stack, 'hsm/admin:v1', { seed: 'hsm-admin-v1' });
    const sign = await signWithToken(image, uri());
    assert.equal(sign.code, 0, describeRun(sign));
    const [entry] = await ctx.stack.docker.inspect(adminGun);
    assert.deepEqual(entry!.SignedTags, [{ SignedTag: 'v1', Digest: hex(image.digest), Signers: ['hsm'] }]);
    assert.deepEqual(
      entry!.Signers.find((s) => s.Name === 'hsm')?.Keys.map((k) => k.ID),
      [idOf(signer)],
    );

    const rootBefore = (await trustFile(ctx.stack, adminGun, 'root'))!.signed.version;
    const refresh = await runAction(ctx.stack, { mode: 'verify', images: [adminGun] }, tokenEnv({ INPUT_MODE: 'refresh', 'INPUT_EXPIRES-WITHIN': '100000', 'INPUT_ROOT-KEY': uri('object=dct-root'), 'INPUT_ROOT-PASSPHRASE': hsm.pin }));
    assert.equal(refresh.code, 0, describeRun(refresh));
    assert.equal((await trustFile(ctx.stack, adminGun, 'root'))!.signed.version, rootBefore + 1, 'the root was re-signed by the key on the token');
    // A client that trusted the first root follows the one the token signed.
    const [after] = await ctx.stack.docker.inspect(adminGun);
    assert.deepEqual(
      after!.SignedTags.map((t) => t.SignedTag),
      ['v1'],
    );
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [image.ref], signers: 'hsm' });
    assert.equal(verify.code, 0, describeRun(verify));
  });

  describe('each failure is named and publishes nothing', () => {
    it('a wrong PIN: PKCS11_PIN_INCORRECT, naming the passphrase input', async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithToken(images[4]!, uri(), {}, 'not-the-pin-1234'), 'PKCS11_PIN_INCORRECT', 'delegation-passphrase', posts);
    });

    it('no PIN: PASSPHRASE_MISSING, naming the passphrase input', async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithToken(images[4]!, uri(), {}, null), 'PASSPHRASE_MISSING', 'delegation-passphrase', posts);
    });

    it('a token that is not there (its label is matched exactly, not as a prefix): PKCS11_TOKEN_NOT_FOUND, naming it', async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithToken(images[4]!, `pkcs11:token=${hsm.label.slice(0, 1)};object=dct-signer`), 'PKCS11_TOKEN_NOT_FOUND', `token "${hsm.label.slice(0, 1)}"`, posts);
    });

    it('an object that is not there: PKCS11_OBJECT_NOT_FOUND, naming it and listing the keys there', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const run = await signWithToken(images[4]!, uri('object=no-such-key'));
      await refusedUnpublished(run, 'PKCS11_OBJECT_NOT_FOUND', 'object "no-such-key"', posts);
      assert.match(run.errors[0]!.message, /"dct-signer", id 01/);
    });

    it('a module that does not load: PKCS11_MODULE_INVALID, naming it (a missing file too)', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const notAModule = join(ctx.stack.dir, 'not-a-module.so');
      await writeFile(notAModule, 'not a shared library\n');
      await refusedUnpublished(await signWithToken(images[4]!, uri(), { 'INPUT_PKCS11-MODULE': notAModule }), 'PKCS11_MODULE_INVALID', notAModule, posts);
      await refusedUnpublished(await signWithToken(images[4]!, uri(), { 'INPUT_PKCS11-MODULE': '/nonexistent/libpkcs11.so' }), 'PKCS11_MODULE_INVALID', '/nonexistent/libpkcs11.so', posts);
    });

    it('a key that is not P-256 ECDSA: KEY_UNSUPPORTED', async () => {
      // Made inside the token; pkcs11-tool 0.23 cannot export a P-384 public key object as DER, so the product reads it from the object listing.
      await hsm.tool(['--keypairgen', '--key-type', 'EC:secp384r1', '--label', 'p384-key', '--id', '20', '--usage-sign']);
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithToken(images[4]!, uri('object=p384-key')), 'KEY_UNSUPPORTED', 'secp384r1', posts);
    });

    it('a PIN in the URI: PKCS11_URI_INVALID, and the PIN is not repeated', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const run = await signWithToken(images[4]!, uri(`object=dct-signer?pin-value=${hsm.pin}`));
      await refusedUnpublished(run, 'PKCS11_URI_INVALID', 'pin-value', posts);
      const shown = run.text.split('\n').filter((l) => !l.startsWith('::add-mask::'));
      assert.ok(!shown.some((l) => l.includes(hsm.pin)), 'the PIN is only in the mask command that hides it');
    });

    it('pkcs11-tool not installed: PKCS11_TOOL_MISSING, saying which package', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const run = await signWithToken(images[4]!, uri(), { PATH: '/nonexistent' });
      await refusedUnpublished(run, 'PKCS11_TOOL_MISSING', 'opensc', posts);
    });

    it('a sign-command that fails: SIGN_COMMAND_FAILED, naming the command, with its standard error', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const run = await signWithCommand(images[4]!, 'echo "AccessDeniedException: not allowed to use key" >&2; exit 3');
      await refusedUnpublished(run, 'SIGN_COMMAND_FAILED', 'sign-command', posts);
      assert.match(run.errors[0]!.message, /exit status 3.*AccessDeniedException: not allowed to use key/);
    });

    it('a sign-command that does not finish: SIGN_COMMAND_TIMEOUT, naming the timeout input', async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithCommand(images[4]!, 'sleep 30', { 'INPUT_SIGN-COMMAND-TIMEOUT': '1' }), 'SIGN_COMMAND_TIMEOUT', 'sign-command-timeout', posts);
    });

    it('a sign-command that times out is stopped with what it started in the background (its process group is killed)', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const pidFile = join(ctx.stack.dir, 'background.pid');
      // A background child that would outlive the command were only the shell killed.
      const run = await signWithCommand(images[4]!, `sleep 300 & echo $! > ${pidFile}; wait`, { 'INPUT_SIGN-COMMAND-TIMEOUT': '1' });
      await refusedUnpublished(run, 'SIGN_COMMAND_TIMEOUT', 'sign-command-timeout', posts);
      const pid = (await readFile(pidFile, 'utf8')).trim();
      assert.match(pid, /^\d+$/);
      // Gone, or a zombie left for PID 1 to reap: either way no longer running.
      const state = await readFile(`/proc/${pid}/stat`, 'utf8').then(
        (stat) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0],
        () => 'gone',
      );
      assert.ok(state === 'gone' || state === 'Z' || state === 'X', `the background sleep ${pid} is ${state}, still running`);
    });

    it('a sign-command that floods its output: SIGN_COMMAND_FAILED, stopped at the bound', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const run = await signWithCommand(images[4]!, 'yes signature');
      await refusedUnpublished(run, 'SIGN_COMMAND_FAILED', 'sign-command', posts);
      assert.match(run.errors[0]!.message, /printed more than 65536 bytes/);
    });

    it('a sign-command that prints no signature: SIGNATURE_INVALID', async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithCommand(images[4]!, 'cat; echo signed'), 'SIGNATURE_INVALID', 'sign-command', posts);
    });

    it("a sign-command that signs with another key than delegation-public-key's: SIGNATURE_INVALID, naming the public key input", async () => {
      const posts = await publishCount(ctx.stack, gun);
      await refusedUnpublished(await signWithCommand(images[4]!, `bash ${kmsScript}`, { HSM_KEY_ID: '03' }), 'SIGNATURE_INVALID', 'delegation-public-key', posts);
      assert.notEqual(idOf(other), idOf(signer));
    });

    it('a sign-command that goes wrong after its first signature (mid-plan): SIGNATURE_INVALID, and nothing is published', async () => {
      const posts = await publishCount(ctx.stack, gun);
      const state = join(ctx.stack.dir, 'signed-once');
      // Signs properly once (the check when the key is opened), then prints another key's signatures.
      const command = `if [ -e ${state} ]; then HSM_KEY_ID=03 bash ${kmsScript}; else touch ${state}; bash ${kmsScript}; fi`;
      const run = await signWithCommand(images[4]!, command);
      await refusedUnpublished(run, 'SIGNATURE_INVALID', 'sign-command', posts);
      assert.equal((await trustFile(ctx.stack, gun, 'targets/hsm'))?.signed.targets?.bad, undefined);
    });

    it('CLI: a token that is not there names --key; a wrong PIN names the passphrase variable', async () => {
      const env = { ...ctx.stack.docker.env(), ...hsm.env, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: hsm.pin };
      assertCliBadInput(await runCli(env, ['sign', '--key', 'pkcs11:token=nope;id=%01', '--pkcs11-module', hsm.module, images[4]!.ref]), 'PKCS11_TOKEN_NOT_FOUND', '--key');
      const wrong = { ...env, DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: 'not-the-pin-1234' };
      assertCliBadInput(await runCli(wrong, ['sign', '--key', uri(), '--pkcs11-module', hsm.module, images[4]!.ref]), 'PKCS11_PIN_INCORRECT', 'DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE');
    });

    it('CLI: --signer with --key or --sign-command is refused (INPUT_INVALID naming both flags), not ignored', async () => {
      const env = { ...ctx.stack.docker.env(), ...kmsEnv('01'), DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: hsm.pin };
      const posts = await publishCount(ctx.stack, gun);
      const byKey = await runCli(env, ['sign', '--signer', 'hsm', '--key', uri(), '--pkcs11-module', hsm.module, images[4]!.ref]);
      assertCliBadInput(byKey, 'INPUT_INVALID', '--signer');
      assert.match(byKey.stderr, /give one of --signer and --key, not both/);
      const byCommand = await runCli(env, ['sign', '--signer', 'hsm', '--sign-command', `bash ${kmsScript}`, '--public-key', publicKeyPath, images[4]!.ref]);
      assertCliBadInput(byCommand, 'INPUT_INVALID', '--sign-command');
      assert.match(byCommand.stderr, /--signer/);
      assert.equal(await publishCount(ctx.stack, gun), posts, 'nothing was published');
    });
  });
});
