/** Builds the workflows' environment from the inputs: HTTP, credentials, trust server. */
import * as core from '@actions/core';
import { HttpClient } from '../http/client.ts';
import { AuthClient, type Credentials } from '../http/auth.ts';
import { trustServerFor } from '../registry/reference.ts';
import { readDockerCredentials } from './docker-config.ts';
import type { Inputs } from './inputs.ts';
import type { TrustEnv } from '../notary/env.ts';

export function createEnv(inputs: Inputs): TrustEnv {
  const http = new HttpClient({ ca: inputs.caCert, debug: (m) => core.debug(m) });
  const fromConfig = inputs.username ? undefined : readDockerCredentials();
  const explicit: Credentials | undefined = inputs.username ? { username: inputs.username, password: inputs.password } : undefined;
  for (const c of fromConfig?.values() ?? []) {
    if (c.password) core.setSecret(c.password);
    if (c.identityToken) core.setSecret(c.identityToken);
  }
  return {
    client: new AuthClient(http),
    config: http.config,
    log: { info: (m) => core.info(m), warning: (m) => core.warning(m), debug: (m) => core.debug(m) },
    credentialsFor: (domain) => explicit ?? fromConfig?.get(domain),
    serverFor: (domain) => trustServerFor(domain, inputs.trustServer),
  };
}
