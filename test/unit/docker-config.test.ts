import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { authsKeyDomain, dockerConfigPath, helperFor, helperServerAddress, readDockerConfig, readDockerCredentials } from '../../src/registry/docker-config.ts';
import { assertCode } from './helpers/errors.ts';

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A temporary DOCKER_CONFIG holding `config` (a string is written as is). */
function configEnv(config: unknown): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'ct-docker-config-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { DOCKER_CONFIG: dir };
}
const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('authsKeyDomain', () => {
  const table: [string, string][] = [
    ['https://index.docker.io/v1/', 'docker.io'],
    ['index.docker.io', 'docker.io'],
    ['https://registry-1.docker.io/v2/', 'docker.io'],
    ['docker.io', 'docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['https://ghcr.io', 'ghcr.io'],
    ['https://ghcr.io/', 'ghcr.io'],
    ['http://localhost:5000/v2/', 'localhost:5000'],
    ['127.0.0.1:5000', '127.0.0.1:5000'],
    ['REGISTRY.Example.com:443', 'registry.example.com:443'],
    ['myregistry.azurecr.io/v2/org', 'myregistry.azurecr.io'],
  ];
  for (const [key, domain] of table) it(`${key} → ${domain}`, () => assert.equal(authsKeyDomain(key), domain));
});

describe('dockerConfigPath', () => {
  it('$DOCKER_CONFIG/config.json, else ~/.docker/config.json', () => {
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: '/x/y' }), '/x/y/config.json');
    assert.equal(dockerConfigPath({}), join(homedir(), '.docker', 'config.json'));
    assert.equal(dockerConfigPath({ DOCKER_CONFIG: '' }), join(homedir(), '.docker', 'config.json'));
  });
});

describe('readDockerConfig', () => {
  it('decodes auth (base64 user:password), splitting at the first colon', () => {
    const env = configEnv({ auths: { 'https://index.docker.io/v1/': { auth: b64('alice:pa:ss:wörd') }, 'ghcr.io': { auth: b64('bob:ghp_token') } } });
    const creds = readDockerCredentials(env);
    assert.deepEqual(creds.get('docker.io'), { username: 'alice', password: 'pa:ss:wörd' });
    assert.deepEqual(creds.get('ghcr.io'), { username: 'bob', password: 'ghp_token' });
    assert.deepEqual(readDockerConfig(env).usernames.get('docker.io'), 'alice');
  });

  it('reads username/password fields when there is no auth', () => {
    const creds = readDockerCredentials(configEnv({ auths: { 'registry.example.com': { username: 'carol', password: 'secret' } } }));
    assert.deepEqual(creds.get('registry.example.com'), { username: 'carol', password: 'secret' });
  });

  it('an identitytoken wins, with the user name kept', () => {
    const creds = readDockerCredentials(
      configEnv({
        auths: {
          'myreg.azurecr.io': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'refresh-token' },
          'other.example': { username: 'dave', identitytoken: 'tok2' },
          'bare.example': { identitytoken: 'tok3' },
        },
      }),
    );
    assert.deepEqual(creds.get('myreg.azurecr.io'), { username: '00000000-0000-0000-0000-000000000000', identityToken: 'refresh-token' });
    assert.deepEqual(creds.get('other.example'), { username: 'dave', identityToken: 'tok2' });
    assert.deepEqual(creds.get('bare.example'), { username: undefined, identityToken: 'tok3' });
  });

  it('skips entries that hold no usable credentials', () => {
    const creds = readDockerCredentials(
      configEnv({
        auths: {
          'empty.example': {},
          'nocolon.example': { auth: b64('justuser') },
          'emptyuser.example': { auth: b64(':password') },
          'emptypass.example': { auth: b64('user:') },
          'null.example': null,
          'string.example': 'x',
        },
      }),
    );
    assert.deepEqual([...creds.keys()], []);
  });

  it('normalises keys so docker.io written three ways lands on one domain', () => {
    const creds = readDockerCredentials(configEnv({ auths: { 'index.docker.io': { auth: b64('u:p') } } }));
    assert.deepEqual([...creds.keys()], ['docker.io']);
  });

  it('reads credsStore and credHelpers (keys normalised); helperFor prefers credHelpers', () => {
    const config = readDockerConfig(configEnv({ credsStore: 'desktop', credHelpers: { 'https://123.dkr.ecr.us-east-1.amazonaws.com': 'ecr-login', 'gcr.io': 'gcloud' } }));
    assert.equal(config.credsStore, 'desktop');
    assert.deepEqual(
      [...config.credHelpers],
      [
        ['123.dkr.ecr.us-east-1.amazonaws.com', 'ecr-login'],
        ['gcr.io', 'gcloud'],
      ],
    );
    assert.equal(helperFor(config, 'gcr.io'), 'gcloud');
    assert.equal(helperFor(config, 'ghcr.io'), 'desktop');
    assert.equal(helperFor(readDockerConfig(configEnv({})), 'ghcr.io'), undefined);
  });

  it('a helper name that is not a plain name is INPUT_INVALID', () => {
    assertCode(() => readDockerConfig(configEnv({ credsStore: '../../bin/sh' })), 'INPUT_INVALID');
  });

  it('no config file: nothing; a broken one: INPUT_INVALID naming the file', () => {
    const missing = { DOCKER_CONFIG: join(tmpdir(), 'ct-no-such-dir-for-docker-config') };
    assert.equal(readDockerCredentials(missing).size, 0);
    const env = configEnv('{"auths": {');
    assertCode(() => readDockerConfig(env), 'INPUT_INVALID', join(env.DOCKER_CONFIG!, 'config.json'));
  });

  it('a config that is not an object, or without auths, is empty', () => {
    assert.equal(readDockerCredentials(configEnv('null')).size, 0);
    assert.equal(readDockerCredentials(configEnv({ HttpHeaders: {} })).size, 0);
  });
});

describe('helperServerAddress', () => {
  it('Docker Hub is asked as https://index.docker.io/v1/, others by domain', () => {
    assert.equal(helperServerAddress('docker.io'), 'https://index.docker.io/v1/');
    assert.equal(helperServerAddress('ghcr.io'), 'ghcr.io');
  });
});
