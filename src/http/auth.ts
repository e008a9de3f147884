/**
 * Registry token authentication (docker/distribution): a 401 carries a
 * challenge; Bearer gets a token from the realm with the registry's
 * credentials (HTTP Basic, or an identity token's refresh grant), Basic uses
 * the credentials directly.
 *
 * Where credentials and tokens go (docs/security.md, "Credentials go only
 * where they belong"):
 * - The caller hands each request the credentials of the registry whose URL
 *   it is (the registry itself, or the trust server used for that registry's
 *   repositories), or none. Nothing here picks credentials by host.
 * - Basic: they go to the origin that answered the request with the challenge.
 * - Bearer: they go to the realm that challenge names, which may be another
 *   host (auth.docker.io for Docker Hub, ACR's /oauth2/token), as docker does;
 *   only over https (a plain-http realm is refused before anything is sent),
 *   and only because the server this very request went to named it.
 * - A token goes back only to the origin whose challenge it was got for:
 *   tokens are cached per origin, realm, service, scope and credentials, so
 *   another origin whose challenge names the same realm gets its own token.
 */
import { createHash } from 'node:crypto';
import { HttpClient, type HttpResponse, type RequestInit } from './client.ts';
import { parseChallenge, type Challenge } from './challenge.ts';
import { NetworkError } from '../errors.ts';
import { parseJson } from '../util/json.ts';
import { isMap, own } from '../util/maps.ts';

export interface Credentials {
  username?: string;
  password?: string;
  /** An OAuth2 refresh token (docker config `identitytoken`). */
  identityToken?: string;
}

export interface AuthedInit extends RequestInit {
  credentials?: Credentials | undefined;
  /** Token scope to ask for, e.g. repository:org/app:pull. */
  scope?: string;
}

/** A token answer is small; anything bigger is not one. */
const MAX_TOKEN_ANSWER = 1 << 20;
/** What may go into an Authorization header after "Bearer " (RFC 6750 b64token, widened to visible ASCII). */
const TOKEN_CHARS = /^[\x21-\x7e]+$/;

export class AuthClient {
  readonly http: HttpClient;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(http: HttpClient) {
    this.http = http;
  }

  async send(url: string, init: AuthedInit = {}): Promise<HttpResponse> {
    const origin = new URL(url).origin;
    const known = this.challenges.get(origin);
    // No challenge known for the origin yet (every request to a registry without auth): no detour through withAuth's promise.
    const first = await this.http.send(url, known ? await this.withAuth(origin, init, known) : init);
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers['www-authenticate']);
    if (!challenge || (challenge.scheme !== 'bearer' && challenge.scheme !== 'basic')) {
      throw refused(origin, init, 'answered 401 without a usable challenge');
    }
    this.challenges.set(origin, challenge);
    if (known && challenge.scheme === 'bearer') this.tokens.delete(tokenKey(origin, challenge, init));
    const second = await this.http.send(url, await this.withAuth(origin, init, challenge));
    if (second.status === 401 || second.status === 403) throw refused(origin, init, 'refused the credentials');
    return second;
  }

  private async withAuth(origin: string, init: AuthedInit, challenge: Challenge): Promise<RequestInit> {
    const headers = { ...init.headers, authorization: await this.authorization(origin, challenge, init) };
    return { ...init, headers };
  }

  private async authorization(origin: string, challenge: Challenge, init: AuthedInit): Promise<string> {
    const creds = init.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds?.username || creds.password === undefined) throw refused(origin, init, 'asks for credentials and none were given');
      return basic(creds.username, creds.password);
    }
    const realm = tokenRealm(origin, challenge, init);
    const key = tokenKey(origin, challenge, init);
    let token = this.tokens.get(key);
    if (!token) {
      token = this.fetchToken(realm, challenge, init);
      this.tokens.set(key, token);
      token.catch(() => this.tokens.delete(key));
    }
    return `Bearer ${await token}`;
  }

  private async fetchToken(realm: URL, challenge: Challenge, init: AuthedInit): Promise<string> {
    const service = challenge.params.service;
    const scope = init.scope ?? challenge.params.scope;
    const creds = init.credentials;
    // Named by what the URL parser kept of it: no query, no control characters.
    const where = `token service ${realm.origin}${realm.pathname}`;
    let res: HttpResponse;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'content-trust-action' });
      if (service) form.set('service', service);
      if (scope) form.set('scope', scope);
      res = await this.http.send(realm.href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), maxBytes: MAX_TOKEN_ANSWER });
    } else {
      const u = new URL(realm);
      if (service) u.searchParams.set('service', service);
      if (scope) u.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (creds?.username && creds.password !== undefined) {
        u.searchParams.set('account', creds.username);
        headers.authorization = basic(creds.username, creds.password);
      }
      res = await this.http.send(u.href, { headers, maxBytes: MAX_TOKEN_ANSWER });
    }
    if (res.status === 401 || res.status === 403) throw refused(where, init, 'refused the credentials');
    if (res.status !== 200) throw new NetworkError('AUTH_REFUSED', `${where} answered HTTP ${res.status}${init.scope ? ` for scope ${init.scope}` : ''}: check that the server's token auth is up`, { status: res.status });
    const body = parseJson(res.body, (why) => new NetworkError('AUTH_REFUSED', `${where}: its answer ${why}; a token service answers a JSON object with a token`), { maxBytes: MAX_TOKEN_ANSWER });
    const answer = isMap(body) ? body : undefined;
    const token = own(answer, 'token') ?? own(answer, 'access_token');
    if (typeof token !== 'string' || !TOKEN_CHARS.test(token)) throw new NetworkError('AUTH_REFUSED', `${where} sent no usable token (a "token" or "access_token" string of visible ASCII characters)`);
    return token;
  }
}

/**
 * The realm of a Bearer challenge from `origin`. Credentials and the token
 * travel there, so it must be an https URL; anything else is refused by
 * name before a byte is sent to it.
 */
export function tokenRealm(origin: string, challenge: Challenge, init: AuthedInit = {}): URL {
  const realm = challenge.params.realm;
  if (!realm) throw refused(origin, init, 'sent a Bearer challenge without a realm');
  let url: URL | undefined;
  try {
    url = new URL(realm);
  } catch {
    url = undefined;
  }
  if (url?.protocol === 'https:') return url;
  const what = url?.protocol === 'http:' ? 'a plain-http token realm' : 'a token realm that is not an https URL';
  throw new NetworkError(
    'AUTH_REALM_INSECURE',
    `${origin} sent a Bearer challenge naming ${what}, ${quote(realm)}${init.scope ? ` (scope ${init.scope})` : ''}: nothing was sent there, since credentials and tokens travel only over TLS; the server's token auth must name an https:// realm (check its configuration, or that trust-server and the image names point at the right server)`,
  );
}

/**
 * The token cache key: the origin the token goes back to, the challenge's
 * realm and service, the scope, and the credentials it was got with (hashed:
 * two users, or two secrets of one user, never share a token).
 */
export function tokenKey(origin: string, c: Challenge, init: AuthedInit): string {
  return JSON.stringify([origin, c.params.realm ?? '', c.params.service ?? '', init.scope ?? c.params.scope ?? '', credentialsId(init.credentials)]);
}

function credentialsId(c: Credentials | undefined): string {
  if (!c) return '';
  return createHash('sha256')
    .update(JSON.stringify([c.username ?? null, c.password ?? null, c.identityToken ?? null]))
    .digest('hex');
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Outside text in a message: quoted with control characters escaped, and short. */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function refused(where: string, init: AuthedInit, what: string): NetworkError {
  const who = init.credentials?.username ? `user "${init.credentials.username}"` : 'anonymous access';
  const hint = init.credentials?.username ? 'check the `username`/`password` inputs or the docker login that wrote them' : 'log in first (docker/login-action) or set the `username`/`password` inputs (and `registry`)';
  return new NetworkError('AUTH_REFUSED', `${where} ${what} (${who}${init.scope ? `, scope ${init.scope}` : ''}): ${hint}`, { status: 401 });
}
