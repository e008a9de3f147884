/**
 * HTTPS with keep-alive, an optional extra CA, a streaming size cap, an
 * idle timeout and a deadline per exchange, and bounded retries with
 * backoff. Knows nothing of auth.
 */
import https from 'node:https';
import { createSecureContext, rootCertificates } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http';
import { NetworkError, messageOf } from '../errors.ts';
import { defaultConfig, type Config } from '../config.ts';

export interface RequestInit {
  method?: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  headers?: Record<string, string>;
  body?: Buffer;
  /** Stop reading and fail past this many bytes (default: unlimited). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  url: string;
}

export interface HttpClientOptions {
  /** Extra trusted CA certificates (PEM), added to the system's. */
  ca?: string;
  config?: Partial<Config>;
  debug?: (message: string) => void;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO|ERR_OSSL_)|HOSTNAME_MISMATCH|ALTNAME/;
const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

export class HttpClient {
  readonly config: Config;
  private readonly agent: https.Agent;
  private readonly debug: (message: string) => void;

  constructor(options: HttpClientOptions = {}) {
    this.config = { ...defaultConfig, ...options.config };
    this.debug = options.debug ?? (() => {});
    // One TLS context for every connection: given as `ca`, the ~150 trusted
    // certificates would be parsed again for each new socket and joined into
    // the agent's pool key on each request.
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: 8,
      secureContext: createSecureContext(options.ca ? { ca: [...rootCertificates, options.ca] } : {}),
    });
  }

  async send(url: string, init: RequestInit = {}): Promise<HttpResponse> {
    const { retries, backoffMs } = this.config;
    for (let attempt = 0; ; attempt++) {
      let result: HttpResponse | NetworkError;
      const started = performance.now();
      try {
        result = await this.once(url, init);
        this.trace(url, init, `HTTP ${result.status}, ${result.body.length} bytes`, started);
      } catch (e) {
        this.trace(url, init, e instanceof Error ? e.message : String(e), started);
        if (!(e instanceof NetworkError) || e.code === 'TLS_FAILED' || e.code === 'LENGTH_EXCEEDED') throw e;
        result = e;
      }
      const retryable = result instanceof NetworkError || RETRY_STATUS.has(result.status);
      if (!retryable || attempt >= retries) {
        if (result instanceof NetworkError) throw result;
        return result;
      }
      const delay = backoffMs * 2 ** attempt * (0.75 + Math.random() / 2);
      this.debug(`${init.method ?? 'GET'} ${traceUrl(url)}: retry ${attempt + 1}/${retries} in ${Math.round(delay)} ms`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** One debug line per exchange: method, URL (no user info), outcome, duration; never a header or body. */
  private trace(url: string, init: RequestInit, outcome: string, started: number): void {
    this.debug(`${init.method ?? 'GET'} ${traceUrl(url)} -> ${outcome} (${Math.round(performance.now() - started)} ms)`);
  }

  /**
   * One exchange. Two clocks end it: the idle timeout (timeoutMs of silence)
   * and the deadline (deadlineMs from getting a socket to the last body byte),
   * so a server that drips bytes cannot hold it open. Time spent queued for
   * one of the agent's sockets is not counted: that is our own concurrency.
   */
  private once(url: string, init: RequestInit): Promise<HttpResponse> {
    const method = init.method ?? 'GET';
    const headers: Record<string, string> = { 'user-agent': this.config.userAgent, ...init.headers };
    if (init.body) headers['content-length'] = String(init.body.length);
    const max = init.maxBytes ?? Infinity;
    const host = safeHost(url);
    const { timeoutMs, deadlineMs } = this.config;
    return new Promise<HttpResponse>((resolve, reject) => {
      let deadline: NodeJS.Timeout | undefined;
      const fail = (e: Error) => {
        clearTimeout(deadline);
        reject(e);
      };
      const req = https.request(url, { method, headers, agent: this.agent }, (res) => {
        const status = res.statusCode ?? 0;
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > max) {
          res.destroy();
          fail(tooLarge(url, `announces ${declared} bytes, more`, max));
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > max) {
            res.destroy();
            fail(tooLarge(url, 'sent more', max));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          resolve({ status, headers: res.headers, body: Buffer.concat(chunks, size), url });
        });
        res.on('error', (e) => fail(networkError(e, host)));
      });
      req.once('socket', () => {
        deadline = setTimeout(() => {
          const e = new NetworkError('TIMEOUT', `${host} did not finish answering within the ${deadlineMs} ms deadline for one exchange; check the server and the network in between`);
          // Settle first: once the response has begun, destroying the request reports only "aborted".
          fail(e);
          req.destroy(e);
        }, deadlineMs);
      });
      req.setTimeout(timeoutMs, () => {
        req.destroy(new NetworkError('TIMEOUT', `${host} did not answer within ${timeoutMs} ms`));
      });
      req.on('error', (e) => fail(e instanceof NetworkError ? e : networkError(e, host)));
      req.end(init.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

function tooLarge(url: string, what: string, max: number): NetworkError {
  return new NetworkError('LENGTH_EXCEEDED', `${url} ${what} than the ${max} bytes allowed; refusing an endless or oversized response`);
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

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function networkError(e: unknown, host: string): NetworkError {
  const raw = (e as { code?: unknown }).code;
  const code = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : '';
  if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(messageOf(e))) {
    return new NetworkError('TLS_FAILED', `TLS to ${host} failed (${code || messageOf(e)}): if the server uses a private CA, pass its certificate in the \`ca-cert\` input`, { cause: e });
  }
  return new NetworkError('SERVER_UNREACHABLE', `cannot reach ${host} (${code || messageOf(e)}): check the URL and that the server is up`, { cause: e });
}
