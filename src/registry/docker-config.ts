/**
 * The Docker config that `docker login`, docker/login-action and
 * `az acr login` write: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`. It names credentials three ways, and docker
 * picks per registry in this order (cli/config/configfile):
 * `credHelpers[host]`, else `credsStore`, else the `auths` entry.
 * `auths` entries carry `auth` (base64 user:pass), `username`/`password`,
 * or an `identitytoken` (an OAuth2 refresh token).
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../http/auth.ts';
import { InputError } from '../errors.ts';
import { isMap } from '../util/maps.ts';
import { parseJson } from '../util/json.ts';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfig {
  path: string;
  /** `auths`, keyed by docker domain (docker.io, ghcr.io, host:port). */
  auths: Map<string, Credentials>;
  /** User names in `auths`, also of entries without a secret (a native store keeps the secret). */
  usernames: Map<string, string>;
  /** `credsStore`: the helper for every registry without its own. */
  credsStore: string | undefined;
  /** `credHelpers`, keyed by docker domain. */
  credHelpers: Map<string, string>;
}

/** A config with every registry of a big organisation logged in is a few KiB. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** Helper names become a program name: `docker-credential-<name>`. */
const HELPER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), '.docker');
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(dockerConfigDir(env), 'config.json');
}

/** Normalises an `auths` key (https://index.docker.io/v1/, host, https://host/) to docker's domain. */
export function authsKeyDomain(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The server address docker hands a credential helper for a domain. */
export function helperServerAddress(domain: string): string {
  return domain === 'docker.io' ? 'https://index.docker.io/v1/' : domain;
}

/**
 * Reads the Docker config; a missing file is an empty config, a broken one an
 * error. `otherwise` ends that error's advice with the caller's other way to
 * give credentials (the action: its username/password inputs).
 */
export function readDockerConfig(env: NodeJS.ProcessEnv = process.env, otherwise = ''): DockerConfig {
  const path = dockerConfigPath(env);
  const empty: DockerConfig = { path, auths: new Map(), usernames: new Map(), credsStore: undefined, credHelpers: new Map() };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return empty;
  }
  // Parsed without prototypes: a registry key such as `constructor` is just a key.
  // JSON.parse's own words quote the text, which holds secrets: only the size and depth are told.
  const fail = (why: string) => new InputError('INPUT_INVALID', `the Docker config ${path} ${why.startsWith('is not JSON') ? 'is not valid JSON' : why}: fix or remove it${otherwise ? `, or ${otherwise}` : ''}`);
  const doc = parseJson(text, fail, { maxBytes: MAX_CONFIG_BYTES });
  if (!isMap(doc)) return empty;
  for (const [key, entry] of Object.entries(isMap(doc.auths) ? doc.auths : {})) {
    if (!isMap(entry)) continue;
    const creds = entryCredentials(entry);
    if (creds) empty.auths.set(authsKeyDomain(key), creds);
    const user = entryUsername(entry);
    if (user) empty.usernames.set(authsKeyDomain(key), user);
  }
  if (typeof doc.credsStore === 'string' && doc.credsStore) empty.credsStore = checkHelper(doc.credsStore, path);
  for (const [key, name] of Object.entries(isMap(doc.credHelpers) ? doc.credHelpers : {})) {
    if (typeof name === 'string' && name) empty.credHelpers.set(authsKeyDomain(key), checkHelper(name, path));
  }
  return empty;
}

/** The `auths` entries only (kept for callers that need no helpers). */
export function readDockerCredentials(env: NodeJS.ProcessEnv = process.env, otherwise = ''): Map<string, Credentials> {
  return readDockerConfig(env, otherwise).auths;
}

/** The helper docker would ask for a domain, if any. */
export function helperFor(config: DockerConfig, domain: string): string | undefined {
  return config.credHelpers.get(domain) ?? config.credsStore;
}

function checkHelper(name: string, path: string): string {
  if (!HELPER_NAME.test(name)) throw new InputError('INPUT_INVALID', `the Docker config ${path} names credential helper "${name}", which is not a valid helper name`);
  return name;
}

function decodeAuth(e: AuthEntry): { username: string; password: string } | undefined {
  if (typeof e.auth !== 'string' || !e.auth) return undefined;
  const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i > 0 ? { username: decoded.slice(0, i), password: decoded.slice(i + 1) } : undefined;
}

function entryUsername(e: AuthEntry): string | undefined {
  return decodeAuth(e)?.username ?? (typeof e.username === 'string' && e.username ? e.username : undefined);
}

function entryCredentials(e: AuthEntry): Credentials | undefined {
  const decoded = decodeAuth(e);
  const username = entryUsername(e);
  const password = decoded ? decoded.password : typeof e.password === 'string' ? e.password : undefined;
  // `az acr login` writes auth = base64("00000000-0000-0000-0000-000000000000:") beside the identity token.
  if (typeof e.identitytoken === 'string' && e.identitytoken) return { username, identityToken: e.identitytoken };
  if (username && password !== undefined && password !== '') return { username, password };
  return undefined;
}
