/**
 * Registry token authentication (docker/distribution): a 401 carries a
 * challenge; Bearer gets a token from the realm with the registry's
 * credentials (HTTP Basic, or an identity token's refresh grant), Basic uses
 * the credentials directly. Tokens are cached per realm, service and scope.
 */
import { HttpClient, type HttpResponse, type RequestInit } from './client.ts';
import { parseChallenge, type Challenge } from './challenge.ts';
import { NetworkError } from '../errors.ts';
import { parseJson } from '../util/json.ts';

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
    const first = await this.http.send(url, await this.withAuth(init, known));
    if (first.status !== 401) return first;
    const challenge = parseChallenge(first.headers['www-authenticate']);
    if (!challenge || (challenge.scheme !== 'bearer' && challenge.scheme !== 'basic')) {
      throw refused(origin, init, 'answered 401 without a usable challenge');
    }
    this.challenges.set(origin, challenge);
    if (known && challenge.scheme === 'bearer') this.tokens.delete(tokenKey(challenge, init));
    const second = await this.http.send(url, await this.withAuth(init, challenge));
    if (second.status === 401 || second.status === 403) throw refused(origin, init, 'refused the credentials');
    return second;
  }

  private async withAuth(init: AuthedInit, challenge: Challenge | undefined): Promise<RequestInit> {
    if (!challenge) return init;
    const headers = { ...init.headers, authorization: await this.authorization(challenge, init) };
    return { ...init, headers };
  }

  private async authorization(challenge: Challenge, init: AuthedInit): Promise<string> {
    const creds = init.credentials;
    if (challenge.scheme === 'basic') {
      if (!creds?.username || creds.password === undefined) throw refused(challenge.params.realm ?? 'the server', init, 'asks for credentials and none were given');
      return basic(creds.username, creds.password);
    }
    const key = tokenKey(challenge, init);
    let token = this.tokens.get(key);
    if (!token) {
      token = this.fetchToken(challenge, init);
      this.tokens.set(key, token);
      token.catch(() => this.tokens.delete(key));
    }
    return `Bearer ${await token}`;
  }

  private async fetchToken(challenge: Challenge, init: AuthedInit): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw refused('the server', init, 'sent a Bearer challenge without a realm');
    const service = challenge.params.service;
    const scope = init.scope ?? challenge.params.scope;
    const creds = init.credentials;
    let res: HttpResponse;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, client_id: 'content-trust-action' });
      if (service) form.set('service', service);
      if (scope) form.set('scope', scope);
      res = await this.http.send(realm, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: Buffer.from(form.toString()), maxBytes: 1 << 20 });
    } else {
      const u = new URL(realm);
      if (service) u.searchParams.set('service', service);
      if (scope) u.searchParams.set('scope', scope);
      const headers: Record<string, string> = {};
      if (creds?.username && creds.password !== undefined) {
        u.searchParams.set('account', creds.username);
        headers.authorization = basic(creds.username, creds.password);
      }
      res = await this.http.send(u.toString(), { headers, maxBytes: 1 << 20 });
    }
    if (res.status === 401 || res.status === 403) throw refused(new URL(realm).host, init, 'refused the credentials at its token service');
    if (res.status !== 200) throw new NetworkError('AUTH_REFUSED', `token service ${realm} answered HTTP ${res.status}`, { status: res.status });
    // Not the parser's words: they would quote the answer, which may hold a token.
    const parsed = parseJson(res.body, () => new NetworkError('AUTH_REFUSED', `token service ${realm} did not answer JSON (or answered more than 1 MiB, or nested more than 8 deep)`), { maxBytes: 1024 * 1024, maxDepth: 8 });
    const body: { token?: unknown; access_token?: unknown } = typeof parsed === 'object' && parsed !== null ? parsed : {};
    const token = body.token ?? body.access_token;
    if (typeof token !== 'string' || !token) throw new NetworkError('AUTH_REFUSED', `token service ${realm} sent no token`);
    return token;
  }
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

function tokenKey(c: Challenge, init: AuthedInit): string {
  return [c.params.realm, c.params.service, init.scope ?? c.params.scope, init.credentials?.username ?? ''].join('|');
}

function refused(where: string, init: AuthedInit, what: string): NetworkError {
  const who = init.credentials?.username ? `user "${init.credentials.username}"` : 'anonymous access';
  const hint = init.credentials?.username
    ? 'check the `username`/`password` inputs or the docker login that wrote them'
    : 'log in first (docker/login-action) or set the `username`/`password` inputs';
  return new NetworkError('AUTH_REFUSED', `${where} ${what} (${who}${init.scope ? `, scope ${init.scope}` : ''}): ${hint}`, { status: 401 });
}
