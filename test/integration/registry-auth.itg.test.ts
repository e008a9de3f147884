/**
 * The token flows of the registries that serve Notary v1, each against real
 * notary-server and docker-registry behind the loopback token issuer, laid
 * out like that registry (test/stack/registry-auth-shapes.ts). The action runs
 * as the runner runs it (node dist/index.js) with credentials where each
 * registry's users keep them: `az acr login` identity tokens, a credential
 * helper, the username/password inputs, a docker login.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeCa, REPOSITORY_PASSPHRASE, type TestCa } from '../stack/index.ts';
import { ACR_USERNAME, startShape, type Shape, type ShapeName } from '../stack/registry-auth-shapes.ts';
import type { TokenRequestRecord } from '../stack/token-issuer.ts';
import { runDist, type ActionRun } from './helpers.ts';

/** node dist/index.js with the inputs, `env` and PATH (credential helpers are looked up on it), as the runner runs it. */
function runAction(work: string, inputs: Record<string, string | undefined>, env: Record<string, string>, secrets: string[] = []): Promise<ActionRun> {
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '', ...env };
  for (const [k, v] of Object.entries(inputs)) if (v !== undefined) childEnv[`INPUT_${k.toUpperCase()}`] = v;
  return runDist(work, childEnv, secrets);
}

function dockerConfig(dir: string, config: unknown): string {
  const d = mkdtempSync(join(dir, 'docker-config-'));
  writeFileSync(join(d, 'config.json'), JSON.stringify(config));
  return d;
}

interface Scenario {
  shape: ShapeName;
  /** How the action gets credentials, and the token grant the issuer must see. */
  credentials: (shape: Shape, work: string) => { inputs: Record<string, string>; env: Record<string, string>; secrets: string[] };
  grant: TokenRequestRecord['grantType'];
  account: string;
}

const PASSWORD = 'p4ss-w0rd-for-the-registry';
const REFRESH = 'acr-refresh-token-0123456789abcdef';

const scenarios: Scenario[] = [
  {
    shape: 'acr',
    grant: 'refresh_token',
    account: ACR_USERNAME,
    // `az acr login` writes auth = base64("0000…:") and the refresh token as identitytoken.
    credentials: (s, work) => ({
      inputs: {},
      env: { DOCKER_CONFIG: dockerConfig(work, { auths: { [s.registryHost]: { auth: Buffer.from(`${ACR_USERNAME}:`).toString('base64'), identitytoken: REFRESH } } }) },
      secrets: [REFRESH],
    }),
  },
  {
    shape: 'docker-hub',
    grant: 'basic',
    account: 'hubuser',
    // docker/login-action on a machine whose Docker config has a credsStore.
    credentials: (s, work) => {
      const bin = join(work, 'bin');
      mkdirSync(bin, { recursive: true });
      writeFileSync(
        join(bin, 'docker-credential-test'),
        `#!/bin/sh\nread -r server\n[ "$server" = "${s.registryHost}" ] || { echo "credentials not found in native keychain"; exit 1; }\nprintf '{"ServerURL":"%s","Username":"hubuser","Secret":"${PASSWORD}"}' "$server"\n`,
      );
      chmodSync(join(bin, 'docker-credential-test'), 0o755);
      return { inputs: {}, env: { DOCKER_CONFIG: dockerConfig(work, { credsStore: 'test' }), PATH: `${bin}${delimiter}${process.env.PATH}` }, secrets: [PASSWORD] };
    },
  },
  {
    shape: 'msr',
    grant: 'basic',
    account: 'msruser',
    credentials: (_s, work) => ({ inputs: { username: 'msruser', password: PASSWORD }, env: { DOCKER_CONFIG: dockerConfig(work, {}) }, secrets: [PASSWORD] }),
  },
  {
    shape: 'self-hosted',
    grant: 'basic',
    account: 'ops',
    credentials: (s, work) => ({
      inputs: {},
      env: { DOCKER_CONFIG: dockerConfig(work, { auths: { [s.registryHost]: { username: 'ops', password: PASSWORD } } }) },
      secrets: [PASSWORD],
    }),
  },
];

for (const sc of scenarios) {
  describe(`registry shape: ${sc.shape}`, () => {
    let ca: TestCa;
    let shape: Shape;
    let work: string;
    before(async () => {
      work = mkdtempSync(join(tmpdir(), `cta-shape-${sc.shape}-`));
      ca = await makeCa(join(work, 'ca'));
      shape = await startShape(sc.shape, {
        dir: work,
        ca,
        users: { [sc.account]: PASSWORD, admin: 'admin-pass' },
        refreshTokens: { [REFRESH]: ACR_USERNAME },
        login: { username: 'admin', password: 'admin-pass' },
      });
    });
    after(async () => {
      await shape?.stop();
      await rm(work, { recursive: true, force: true });
    });

    it(`signs and verifies with ${sc.grant === 'refresh_token' ? 'an identity token (refresh-token grant)' : 'Basic credentials at the realm'}, asking the services this registry names`, async () => {
      const image = await shape.push('org/app:v1');
      const gun = shape.gun('org/app');
      await mkdir(join(work, 'keys'), { recursive: true });
      const key = await shape.docker.keyGenerate('ci', join(work, 'keys'));
      await shape.docker.signerAdd('ci', key.publicKeyPath, gun);

      const creds = sc.credentials(shape, work);
      const common = { images: `${gun}:v1`, 'ca-cert': ca.caCertPath, 'trust-server': shape.trustServer, ...creds.inputs };
      const before = shape.issuer.requests.length;
      const signed = await runAction(work, { ...common, mode: 'sign', 'delegation-key': key.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE }, { ...creds.env, RUNNER_DEBUG: '1' }, creds.secrets);
      assert.equal(signed.code, 0, signed.text);
      assert.equal(signed.outputs.digests, `${gun}@${image.digest}`);
      const seen = shape.issuer.requests.slice(before);

      // docker's own client sees the action's signature.
      const [inspect] = await shape.docker.inspect(gun);
      assert.deepEqual(
        inspect!.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers]),
        [['v1', image.digest.replace('sha256:', ''), ['ci']]],
      );

      const beforeVerify = shape.issuer.requests.length;
      const verified = await runAction(work, { ...common, mode: 'verify', signers: 'ci' }, creds.env, creds.secrets);
      seen.push(...shape.issuer.requests.slice(beforeVerify));
      assert.equal(verified.code, 0, verified.text);
      assert.equal(verified.outputs.digests, `${gun}@${image.digest}`);

      assert.ok(seen.length > 0, 'the action asked the token issuer');
      for (const r of seen) {
        assert.equal(r.grantType, sc.grant, `grant of ${JSON.stringify(r)}`);
        assert.equal(r.account, sc.account);
        assert.equal(r.status, 200);
      }
      const notaryScopes = seen.filter((r) => r.service === shape.notaryService).flatMap((r) => r.scopes.map((s) => `${s.name}:${s.actions.sort().join(',')}`));
      assert.ok(notaryScopes.includes(`${gun}:pull,push`), `a push scope for the GUN at ${shape.notaryService}: ${notaryScopes.join(',')}`);
      assert.ok(notaryScopes.includes(`${gun}:pull`), `a pull scope for the GUN at ${shape.notaryService}: ${notaryScopes.join(',')}`);
      if (shape.registryService) {
        const registryScopes = seen.filter((r) => r.service === shape.registryService).flatMap((r) => r.scopes.map((s) => `${s.name}:${s.actions.join(',')}`));
        assert.ok(registryScopes.includes('org/app:pull'), `a pull scope for the repository at ${shape.registryService}: ${registryScopes.join(',')}`);
      }
      if (sc.grant === 'refresh_token') assert.ok(seen.every((r) => r.method === 'POST'));

      // core.debug traces every exchange (runDist checked that no secret was in any of it).
      assert.match(signed.text, /::debug::GET https:\/\/127\.0\.0\.1:\d+\/v2\/.+\/_trust\/tuf\/root\.json -> HTTP 200, \d+ bytes \(\d+ ms\)/);
      assert.match(signed.text, /::debug::POST https:\/\/127\.0\.0\.1:\d+\/v2\/.+\/_trust\/tuf\/ -> HTTP 200/);
    });

    it('wrong credentials fail AUTH_REFUSED naming the user and what to do', async () => {
      const gun = shape.gun('org/app');
      const r = await runAction(work, { mode: 'verify', images: `${gun}:v1`, 'ca-cert': ca.caCertPath, 'trust-server': shape.trustServer, username: sc.account, password: 'not-the-password' }, { DOCKER_CONFIG: dockerConfig(work, {}) });
      assert.equal(r.code, 1);
      assert.match(r.text, /::error title=AUTH_REFUSED%3A /);
      assert.match(r.text, new RegExp(`user "${sc.account}"`));
    });
  });
}
