/** Builds the workflows' environment from the inputs: HTTP, credentials, trust server. */
import * as core from '@actions/core';
import { HttpClient } from '../http/client.ts';
import { AuthClient } from '../http/auth.ts';
import { trustServerFor } from '../registry/reference.ts';
import type { ResolvedCredentials } from './credentials.ts';
import type { Inputs } from './inputs.ts';
import type { TrustEnv } from '../notary/env.ts';
import { FileTrustStore } from '../notary/trust-store.ts';
import * as report from './report.ts';

/**
 * `credentials`: per registry domain, from resolveCredentials() (the inputs
 * for their one registry, else the Docker config's; already masked).
 * credentialsFor(D) serves D's registry and the Notary server used for D's
 * repositories, nothing else (src/http/auth.ts says where a challenge may
 * send them).
 */
export function createEnv(inputs: Inputs, credentials: ReadonlyMap<string, ResolvedCredentials>): TrustEnv {
  // Traces only when step debug is on (the runner sets RUNNER_DEBUG=1): a
  // line per request is real work at thousands of tags.
  const tracing = core.isDebug();
  const debug = tracing ? report.debug : () => {};
  // Without a debug sink the client does not even build the trace lines.
  const http = new HttpClient({ ca: inputs.caCert, ...(tracing ? { debug } : {}) });
  return {
    client: new AuthClient(http),
    config: http.config,
    // Through the report sinks: neutralised for the runner, warnings capped.
    log: { info: report.info, warning: report.warning, debug },
    credentialsFor: (domain) => credentials.get(domain)?.credentials,
    serverFor: (domain) => trustServerFor(domain, inputs.trustServer),
    trustStore: new FileTrustStore(inputs.trustDir),
    rootKeys: inputs.rootKeys,
  };
}
