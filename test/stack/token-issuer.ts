/**
 * A Docker-registry token service on loopback (the "realm" of a Bearer
 * challenge), shaped after docker/distribution's token spec so notary-server
 * and docker-registry accept its JWTs:
 *
 * - `GET <realm>?service=…&scope=…&account=…` with optional HTTP Basic;
 * - `POST <realm>` form with `grant_type=password` or `grant_type=refresh_token`
 *   (the OAuth2 flow docker uses for identity tokens);
 * - ES256 or RS256 JWTs whose header carries `x5c` (the signing certificate,
 *   listed in the services' `rootcertbundle`) or a libtrust `kid`.
 *
 * Realm path, service names, issuer, accepted credentials and the scope
 * granting rule are all options, so other registries' flows (ACR, MSR,
 * Docker Hub) can be imitated. Passwords and tokens never reach its log.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomUUID, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { run } from './exec.ts';

/** One resource in a scope or a token's `access` claim. */
export interface Access {
  type: string;
  name: string;
  actions: string[];
}

export interface GrantRequest {
  /** The authenticated account, undefined for anonymous requests. */
  account: string | undefined;
  service: string;
  requested: Access;
}

export type GrantType = 'basic' | 'anonymous' | 'password' | 'refresh_token';

/** What the issuer saw, for assertions; holds no secret. */
export interface TokenRequestRecord {
  method: 'GET' | 'POST';
  grantType: GrantType | 'invalid';
  account: string | undefined;
  service: string;
  scopes: Access[];
  granted: Access[];
  status: number;
  clientId: string | undefined;
}

export interface TokenIssuerOptions {
  /** Directory for the signing key and certificate (created). */
  dir: string;
  /** CA whose 127.0.0.1 server certificate the HTTPS endpoint uses. */
  ca: TestCa;
  /** `iss` claim; services must list it as their `issuer`. Default "content-trust-stack". */
  issuer?: string;
  /** Path of the realm; default "/token". */
  realmPath?: string;
  /** Service names (audiences) it issues tokens for; undefined: any it is asked for. */
  services?: string[];
  /** ES256 (default) or RS256. */
  keyType?: 'ec' | 'rsa';
  /** How the JWT header names its key: the certificate chain (default) or a libtrust key ID. */
  keyHeader?: 'x5c' | 'kid';
  /** Token lifetime; default 300 s (docker treats anything under 60 s as 60 s). */
  ttlSeconds?: number;
  /** HTTP Basic and `grant_type=password` accounts: username → password. */
  users?: Record<string, string>;
  /** Accepted refresh tokens (docker config `identitytoken`): token → account. */
  refreshTokens?: Record<string, string>;
  /** Whether requests without credentials get a token (scopes still go through `grant`). */
  allowAnonymous?: boolean;
  /** Actions granted for one requested resource; default: all for an account, none anonymously. */
  grant?: (request: GrantRequest) => string[];
}

export interface TokenIssuer {
  /** https://127.0.0.1:PORT<realmPath>, the `realm` services put in their challenge. */
  realm: string;
  url: string;
  issuer: string;
  /** PEM file holding the signing certificate: the services' `rootcertbundle`. */
  rootCertBundlePath: string;
  /** Every request so far, oldest first. */
  requests: TokenRequestRecord[];
  /** Mutable: accounts, refresh tokens and the grant rule can change between tests. */
  users: Record<string, string>;
  refreshTokens: Record<string, string>;
  grant: (request: GrantRequest) => string[];
  /** A signed token for `account` without going over HTTP (for test set-up). */
  mint(account: string | undefined, service: string, access: Access[]): string;
  /** `token` split into its decoded header and claims (no verification). */
  decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> };
  stop: () => Promise<void>;
}

const defaultGrant = ({ account, requested }: GrantRequest): string[] => (account ? requested.actions : []);

/** Parses "type[(class)]:name:actions"; the name may itself hold colons (a registry host with a port). */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last <= first) return undefined;
  const name = scope.slice(first + 1, last);
  if (!name) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return { type: scope.slice(0, first).replace(/\(.*\)$/, ''), name, actions: [...new Set(actions)] };
}

/** libtrust's key ID: base32 of the first 240 bits of sha256(SPKI DER), in 12 groups of 4. */
function libtrustKeyId(publicKeyDer: Buffer): string {
  const digest = createHash('sha256').update(publicKeyDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

function pemBody(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(pem);
  if (!m) throw new Error('token issuer: no certificate in PEM');
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

async function makeSigningKey(dir: string, keyType: 'ec' | 'rsa'): Promise<{ key: KeyObject; certPem: string; certPath: string }> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, 'token-signing.key');
  const certPath = join(dir, 'token-signing.crt');
  const newKey = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  await run('openssl', ['req', '-x509', ...newKey, '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=stack token signer']);
  return { key: createPrivateKey(await readFile(keyPath)), certPem: await readFile(certPath, 'utf8'), certPath };
}

function readBody(req: IncomingMessage, max = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) req.destroy(new Error('token request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function basicCredentials(header: string | undefined): { username: string; password: string } | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? { username: decoded.slice(0, i), password: decoded.slice(i + 1) } : undefined;
}

/** Starts the token service on a free loopback port. */
export async function startTokenIssuer(options: TokenIssuerOptions): Promise<TokenIssuer> {
  const issuerName = options.issuer ?? 'content-trust-stack';
  const realmPath = options.realmPath ?? '/token';
  const ttl = options.ttlSeconds ?? 300;
  const keyType = options.keyType ?? 'ec';
  const { key, certPem, certPath } = await makeSigningKey(options.dir, keyType);
  const certDer = pemBody(certPem);
  const kid = libtrustKeyId(createPublicKey(key).export({ format: 'der', type: 'spki' }));
  const header: Record<string, unknown> = { typ: 'JWT', alg: keyType === 'ec' ? 'ES256' : 'RS256' };
  if ((options.keyHeader ?? 'x5c') === 'x5c') header.x5c = [certDer.toString('base64')];
  else header.kid = kid;

  const state = {
    users: { ...(options.users ?? {}) },
    refreshTokens: { ...(options.refreshTokens ?? {}) },
    grant: options.grant ?? defaultGrant,
  };
  const requests: TokenRequestRecord[] = [];

  const mint = (account: string | undefined, service: string, access: Access[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: issuerName, sub: account ?? '', aud: service, exp: now + ttl, nbf: now - 1, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = keyType === 'ec' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
    return `${input}.${b64url(signature)}`;
  };

  const grantAll = (account: string | undefined, service: string, scopes: Access[]): Access[] =>
    scopes.map((requested) => {
      const allowed = new Set(state.grant({ account, service, requested }));
      return { ...requested, actions: requested.actions.filter((a) => allowed.has(a) || allowed.has('*')) };
    });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const send = (status: number, body: unknown, extra: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify(body));
    };
    if (url.pathname !== realmPath || (req.method !== 'GET' && req.method !== 'POST')) {
      send(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
      return;
    }
    const record: TokenRequestRecord = { method: req.method, grantType: 'invalid', account: undefined, service: '', scopes: [], granted: [], status: 0, clientId: undefined };
    requests.push(record);
    const fail = (status: number, message: string) => {
      record.status = status;
      send(status, { errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'DENIED', message }] }, status === 401 ? { 'www-authenticate': `Basic realm="${issuerName}"` } : {});
    };

    let params: URLSearchParams;
    let scopeList: string[];
    let account: string | undefined;
    let offline: boolean;
    if (req.method === 'GET') {
      params = url.searchParams;
      scopeList = params
        .getAll('scope')
        .flatMap((s) => s.split(' '))
        .filter(Boolean);
      offline = params.get('offline_token') === 'true';
      const basic = basicCredentials(req.headers.authorization);
      if (basic) {
        record.grantType = 'basic';
        if (state.users[basic.username] === undefined || state.users[basic.username] !== basic.password) return fail(401, 'invalid username or password');
        account = basic.username;
      } else {
        record.grantType = 'anonymous';
        if (!options.allowAnonymous) return fail(401, 'authentication required');
      }
    } else {
      if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) return fail(400, 'expected a form body');
      params = new URLSearchParams(await readBody(req));
      scopeList = (params.get('scope') ?? '').split(' ').filter(Boolean);
      offline = params.get('access_type') === 'offline';
      const grantType = params.get('grant_type');
      if (grantType === 'password') {
        record.grantType = 'password';
        const username = params.get('username') ?? '';
        if (!username || state.users[username] === undefined || state.users[username] !== params.get('password')) return fail(401, 'invalid username or password');
        account = username;
      } else if (grantType === 'refresh_token') {
        record.grantType = 'refresh_token';
        const owner = state.refreshTokens[params.get('refresh_token') ?? ''];
        if (owner === undefined) return fail(401, 'invalid refresh token');
        account = owner;
      } else {
        return fail(400, `unsupported grant_type ${JSON.stringify(grantType)}`);
      }
    }
    record.account = account;
    record.clientId = params.get('client_id') ?? undefined;
    const service = params.get('service') ?? '';
    record.service = service;
    if (!service || (options.services && !options.services.includes(service))) return fail(400, `unknown service ${JSON.stringify(service)}`);
    const scopes: Access[] = [];
    for (const s of scopeList) {
      const parsed = parseScope(s);
      if (!parsed) return fail(400, `malformed scope ${JSON.stringify(s)}`);
      scopes.push(parsed);
    }
    record.scopes = scopes;
    const granted = grantAll(account, service, scopes);
    record.granted = granted;
    const token = mint(account, service, granted);
    const body: Record<string, unknown> = { expires_in: ttl, issued_at: new Date().toISOString() };
    if (req.method === 'GET') Object.assign(body, { token, access_token: token });
    else Object.assign(body, { access_token: token, scope: scopeList.join(' ') });
    if (offline && account) {
      const refresh = randomBytes(24).toString('base64url');
      state.refreshTokens[refresh] = account;
      body.refresh_token = refresh;
    }
    record.status = 200;
    send(200, body);
  };

  const server: Server = createServer({ key: await readFile(options.ca.serverKeyPath), cert: await readFile(options.ca.serverCertPath) }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: (err as Error).message }] }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  const url = `https://127.0.0.1:${port}`;
  return {
    realm: url + realmPath,
    url,
    issuer: issuerName,
    rootCertBundlePath: certPath,
    requests,
    get users() {
      return state.users;
    },
    set users(v) {
      state.users = v;
    },
    get refreshTokens() {
      return state.refreshTokens;
    },
    set refreshTokens(v) {
      state.refreshTokens = v;
    },
    get grant() {
      return state.grant;
    },
    set grant(v) {
      state.grant = v;
    },
    mint,
    decode(token: string) {
      const [h, c] = token.split('.');
      return { header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString('utf8')), claims: JSON.parse(Buffer.from(c ?? '', 'base64url').toString('utf8')) };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
