/**
 * The CLI's surroundings, as docker's: the trust server from --server or
 * $DOCKER_CONTENT_TRUST_SERVER (else per registry), its CA from --tlscacert
 * or `<docker config>/tls/<host>/ca.crt`, registry credentials from the
 * docker config's `auths`, and remembered trust in the trust directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../http/client.ts';
import { AuthClient } from '../http/auth.ts';
import { parseTrustServer, trustServerFor, type ImageRef } from '../registry/reference.ts';
import { readUserFile } from '../util/file.ts';
import { dockerConfigDir, readDockerCredentials } from '../registry/docker-config.ts';
import { FileTrustStore } from '../notary/trust-store.ts';
import type { TrustEnv } from '../notary/env.ts';
import { trustDir } from './trust-dir.ts';
import { forLog } from '../util/untrusted-text.ts';
import { advise } from '../advice.ts';

interface CliEnvOptions {
  server?: string | undefined;
  tlsCaCert?: string | undefined;
  /** Progress lines on stderr (stdout has the results: without this, each is said once). */
  verbose?: boolean;
  debug?: boolean;
}

/** CA files hold a few certificates; this bound only stops a huge or endless file. */
const CA_MAX_BYTES = 1024 * 1024;

export function createCliEnv(refs: readonly ImageRef[], options: CliEnvOptions, env: NodeJS.ProcessEnv = process.env): TrustEnv & { close(): void } {
  // Checked here, before any request: the flag by its name, the variable by its own.
  const server = options.server === undefined ? undefined : parseTrustServer(options.server, '--server');
  const serverFor = (domain: string) => trustServerFor(domain, server, env);
  const cas: string[] = [];
  if (options.tlsCaCert !== undefined) {
    cas.push(readUserFile(options.tlsCaCert, { name: '--tlscacert', fix: 'give the path of a PEM file of CA certificates' }, { maxBytes: CA_MAX_BYTES }));
  }
  for (const host of new Set(refs.map((r) => new URL(serverFor(r.domain)).host))) {
    // As docker: a CA for this server in <docker config>/tls/<host>/ca.crt, when there is one.
    const file = join(dockerConfigDir(env), 'tls', host, 'ca.crt');
    if (existsSync(file)) cas.push(readUserFile(file, { name: "the trust server's CA file", fix: 'put PEM CA certificates there, or remove it' }, { maxBytes: CA_MAX_BYTES }));
  }
  const http = new HttpClient({ ...(cas.length ? { ca: cas.join('\n') } : {}), ...(options.debug ? { debug: (m: string) => process.stderr.write(`debug: ${forLog(m)}\n`) } : {}) });
  const credentials = readDockerCredentials(env);
  return {
    client: new AuthClient(http),
    config: http.config,
    log: {
      info: (m) => (options.verbose || options.debug ? process.stderr.write(`${forLog(advise(m, 'cli'))}\n`) : undefined),
      warning: (m) => process.stderr.write(`warning: ${forLog(advise(m, 'cli'))}\n`),
      debug: (m) => (options.debug ? process.stderr.write(`debug: ${forLog(m)}\n`) : undefined),
    },
    credentialsFor: (domain) => credentials.get(domain),
    serverFor,
    trustStore: new FileTrustStore(trustDir(env)),
    close: () => http.close(),
  };
}
