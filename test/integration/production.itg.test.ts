/**
 * The production server: notary-server with notary-signer over mutual TLS,
 * both on PostgreSQL (ecdsa server keys), and token authentication on the
 * Notary server and the registry. The action signs and verifies there as
 * the runner runs it; docker trust and the notary CLI read what it wrote.
 * That the stack has this shape, and what notary-server does differently on
 * PostgreSQL, is checked in test/upstream/production-stack.upstream.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NOTARY_SERVICE, REGISTRY_SERVICE } from '../stack/production.ts';
import { getManifest, pushImage, type Stack } from '../stack/index.ts';
import { describeRun, hex, initRepo, resultOf, runAction, useStack } from './helpers.ts';

/** Rows notary-server stored for a GUN: "role:version", sorted. */
async function storedVersions(stack: Stack, gun: string): Promise<string[]> {
  const out = await stack.postgres!.query('notaryserver', `SELECT role || ':' || version FROM tuf_files WHERE gun = '${gun.replace(/'/g, "''")}' ORDER BY role, version`);
  return out.split('\n').filter(Boolean);
}

const credentials = (stack: Stack) => ({ INPUT_USERNAME: stack.auth!.username, INPUT_PASSWORD: stack.auth!.password });

describe('production server: notary-signer over mutual TLS, PostgreSQL, token auth', () => {
  const ctx = useStack({ production: true });

  it('signs with username/password inputs: docker trust inspect and notary list show the tag; tokens came from the issuer', async () => {
    const gun = await initRepo(ctx.stack, 'prod/sign', ctx.ci);
    const img = await pushImage(ctx.stack, 'prod/sign:v1');
    const served = await getManifest(ctx.stack, 'prod/sign', 'v1');
    const seen = ctx.stack.auth!.issuer.requests.length;

    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, credentials(ctx.stack));
    assert.equal(run.code, 0, describeRun(run));

    const [info] = await ctx.stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v1', Digest: hex(served.digest), Signers: ['ci'] }]);
    assert.deepEqual(await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' }), [{ name: 'v1', digest: hex(served.digest), size: served.body.length, role: 'targets/releases' }]);
    assert.deepEqual(
      resultOf(run).map((r) => r.digest),
      [served.digest],
    );
    assert.ok((await storedVersions(ctx.stack, gun)).includes('targets/releases:1'), 'PostgreSQL holds the published delegation');

    const action = ctx.stack.auth!.issuer.requests.slice(seen).filter((r) => r.account === ctx.stack.auth!.username);
    const notaryGrants = action.filter((r) => r.service === NOTARY_SERVICE).flatMap((r) => r.granted);
    assert.ok(
      notaryGrants.some((g) => g.name === gun && g.actions.includes('push') && g.actions.includes('pull')),
      JSON.stringify(action),
    );
    assert.ok(
      action.some((r) => r.service === REGISTRY_SERVICE && r.grantType === 'basic' && r.granted.some((g) => g.name === 'prod/sign')),
      JSON.stringify(action),
    );
  });

  it('verifies with credentials from the Docker config, and refuses an unsigned tag', async () => {
    const gun = await initRepo(ctx.stack, 'prod/verify', ctx.ci);
    const img = await pushImage(ctx.stack, 'prod/verify:v1');
    const unsigned = await pushImage(ctx.stack, 'prod/verify:v2');
    const signed = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, credentials(ctx.stack));
    assert.equal(signed.code, 0, describeRun(signed));

    const dockerConfig = { DOCKER_CONFIG: ctx.stack.docker.configDir };
    const ok = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, dockerConfig);
    assert.equal(ok.code, 0, describeRun(ok));
    assert.deepEqual(
      resultOf(ok).map((r) => [r.repository, r.digest]),
      [[gun, img.digest]],
    );

    const refused = await runAction(ctx.stack, { mode: 'verify', images: [unsigned.ref] }, dockerConfig);
    assert.equal(refused.code, 1, describeRun(refused));
    assert.equal(refused.errors[0]?.title, `NOT_SIGNED: ${unsigned.ref}`, describeRun(refused));
  });

  it('an identity token in the Docker config goes through the OAuth2 refresh_token grant (form POST)', async () => {
    const gun = await initRepo(ctx.stack, 'prod/oauth', ctx.ci);
    const img = await pushImage(ctx.stack, 'prod/oauth:v1');
    const refreshToken = 'refresh-' + Math.random().toString(36).slice(2);
    ctx.stack.auth!.issuer.refreshTokens[refreshToken] = ctx.stack.auth!.username;
    const configDir = join(ctx.stack.dir, 'docker-oauth');
    await mkdir(configDir, { recursive: true });
    await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [ctx.stack.registry.host]: { auth: Buffer.from('<token>:').toString('base64'), identitytoken: refreshToken } } }));
    const seen = ctx.stack.auth!.issuer.requests.length;

    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { DOCKER_CONFIG: configDir });
    assert.equal(run.code, 0, describeRun(run));
    const requests = ctx.stack.auth!.issuer.requests.slice(seen);
    assert.ok(requests.length > 0);
    assert.deepEqual([...new Set(requests.map((r) => `${r.method} ${r.grantType} ${r.status}`))], ['POST refresh_token 200']);
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.name),
      ['v1'],
    );
  });

  it('a wrong password fails with AUTH_REFUSED naming the user, and nothing is stored', async () => {
    const gun = await initRepo(ctx.stack, 'prod/denied', ctx.ci);
    const img = await pushImage(ctx.stack, 'prod/denied:v1');
    const before = await storedVersions(ctx.stack, gun);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { INPUT_USERNAME: ctx.stack.auth!.username, INPUT_PASSWORD: 'not-the-password' });
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.errors[0]?.title ?? '', /^AUTH_REFUSED: /, describeRun(run));
    assert.match(run.errors[0]!.message, new RegExp(`user "${ctx.stack.auth!.username}"`));
    const printed = run.text.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    assert.ok(!printed.some((l) => l.includes('not-the-password')), 'the password appears only in ::add-mask::');
    assert.deepEqual(await storedVersions(ctx.stack, gun), before);
  });

  it('a token that grants pull but not push: the publish is refused with AUTH_REFUSED and nothing is stored', async () => {
    const gun = await initRepo(ctx.stack, 'prod/readonly', ctx.ci);
    const img = await pushImage(ctx.stack, 'prod/readonly:v1');
    const before = await storedVersions(ctx.stack, gun);
    const issuer = ctx.stack.auth!.issuer;
    const grant = issuer.grant;
    issuer.grant = ({ requested }) => requested.actions.filter((a) => a === 'pull');
    try {
      const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, credentials(ctx.stack));
      assert.equal(run.code, 1, describeRun(run));
      assert.match(run.errors[0]?.title ?? '', /^AUTH_REFUSED: /, describeRun(run));
      assert.match(run.errors[0]!.message, /push,pull/, 'names the scope it needed');
    } finally {
      issuer.grant = grant;
    }
    assert.deepEqual(await storedVersions(ctx.stack, gun), before);
  });
});
