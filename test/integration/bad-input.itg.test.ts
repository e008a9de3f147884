/**
 * Every bad input gets a named error, end to end: the action as the runner
 * runs it and the CLI, each given a representative bad input, exit 1 with
 * the input's own code, a message naming the input or flag, nothing
 * INTERNAL, nothing published and, for what can be checked locally, no
 * request made at all.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { assertBadInput, assertCliBadInput, assertNoInternal, describeRun, initRepo, runAction, runCli, trustState, useStack } from './helpers.ts';

describe('bad inputs get named errors (action and CLI, real stack)', () => {
  const ctx = useStack();
  let gun: string;
  let img: PushedImage;
  let dir: string;
  const pkcs8 = (type: 'rsa' | 'ed25519', bits?: number) => (type === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: bits! }) : generateKeyPairSync('ed25519')).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;

  before(async () => {
    gun = await initRepo(ctx.stack, 'bad-input/app', ctx.ci);
    img = await pushImage(ctx.stack, 'bad-input/app:v1');
    dir = join(ctx.stack.dir, 'bad-input');
    await mkdir(join(dir, 'a-directory'), { recursive: true });
  });

  /** Requests the notary server logged for the GUN so far. */
  const requestsFor = async (g: string) => (await readFile(ctx.stack.notary.logPath, 'utf8')).split('\n').filter((l) => l.includes(`/v2/${g}/`)).length;

  describe('the action', () => {
    it('ca-cert a directory: FILE_IS_DIRECTORY naming input ca-cert', async () => {
      assertBadInput(await runAction(ctx.stack, { mode: 'verify', images: [img.ref], caCert: join(dir, 'a-directory') }), 'FILE_IS_DIRECTORY', 'input ca-cert');
    });

    it('images-file missing: FILE_NOT_FOUND naming input images-file', async () => {
      const run = await runAction(ctx.stack, { mode: 'verify', images: '' }, { 'INPUT_IMAGES-FILE': join(dir, 'no-such-list.txt') });
      assertBadInput(run, 'FILE_NOT_FOUND', 'input images-file');
    });

    it('dockerfile a FIFO with no writer: FILE_UNREADABLE, and the run does not hang', async () => {
      const fifo = join(dir, 'Dockerfile.fifo');
      execFileSync('mkfifo', [fifo]);
      const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { INPUT_DOCKERFILE: fifo });
      assertBadInput(run, 'FILE_UNREADABLE', 'input dockerfile');
    });

    it('policy a directory: FILE_IS_DIRECTORY naming input policy', async () => {
      assertBadInput(await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { INPUT_POLICY: join(dir, 'a-directory') }), 'FILE_IS_DIRECTORY', 'input policy');
    });

    it('a malformed trust-server: TRUST_SERVER_INVALID naming the input, refused before any request', async () => {
      const before = await requestsFor(gun);
      const real = new URL(ctx.stack.notary.url);
      for (const bad of [`http://${real.host}`, `https://user:pw@${real.host}`, `https://${real.host}/?x=1`, `${real.host}`]) {
        assertBadInput(await runAction(ctx.stack, { mode: 'verify', images: [img.ref], trustServer: bad }), 'TRUST_SERVER_INVALID', 'input trust-server');
      }
      assert.equal(await requestsFor(gun), before, 'the notary server saw no request');
    });

    it('a trust-server with a path prefix is accepted, as docker accepts it (requests go to <prefix>/v2/…, which this server does not serve): the failure is not an input error', async () => {
      const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref], trustServer: `${ctx.stack.notary.url}/prefix/` });
      assert.equal(run.code, 1, describeRun(run));
      assert.doesNotMatch(run.stdout, /^::error::TRUST_SERVER_INVALID/m, describeRun(run));
      assertNoInternal(run.text);
    });

    it('delegation keys of unsupported types (RSA 1024, ed25519): KEY_UNSUPPORTED naming the input; nothing published', async () => {
      const before = await trustState(ctx.stack, gun);
      for (const key of [pkcs8('rsa', 1024), pkcs8('ed25519')]) {
        const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key, passphrase: null });
        assertBadInput(run, 'KEY_UNSUPPORTED', 'the delegation-key input');
      }
      assert.deepEqual(await trustState(ctx.stack, gun), before);
    });

    it('an RSA 2048 delegation key is a supported type: no delegate of this repository, so KEY_NOT_DELEGATE; nothing published', async () => {
      const before = await trustState(ctx.stack, gun);
      const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: pkcs8('rsa', 2048), passphrase: null });
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.stdout, /^::error::KEY_NOT_DELEGATE: /m, describeRun(run));
      assertNoInternal(run.text);
      assert.deepEqual(await trustState(ctx.stack, gun), before);
    });
  });

  describe('the CLI', () => {
    const env = () => ctx.stack.docker.env();

    it('--server malformed, or DOCKER_CONTENT_TRUST_SERVER: TRUST_SERVER_INVALID naming which, before any request', async () => {
      const before = await requestsFor(gun);
      assertCliBadInput(await runCli(env(), ['verify', '--server', `http://${new URL(ctx.stack.notary.url).host}`, `${gun}:v1`]), 'TRUST_SERVER_INVALID', '--server');
      assertCliBadInput(await runCli({ ...env(), DOCKER_CONTENT_TRUST_SERVER: 'ftp://notary.example.com' }, ['verify', `${gun}:v1`]), 'TRUST_SERVER_INVALID', 'DOCKER_CONTENT_TRUST_SERVER');
      assert.equal(await requestsFor(gun), before, 'the notary server saw no request');
    });

    it('--tlscacert a directory: FILE_IS_DIRECTORY naming the flag', async () => {
      assertCliBadInput(await runCli(env(), ['verify', '--tlscacert', join(dir, 'a-directory'), `${gun}:v1`]), 'FILE_IS_DIRECTORY', '--tlscacert');
    });

    it('signer add --key missing: FILE_NOT_FOUND naming the flag', async () => {
      assertCliBadInput(await runCli(env(), ['signer', 'add', '--key', join(dir, 'nobody.pub'), 'nobody', gun]), 'FILE_NOT_FOUND', '--key');
    });

    it('key load: a directory is FILE_IS_DIRECTORY, an ed25519 key KEY_UNSUPPORTED, each naming the file', async () => {
      assertCliBadInput(await runCli(env(), ['key', 'load', join(dir, 'a-directory'), '--name', 'edward']), 'FILE_IS_DIRECTORY', 'the key file');
      const ed = join(dir, 'ed25519.pem');
      await writeFile(ed, pkcs8('ed25519'));
      await chmod(ed, 0o600);
      assertCliBadInput(await runCli(env(), ['key', 'load', ed, '--name', 'edward']), 'KEY_UNSUPPORTED', `the key file "${ed}"`);
    });

    it('key generate --dir a file: FILE_NOT_DIRECTORY naming the flag, and no key saved', async () => {
      const file = join(dir, 'a-file');
      await writeFile(file, 'x');
      const keys = () => readdir(join(env().DOCKER_CONFIG!, 'trust', 'private')).catch(() => []);
      const before = await keys();
      assertCliBadInput(await runCli(env(), ['key', 'generate', 'orphan', '--dir', file]), 'FILE_NOT_DIRECTORY', '--dir');
      assert.deepEqual(await keys(), before);
    });
  });
});
