/**
 * The production-shaped stack: notary-server with notary-signer over mutual
 * TLS (ecdsa server keys), both on PostgreSQL, and token authentication on
 * the Notary server and the registry from a loopback token issuer, as
 * Docker Hub, ACR and Harbor run it. Same `Stack` as startStack(), plus the
 * pieces and the credentials that open them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { startNotaryServer, type NotaryServer } from './notary-server.ts';
import { startNotarySigner, type NotarySigner } from './notary-signer.ts';
import { startPostgres, type Postgres } from './postgres.ts';
import { startRegistry, type Registry } from './registry.ts';
import { startTokenIssuer, type TokenIssuer, type TokenIssuerOptions } from './token-issuer.ts';
import type { RegistryAuth } from './image.ts';

export const NOTARY_SERVICE = 'notary-server';
export const REGISTRY_SERVICE = 'docker-registry';

export interface ProductionOptions {
  /** Token issuer settings (key type, header, grant rule…); dir, ca and users are filled in. */
  tokenIssuer?: Omit<Partial<TokenIssuerOptions>, 'dir' | 'ca'>;
}

export interface StackAuth {
  issuer: TokenIssuer;
  /** The account the stack's docker config, notary CLI and image helpers use. */
  username: string;
  password: string;
  notaryService: string;
  registryService: string;
}

export interface ProductionParts {
  auth: StackAuth;
  postgres: Postgres;
  signer: NotarySigner;
  notary: NotaryServer;
  registry: Registry;
  registryAuth: RegistryAuth;
  /** Stops everything started here, clients before the services they use. */
  stop: () => Promise<void>;
}

/**
 * Starts PostgreSQL (with notary's schema), notary-signer, the token issuer,
 * notary-server and docker-registry. On failure stops what it started.
 */
export async function startProductionParts(dir: string, ca: TestCa, options: ProductionOptions = {}): Promise<ProductionParts> {
  const stoppers: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    let failure: Error | undefined;
    for (const s of [...stoppers].reverse()) await s().catch((e: unknown) => (failure ??= e instanceof Error ? e : new Error(String(e))));
    if (failure) throw failure;
  };
  try {
    const username = 'ci-bot';
    const password = randomBytes(18).toString('base64url');
    const [postgres, issuer] = await Promise.all([
      startPostgres().then((p) => (stoppers.push(p.stop), p)),
      startTokenIssuer({
        // As for a public repository on Docker Hub: anyone may pull, only the account may push.
        // The notary CLI needs that: it reads (list, lookup) anonymously under token auth.
        allowAnonymous: true,
        grant: ({ account, requested }) => (account ? requested.actions : requested.actions.filter((a) => a === 'pull')),
        ...options.tokenIssuer,
        dir: join(dir, 'token-issuer'),
        ca,
        users: { [username]: password, ...options.tokenIssuer?.users },
      }).then((t) => (stoppers.push(t.stop), t)),
    ]);
    const signer = await startNotarySigner({ dir, ca, dbUrl: postgres.signerDbUrl });
    stoppers.push(signer.stop);

    const tokenAuth = (service: string) => ({ realm: issuer.realm, service, issuer: issuer.issuer, rootcertbundle: issuer.rootCertBundlePath });
    // Pushed in start order; stopAll stops the newest first.
    const [notary, registry] = await Promise.all([
      startNotaryServer({
        dir,
        ca,
        // /v2/ wants a token now; the health route does not, and reports the signer's health too.
        readyPath: '/_notary_server/health',
        timeoutMs: 20_000,
        extraConfig: {
          trust_service: {
            type: 'remote',
            hostname: signer.hostname,
            port: String(signer.port),
            key_algorithm: 'ecdsa',
            tls_ca_file: ca.caCertPath,
            tls_client_cert: signer.clientCert.certPath,
            tls_client_key: signer.clientCert.keyPath,
          },
          storage: { backend: 'postgres', db_url: postgres.serverDbUrl },
          auth: { type: 'token', options: tokenAuth(NOTARY_SERVICE) },
        },
      }).then((s) => (stoppers.push(s.stop), s)),
      startRegistry({ dir, ca, readyPath: '/', extraConfig: { auth: { token: tokenAuth(REGISTRY_SERVICE) } } }).then((s) => (stoppers.push(s.stop), s)),
    ]);
    const registryAuth: RegistryAuth = {
      username,
      password,
      headers: (repository, actions) => ({ Authorization: `Bearer ${issuer.mint(username, REGISTRY_SERVICE, [{ type: 'repository', name: repository, actions }])}` }),
    };
    return {
      auth: { issuer, username, password, notaryService: NOTARY_SERVICE, registryService: REGISTRY_SERVICE },
      postgres,
      signer,
      notary,
      registry,
      registryAuth,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll().catch(() => {});
    throw err;
  }
}

/** A Docker config.json with `docker login` credentials for `host` (as docker/login-action writes it). */
export async function writeDockerLogin(configDir: string, host: string, username: string, password: string): Promise<void> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  await writeFile(join(configDir, 'config.json'), JSON.stringify({ auths: { [host]: { auth } } }, null, 2), { mode: 0o600 });
}
