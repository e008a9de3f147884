import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenge } from '../../src/http/challenge.ts';

/** Challenge parameters come back as a map without a prototype (the names are the server's). */
const map = (o: Record<string, string>) => Object.assign(Object.create(null) as Record<string, string>, o);

describe('parseChallenge', () => {
  it('reads realm, service and scope as docker/distribution sends them', () => {
    const c = parseChallenge('Bearer realm="https://auth.example.com/token",service="notary.example.com",scope="repository:example.com/org/app:pull"');
    assert.deepEqual(c, {
      scheme: 'bearer',
      params: map({ realm: 'https://auth.example.com/token', service: 'notary.example.com', scope: 'repository:example.com/org/app:pull' }),
    });
  });

  it('keeps commas inside quoted values (scope with several actions)', () => {
    const c = parseChallenge('Bearer realm="https://auth.example.com/token?a=1,b=2",service="registry.docker.io",scope="repository:org/app:push,pull"');
    assert.equal(c?.params.scope, 'repository:org/app:push,pull');
    assert.equal(c?.params.realm, 'https://auth.example.com/token?a=1,b=2');
    assert.equal(c?.params.service, 'registry.docker.io');
  });

  it('reads error= and error_description appended after an invalid or insufficient token', () => {
    const c = parseChallenge('Bearer realm="https://auth/token",service="svc",scope="repository:a/b:pull,push",error="insufficient_scope",error_description="needs push"');
    assert.equal(c?.params.error, 'insufficient_scope');
    assert.equal(c?.params.error_description, 'needs push');
    assert.equal(parseChallenge('Bearer realm="r",error="invalid_token"')?.params.error, 'invalid_token');
  });

  it('Basic, with and without a realm', () => {
    assert.deepEqual(parseChallenge('Basic realm="Registry Realm"'), { scheme: 'basic', params: map({ realm: 'Registry Realm' }) });
    assert.deepEqual(parseChallenge('Basic'), { scheme: 'basic', params: map({}) });
    assert.equal(parseChallenge('BASIC realm=nexus')?.scheme, 'basic');
  });

  it('lowercases the scheme and parameter names, not the values', () => {
    assert.deepEqual(parseChallenge('BEARER Realm="https://A/Token", SERVICE="Svc"'), { scheme: 'bearer', params: map({ realm: 'https://A/Token', service: 'Svc' }) });
  });

  it('accepts unquoted tokens, white space around = and commas, and quoted-pair escapes', () => {
    const c = parseChallenge('  Bearer   realm = https://auth/token?x=1 ,  service=svc,scope="a\\"b\\\\c"');
    assert.deepEqual(c?.params, map({ realm: 'https://auth/token?x=1', service: 'svc', scope: 'a"b\\c' }));
  });

  it('takes the first of several header values', () => {
    assert.equal(parseChallenge(['Bearer realm="first"', 'Basic realm="second"'])?.params.realm, 'first');
  });

  it("keeps each challenge's parameters apart when one header value carries several, preferring Bearer", () => {
    // Node joins repeated WWW-Authenticate headers with ", ".
    const bearerFirst = parseChallenge('Bearer realm="https://auth/token",service="reg", Basic realm="reg-basic"');
    assert.deepEqual(bearerFirst, { scheme: 'bearer', params: map({ realm: 'https://auth/token', service: 'reg' }) });
    const basicFirst = parseChallenge('Basic realm="reg-basic", Bearer realm="https://auth/token",service="reg"');
    assert.deepEqual(basicFirst, { scheme: 'bearer', params: map({ realm: 'https://auth/token', service: 'reg' }) });
    assert.deepEqual(parseChallenge('Negotiate, Basic realm="x"'), { scheme: 'basic', params: map({ realm: 'x' }) });
  });

  it('nothing usable: undefined', () => {
    assert.equal(parseChallenge(undefined), undefined);
    assert.equal(parseChallenge(''), undefined);
    assert.equal(parseChallenge([]), undefined);
    assert.equal(parseChallenge('   '), undefined);
    assert.equal(parseChallenge('="x"'), undefined);
  });

  it('a parameter named constructor is an ordinary key; nothing is inherited', () => {
    const c = parseChallenge('Bearer constructor="x",service="svc"');
    assert.equal(Object.getPrototypeOf(c?.params), null);
    assert.equal(c?.params.constructor, 'x');
    assert.equal(c?.params.realm, undefined);
    assert.equal(parseChallenge('Bearer service="svc"')?.params.toString, undefined, 'no realm, and no Object.prototype behind the map');
  });
});
