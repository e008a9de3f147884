/**
 * A rewriting HTTPS proxy on loopback, standing between a client and the real
 * notary-server: the man in the middle of the attack tests. Each request is
 * offered to `rule`; a rule may answer it (a body, an endless body, a body
 * that lies about its length), rewrite the upstream answer, or let it pass.
 * Every exchange is logged with the bytes the proxy wrote before the client
 * hung up, so a test can assert the client stopped reading.
 */
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import type { TestCa } from './ca.ts';

export type ProxyAnswer =
  /** Serve this body (status 200 unless given; headers replace the default text/plain Content-Type). */
  | { body: Buffer; status?: number; contentLength?: number; headers?: Record<string, string> }
  /** Chunked, never ending: 16 KiB chunks until the client hangs up. */
  | { endless: true }
  /** Fetch upstream, then serve `rewrite(body)` (status kept; headers given are set over upstream's, undefined removes one). */
  | { rewrite: (body: Buffer, status: number) => Buffer | { body: Buffer; status: number; headers?: Record<string, string | undefined> } };

export type ProxyRule = (req: { method: string; path: string }) => ProxyAnswer | undefined | Promise<ProxyAnswer | undefined>;

export interface ProxyExchange {
  method: string;
  /** Path after the base, e.g. `/v2/<gun>/_trust/tuf/root.json`. */
  path: string;
  status: number;
  /** Body bytes written to the client (for endless bodies: until it hung up). */
  bytesSent: number;
  /** The client closed the connection before the response ended. */
  clientHungUp: boolean;
  /** Answered or rewritten by a rule (not passed through). */
  rewritten: boolean;
}

export interface RewritingProxy {
  url: string;
  /** Replaces the rule; undefined lets everything through. */
  setRule(rule: ProxyRule | undefined): void;
  log: ProxyExchange[];
  /** Resolves once every response in flight has finished or been abandoned. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

const CHUNK = Buffer.alloc(16 * 1024, 0x20);

export async function startProxy(upstream: string, ca: TestCa): Promise<RewritingProxy> {
  const [key, cert] = await Promise.all([readFile(ca.serverKeyPath), readFile(ca.serverCertPath)]);
  let rule: ProxyRule | undefined;
  const log: ProxyExchange[] = [];
  const inFlight = new Set<Promise<void>>();

  const forward = (req: IncomingMessage, body: Buffer): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: new URL(upstream).host };
      delete headers['accept-encoding'];
      const up = request(upstream + req.url, { method: req.method, headers, ca: ca.caPem, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      up.on('error', reject);
      up.end(body);
    });

  const handle = async (req: IncomingMessage, res: ServerResponse, entry: ProxyExchange): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reqBody = Buffer.concat(chunks);
    const answer = rule ? await rule({ method: req.method ?? 'GET', path: req.url ?? '/' }) : undefined;
    res.on('close', () => {
      if (!res.writableFinished) entry.clientHungUp = true;
    });
    if (answer && 'endless' in answer) {
      entry.rewritten = true;
      entry.status = 200;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      while (!res.destroyed && !entry.clientHungUp) {
        const ok = res.write(CHUNK);
        entry.bytesSent += CHUNK.length;
        if (!ok) {
          await new Promise<void>((r) => {
            const done = () => (res.off('drain', done), res.off('close', done), r());
            res.on('drain', done).on('close', done);
          });
        }
      }
      return;
    }
    let status: number;
    let body: Buffer;
    let headers: Record<string, string | string[] | undefined> = { 'content-type': 'text/plain; charset=utf-8' };
    if (answer && 'body' in answer) {
      entry.rewritten = true;
      status = answer.status ?? 200;
      body = answer.body;
      if (answer.headers) headers = { ...answer.headers };
      if (answer.contentLength !== undefined) headers['content-length'] = String(answer.contentLength);
    } else {
      const up = await forward(req, reqBody);
      status = up.status;
      body = up.body;
      headers = { ...up.headers };
      delete headers['content-length'];
      delete headers['transfer-encoding'];
      delete headers.connection;
      if (answer && 'rewrite' in answer) {
        entry.rewritten = true;
        const out = answer.rewrite(body, status);
        if (Buffer.isBuffer(out)) body = out;
        else {
          ({ body, status } = out);
          for (const [name, value] of Object.entries(out.headers ?? {})) {
            if (value === undefined) delete headers[name];
            else headers[name] = value;
          }
        }
      }
    }
    entry.status = status;
    if (headers['content-length'] === undefined) headers['content-length'] = String(body.length);
    res.writeHead(status, headers);
    if (req.method === 'HEAD') {
      // Headers only, whatever Content-Length they announce.
      res.end();
      return;
    }
    const declared = Number(headers['content-length']);
    const sent = declared < body.length ? body.subarray(0, declared) : body;
    entry.bytesSent = sent.length;
    if (declared > sent.length) {
      // Claim more than is sent, then cut the connection.
      res.write(sent);
      await new Promise((r) => setTimeout(r, 10));
      res.destroy();
      return;
    }
    res.end(sent);
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    const entry: ProxyExchange = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0, bytesSent: 0, clientHungUp: false, rewritten: false };
    log.push(entry);
    const p = handle(req, res, entry)
      .catch((e: unknown) => {
        entry.status = 502;
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(`proxy: ${(e as Error).message}`);
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `https://127.0.0.1:${port}`,
    setRule: (r) => (rule = r),
    log,
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The path of a trust file of `gun` as the client asks for it. */
export function tufPath(gun: string, file: string): string {
  return `/v2/${gun}/_trust/tuf/${file}`;
}

/** Serves `files` (names after `/_trust/tuf/`) for `gun`, 404 for other files of it; other GUNs pass. */
export function serve(gun: string, files: ReadonlyMap<string, Buffer>): ProxyRule {
  const base = tufPath(gun, '');
  return ({ path }) => {
    if (!path.startsWith(base)) return undefined;
    const body = files.get(path.slice(base.length));
    return body ? { body } : { body: Buffer.from('{"errors":[{"code":"METADATA_NOT_FOUND","message":"You have requested metadata that does not exist.","detail":{}}]}\n'), status: 404 };
  };
}
