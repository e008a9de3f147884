/**
 * Registry credentials from the Docker config that `docker login` and
 * docker/login-action write: `$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`; `auths` entries with `auth` (base64 user:pass),
 * `username`/`password`, or `identitytoken`.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Credentials } from '../http/auth.ts';

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** Normalises an `auths` key (https://index.docker.io/v1/, host, https://host/) to docker's domain. */
export function authsKeyDomain(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

export function readDockerCredentials(env: NodeJS.ProcessEnv = process.env): Map<string, Credentials> {
  const out = new Map<string, Credentials>();
  let doc: { auths?: Record<string, AuthEntry> };
  try {
    doc = JSON.parse(readFileSync(dockerConfigPath(env), 'utf8'));
  } catch {
    return out;
  }
  for (const [key, entry] of Object.entries(doc.auths ?? {})) {
    const creds = entryCredentials(entry);
    if (creds) out.set(authsKeyDomain(key), creds);
  }
  return out;
}

function entryCredentials(e: AuthEntry): Credentials | undefined {
  if (e.identitytoken) return { username: e.username, identityToken: e.identitytoken };
  if (e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
  }
  if (e.username && e.password !== undefined) return { username: e.username, password: e.password };
  return undefined;
}
