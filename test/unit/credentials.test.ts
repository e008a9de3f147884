/**
 * Credentials as docker keeps them: a real `docker-credential-test` program
 * on PATH (run through @actions/exec), credHelpers before credsStore before
 * auths, identity tokens as `az acr login` and native stores leave them.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveCredentials } from '../../src/action/credentials.ts';
import { ContentTrustError } from '../../src/errors.ts';

const ACR_USER = '00000000-0000-0000-0000-000000000000';

/** A helper that answers from a JSON file of server address → {Username, Secret}, logging each question. */
function installHelper(dir: string, name: string, store: Record<string, { Username: string; Secret: string }>, behaviour = ''): string {
  const storePath = join(dir, `${name}-store.json`);
  const logPath = join(dir, `${name}.log`);
  writeFileSync(storePath, JSON.stringify(store));
  const script = `#!/bin/sh
[ "$1" = get ] || { echo "unsupported: $1" >&2; exit 2; }
read -r server
${behaviour}
echo "$server" >> '${logPath}'
node_js='const s=require(process.argv[1]);const k=process.argv[2];if(!s[k]){process.stdout.write("credentials not found in native keychain");process.exit(1)}process.stdout.write(JSON.stringify({ServerURL:k,...s[k]}))'
exec node -e "$node_js" '${storePath}' "$server"
`;
  const path = join(dir, `docker-credential-${name}`);
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return logPath;
}

function setup(config: unknown): { dir: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(join(tmpdir(), 'cta-creds-'));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  process.env.PATH = `${dir}${delimiter}${process.env.PATH}`;
  return { dir, env: { DOCKER_CONFIG: dir } };
}

describe('resolveCredentials', () => {
  it('asks the credsStore helper with docker\'s server address and masks the secret', async () => {
    const { dir, env } = setup({ credsStore: 'test' });
    const log = installHelper(dir, 'test', { 'https://index.docker.io/v1/': { Username: 'hubuser', Secret: 'hub-secret-1' }, 'reg.example:5000': { Username: 'bob', Secret: 'reg-secret-2' } });
    const got = await resolveCredentials(['docker.io', 'reg.example:5000', 'other.example'], { env });
    assert.deepEqual(got.get('docker.io'), { credentials: { username: 'hubuser', password: 'hub-secret-1' }, origin: 'helper', helper: 'test' });
    assert.deepEqual(got.get('reg.example:5000')?.credentials, { username: 'bob', password: 'reg-secret-2' });
    assert.deepEqual(got.get('other.example'), { credentials: undefined, origin: 'none', helper: 'test' }, 'not found in the store is anonymous, as for docker');
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').sort(), ['https://index.docker.io/v1/', 'other.example', 'reg.example:5000']);
  });

  it('prefers credHelpers[host] over credsStore over auths', async () => {
    const { dir, env } = setup({
      credsStore: 'store',
      credHelpers: { 'acr.example': 'acr' },
      auths: { 'acr.example': { auth: Buffer.from('fileuser:filepass').toString('base64') }, 'plain.example': { auth: Buffer.from('p:q').toString('base64') } },
    });
    installHelper(dir, 'acr', { 'acr.example': { Username: 'helperuser', Secret: 'helper-pass' } });
    installHelper(dir, 'store', { 'plain.example': { Username: 'storeuser', Secret: 'store-pass' } });
    const got = await resolveCredentials(['acr.example', 'plain.example'], { env });
    assert.deepEqual(got.get('acr.example')?.credentials, { username: 'helperuser', password: 'helper-pass' });
    assert.equal(got.get('acr.example')?.helper, 'acr');
    assert.deepEqual(got.get('plain.example')?.credentials, { username: 'storeuser', password: 'store-pass' });
  });

  it('reads an identity token from a helper (Username "<token>") with the user name kept in auths', async () => {
    const { dir, env } = setup({ credsStore: 'test', auths: { 'myreg.azurecr.io': { auth: Buffer.from(`${ACR_USER}:`).toString('base64') } } });
    installHelper(dir, 'test', { 'myreg.azurecr.io': { Username: '<token>', Secret: 'refresh-token-xyz' } });
    const got = await resolveCredentials(['myreg.azurecr.io'], { env });
    assert.deepEqual(got.get('myreg.azurecr.io')?.credentials, { username: ACR_USER, identityToken: 'refresh-token-xyz' });
  });

  it('reads `az acr login` auths entries: auth with an empty password beside identitytoken', async () => {
    const { env } = setup({ auths: { 'myreg.azurecr.io': { auth: Buffer.from(`${ACR_USER}:`).toString('base64'), identitytoken: 'eyJ-refresh' } } });
    const got = await resolveCredentials(['myreg.azurecr.io'], { env });
    assert.deepEqual(got.get('myreg.azurecr.io'), { credentials: { username: ACR_USER, identityToken: 'eyJ-refresh' }, origin: 'auths' });
  });

  it('the username/password inputs win over the Docker config and no helper runs', async () => {
    const { dir, env } = setup({ credsStore: 'test' });
    const log = installHelper(dir, 'test', {});
    const got = await resolveCredentials(['docker.io'], { env, explicit: { username: 'u', password: 'p' } });
    assert.deepEqual(got.get('docker.io'), { credentials: { username: 'u', password: 'p' }, origin: 'input' });
    assert.throws(() => readFileSync(log), /ENOENT/);
  });

  it('a failing helper is CREDENTIALS_HELPER_FAILED, naming the registry and helper, not echoing its output', async () => {
    const { dir, env } = setup({ credsStore: 'broken' });
    installHelper(dir, 'broken', {}, 'echo "oops leaked-secret-value" >&2; exit 3');
    await assert.rejects(resolveCredentials(['reg.example'], { env }), (e: ContentTrustError) => {
      assert.equal(e.code, 'CREDENTIALS_HELPER_FAILED');
      assert.match(e.message, /registry reg\.example: credential helper docker-credential-broken failed \(exit code 3\)/);
      assert.doesNotMatch(e.message, /leaked-secret-value/);
      return true;
    });
  });

  it('a helper that is not installed is CREDENTIALS_HELPER_FAILED with what to do', async () => {
    const { env } = setup({ credHelpers: { 'reg.example': 'nowhere-to-be-found' } });
    await assert.rejects(resolveCredentials(['reg.example'], { env }), (e: ContentTrustError) => {
      assert.equal(e.code, 'CREDENTIALS_HELPER_FAILED');
      assert.match(e.message, /docker-credential-nowhere-to-be-found could not be run .*install it on the runner/);
      return true;
    });
  });

  it('no Docker config: anonymous (reading the config itself is docker-config.test.ts)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cta-creds-'));
    const none = await resolveCredentials(['docker.io'], { env: { DOCKER_CONFIG: dir } });
    assert.deepEqual(none.get('docker.io'), { credentials: undefined, origin: 'none' });
  });
});
