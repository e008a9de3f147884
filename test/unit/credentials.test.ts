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
import { credentialsRegistry, registryDomain, resolveCredentials } from '../../src/action/credentials.ts';
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
  it("asks the credsStore helper with docker's server address and masks the secret", async () => {
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

  it('the username/password inputs win over the Docker config for their registry and no helper runs', async () => {
    const { dir, env } = setup({ credsStore: 'test' });
    const log = installHelper(dir, 'test', {});
    const got = await resolveCredentials(['docker.io'], { env, explicit: { registry: 'docker.io', credentials: { username: 'u', password: 'p' } } });
    assert.deepEqual(got.get('docker.io'), { credentials: { username: 'u', password: 'p' }, origin: 'input' });
    assert.throws(() => readFileSync(log), /ENOENT/);
  });

  it("the username/password inputs go to their registry only; every other registry gets the Docker config's own", async () => {
    const { dir, env } = setup({ credsStore: 'test', auths: { 'other.example': { auth: Buffer.from('o:q').toString('base64') } } });
    const log = installHelper(dir, 'test', { 'third.example': { Username: 'third', Secret: 'third-secret' } });
    const explicit = { registry: 'reg.example:5000', credentials: { username: 'u', password: 'p' } };
    const got = await resolveCredentials(['Reg.Example:5000', 'other.example', 'third.example', 'anon.example'], { env, explicit });
    assert.deepEqual(got.get('Reg.Example:5000'), { credentials: { username: 'u', password: 'p' }, origin: 'input' }, 'host names compare without case');
    assert.equal(got.get('other.example')?.credentials?.username, undefined, 'credsStore wins over auths, as for docker, and the store has none');
    assert.deepEqual(got.get('third.example')?.credentials, { username: 'third', password: 'third-secret' });
    assert.deepEqual(got.get('anon.example'), { credentials: undefined, origin: 'none', helper: 'test' });
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').sort(), ['anon.example', 'other.example', 'third.example'], "the helper is never asked about the inputs' registry");
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

describe('registryDomain (the registry input, read as docker/login-action reads it)', () => {
  it('Docker Hub has four names, all docker.io', () => {
    for (const v of ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/', ' Docker.IO ']) assert.equal(registryDomain(v), 'docker.io', v);
  });

  it('other registries: host[:port], scheme and trailing path dropped, lower case', () => {
    assert.equal(registryDomain('ghcr.io'), 'ghcr.io');
    assert.equal(registryDomain('https://Registry.Example.com:5000/'), 'registry.example.com:5000');
    assert.equal(registryDomain('http://127.0.0.1:5000/v2/'), '127.0.0.1:5000');
    assert.equal(registryDomain('myreg.azurecr.io/team'), 'myreg.azurecr.io');
    assert.equal(registryDomain('[::1]:5000'), '[::1]:5000');
  });

  it('anything else is INPUT_INVALID naming the input', () => {
    for (const v of ['', 'https://', 'user@host', 'a b', 'host:port', 'reg.example\n::warning::x']) {
      assert.throws(
        () => registryDomain(v),
        (e: ContentTrustError) => e.code === 'INPUT_INVALID' && /^input registry is ".*", not a registry host/.test(e.message) && !e.message.includes('\n'),
        JSON.stringify(v),
      );
    }
  });
});

describe('credentialsRegistry (which registry the username/password inputs belong to)', () => {
  const invalid = (pattern: RegExp) => (e: ContentTrustError) => e.code === 'INPUT_INVALID' && pattern.test(e.message);

  it('without registry: the one registry every listed image names, whatever a Dockerfile adds', () => {
    assert.equal(credentialsRegistry(undefined, ['reg.a', 'reg.a'], ['reg.a', 'reg.b']), 'reg.a');
    assert.equal(credentialsRegistry(undefined, ['index.docker.io', 'docker.io'], ['docker.io']), 'docker.io');
  });

  it('without registry: listed images on several registries is INPUT_INVALID naming them and the registry input', () => {
    assert.throws(() => credentialsRegistry(undefined, ['reg.b', 'reg.a', 'reg.b'], ['reg.a', 'reg.b']), invalid(/belong to one registry, but images names several \(reg\.a, reg\.b\): set the registry input/));
  });

  it('without registry: images only from a Dockerfile is INPUT_INVALID (a Dockerfile does not choose where credentials go)', () => {
    assert.throws(() => credentialsRegistry(undefined, [], ['reg.b']), invalid(/every image comes from a dockerfile: set the registry input/));
  });

  it('with registry: that registry, also when only a Dockerfile names it (the user named it)', () => {
    assert.equal(credentialsRegistry('https://reg.b/', ['reg.a'], ['reg.a', 'reg.b']), 'reg.b');
    assert.equal(credentialsRegistry('index.docker.io', ['reg.a', 'alpine'], ['reg.a', 'docker.io']), 'docker.io');
  });

  it('with registry that no image names: INPUT_INVALID naming it and the registries there are', () => {
    assert.throws(() => credentialsRegistry('reg.c', ['reg.a'], ['reg.a', 'reg.b']), invalid(/input registry is reg\.c, but no image names it \(images are on reg\.a, reg\.b\)/));
  });
});
