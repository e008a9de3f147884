/**
 * Image references normalised as docker does (distribution/reference):
 * `alpine` is docker.io/library/alpine:latest, `host:port/repo:tag` works,
 * `…:tag@sha256:<hex>` pins what the tag must be.
 */
import { InputError, MultiError, type Failure } from '../errors.ts';

export interface ImageRef {
  /** The input as given (trimmed). */
  readonly input: string;
  /** Registry domain as docker names it: docker.io, ghcr.io, 127.0.0.1:5000. */
  readonly domain: string;
  /** Repository path in the registry: library/alpine, org/app. */
  readonly path: string;
  /** Globally unique name, the Notary GUN: docker.io/library/alpine. */
  readonly gun: string;
  readonly tag: string;
  /** `sha256:<hex>` when the input pins a digest. */
  readonly pin: string | undefined;
  /**
   * Where the pin came from when the reference did not write it: the build's
   * record of what it pushed (build-metadata.ts), named as the front end
   * names it ("input digest", "--metadata \"m.json\"").
   */
  readonly pinnedBy?: string | undefined;
}

const DOCKER_HUB = 'docker.io';
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DOMAIN = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$/;

export function parseReference(input: string): ImageRef {
  const s = input.trim();
  const bad = (why: string) => new InputError('REFERENCE_INVALID', `image "${s}": ${why}`);
  if (!s) throw bad('is empty');
  if (/\s/.test(s)) throw bad('contains white space');

  let rest = s;
  let pin: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    pin = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(pin)) throw bad(`"${pin}" is not a sha256 digest (sha256: and 64 lowercase hex digits)`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`"${tag}" is not a valid tag (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }
  if (pin && !tag) throw bad('pins a digest but names no tag: content trust signs tags, write repo:tag@sha256:…');

  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let domain = DOCKER_HUB;
  let path = rest;
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    domain = first;
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw bad(`"${domain}" is not a valid registry host`);
  }
  // As docker's reference package: only index.docker.io names Docker Hub (registry-1.docker.io is another name).
  if (domain === 'index.docker.io') domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (!path) throw bad('names no repository');
  for (const c of path.split('/')) {
    if (!COMPONENT.test(c)) {
      throw bad(c.toLowerCase() !== c ? `repository "${path}" must be lowercase` : `"${c}" is not a valid repository path component`);
    }
  }
  const gun = `${domain}/${path}`;
  if (gun.length > 255) throw bad('the repository name is longer than 255 characters');
  return { input: s, domain, path, gun, tag: tag ?? 'latest', pin };
}

/** The host that serves Registry API v2 for a domain. */
export function registryHost(domain: string): string {
  return domain === DOCKER_HUB ? 'registry-1.docker.io' : domain;
}

/**
 * Docker's trust server rule (cli/trust/trust.go): an explicit server, else
 * $DOCKER_CONTENT_TRUST_SERVER, else notary.docker.io for Docker Hub, else
 * the registry host itself. Callers check an explicit value with
 * parseTrustServer first, naming where it came from.
 */
export function trustServerFor(domain: string, explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return parseTrustServer(explicit, 'the trust server');
  const variable = env.DOCKER_CONTENT_TRUST_SERVER;
  if (variable) return parseTrustServer(variable, 'DOCKER_CONTENT_TRUST_SERVER');
  return domain === DOCKER_HUB ? 'https://notary.docker.io' : `https://${domain}`;
}

const TRUST_SERVER_EXAMPLE = 'write it as https://host[:port][/path prefix], e.g. https://notary.example.com:4443';

/**
 * A trust server URL, normalised (lowercase host, no default port, no
 * trailing slash), or TRUST_SERVER_INVALID naming `label` (an input, a flag,
 * a variable). As docker, a path is kept as a prefix (a Notary server behind
 * a reverse proxy): requests go to <url>/v2/<gun>/_trust/tuf/. Plain http
 * would hand the trust data to anyone on the path; user info would put a
 * secret in every log line naming the server; a query or fragment has no
 * meaning before /v2/: all refused, as is anything the URL parser would
 * quietly rewrite (a missing //, dot segments, escapes).
 */
export function parseTrustServer(value: string, label: string): string {
  // A password in the URL is not repeated in the message (logs are public).
  const shown = JSON.stringify(value.replace(/^([^/]*\/\/)[^/?#]*@/, '$1…@'));
  const bad = (why: string) => new InputError('TRUST_SERVER_INVALID', `${label} ${shown} ${why}; ${TRUST_SERVER_EXAMPLE}`);
  if (!value.trim()) throw bad('is empty');
  if (/[\s\\]/.test(value)) throw bad('contains white space or a backslash');
  const parts = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(value);
  if (!parts) throw bad('is not an absolute URL');
  const [, scheme, authority, path] = parts as unknown as [string, string, string, string];
  if (scheme.toLowerCase() !== 'https') throw bad(`uses ${scheme}: Notary servers are reached over https only`);
  if (authority.includes('@')) throw bad('carries a user name or password: credentials come from the registry login (username/password or the Docker config), never the URL');
  if (value.includes('?')) throw bad('has a query (?…): a trust server URL is a host and at most a path prefix');
  if (value.includes('#')) throw bad('has a fragment (#…): a trust server URL is a host and at most a path prefix');
  const port = /:(\d+)$/.exec(authority)?.[1];
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) throw bad(`names port ${port}: ports run from 1 to 65535`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(authority ? `names host "${authority}", which is not a valid host[:port]` : 'names no host');
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  if (prefix !== path.replace(/\/+$/, '')) throw bad('has a path with . or .. segments or characters that need escaping');
  return `${url.origin}${prefix}`;
}

export function formatRef(ref: ImageRef): string {
  return `${ref.gun}:${ref.tag}`;
}

/** Parses every reference, reporting all bad ones at once. */
export function parseReferences(inputs: readonly string[]): ImageRef[] {
  const failures: Failure[] = [];
  const refs: ImageRef[] = [];
  for (const input of inputs) {
    try {
      refs.push(parseReference(input));
    } catch (e) {
      failures.push({ subject: input, error: e as InputError });
    }
  }
  if (failures.length > 0) throw new MultiError(failures);
  return refs;
}

/** Whether an image reference, as written, names a tag (revoke and build metadata never assume `latest`; a registry port is not a tag). */
export function hasTag(reference: string): boolean {
  const name = reference.trim().split('@')[0]!;
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

/**
 * The name of a reference pinned by digest with no tag (`name@sha256:…`;
 * a registry port is no tag), else undefined: nothing signed names such an
 * image. The name is all before the last `@`, so a stray `@` in it still
 * fails to parse.
 */
export function digestOnlyName(reference: string): string | undefined {
  const m = /^(.*)@sha256:[0-9a-f]{64}$/.exec(reference.trim());
  return m && !hasTag(m[1]!) ? m[1] : undefined;
}
