/** The pure rules of src/http/auth.ts: which realm a Bearer challenge may send us to, and what a cached token is keyed on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { tokenKey, tokenRealm } from '../../src/http/auth.ts';
import { parseChallenge, type Challenge } from '../../src/http/challenge.ts';
import type { ContentTrustError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

const challenge = (header: string): Challenge => parseChallenge(header)!;
const hub = challenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:org/app:pull"');

describe('tokenKey', () => {
  const creds = { username: 'ci', password: 'secret-one' };

  it('two origins whose challenges name the same realm, service and scope never share a token', () => {
    assert.notEqual(tokenKey('https://reg-a.example', hub, { credentials: creds }), tokenKey('https://reg-b.example', hub, { credentials: creds }));
    assert.notEqual(tokenKey('https://reg.example:5000', hub, {}), tokenKey('https://reg.example:5001', hub, {}));
  });

  it('neither do two secrets of one user, nor credentials and none', () => {
    const origin = 'https://reg.example';
    assert.notEqual(tokenKey(origin, hub, { credentials: creds }), tokenKey(origin, hub, { credentials: { username: 'ci', password: 'secret-two' } }));
    assert.notEqual(tokenKey(origin, hub, { credentials: { username: 'ci', identityToken: 'a' } }), tokenKey(origin, hub, { credentials: { username: 'ci', identityToken: 'b' } }));
    assert.notEqual(tokenKey(origin, hub, { credentials: creds }), tokenKey(origin, hub, {}));
  });

  it("the scope asked for wins over the challenge's; the same request twice shares one key", () => {
    const origin = 'https://reg.example';
    assert.notEqual(tokenKey(origin, hub, { scope: 'repository:org/app:pull,push' }), tokenKey(origin, hub, {}));
    assert.equal(tokenKey(origin, hub, { credentials: { ...creds } }), tokenKey(origin, hub, { credentials: creds }));
  });

  it('holds no secret in clear', () => {
    const key = tokenKey('https://reg.example', hub, { credentials: { username: 'ci', password: 'secret-one', identityToken: 'refresh-token-xyz' } });
    assert.doesNotMatch(key, /secret-one|refresh-token-xyz/);
  });

  it('fields cannot run into each other (a realm holding the separator)', () => {
    const a = challenge('Bearer realm="https://auth.example/t|x",service="s"');
    const b = challenge('Bearer realm="https://auth.example/t",service="x|s"');
    assert.notEqual(tokenKey('https://reg.example', a, {}), tokenKey('https://reg.example', b, {}));
  });
});

describe('tokenRealm', () => {
  it("an https realm on any host is the URL to ask (Docker Hub's auth.docker.io, ACR's /oauth2/token)", () => {
    assert.equal(tokenRealm('https://notary.example', hub).href, 'https://auth.example/token');
  });

  const insecure = (pattern: RegExp) => (e: ContentTrustError) => e.code === 'AUTH_REALM_INSECURE' && pattern.test(e.message) && !e.message.includes('\n');

  it('a plain-http realm is AUTH_REALM_INSECURE naming the server, the realm and the scope', () => {
    const c = challenge('Bearer realm="http://auth.example/token",service="notary"');
    assert.throws(
      () => tokenRealm('https://notary.example:4443', c, { scope: 'repository:reg.example/org/app:pull' }),
      insecure(/^https:\/\/notary\.example:4443 sent a Bearer challenge naming a plain-http token realm, "http:\/\/auth\.example\/token" \(scope repository:reg\.example\/org\/app:pull\): nothing was sent there/),
    );
  });

  it('other schemes and non-URLs are refused the same way, the realm quoted and cut short', () => {
    for (const realm of ['ftp://auth.example/token', 'file:///etc/passwd', '/token', 'auth.example/token', 'x'.repeat(500)]) {
      assert.throws(() => tokenRealm('https://reg.example', challenge(`Bearer realm="${realm}"`)), insecure(/naming a token realm that is not an https URL, "/), realm);
    }
    assert.throws(() => tokenRealm('https://reg.example', challenge('Bearer realm="http://a\\\\u000a::error::x"')), insecure(/plain-http/));
  });

  it('no realm at all is AUTH_REFUSED naming the server', () => {
    assertCode(() => tokenRealm('https://reg.example', challenge('Bearer service="s"')), 'AUTH_REFUSED', /^https:\/\/reg\.example sent a Bearer challenge without a realm/);
  });
});
