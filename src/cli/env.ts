/**
 * The CLI's surroundings, as docker's: the trust server from --server or
 * $DOCKER_CONTENT_TRUST_SERVER (else per registry), its CA from --tlscacert
 * or `<docker config>/tls/<host>/ca.crt`, registry credentials from the
 * docker config's `auths`, and remembered trust in the trust directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HttpClient } from '../http/client.ts';
import { AuthClient } from '../http/auth.ts';
import { trustServerFor, type ImageRef } from '../registry/reference.ts';
import { dockerConfigDir, readDockerCredentials } from '../action/docker-config.ts';
import { FileTrustStore } from '../notary/trust-store.ts';
import type { TrustEnv } from '../notary/env.ts';
import { InputError } from '../errors.ts';
import { trustDir } from './trust-dir.ts';
import { forLog } from '../util/untrusted-text.ts';

export interface CliEnvOptions {
  server?: string | undefined;
  tlsCaCert?: string | undefined;
  debug?: boolean;
}

export function createCliEnv(refs: readonly ImageRef[], options: CliEnvOptions, env: NodeJS.ProcessEnv = process.env): TrustEnv & { close(): void } {
  const serverFor = (domain: string) => trustServerFor(domain, options.server, env);
  const cas: string[] = [];
  if (options.tlsCaCert) {
    if (!existsSync(options.tlsCaCert)) throw new InputError('INPUT_INVALID', `--tlscacert ${options.tlsCaCert}: no such file`);
    cas.push(readFileSync(options.tlsCaCert, 'utf8'));
  }
  for (const host of new Set(refs.map((r) => new URL(serverFor(r.domain)).host))) {
    const file = join(dockerConfigDir(env), 'tls', host, 'ca.crt');
    if (existsSync(file)) cas.push(readFileSync(file, 'utf8'));
  }
  const http = new HttpClient({ ...(cas.length ? { ca: cas.join('\n') } : {}), ...(options.debug ? { debug: (m: string) => process.stderr.write(`debug: ${forLog(m)}\n`) } : {}) });
  const credentials = readDockerCredentials(env);
  return {
    client: new AuthClient(http),
    config: http.config,
    log: {
      info: (m) => process.stderr.write(`${forLog(m)}\n`),
      warning: (m) => process.stderr.write(`warning: ${forLog(m)}\n`),
      debug: (m) => (options.debug ? process.stderr.write(`debug: ${forLog(m)}\n`) : undefined),
    },
    credentialsFor: (domain) => credentials.get(domain),
    serverFor,
    trustStore: new FileTrustStore(trustDir(env)),
    close: () => http.close(),
  };
}
