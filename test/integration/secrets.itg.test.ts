/**
 * No secret in any output: a representative set of action runs against the
 * production stack (token auth), successes and failures, and a search of
 * everything each run printed or wrote (stdout, stderr, GITHUB_OUTPUT, the
 * job summary) for the key file's base64, the decrypted key (PKCS#8 DER,
 * private scalar), passphrases, the registry password, refresh tokens and
 * any JWT the token issuer handed out. Only `::add-mask::` lines may hold them.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pushImage, REPOSITORY_PASSPHRASE, type GeneratedKey } from '../stack/index.ts';
import { describeRun, initRepo, runAction, useStack, type ActionRun } from './helpers.ts';
import { readPrivateKey } from '../../src/tuf/private-key.ts';

/** Base64 of `{"typ":"JWT"`: the start of every token the stack's issuer signs. */
const JWT_START = 'eyJ0eXAiOiJKV1Qi';

function secretsOf(key: GeneratedKey, extra: Record<string, string>): Record<string, string> {
  const { keyObject } = readPrivateKey(key.privateKeyPem, REPOSITORY_PASSPHRASE);
  const pkcs8 = keyObject.export({ format: 'der', type: 'pkcs8' });
  const d = String(keyObject.export({ format: 'jwk' }).d);
  const out: Record<string, string> = {
    'private scalar (base64url)': d,
    'private scalar (hex)': Buffer.from(d, 'base64url').toString('hex'),
    'private scalar (base64)': Buffer.from(d, 'base64url').toString('base64'),
    'decrypted PKCS#8 (base64)': pkcs8.toString('base64'),
    'repository passphrase': REPOSITORY_PASSPHRASE,
    'token (JWT)': JWT_START,
    ...extra,
  };
  // Every 64-character line of both PEM bodies: a log that prints one line leaks too.
  const encryptedLines = key.privateKeyPem.split('\n').filter((l) => /^[A-Za-z0-9+/=]{40,}$/.test(l));
  encryptedLines.forEach((l, i) => (out[`key file base64 line ${i + 1}`] = l));
  (pkcs8.toString('base64').match(/.{1,64}/g) ?? []).filter((l) => l.length >= 40).forEach((l, i) => (out[`PKCS#8 base64 line ${i + 1}`] = l));
  return out;
}

function leaks(run: ActionRun, secrets: Record<string, string>): string[] {
  const surfaces: Record<string, string> = { stdout: run.stdout, stderr: run.stderr, GITHUB_OUTPUT: run.outputFile, summary: run.summary };
  const found: string[] = [];
  for (const [surface, text] of Object.entries(surfaces)) {
    const lines = text.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    for (const [name, secret] of Object.entries(secrets)) {
      const hit = lines.find((l) => l.includes(secret));
      if (hit) found.push(`${name} in ${surface}: ${hit.slice(0, 200)}`);
    }
  }
  return found;
}

describe('no secret in any output of the action', () => {
  const ctx = useStack({ production: true });
  const runs: { name: string; run: ActionRun }[] = [];

  it('runs the representative invocations (each ends as expected)', async () => {
    await initRepo(ctx.stack, 'secrets/app', ctx.ci);
    const img = await pushImage(ctx.stack, 'secrets/app:v1');
    const img2 = await pushImage(ctx.stack, 'secrets/app:v2');
    const debug = { RUNNER_DEBUG: '1', ACTIONS_STEP_DEBUG: 'true' };
    const { keyObject } = readPrivateKey(ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE);
    const plainPem = keyObject.export({ format: 'pem', type: 'pkcs8' }).toString();
    const refreshToken = 'secret-refresh-token-for-the-test';
    ctx.stack.auth!.issuer.refreshTokens[refreshToken] = ctx.stack.auth!.username;
    const oauthConfig = join(ctx.stack.dir, 'docker-oauth');
    await mkdir(oauthConfig, { recursive: true });
    await writeFile(join(oauthConfig, 'config.json'), JSON.stringify({ auths: { [ctx.stack.registry.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: refreshToken } } }));

    const cases: { name: string; expect: number; go: () => Promise<ActionRun> }[] = [
      { name: 'sign (encrypted key, password inputs, debug)', expect: 0, go: () => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, debug) },
      { name: 'sign (unencrypted PKCS#8 key)', expect: 0, go: () => runAction(ctx.stack, { mode: 'sign', images: [img2.ref], key: plainPem, passphrase: null }, debug) },
      { name: 'sign (base64 of the key file)', expect: 0, go: () => runAction(ctx.stack, { mode: 'sign', images: [img2.ref], key: Buffer.from(ctx.ci.privateKeyPem).toString('base64') }, debug) },
      { name: 'sign, wrong passphrase', expect: 1, go: () => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, passphrase: 'wrong-passphrase-1234' }, debug) },
      { name: 'sign, no passphrase', expect: 1, go: () => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem, passphrase: null }, debug) },
      { name: 'sign, damaged key', expect: 1, go: () => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem.replace(/\n([A-Za-z0-9+/]{10})/, '\nAAAAAAAAAA') }, debug) },
      {
        name: 'sign, wrong registry password',
        expect: 1,
        go: () => runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { ...debug, INPUT_USERNAME: ctx.stack.auth!.username, INPUT_PASSWORD: 'wrong-registry-password' }),
      },
      { name: 'verify (identity token from the Docker config, debug)', expect: 0, go: () => runAction(ctx.stack, { mode: 'verify', images: [img.ref, img2.ref] }, { ...debug, DOCKER_CONFIG: oauthConfig }) },
      { name: 'verify, unsigned tag', expect: 1, go: () => runAction(ctx.stack, { mode: 'verify', images: [`${ctx.stack.registry.host}/secrets/app:missing`] }, debug) },
    ];
    for (const c of cases) {
      const run = await c.go();
      assert.equal(run.code, c.expect, `${c.name}\n${describeRun(run)}`);
      runs.push({ name: c.name, run });
    }
    assert.ok(
      runs.some((r) => r.run.stdout.includes('::debug::')),
      'debug output was on',
    );
  });

  it('no run printed or wrote key material, a passphrase, a password or a token (outside ::add-mask::)', () => {
    assert.equal(runs.length, 9, 'the invocations ran');
    const secrets = secretsOf(ctx.ci, {
      'registry password': ctx.stack.auth!.password,
      'wrong registry password': 'wrong-registry-password',
      'wrong passphrase': 'wrong-passphrase-1234',
      'refresh token': 'secret-refresh-token-for-the-test',
    });
    const found = runs.flatMap(({ name, run }) => leaks(run, secrets).map((l) => `${name}: ${l}`));
    assert.deepEqual(found, []);
    // The search can find what it looks for: the masks themselves carry the secrets.
    const masks = runs
      .map((r) => r.run.stdout)
      .join('\n')
      .split('\n')
      .filter((l) => l.startsWith('::add-mask::'));
    assert.ok(masks.some((l) => l.includes(REPOSITORY_PASSPHRASE)));
    assert.ok(masks.some((l) => l.includes(ctx.stack.auth!.password)));
  });
});
