import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { getInputs, getList, keyInput } from '../../src/action/inputs.ts';
import type { ContentTrustError } from '../../src/errors.ts';
import { KEY_PEM, PASSPHRASE, scenario } from './helpers/fixtures.ts';

describe('getList', () => {
  it('splits on new lines', () => {
    assert.deepEqual(getList('alpine:3\nghcr.io/o/app:v1\n'), ['alpine:3', 'ghcr.io/o/app:v1']);
  });

  it('splits on commas, with or without spaces', () => {
    assert.deepEqual(getList('a:1,b:2, c:3 ,d:4'), ['a:1', 'b:2', 'c:3', 'd:4']);
  });

  it('mixes both, as docker/metadata-action tags outputs and hand-written lists do', () => {
    assert.deepEqual(getList('a:1,a:2\nb:1\n  c:1 , c:2  \n'), ['a:1', 'a:2', 'b:1', 'c:1', 'c:2']);
  });

  it('drops blank lines, white space and CRLF ends', () => {
    assert.deepEqual(getList('\n\n  a:1  \r\n\r\n\tb:1\t\r\n,,\n , \n'), ['a:1', 'b:1']);
    assert.deepEqual(getList(''), []);
    assert.deepEqual(getList('   \n  '), []);
  });

  it('drops # comment lines, also indented ones', () => {
    assert.deepEqual(getList('# images to sign\na:1\n   # b:1\nc:1'), ['a:1', 'c:1']);
  });

  it('a commented-out line drops all of it, commas included', () => {
    assert.deepEqual(getList('a:1\n# b:1, b:2\n  #c:1,c:2,c:3\nd:1'), ['a:1', 'd:1']);
  });

  it('keeps order and duplicates (the caller decides)', () => {
    assert.deepEqual(getList('b,a\nb'), ['b', 'a', 'b']);
  });

  it('a # after a comma starts a comment item of its own', () => {
    assert.deepEqual(getList('a:1, #b:1'), ['a:1']);
  });
});

describe('key inputs (sign and the administrative modes read them the same way)', () => {
  const INPUTS = ['INPUT_MODE', 'INPUT_IMAGES', 'INPUT_DELEGATION-KEY', 'INPUT_DELEGATION-PASSPHRASE', 'INPUT_ROOT-KEY', 'INPUT_TRUST-DIR'];
  const saved = Object.fromEntries(INPUTS.map((k) => [k, process.env[k]]));
  const write = process.stdout.write;
  beforeEach(() => {
    Object.assign(process.env, { INPUT_MODE: 'revoke', INPUT_IMAGES: 'alpine:3', 'INPUT_DELEGATION-KEY': KEY_PEM, 'INPUT_TRUST-DIR': '/tmp/unused' });
    for (const k of ['INPUT_DELEGATION-PASSPHRASE', 'INPUT_ROOT-KEY']) delete process.env[k];
    process.stdout.write = () => true; // the ::add-mask:: commands
  });
  afterEach(() => {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it('the delegation passphrase falls back to DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE, then NOTARY_DELEGATION_PASSPHRASE', () => {
    for (const env of [{ NOTARY_DELEGATION_PASSPHRASE: PASSPHRASE }, { DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: PASSPHRASE, NOTARY_DELEGATION_PASSPHRASE: 'not-it' }]) {
      const { keys } = getInputs(env);
      assert.equal(keyInput(keys, 'delegation')?.signing.id, scenario.delegationKey.canonicalId);
    }
    process.env['INPUT_DELEGATION-PASSPHRASE'] = PASSPHRASE;
    assert.equal(keyInput(getInputs({ NOTARY_DELEGATION_PASSPHRASE: 'not-it' }).keys, 'delegation')?.signing.id, scenario.delegationKey.canonicalId, 'the input comes first');
  });

  it('an empty key input is undefined; a missing passphrase names the input and every variable read', () => {
    const { keys } = getInputs({ DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: PASSPHRASE });
    assert.equal(keyInput(keys, 'root'), undefined);
    assert.throws(() => keyInput(keys, 'delegation'), (e: ContentTrustError) => {
      assert.equal(e.code, 'PASSPHRASE_MISSING');
      assert.match(e.message, /the delegation key is encrypted .*`delegation-passphrase` input \(or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE, NOTARY_DELEGATION_PASSPHRASE\)/);
      return true;
    });
  });
});

describe('credential inputs (username, password, registry) and where the images came from', () => {
  const INPUTS = ['INPUT_MODE', 'INPUT_IMAGES', 'INPUT_DOCKERFILE', 'INPUT_USERNAME', 'INPUT_PASSWORD', 'INPUT_REGISTRY', 'INPUT_TRUST-DIR', 'GITHUB_WORKSPACE'];
  const saved = Object.fromEntries(INPUTS.map((k) => [k, process.env[k]]));
  const write = process.stdout.write;
  beforeEach(() => {
    for (const k of INPUTS) delete process.env[k];
    Object.assign(process.env, { INPUT_MODE: 'verify', 'INPUT_TRUST-DIR': '/tmp/unused' });
    process.stdout.write = () => true; // ::add-mask:: and ::info lines
  });
  afterEach(() => {
    process.stdout.write = write;
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  it('listedImages holds images (and images-file), not the images only a Dockerfile names', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cta-inputs-'));
    writeFileSync(join(dir, 'Dockerfile'), 'FROM reg.b/org/base:1 AS build\nFROM reg.a/org/app:v1\n');
    Object.assign(process.env, { INPUT_IMAGES: 'reg.a/org/app:v1', INPUT_DOCKERFILE: 'Dockerfile', GITHUB_WORKSPACE: dir });
    const inputs = getInputs();
    assert.deepEqual(inputs.listedImages, ['reg.a/org/app:v1']);
    assert.ok(inputs.images.includes('reg.b/org/base:1'), 'the Dockerfile\'s base images are still verified');
    assert.equal(inputs.registry, undefined);
  });

  it('registry is read as given, trimmed; without username/password it is INPUT_INVALID', () => {
    Object.assign(process.env, { INPUT_IMAGES: 'reg.a/org/app:v1', INPUT_USERNAME: 'ci', INPUT_PASSWORD: 'pw-123456', INPUT_REGISTRY: '  https://reg.a/  ' });
    assert.equal(getInputs().registry, 'https://reg.a/');
    delete process.env.INPUT_USERNAME;
    delete process.env.INPUT_PASSWORD;
    assert.throws(() => getInputs(), (e: ContentTrustError) => e.code === 'INPUT_INVALID' && /^input registry names the registry the username\/password inputs are for: give them too/.test(e.message));
  });
});
