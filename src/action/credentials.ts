/**
 * Registry credentials as docker finds them, resolved once per registry
 * before any request: the `username`/`password` inputs for the one registry
 * they belong to; else the Docker config's credential helper for the
 * registry (`credHelpers`, then `credsStore`), run as
 * `docker-credential-<name> get`; else its `auths` entry. Every secret found
 * is masked before anything else happens.
 *
 * The inputs belong to the `registry` input's registry; without it, to the
 * one registry every image of `images`/`images-file` names. A registry
 * reached only through a Dockerfile line (or any other outside text) never
 * gets them: the user did not name it.
 */
import * as core from '@actions/core';
import * as report from './report.ts';
import { getExecOutput } from '@actions/exec';
import type { Credentials } from '../http/auth.ts';
import { InputError, messageOf } from '../errors.ts';
import { parseJson } from '../util/json.ts';
import { authsKeyDomain, helperFor, helperServerAddress, readDockerConfig, type DockerConfig } from '../registry/docker-config.ts';
import { parseReferences, type ImageRef } from '../registry/reference.ts';
import type { Inputs } from './inputs.ts';

/** What a helper prints for `get` (docker-credential-helpers' protocol). */
interface HelperAnswer {
  ServerURL?: unknown;
  Username?: unknown;
  Secret?: unknown;
}

/** Docker's marker: a helper entry whose Username is this holds an identity token in Secret. */
const TOKEN_USERNAME = '<token>';

type CredentialOrigin = 'input' | 'helper' | 'auths' | 'none';

export interface ResolvedCredentials {
  credentials: Credentials | undefined;
  origin: CredentialOrigin;
  /** The helper that answered, for `helper`. */
  helper?: string;
}

/** The `username`/`password` inputs and the one registry domain they belong to. */
interface ExplicitCredentials {
  registry: string;
  credentials: Credentials;
}

interface ResolveOptions {
  explicit?: ExplicitCredentials | undefined;
  env?: NodeJS.ProcessEnv;
  /** Runs a helper; the default uses @actions/exec, silently (its output holds secrets). */
  runHelper?: (program: string, serverAddress: string) => Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

/** A host as docker names a registry: Docker Hub's names are docker.io, others host[:port] in lower case. */
const REGISTRY_HOST = /^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])(?::[0-9]+)?$/;

/**
 * The registry domain a `registry` input (or an image's domain) means, as
 * docker/login-action and docker read it: scheme and path dropped, lower
 * case; docker.io, index.docker.io, registry-1.docker.io and
 * https://index.docker.io/v1/ are all Docker Hub, `docker.io`.
 */
export function registryDomain(value: string): string {
  const domain = authsKeyDomain(value.trim());
  if (!REGISTRY_HOST.test(domain)) {
    throw new InputError('INPUT_INVALID', `input registry is ${JSON.stringify(value.slice(0, 100))}, not a registry host: give the host (and :port) the image names start with, e.g. ghcr.io or registry.example.com:5000, or docker.io for Docker Hub`);
  }
  return domain;
}

/**
 * Which registry the `username`/`password` inputs belong to: the `registry`
 * input's (some image must name it); else the one registry every image of
 * `images`/`images-file` names (`listed`). Several, or none because every
 * image came from a Dockerfile, is an input error: sending them to a
 * registry the user did not name would hand them to whoever wrote it.
 */
export function credentialsRegistry(registryInput: string | undefined, listed: readonly string[], all: readonly string[]): string {
  if (registryInput?.trim()) {
    const registry = registryDomain(registryInput);
    if (!all.some((d) => registryDomain(d) === registry)) {
      throw new InputError('INPUT_INVALID', `input registry is ${registry}, but no image names it (images are on ${describeDomains(all)}): set registry to the registry the username/password inputs are for`);
    }
    return registry;
  }
  const named = [...new Set(listed.map(registryDomain))].sort();
  if (named.length === 1) return named[0]!;
  if (named.length === 0) {
    throw new InputError('INPUT_INVALID', 'the username/password inputs are given, but every image comes from a dockerfile: set the registry input to the registry they are for (a Dockerfile does not choose where credentials go)');
  }
  throw new InputError('INPUT_INVALID', `the username/password inputs belong to one registry, but images names several (${named.join(', ')}): set the registry input to the one they are for; the others use the Docker config (docker/login-action)`);
}

function describeDomains(domains: readonly string[]): string {
  const unique = [...new Set(domains)].sort();
  return unique.length > 5 ? `${unique.slice(0, 5).join(', ')} and ${unique.length - 5} more` : unique.join(', ');
}

/** The `username`/`password` inputs and their registry (see credentialsRegistry), or undefined without them. */
export function inputCredentials(inputs: Pick<Inputs, 'username' | 'password' | 'registry' | 'listedImages'>, refs: readonly ImageRef[]): ExplicitCredentials | undefined {
  if (!inputs.username) return undefined;
  const listed = parseReferences(inputs.listedImages).map((r) => r.domain);
  const registry = credentialsRegistry(
    inputs.registry,
    listed,
    refs.map((r) => r.domain),
  );
  return { registry, credentials: { username: inputs.username, password: inputs.password } };
}

/**
 * Resolves credentials for each registry domain, in parallel, masking what
 * it finds: the `explicit` ones for their registry only, the Docker
 * config's for every other.
 */
export async function resolveCredentials(domains: Iterable<string>, options: ResolveOptions = {}): Promise<Map<string, ResolvedCredentials>> {
  const unique = [...new Set(domains)];
  const out = new Map<string, ResolvedCredentials>();
  const { explicit } = options;
  const fromConfig: string[] = [];
  for (const d of unique) {
    if (explicit && registryDomain(d) === explicit.registry) {
      out.set(d, { credentials: explicit.credentials, origin: 'input' });
      report.debug(`credentials for ${d}: the username/password inputs (registry ${explicit.registry})`);
    } else fromConfig.push(d);
  }
  if (fromConfig.length === 0) return out;
  const config = readDockerConfig(options.env, 'pass the username/password inputs');
  const answers = await Promise.all(fromConfig.map((d) => credentialsFromConfig(config, d, options)));
  fromConfig.forEach((d, i) => {
    const r = answers[i]!;
    mask(r.credentials);
    out.set(d, r);
    report.debug(`credentials for ${d}: ${describe(r)}`);
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
    throw new InputError(
      'CREDENTIALS_HELPER_FAILED',
      `registry ${domain}: the Docker config names credential helper "${name}", but ${program} could not be run (${messageOf(e)}): install it on the runner, remove credsStore/credHelpers from the Docker config, or pass the username/password inputs`,
      { cause: e },
    );
  }
  if (result.exitCode !== 0) {
    const said = `${result.stdout} ${result.stderr}`;
    if (/credentials not found/i.test(said)) return undefined;
    // A helper's own words can carry a secret: report its exit code only.
    throw new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: credential helper ${program} failed (exit code ${result.exitCode}): run \`echo ${address} | ${program} get\` on the runner to see why, or pass the username/password inputs`);
  }
  // The helper's words are never quoted: they hold the secret.
  const parsed = parseJson(result.stdout, () => new InputError('CREDENTIALS_HELPER_FAILED', `registry ${domain}: credential helper ${program} did not answer JSON for ${address}; it does not speak docker's credential helper protocol`), {
    maxBytes: 1024 * 1024,
    maxDepth: 8,
  });
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
  const from =
    r.origin === 'helper' ? `credential helper ${r.helper}` : r.origin === 'auths' ? 'Docker config auths' : r.origin === 'input' ? 'the username/password inputs' : r.helper ? `nothing (helper ${r.helper} has none)` : 'nothing (anonymous)';
  if (!r.credentials) return from;
  const kind = r.credentials.identityToken ? 'identity token' : 'password';
  return `${from}, user ${r.credentials.username ?? '(none)'}, ${kind}`;
}
