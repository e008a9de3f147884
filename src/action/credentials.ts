/**
 * Registry credentials as docker finds them, resolved once per registry
 * before any request: the `username`/`password` inputs; else the Docker
 * config's credential helper for the registry (`credHelpers`, then
 * `credsStore`), run as `docker-credential-<name> get`; else its `auths`
 * entry. Every secret found is masked before anything else happens.
 */
import * as core from '@actions/core';
import { getExecOutput } from '@actions/exec';
import type { Credentials } from '../http/auth.ts';
import { InputError, messageOf } from '../errors.ts';
import { parseJson } from '../util/json.ts';
import { helperFor, helperServerAddress, readDockerConfig, type DockerConfig } from './docker-config.ts';

/** What a helper prints for `get` (docker-credential-helpers' protocol). */
interface HelperAnswer {
  ServerURL?: unknown;
  Username?: unknown;
  Secret?: unknown;
}

/** Docker's marker: a helper entry whose Username is this holds an identity token in Secret. */
const TOKEN_USERNAME = '<token>';

export type CredentialOrigin = 'input' | 'helper' | 'auths' | 'none';

export interface ResolvedCredentials {
  credentials: Credentials | undefined;
  origin: CredentialOrigin;
  /** The helper that answered, for `helper`. */
  helper?: string;
}

export interface ResolveOptions {
  explicit?: Credentials | undefined;
  env?: NodeJS.ProcessEnv;
  /** Runs a helper; the default uses @actions/exec, silently (its output holds secrets). */
  runHelper?: (program: string, serverAddress: string) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** Resolves credentials for each registry domain, in parallel, masking what it finds. */
export async function resolveCredentials(domains: Iterable<string>, options: ResolveOptions = {}): Promise<Map<string, ResolvedCredentials>> {
  const unique = [...new Set(domains)];
  const out = new Map<string, ResolvedCredentials>();
  if (options.explicit) {
    for (const d of unique) out.set(d, { credentials: options.explicit, origin: 'input' });
    return out;
  }
  const config = readDockerConfig(options.env);
  const answers = await Promise.all(unique.map((d) => credentialsFromConfig(config, d, options)));
  unique.forEach((d, i) => {
    const r = answers[i]!;
    mask(r.credentials);
    out.set(d, r);
    core.debug(`credentials for ${d}: ${describe(r)}`);
  });
  return out;
}

async function credentialsFromConfig(config: DockerConfig, domain: string, options: ResolveOptions): Promise<ResolvedCredentials> {
  const helper = helperFor(config, domain);
  if (helper) {
    const fromHelper = await askHelper(helper, domain, options);
    if (!fromHelper) return { credentials: undefined, origin: 'none', helper };
    // Docker keeps the user name of an identity-token login in `auths` (cli/config/credentials/native_store.go).
    if (fromHelper.identityToken && !fromHelper.username) fromHelper.username = config.usernames.get(domain);
    return { credentials: fromHelper, origin: 'helper', helper };
  }
  const entry = config.auths.get(domain);
  return entry ? { credentials: entry, origin: 'auths' } : { credentials: undefined, origin: 'none' };
}

/** `docker-credential-<name> get` with the server address on stdin; not found is anonymous, as for docker. */
async function askHelper(name: string, domain: string, options: ResolveOptions): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const address = helperServerAddress(domain);
  const run = options.runHelper ?? execHelper;
  let result: { exitCode: number; stdout: string; stderr: string };
  try {
    result = await run(program, address);
  } catch (e) {
    throw new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: the Docker config names credential helper "${name}", but ${program} could not be run (${messageOf(e)}): install it on the runner, remove credsStore/credHelpers from the Docker config, or pass the username/password inputs`, { cause: e });
  }
  if (result.exitCode !== 0) {
    const said = `${result.stdout} ${result.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    // A helper's own words can carry a secret: report its exit code only.
    throw new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: credential helper ${program} failed (exit code ${result.exitCode}): run \`echo ${address} | ${program} get\` on the runner to see why, or pass the username/password inputs`);
  }
  // The helper's words are never quoted: they hold the secret.
  const parsed = parseJson(result.stdout, () => new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: credential helper ${program} did not answer JSON for ${address}; it does not speak docker's credential helper protocol`), { maxBytes: 1024 * 1024, maxDepth: 8 });
  const answer: HelperAnswer = typeof parsed === 'object' && parsed !== null ? parsed : {};
  const username = typeof answer.Username === 'string' ? answer.Username : '';
  const secret = typeof answer.Secret === 'string' ? answer.Secret : '';
  if (!secret) return undefined;
  if (username === TOKEN_USERNAME) return { identityToken: secret };
  if (!username) throw new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: credential helper ${program} answered a secret without a user name`);
  return { username, password: secret };
}

async function execHelper(program: string, serverAddress: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  return getExecOutput(program, ['get'], { input: Buffer.from(serverAddress), silent: true, ignoreReturnCode: true });
}

function mask(c: Credentials | undefined): void {
  if (c?.password) core.setSecret(c.password);
  if (c?.identityToken) core.setSecret(c.identityToken);
}

/** For debug traces: where credentials came from and their kind, never a secret. */
function describe(r: ResolvedCredentials): string {
  const from = r.origin === 'helper' ? `credential helper ${r.helper}` : r.origin === 'auths' ? 'Docker config auths' : r.origin === 'input' ? 'the username/password inputs' : r.helper ? `nothing (helper ${r.helper} has none)` : 'nothing (anonymous)';
  if (!r.credentials) return from;
  const kind = r.credentials.identityToken ? 'identity token' : 'password';
  return `${from}, user ${r.credentials.username ?? '(none)'}, ${kind}`;
}
