/**
 * Real notary-server and docker-registry behind the loopback token issuer,
 * laid out the way the registries that still serve Notary v1 lay them out
 * (the shapes matter, the host names are loopback):
 *
 * - `acr`: one host serves the registry API, the trust API (`/v2/<gun>/_trust/…`)
 *   and the realm (`/oauth2/token`); one service name (the login server) for
 *   both; `az acr login` identity tokens go through the refresh-token grant.
 * - `docker-hub`: the realm on its own host (auth.docker.io), registry service
 *   `registry.docker.io`, notary service `notary.docker.io` on another host.
 * - `msr`: Basic credentials to the registry host's `/auth/token`; the service
 *   is the registry host; the notary server on its own port.
 * - `self-hosted`: a notary-server behind its own token issuer and service,
 *   in front of a registry without auth.
 *
 * A "front" is a small HTTPS reverse proxy that gives a shape its single
 * host. For set-up only (pushing images), a front can add a token the issuer
 * minted; the action under test never gets one.
 */
import { request as httpsRequestRaw, createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { DockerCli } from './docker-cli.ts';
import { startNotaryServer } from './notary-server.ts';
import { startRegistry } from './registry.ts';
import { writeDockerLogin } from './production.ts';
import { startTokenIssuer, type TokenIssuer } from './token-issuer.ts';
import { pushImage, type PushedImage } from './image.ts';
import { ROOT_PASSPHRASE, REPOSITORY_PASSPHRASE } from './index.ts';

export type ShapeName = 'acr' | 'docker-hub' | 'msr' | 'self-hosted';

export const ACR_USERNAME = '00000000-0000-0000-0000-000000000000';

export interface Front {
  url: string;
  host: string;
  /** Set during set-up: a bearer token added to requests that carry none. */
  setupToken: string | undefined;
  /** Path → upstream base URL. */
  route: (path: string) => string;
  stop: () => Promise<void>;
}

/** An HTTPS reverse proxy on loopback; `route` is set once the upstreams are known. */
async function startFront(ca: TestCa): Promise<Front> {
  const front: Front = { url: '', host: '', setupToken: undefined, route: () => '', stop: async () => {} };
  const server: Server = createServer({ key: await readFile(ca.serverKeyPath), cert: await readFile(ca.serverCertPath) }, (req: IncomingMessage, res: ServerResponse) => {
    const upstream = new URL(req.url ?? '/', front.route(req.url ?? '/'));
    // The Host header stays the front's, so upload locations the registry hands out point back at the front.
    const headers = { ...req.headers };
    if (front.setupToken && !headers.authorization) headers.authorization = `Bearer ${front.setupToken}`;
    const out = httpsRequestRaw(upstream, { method: req.method, headers, ca: ca.caPem, agent: false }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    out.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`front: ${e.message}`);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  front.host = `127.0.0.1:${port}`;
  front.url = `https://${front.host}`;
  front.stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return front;
}

export interface Shape {
  name: ShapeName;
  issuer: TokenIssuer;
  /** What image references start with: the registry host (a front, or the registry itself). */
  registryHost: string;
  /** The `trust-server` input the shape needs; undefined where docker's default (the registry host) is right. */
  trustServer: string | undefined;
  registryService: string;
  notaryService: string;
  /** docker CLI with DOCKER_CONFIG holding a login for the registry, for `docker trust` set-up. */
  docker: DockerCli;
  gun(repo: string): string;
  /** Pushes a fresh image through the registry's front with a set-up token. */
  push(ref: string): Promise<PushedImage>;
  stop(): Promise<void>;
}

export interface ShapeOptions {
  dir: string;
  ca: TestCa;
  /** Basic / password-grant accounts. */
  users: Record<string, string>;
  /** Refresh tokens (identity tokens) → account. */
  refreshTokens?: Record<string, string>;
  /** The docker login the set-up CLI uses. */
  login: { username: string; password: string };
}

/** Starts the services of one registry shape. */
export async function startShape(name: ShapeName, options: ShapeOptions): Promise<Shape> {
  const { dir, ca } = options;
  const stoppers: (() => Promise<void>)[] = [];
  const stop = async () => {
    await Promise.allSettled(stoppers.reverse().map((s) => s()));
  };
  try {
    const front = await startFront(ca);
    stoppers.push(front.stop);
    const layout = {
      acr: { realmPath: '/oauth2/token', realmOnFront: true, registryService: front.host, notaryService: front.host, notaryBehindFront: true, registryAuth: true },
      'docker-hub': { realmPath: '/token', realmOnFront: false, registryService: 'registry.docker.io', notaryService: 'notary.docker.io', notaryBehindFront: false, registryAuth: true },
      msr: { realmPath: '/auth/token', realmOnFront: true, registryService: front.host, notaryService: front.host, notaryBehindFront: false, registryAuth: true },
      'self-hosted': { realmPath: '/token', realmOnFront: false, registryService: '', notaryService: 'notary-server', notaryBehindFront: false, registryAuth: false },
    }[name];
    const issuer = await startTokenIssuer({
      dir: join(dir, 'issuer'),
      ca,
      issuer: `${name}-issuer`,
      realmPath: layout.realmPath,
      users: options.users,
      ...(options.refreshTokens ? { refreshTokens: options.refreshTokens } : {}),
    });
    stoppers.push(issuer.stop);
    const realm = layout.realmOnFront ? front.url + layout.realmPath : issuer.realm;
    const auth = (service: string) => ({ realm, service, issuer: issuer.issuer, rootcertbundle: issuer.rootCertBundlePath });
    const [notary, registry] = await Promise.all([
      startNotaryServer({ dir, ca, readyPath: '/_notary_server/health', extraConfig: { auth: { type: 'token', options: auth(layout.notaryService) } } }),
      startRegistry({ dir, ca, readyPath: '/', extraConfig: layout.registryAuth ? { auth: { token: auth(layout.registryService) } } : {} }),
    ]);
    stoppers.push(notary.stop, registry.stop);
    front.route = (path) => {
      if (path.startsWith(layout.realmPath)) return issuer.url;
      if (layout.notaryBehindFront && /^\/v2\/.+\/_trust\//.test(path)) return notary.url;
      return registry.url;
    };
    const trustServer = layout.notaryBehindFront ? undefined : notary.url;
    const docker = new DockerCli({ configDir: join(dir, 'docker'), notaryUrl: trustServer ?? front.url, ca, rootPassphrase: ROOT_PASSPHRASE, repositoryPassphrase: REPOSITORY_PASSPHRASE });
    await docker.init();
    await writeDockerLogin(docker.configDir, front.host, options.login.username, options.login.password);
    const imageStack = { dir, ca, registry: { host: front.host, url: front.url } };
    return {
      name,
      issuer,
      registryHost: front.host,
      trustServer,
      registryService: layout.registryService,
      notaryService: layout.notaryService,
      docker,
      gun: (repo) => `${front.host}/${repo}`,
      async push(ref) {
        const repo = ref.slice(0, ref.lastIndexOf(':'));
        front.setupToken = issuer.mint('setup', layout.registryService || 'none', [{ type: 'repository', name: repo, actions: ['pull', 'push'] }]);
        try {
          return await pushImage(imageStack, ref);
        } finally {
          front.setupToken = undefined;
        }
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
