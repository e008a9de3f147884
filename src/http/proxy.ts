/**
 * Proxy settings from the environment, read once per HttpClient: HTTPS_PROXY
 * (https_proxy), HTTP_PROXY (http_proxy) and NO_PROXY (no_proxy), with the
 * meaning undici's EnvHttpProxyAgent gives them (its docs,
 * docs/api/EnvHttpProxyAgent.md), since that agent routes the requests:
 *
 * - the lower-case form wins over the upper-case one when both are set, even
 *   when it is empty;
 * - https URLs go through the https proxy, else through the http proxy;
 *   http URLs through the http proxy only;
 * - NO_PROXY is a comma- or space-separated list: `host`, `.host` or
 *   `*.host` (`*.host` matches subdomains only, the others the host and its
 *   subdomains), an optional `:port`, IPv6 as `[::1]` or `[::1]:443`, and `*`
 *   for every host. A trailing dot is ignored on both sides.
 *
 * The client hands undici the values read here (so both agree on which
 * variable counts) and uses `proxyFor` only to name the proxy in traces and
 * messages. test/unit/proxy.test.ts checks that this matcher and undici's
 * routing agree.
 *
 * A proxy URL may carry credentials (http://user:password@proxy:3128): they
 * go to undici, which sends them to that proxy only (Proxy-Authorization on
 * the CONNECT), and nowhere else: not into a message, a trace or a log.
 * `host` is what messages name.
 */
import { InputError } from '../errors.ts';

type ProxyVariable = 'https_proxy' | 'HTTPS_PROXY' | 'http_proxy' | 'HTTP_PROXY';

export interface Proxy {
  /** What undici is given: scheme, user info, host and port. Never shown. */
  readonly url: string;
  /** host:port, for messages and traces. */
  readonly host: string;
  /** The variable it came from, for messages. */
  readonly variable: ProxyVariable;
  /** The URL carries a user name (and maybe a password). */
  readonly hasCredentials: boolean;
}

interface NoProxyEntry {
  host: string;
  /** 0: any port. */
  port: number;
  /** `*.host`: subdomains only. */
  subdomainsOnly: boolean;
}

export interface ProxySettings {
  /** For http URLs. */
  readonly http: Proxy | undefined;
  /** For https URLs: HTTPS_PROXY, else HTTP_PROXY's proxy. */
  readonly https: Proxy | undefined;
  /** The NO_PROXY value, as given to undici. */
  readonly noProxy: string;
  readonly noProxyVariable: 'no_proxy' | 'NO_PROXY' | undefined;
  readonly bypass: readonly NoProxyEntry[];
}

type Env = Readonly<Record<string, string | undefined>>;

/** The proxy settings of `env`; throws PROXY_INVALID for a variable that is not an http(s) proxy URL. */
export function readProxySettings(env: Env): ProxySettings {
  const http = pick(env, 'http_proxy', 'HTTP_PROXY');
  const https = pick(env, 'https_proxy', 'HTTPS_PROXY');
  const httpProxy = http.value ? parseProxyUrl(http.value, http.variable!) : undefined;
  const httpsProxy = https.value ? parseProxyUrl(https.value, https.variable!) : httpProxy;
  const no = pick(env, 'no_proxy', 'NO_PROXY');
  const noProxy = no.value ?? '';
  return { http: httpProxy, https: httpsProxy, noProxy, noProxyVariable: no.variable, bypass: parseNoProxy(noProxy) };
}

function pick<L extends string, U extends string>(env: Env, lower: L, upper: U): { value: string | undefined; variable: L | U | undefined } {
  if (env[lower] !== undefined) return { value: env[lower], variable: lower };
  if (env[upper] !== undefined) return { value: env[upper], variable: upper };
  return { value: undefined, variable: undefined };
}

/**
 * A proxy URL as users write it: `http://host:port`, `https://host:port`,
 * with user info or not; `host:port` alone means http:// (as curl reads it).
 * The value is never repeated in an error: it may hold a password.
 */
export function parseProxyUrl(value: string, variable: ProxyVariable): Proxy {
  const text = value.trim();
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text) ? text : `http://${text}`;
  const form = 'write it as http://host:port, or http://user:password@host:port for a proxy that asks for credentials (or unset it)';
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch {
    throw new InputError('PROXY_INVALID', `the environment variable ${variable} is not a proxy URL: ${form}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new InputError('PROXY_INVALID', `the environment variable ${variable} names a ${JSON.stringify(u.protocol.slice(0, 20))} proxy; only http:// and https:// proxies are supported: ${form}`);
  }
  if (!u.hostname) throw new InputError('PROXY_INVALID', `the environment variable ${variable} names no proxy host: ${form}`);
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  // Scheme, user info, host and port: a path, query or fragment means nothing to a proxy.
  const url = `${u.protocol}//${u.username || u.password ? `${u.username}:${u.password}@` : ''}${u.host}`;
  return { url, host: `${u.hostname}:${port}`, variable, hasCredentials: u.username !== '' || u.password !== '' };
}

function parseNoProxy(value: string): NoProxyEntry[] {
  const entries: NoProxyEntry[] = [];
  for (const raw of value.split(/[,\s]/)) {
    if (!raw) continue;
    let host = raw;
    let port = 0;
    const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(raw);
    if (bracketed) {
      host = bracketed[1]!;
      port = bracketed[2] ? Number.parseInt(bracketed[2], 10) : 0;
    } else {
      // One colon followed by digits is host:port; more colons is a bare IPv6 address.
      const hostPort = /^([^:]+):(\d+)$/.exec(raw);
      if (hostPort) {
        host = hostPort[1]!;
        port = Number.parseInt(hostPort[2]!, 10);
      }
    }
    const subdomainsOnly = raw.startsWith('*');
    host = host
      .replace(/^\*?\./, '')
      .replace(/^(.+)\.$/, '$1')
      .toLowerCase();
    entries.push({ host, port, subdomainsOnly });
  }
  return entries;
}

/** The proxy a request to `url` goes through, or undefined when it goes direct. */
export function proxyFor(settings: ProxySettings, url: URL): Proxy | undefined {
  const proxy = url.protocol === 'https:' ? settings.https : settings.http;
  if (!proxy) return undefined;
  let host = url.hostname.replace(/^\[(.+)\]$/, '$1').toLowerCase();
  if (host.length > 1 && host.endsWith('.')) host = host.slice(0, -1);
  const port = Number(url.port) || (url.protocol === 'https:' ? 443 : 80);
  return settings.bypass.some((e) => bypasses(e, host, port)) ? undefined : proxy;
}

function bypasses(entry: NoProxyEntry, host: string, port: number): boolean {
  if (entry.port !== 0 && entry.port !== port) return false;
  if (entry.host === '*') return true;
  if (host === entry.host) return !entry.subdomainsOnly;
  return host.endsWith(`.${entry.host}`);
}

/** "the proxy H (from VAR)", for messages and traces. */
export function describeProxy(proxy: Proxy): string {
  return `the proxy ${proxy.host} (from ${proxy.variable})`;
}
