/**
 * HTTPS on undici: keep-alive pools of 8 connections per origin, an optional
 * extra CA, the proxies the environment names (src/http/proxy.ts), a
 * streaming size cap, an idle timeout and a deadline per exchange, and
 * bounded retries (src/http/retry.ts). Knows nothing of auth. Never follows
 * a redirect: a 3xx is an answer like any other.
 */
import { createSecureContext, rootCertificates } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { EnvHttpProxyAgent } from './undici.ts';
import type { Dispatcher } from 'undici';
import { NetworkError, messageOf } from '../errors.ts';
import { defaultConfig, type Config } from '../config.ts';
import { describeProxy, proxyFor, readProxySettings, type Proxy, type ProxySettings } from './proxy.ts';
import { retryDecision } from './retry.ts';

export interface RequestInit {
  method?: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer;
  /** Stop reading and fail past this many bytes (default: unlimited). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", " (set-cookie: an array), as node:http gives them. */
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

export interface HttpClientOptions {
  /** Extra trusted CA certificates (PEM), added to the system's: for the servers and an https proxy. */
  ca?: string;
  config?: Partial<Config>;
  debug?: (message: string) => void;
  /** Where HTTPS_PROXY, HTTP_PROXY and NO_PROXY are read (and their lower-case forms); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Offer HTTP/2 (ALPN) to servers (default ALLOW_H2); for scripts/bench/h2.ts, which measures both. */
  allowH2?: boolean;
}

/** Connections kept per origin (keep-alive), as the node:https agent had. */
const CONNECTIONS = 8;
/** An answer's header block larger than this fails the exchange: node's default, stated here (the bundle's undici does not read node's; scripts/build.mjs). */
const MAX_HEADER_BYTES = 16 * 1024;
/**
 * HTTP/2 stays off. notary-server offers only HTTP/1.1; docker-registry
 * offers h2, but verify's manifest HEADs over one h2 connection were no
 * faster than over HTTP/1.1 keep-alive, and cost the action more CPU
 * (docs/benchmarks.md, "HTTP/2"). The bundle has no HTTP/2 client
 * (scripts/build.mjs); `allowH2` is for scripts/bench/h2.ts, run from source.
 */
const ALLOW_H2 = false;

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_OSSL_)|HOSTNAME_MISMATCH|ALTNAME/;
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);
/** undici's error for a CONNECT the proxy did not answer with 200. */
const TUNNEL_REFUSED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/;

/** Errors another try cannot change. */
const FINAL = new WeakSet<NetworkError>();

export class HttpClient {
  readonly config: Config;
  readonly proxies: ProxySettings;
  private readonly dispatcher: Dispatcher;
  private readonly debug: (message: string) => void;
  /** A debug sink was given: one line per exchange is worth building. */
  private readonly tracing: boolean;

  constructor(options: HttpClientOptions = {}) {
    this.config = { ...defaultConfig, ...options.config };
    this.debug = options.debug ?? (() => {});
    this.tracing = options.debug !== undefined;
    this.proxies = readProxySettings(options.env ?? process.env);
    // One TLS context for every connection, to the servers and to an https
    // proxy: given as `ca`, the ~150 trusted certificates would be parsed
    // again for each new socket.
    const allowH2 = options.allowH2 ?? ALLOW_H2;
    const tls = { secureContext: createSecureContext(options.ca ? { ca: [...rootCertificates, options.ca] } : {}), allowH2 };
    const { timeoutMs } = this.config;
    // The values read above, never undici's own reading of the environment:
    // an empty string is "no proxy" to it, as to readProxySettings.
    this.dispatcher = new EnvHttpProxyAgent({
      httpProxy: this.proxies.http?.url ?? '',
      httpsProxy: this.proxies.https?.url ?? '',
      noProxy: this.proxies.noProxy,
      connections: CONNECTIONS,
      maxHeaderSize: MAX_HEADER_BYTES,
      allowH2,
      connect: { ...tls, timeout: timeoutMs },
      connectTimeout: timeoutMs,
      requestTls: tls,
      proxyTls: tls,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
  }

  async send(url: string, init: RequestInit = {}): Promise<HttpResponse> {
    const method = init.method ?? 'GET';
    for (let attempt = 0; ; attempt++) {
      let result: HttpResponse | NetworkError;
      const started = performance.now();
      try {
        result = await this.once(url, init);
        this.trace(url, init, `HTTP ${result.status}, ${result.body.length} bytes`, started);
      } catch (e) {
        this.trace(url, init, e instanceof Error ? e.message : String(e), started);
        if (!(e instanceof NetworkError)) throw e;
        result = e;
      }
      const decision = result instanceof NetworkError ? retryDecision({ attempt, retryableError: !FINAL.has(result) }, this.config) : retryDecision({ attempt, status: result.status, retryAfter: result.headers['retry-after'] }, this.config);
      if (!decision.retry) {
        if (decision.why === 'retry-after too long') {
          this.debug(`${method} ${traceUrl(url)}: the server asks to wait ${Math.ceil(decision.retryAfterMs! / 1000)} s (Retry-After), more than the ${this.config.retryAfterMaxMs / 1000} s allowed: not retrying`);
        }
        if (result instanceof NetworkError) throw result;
        return result;
      }
      const wait = decision.why === 'retry-after' ? ' (Retry-After)' : '';
      this.debug(`${method} ${traceUrl(url)}: retry ${attempt + 1}/${this.config.retries} in ${Math.round(decision.delayMs)} ms${wait}`);
      await new Promise((r) => setTimeout(r, decision.delayMs));
    }
  }

  /** One debug line per exchange: method, URL (no user info), the proxy's host, outcome, duration; never a header or body. */
  private trace(url: string, init: RequestInit, outcome: string, started: number): void {
    if (!this.tracing) return;
    const proxy = this.proxyOf(url);
    const via = proxy ? ` via ${describeProxy(proxy)}` : '';
    this.debug(`${init.method ?? 'GET'} ${traceUrl(url)}${via} -> ${outcome} (${Math.round(performance.now() - started)} ms)`);
  }

  private proxyOf(url: string): Proxy | undefined {
    try {
      return proxyFor(this.proxies, new URL(url));
    } catch {
      return undefined;
    }
  }

  /**
   * One exchange. Two clocks end it: the idle timeout (timeoutMs to connect,
   * for the headers, and between body chunks) and the deadline (deadlineMs
   * from the request going out on a connection to the last body byte), so a
   * server that drips bytes cannot hold it open. Time spent queued for one of
   * the pool's connections is not counted: that is our own concurrency.
   */
  private once(url: string, init: RequestInit): Promise<HttpResponse> {
    const method = init.method ?? 'GET';
    const max = init.maxBytes ?? Infinity;
    const { timeoutMs, deadlineMs } = this.config;
    let target: URL;
    try {
      target = new URL(url);
    } catch (e) {
      return Promise.reject(new NetworkError('SERVER_UNREACHABLE', `cannot reach ${JSON.stringify(url.slice(0, 200))}: not a URL`, { cause: e }));
    }
    const host = target.host;
    const proxy = proxyFor(this.proxies, target);
    const headers: Record<string, string> = { 'user-agent': this.config.userAgent, ...init.headers };
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      let sent = false;
      let deadline: NodeJS.Timeout | undefined;
      let status = 0;
      let answer: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const settle = (error: NetworkError | undefined) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (error) reject(error);
        else resolve({ status, headers: answer, body: Buffer.concat(chunks, size), url });
      };
      /** Settles with `error` first, then tells undici to drop the exchange (and its connection). */
      const stop = (controller: Dispatcher.DispatchController, error: NetworkError) => {
        settle(error);
        controller.abort(error);
      };
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (controller) => {
          sent = true;
          clearTimeout(deadline);
          deadline = setTimeout(() => {
            stop(controller, new NetworkError('TIMEOUT', `${host} did not finish answering within the ${deadlineMs} ms deadline for one exchange; check the server and the network in between`));
          }, deadlineMs);
        },
        onResponseStart: (controller, statusCode, raw) => {
          if (statusCode < 200) return;
          status = statusCode;
          answer = nodeHeaders(raw);
          const declared = Number(answer['content-length'] ?? NaN);
          if (declared > max) stop(controller, tooLarge(url, `announces ${declared} bytes, more`, max));
        },
        onResponseData: (controller, chunk) => {
          if (settled) return;
          size += chunk.length;
          if (size > max) return stop(controller, tooLarge(url, 'sent more', max));
          chunks.push(chunk);
        },
        // undici hands the connection back to its pool one event loop turn
        // after the answer ends: its HTTP/1.1 client calls this first, then
        // queues a setImmediate that resumes the client, which tells the
        // pool it is free ('drain'). Resolving before that turn sent a
        // caller's next request to a new connection (three sequential
        // requests opened two). The microtask runs once undici's callback
        // has returned, so the setImmediate it queues runs after undici's:
        // the caller's next request finds the connection free. The deadline
        // is over (the body is complete).
        onResponseEnd: () => {
          clearTimeout(deadline);
          queueMicrotask(() => setImmediate(settle, undefined));
        },
        onResponseError: (_controller, error) => settle(error instanceof NetworkError ? error : this.networkError(error, host, proxy, sent)),
      };
      try {
        this.dispatcher.dispatch(
          {
            origin: target.origin,
            path: `${target.pathname}${target.search}`,
            method,
            headers,
            body: init.body ?? null,
            // undici sends `connection: close` with every HEAD (and drops the
            // connection after it), in case a server sends a body it should
            // not; registries answer HEAD correctly, and the verify of every
            // tag is one manifest HEAD, so that cost one TLS handshake per tag
            // (docs/benchmarks.md, "Where the time goes"). Keep-alive for HEAD too.
            ...(method === 'HEAD' ? { reset: false } : {}),
            headersTimeout: timeoutMs,
            bodyTimeout: timeoutMs,
          },
          handler,
        );
      } catch (e) {
        settle(this.networkError(e, host, proxy, false));
      }
    });
  }

  /**
   * An undici or socket error as one of ours. `sent`: the request went out
   * on a connection, so any tunnel through the proxy was up by then.
   */
  private networkError(e: unknown, host: string, proxy: Proxy | undefined, sent: boolean): NetworkError {
    const raw = (e as { code?: unknown }).code;
    const code = typeof raw === 'string' ? raw : '';
    const message = messageOf(e);
    const through = proxy ? ` through ${describeProxy(proxy)}` : '';
    if (proxy) {
      const refused = TUNNEL_REFUSED.exec(message);
      const status = refused ? Number(refused[1]) : /\(407\)/.test(message) && code === 'UND_ERR_INVALID_ARG' ? 407 : undefined;
      if (status !== undefined) return proxyRefused(proxy, host, status, e);
      if (code === 'UND_ERR_PRX_TLS') {
        return final(new NetworkError('PROXY_FAILED', `TLS to ${describeProxy(proxy)} failed (its certificate does not name ${proxy.host}): check ${proxy.variable}`, { cause: e }));
      }
    }
    if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(message)) {
      const which = proxy?.url.startsWith('https:') ? 'the server or the https proxy uses a private CA, pass its certificate' : 'the server uses a private CA, pass its certificate';
      return final(new NetworkError('TLS_FAILED', `TLS to ${host}${through} failed (${code || message}): if ${which} in the \`ca-cert\` input`, { cause: e }));
    }
    if (code === 'UND_ERR_HEADERS_OVERFLOW') {
      return final(
        new NetworkError(
          'LENGTH_EXCEEDED',
          `${host}${through} sent a header block larger than the ${MAX_HEADER_BYTES} bytes allowed, which no registry or Notary server needs: check that the URL names one, and what stands in front of it (a proxy or load balancer adding headers)`,
          { cause: e },
        ),
      );
    }
    if (TIMEOUT_CODES.has(code)) {
      return new NetworkError('TIMEOUT', `${host}${through} did not answer within ${this.config.timeoutMs} ms`, { cause: e });
    }
    const why = reason(e, code);
    if (proxy && (!sent || code === 'UND_ERR_PRX_CONN')) {
      return new NetworkError('PROXY_FAILED', `cannot reach ${host}${through} (${why}): check that the proxy is up and ${proxy.variable} names it, or list ${host.replace(/:\d+$/, '')} in NO_PROXY to go direct`, { cause: e });
    }
    return new NetworkError('SERVER_UNREACHABLE', `cannot reach ${host}${through} (${why}): check the URL and that the server is up`, { cause: e });
  }

  close(): void {
    this.dispatcher.destroy().catch(() => {});
  }
}

function final(e: NetworkError): NetworkError {
  FINAL.add(e);
  return e;
}

function proxyRefused(proxy: Proxy, host: string, status: number, cause: unknown): NetworkError {
  const what = describeProxy(proxy);
  let message: string;
  // 407 asks for credentials; tinyproxy answers wrong ones with 401.
  if (status === 407 || status === 401) {
    message = proxy.hasCredentials
      ? `${what} refused the user name and password in ${proxy.variable} (HTTP ${status}${status === 407 ? ' Proxy Authentication Required' : ''}) for ${host}: check them (write them URL-encoded: http://user:password@host:port)`
      : `${what} asks for credentials (HTTP ${status}${status === 407 ? ' Proxy Authentication Required' : ''}) for ${host}: give them in ${proxy.variable} as http://user:password@host:port`;
  } else if (status >= 500) {
    message = `${what} could not open a connection to ${host} (HTTP ${status}): check that ${host} is up and reachable from the proxy, or list it in NO_PROXY to go direct`;
  } else {
    message = `${what} refused to open a connection to ${host} (HTTP ${status}): ask for the proxy to allow CONNECT to ${host}, or list it in NO_PROXY to go direct`;
  }
  const error = new NetworkError('PROXY_FAILED', message, { cause, status });
  // A refusal stands; a proxy's 5xx may pass, as a server's does.
  return status >= 500 ? error : final(error);
}

/** The cause named in a message: a system error code, or what undici says (never its URL). */
function reason(e: unknown, code: string): string {
  if (/^E[A-Z]+$/.test(code)) return code;
  if (code === 'UND_ERR_SOCKET') return 'the connection closed mid-answer';
  if (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED') return 'the client was closed';
  return code || messageOf(e);
}

/**
 * undici's parsed headers (a plain object, repeated names as arrays) as
 * node:http gives them: set-cookie an array, the single-valued headers node
 * keeps the first of, every other repeated header joined with ", " (so a
 * WWW-Authenticate sent twice is one value holding both challenges), in an
 * object without a prototype.
 */
const FIRST_ONLY = new Set([
  'age',
  'authorization',
  'content-length',
  'content-type',
  'etag',
  'expires',
  'from',
  'host',
  'if-modified-since',
  'if-unmodified-since',
  'last-modified',
  'location',
  'max-forwards',
  'proxy-authorization',
  'referer',
  'retry-after',
  'server',
  'user-agent',
]);

function nodeHeaders(raw: Record<string, string | string[] | undefined>): IncomingHttpHeaders {
  const out = Object.create(null) as Record<string, string | string[]>;
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    if (value === undefined) continue;
    if (!Array.isArray(value)) out[name] = value;
    else if (name === 'set-cookie') out[name] = value;
    else out[name] = FIRST_ONLY.has(name) ? value[0]! : value.join(', ');
  }
  return out;
}

function tooLarge(url: string, what: string, max: number): NetworkError {
  return final(new NetworkError('LENGTH_EXCEEDED', `${url} ${what} than the ${max} bytes allowed; refusing an endless or oversized response`));
}

/** The URL as traced: user info dropped (query strings here carry service, scope and account only). */
function traceUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
