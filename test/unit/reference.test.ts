import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatRef, hasTag, parseReference, parseReferences, parseTrustServer, registryHost, trustServerFor } from '../../src/registry/reference.ts';
import { ContentTrustError, MultiError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

const D = `sha256:${'a1'.repeat(32)}`;
const code = (c: string, what?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ContentTrustError, String(e));
  assert.equal(e.code, c, e.message);
  if (what) assert.match(e.message, what);
  return true;
};

describe('parseReference', () => {
  describe('valid references, normalised as docker does', () => {
    const table: [string, { domain: string; path: string; gun: string; tag: string; pin?: string }][] = [
      ['alpine', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'latest' }],
      ['alpine:3.19', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: '3.19' }],
      ['library/alpine', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'latest' }],
      ['org/app:v1', { domain: 'docker.io', path: 'org/app', gun: 'docker.io/org/app', tag: 'v1' }],
      ['docker.io/alpine', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'latest' }],
      ['docker.io/library/alpine:edge', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'edge' }],
      ['index.docker.io/alpine', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'latest' }],
      ['index.docker.io/org/app:v2', { domain: 'docker.io', path: 'org/app', gun: 'docker.io/org/app', tag: 'v2' }],
      // docker's reference package maps only index.docker.io to docker.io.
      ['registry-1.docker.io/library/alpine:3', { domain: 'registry-1.docker.io', path: 'library/alpine', gun: 'registry-1.docker.io/library/alpine', tag: '3' }],
      ['registry.example.com:5000/org/app:v1', { domain: 'registry.example.com:5000', path: 'org/app', gun: 'registry.example.com:5000/org/app', tag: 'v1' }],
      ['127.0.0.1:5000/app', { domain: '127.0.0.1:5000', path: 'app', gun: '127.0.0.1:5000/app', tag: 'latest' }],
      ['localhost/x', { domain: 'localhost', path: 'x', gun: 'localhost/x', tag: 'latest' }],
      ['localhost:5000/x:y', { domain: 'localhost:5000', path: 'x', gun: 'localhost:5000/x', tag: 'y' }],
      ['[::1]:5000/app:v1', { domain: '[::1]:5000', path: 'app', gun: '[::1]:5000/app', tag: 'v1' }],
      ['ghcr.io/org/team/app:1.0.0-rc.1', { domain: 'ghcr.io', path: 'org/team/app', gun: 'ghcr.io/org/team/app', tag: '1.0.0-rc.1' }],
      ['ghcr.io/a__b/c-d/e.f/g--h:_tag', { domain: 'ghcr.io', path: 'a__b/c-d/e.f/g--h', gun: 'ghcr.io/a__b/c-d/e.f/g--h', tag: '_tag' }],
      [`ghcr.io/org/app:v1@${D}`, { domain: 'ghcr.io', path: 'org/app', gun: 'ghcr.io/org/app', tag: 'v1', pin: D }],
      [`alpine:latest@${D}`, { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: 'latest', pin: D }],
      ['  alpine:3  ', { domain: 'docker.io', path: 'library/alpine', gun: 'docker.io/library/alpine', tag: '3' }],
      [`app:${'t'.repeat(128)}`, { domain: 'docker.io', path: 'library/app', gun: 'docker.io/library/app', tag: 't'.repeat(128) }],
    ];
    for (const [input, want] of table) {
      it(JSON.stringify(input), () => {
        const ref = parseReference(input);
        assert.deepEqual({ domain: ref.domain, path: ref.path, gun: ref.gun, tag: ref.tag, pin: ref.pin }, { pin: undefined, ...want });
        assert.equal(ref.input, input.trim());
      });
    }
  });

  describe('invalid references → REFERENCE_INVALID', () => {
    const table: [string, RegExp][] = [
      ['', /empty/],
      ['   ', /empty/],
      ['alp ine', /white space/],
      ['alpine:\tlatest', /white space/],
      ['alpine:latest\nubuntu', /white space/],
      [`alpine@${D}`, /names no tag/],
      [`host:5000/app@${D}`, /names no tag/],
      ['alpine:v1@sha256:abc', /not a sha256 digest/],
      [`alpine:v1@sha256:${'A1'.repeat(32)}`, /not a sha256 digest/],
      [`alpine:v1@sha512:${'a1'.repeat(64)}`, /not a sha256 digest/],
      ['Alpine', /must be lowercase/],
      ['ghcr.io/Org/app:v1', /must be lowercase/],
      ['alpine:', /not a valid tag/],
      ['alpine:-x', /not a valid tag/],
      ['alpine:.x', /not a valid tag/],
      ['alpine:a/b', /not a valid|lowercase|component/],
      ['alpine:a+b', /not a valid tag/],
      [`alpine:${'t'.repeat(129)}`, /not a valid tag/],
      ['alpine:v1:v2', /not a valid repository path component/],
      ['org//app', /not a valid repository path component/],
      ['org/app/', /not a valid repository path component/],
      ['org/-app', /not a valid repository path component/],
      ['org/app_', /not a valid repository path component/],
      ['org/a..b', /not a valid repository path component/],
      ['org/a___b', /not a valid repository path component/],
      ['https://ghcr.io/org/app', /not a valid registry host/],
      ['-bad.example.com/app', /not a valid registry host/],
      ['host.example.com/', /names no repository/],
      [`ghcr.io/${'a'.repeat(250)}`, /longer than 255/],
    ];
    for (const [input, what] of table) {
      it(JSON.stringify(input), () => {
        assertCode(() => parseReference(input), 'REFERENCE_INVALID', what);
      });
    }
  });
});

describe('parseReferences', () => {
  it('parses a list in order', () => {
    assert.deepEqual(parseReferences(['alpine', 'ghcr.io/o/a:1']).map(formatRef), ['docker.io/library/alpine:latest', 'ghcr.io/o/a:1']);
  });

  it('reports every bad reference at once', () => {
    assert.throws(
      () => parseReferences(['alpine', 'Bad', `x@${D}`]),
      (e: unknown) => {
        assert.ok(e instanceof MultiError);
        assert.equal(e.code, 'REFERENCE_INVALID');
        assert.deepEqual(
          e.failures.map((f) => f.subject),
          ['Bad', `x@${D}`],
        );
        return true;
      },
    );
  });
});

describe('registryHost', () => {
  it('Docker Hub is served by registry-1.docker.io, others by themselves', () => {
    assert.equal(registryHost('docker.io'), 'registry-1.docker.io');
    assert.equal(registryHost('ghcr.io'), 'ghcr.io');
    assert.equal(registryHost('localhost:5000'), 'localhost:5000');
  });
});

describe('trustServerFor', () => {
  it('an explicit server wins over the environment, without trailing slashes', () => {
    assert.equal(trustServerFor('ghcr.io', 'https://notary.example.com/', { DOCKER_CONTENT_TRUST_SERVER: 'https://env.example.com' }), 'https://notary.example.com');
    assert.equal(trustServerFor('docker.io', 'https://127.0.0.1:4443', {}), 'https://127.0.0.1:4443');
  });

  it('then $DOCKER_CONTENT_TRUST_SERVER', () => {
    assert.equal(trustServerFor('ghcr.io', undefined, { DOCKER_CONTENT_TRUST_SERVER: 'https://env.example.com:4443//' }), 'https://env.example.com:4443');
    assert.equal(trustServerFor('ghcr.io', '', { DOCKER_CONTENT_TRUST_SERVER: 'https://env.example.com' }), 'https://env.example.com');
  });

  it('then notary.docker.io for Docker Hub', () => {
    assert.equal(trustServerFor('docker.io', undefined, {}), 'https://notary.docker.io');
    assert.equal(trustServerFor(parseReference('index.docker.io/alpine').domain, undefined, {}), 'https://notary.docker.io');
  });

  it('else the registry host itself over https', () => {
    assert.equal(trustServerFor('registry.example.com:5000', undefined, {}), 'https://registry.example.com:5000');
    assert.equal(trustServerFor('localhost', undefined, { DOCKER_CONTENT_TRUST_SERVER: '' }), 'https://localhost');
  });

  it('refuses a bad explicit server or $DOCKER_CONTENT_TRUST_SERVER with TRUST_SERVER_INVALID, naming where it came from', () => {
    for (const bad of ['http://notary.example.com', 'notary.example.com', 'https://', 'ftp://x']) {
      assert.throws(() => trustServerFor('ghcr.io', bad, {}), code('TRUST_SERVER_INVALID', /^the trust server .*https:\/\/host/), bad);
      assert.throws(() => trustServerFor('ghcr.io', undefined, { DOCKER_CONTENT_TRUST_SERVER: bad }), code('TRUST_SERVER_INVALID', /^DOCKER_CONTENT_TRUST_SERVER /), bad);
    }
  });
});

describe('parseTrustServer', () => {
  it('normalises what docker accepts: lowercase host, no default port, no trailing slash; a path prefix is kept (a proxy)', () => {
    const good: [string, string][] = [
      ['https://notary.example.com', 'https://notary.example.com'],
      ['https://notary.example.com/', 'https://notary.example.com'],
      ['HTTPS://Notary.Example.com:443', 'https://notary.example.com'],
      ['https://127.0.0.1:4443', 'https://127.0.0.1:4443'],
      ['https://[::1]:4443/', 'https://[::1]:4443'],
      ['https://proxy.example.com/notary/', 'https://proxy.example.com/notary'],
    ];
    for (const [input, expected] of good) assert.equal(parseTrustServer(input, 'input trust-server'), expected, input);
  });

  it('refuses each bad form with TRUST_SERVER_INVALID, the label, what is wrong and what a valid value looks like', () => {
    const bad: [string, RegExp][] = [
      ['', /is empty/],
      ['   ', /is empty/],
      [' https://x.example.com', /white space/],
      ['https://x.example.com\\notary', /backslash/],
      ['notary.example.com', /is not an absolute URL/],
      ['https:notary.example.com', /is not an absolute URL/],
      ['http://notary.example.com', /uses http: .*https only/],
      ['ftp://notary.example.com', /uses ftp/],
      ['https://user:s3cret@notary.example.com', /carries a user name or password/],
      ['https://token@notary.example.com/', /carries a user name or password/],
      ['https://notary.example.com/?x=1', /has a query/],
      ['https://notary.example.com?', /has a query/],
      ['https://notary.example.com/#top', /has a fragment/],
      ['https://notary.example.com:0', /port 0: ports run from 1 to 65535/],
      ['https://notary.example.com:65536', /port 65536/],
      ['https://', /names no host/],
      ['https://no_such host', /white space/],
      ['https://[::1', /not a valid host\[:port\]/],
      ['https://notary.example.com/a/../b', /\.\. segments/],
      ['https://notary.example.com/%2e%2e/', /\.\. segments/],
    ];
    for (const [input, why] of bad) {
      assert.throws(
        () => parseTrustServer(input, 'input trust-server'),
        (e: ContentTrustError) => {
          assert.equal(e.code, 'TRUST_SERVER_INVALID', input);
          assert.match(e.message, /^input trust-server ".*" /, input);
          assert.match(e.message, why, input);
          assert.match(e.message, /write it as https:\/\/host\[:port\]/, input);
          return true;
        },
        input,
      );
    }
  });

  it('never repeats a password given in the URL', () => {
    assert.throws(
      () => parseTrustServer('https://user:s3cret@notary.example.com', 'input trust-server'),
      (e: Error) => !e.message.includes('s3cret') && !e.message.includes('user:'),
    );
  });
});

describe('formatRef', () => {
  it('is gun:tag', () => {
    assert.equal(formatRef(parseReference(`org/app:v1@${D}`)), 'docker.io/org/app:v1');
  });
});

describe('hasTag', () => {
  it('hasTag: a tag written in the reference, not one the parser assumes (a registry port is not a tag)', () => {
    for (const r of ['alpine:3', 'reg.example.com:5000/org/app:v1', ' ghcr.io/o/a:v1@sha256:' + 'a'.repeat(64)]) assert.equal(hasTag(r), true, r);
    for (const r of ['alpine', 'reg.example.com:5000/org/app', 'ghcr.io/o/a@sha256:' + 'a'.repeat(64)]) assert.equal(hasTag(r), false, r);
  });
});
