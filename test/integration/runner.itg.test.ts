/**
 * The action as the runner sees it: secrets only ever inside ::add-mask::
 * lines, never in the output or summary files or on disk; input forms; exit
 * codes and INPUT_INVALID.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, type GeneratedKey } from '../stack/index.ts';
import { describeRun, initRepo, resultOf, runAction, useStack, type ActionRun } from './helpers.ts';

/** Every secret: the passphrase, the whole key, and each base64 line of it long enough to be masked. */
function secretsOf(key: GeneratedKey, passphrase: string): string[] {
  const lines = key.privateKeyPem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 8 && !l.startsWith('-----') && !/^[a-z]+: /.test(l));
  assert.ok(lines.length >= 4, 'the key has base64 lines');
  return [passphrase, key.privateKeyPem.trim(), ...lines];
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** No secret outside ::add-mask:: lines, nor in GITHUB_OUTPUT, the summary or any file the run left in HOME. */
async function assertNoLeak(run: ActionRun, secrets: string[]): Promise<void> {
  for (const [name, text] of [
    ['stdout', run.stdout],
    ['stderr', run.stderr],
  ] as const) {
    for (const line of text.split('\n')) {
      if (line.startsWith('::add-mask::')) continue;
      for (const s of secrets) assert.ok(!line.includes(s), `${name} shows a secret outside ::add-mask::: ${line}`);
    }
  }
  for (const s of secrets) {
    assert.ok(!run.outputFile.includes(s), 'GITHUB_OUTPUT holds a secret');
    assert.ok(!run.summary.includes(s), 'the job summary holds a secret');
  }
  for (const file of await filesUnder(run.home)) {
    const text = await readFile(file, 'utf8');
    for (const s of secrets) assert.ok(!text.includes(s), `${file} holds a secret`);
  }
}

describe('runner', () => {
  const ctx = useStack();

  it('secrets appear only in ::add-mask:: lines, and the passphrase and every key line are masked first', async () => {
    await initRepo(ctx.stack, 'runner/secrets', ctx.ci);
    const img = await pushImage(ctx.stack, 'runner/secrets:v1');
    const secrets = secretsOf(ctx.ci, REPOSITORY_PASSPHRASE);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { RUNNER_DEBUG: '1' });
    assert.equal(run.code, 0, describeRun(run));
    const masks = run.stdout
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'))
      .map((l) => l.slice('::add-mask::'.length));
    for (const s of secrets.filter((s) => !s.includes('\n'))) assert.ok(masks.includes(s), `masked: ${s.slice(0, 12)}…`);
    const firstOther = run.stdout.split('\n').findIndex((l) => l && !l.startsWith('::add-mask::'));
    const lastMask = run.stdout.split('\n').findLastIndex((l) => l.startsWith('::add-mask::'));
    assert.ok(lastMask < firstOther, 'every mask comes before any other line');
    await assertNoLeak(run, secrets);
  });

  it('failing runs leak nothing either: wrong passphrase, damaged key, key of no delegate', async () => {
    const gun = await initRepo(ctx.stack, 'runner/secrets-fail', ctx.ci);
    const img = await pushImage(ctx.stack, 'runner/secrets-fail:v1');
    const wrong = 'a-wrong-passphrase-123';
    const run1 = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, passphrase: wrong }, { RUNNER_DEBUG: '1' });
    assert.notEqual(run1.code, 0);
    await assertNoLeak(run1, [wrong, ...secretsOf(ctx.ci, REPOSITORY_PASSPHRASE)]);

    const damaged = ctx.ci.privateKeyPem
      .split('\n')
      .filter((_, i) => i !== 5)
      .join('\n');
    const run2 = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: damaged }, { RUNNER_DEBUG: '1' });
    assert.notEqual(run2.code, 0);
    await assertNoLeak(
      run2,
      secretsOf(ctx.ci, REPOSITORY_PASSPHRASE).filter((s) => !s.includes('\n')),
    );

    const other = await ctx.stack.docker.keyGenerate('other', join(ctx.stack.dir, 'keys'));
    const run3 = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: other.privateKeyPem }, { RUNNER_DEBUG: '1' });
    assert.ok(
      run3.errors.some((e) => e.title === `KEY_NOT_DELEGATE: ${gun}`),
      describeRun(run3),
    );
    await assertNoLeak(run3, secretsOf(other, REPOSITORY_PASSPHRASE));
  });

  it('a passphrase from DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE is used and masked', async () => {
    const gun = await initRepo(ctx.stack, 'runner/env-passphrase', ctx.ci);
    const img = await pushImage(ctx.stack, 'runner/env-passphrase:v1');
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, passphrase: null }, { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: REPOSITORY_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs.digests, `${gun}@${img.digest}`);
    assert.ok(run.stdout.includes(`::add-mask::${REPOSITORY_PASSPHRASE}`));
    await assertNoLeak(run, secretsOf(ctx.ci, REPOSITORY_PASSPHRASE));
  });

  it('images as docker/metadata-action writes them: new lines, commas, blanks and # comments; ca-cert as PEM text', async () => {
    const gun = await initRepo(ctx.stack, 'runner/list', ctx.ci);
    const a = await pushImage(ctx.stack, 'runner/list:a');
    const b = await pushImage(ctx.stack, 'runner/list:b');
    const c = await pushImage(ctx.stack, 'runner/list:c');
    const images = `\n${a.ref}\n\n# a comment\n  ${b.ref} , ${c.ref}\n`;
    const run = await runAction(ctx.stack, { mode: 'sign', images, key: ctx.ci.privateKeyPem, caCert: ctx.stack.ca.caPem });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(
      run.outputs.digests!.split('\n'),
      [a, b, c].map((i) => `${gun}@${i.digest}`),
    );
    assert.deepEqual(
      resultOf(run).map((r) => r.tag),
      ['a', 'b', 'c'],
    );
  });

  it('bad inputs fail with their code and exit 1', async () => {
    const img = await pushImage(ctx.stack, 'runner/inputs:v1');
    const cases: [string, Parameters<typeof runAction>[1], string, RegExp][] = [
      ['mode', { mode: 'publish' as 'sign', images: [img.ref] }, 'INPUT_INVALID', /input mode is "publish"/],
      ['images', { mode: 'verify', images: '\n# nothing\n' }, 'INPUT_INVALID', /input images is empty/],
      ['key', { mode: 'sign', images: [img.ref] }, 'INPUT_INVALID', /delegation-key/],
      ['signers', { mode: 'verify', images: [img.ref], signers: 'releases' }, 'INPUT_INVALID', /reserved/],
      ['trust-server', { mode: 'verify', images: [img.ref], trustServer: 'http://127.0.0.1:1' }, 'TRUST_SERVER_INVALID', /https:\/\//],
      ['ca-cert', { mode: 'verify', images: [img.ref], caCert: join(ctx.stack.dir, 'no-such-ca.pem') }, 'FILE_NOT_FOUND', /ca-cert/],
    ];
    for (const [name, inputs, code, message] of cases) {
      const run = await runAction(ctx.stack, inputs);
      assert.equal(run.code, 1, `${name}: ${describeRun(run)}`);
      assert.match(run.stdout, new RegExp(`^::error::${code}: `, 'm'), `${name}: ${describeRun(run)}`);
      assert.match(run.stdout, message, name);
    }
  });
});
