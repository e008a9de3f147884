/**
 * A fault-injecting HTTPS proxy on loopback in front of a real service
 * (notary-server or the registry). TLS ends here with the test CA's
 * 127.0.0.1 certificate; each request is offered to `fault`, which may
 * reset the connection, hang, drip the body a byte at a time, answer with an
 * error status, hold the request (a barrier, for races) or let it through
 * unchanged.
 */
import { createServer, request, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { TestCa } from './ca.ts';

export type Fault =
  /** Destroy the TCP connection before any response byte. */
  | { reset: true }
  /** Send the status line and half the upstream body, then destroy the connection. */
  | { truncate: true }
  /** Never answer (the client's timeout must fire). */
  | { hang: true }
  /** The upstream status and headers at once, then its body one byte every `dripMs` until done or the client hangs up. */
  | { dripMs: number }
  /** Answer with this status (502, 503…), these headers (e.g. Retry-After) and a small body. */
  | { status: number; headers?: Record<string, string> }
  /** Wait for this promise, then pass the request through. */
  | { hold: Promise<unknown> };

export interface FaultRequest {
  method: string;
  path: string;
  /** 1-based count of requests seen so far, this one included. */
  seq: number;
}

export type FaultRule = (req: FaultRequest) => Fault | undefined;

export interface FaultRecord {
  method: string;
  path: string;
  /** What was done: "pass", "reset", "truncate", "hang", "drip", "hold" or the status injected. */
  action: string;
  /** Upstream status for passed requests. */
  status?: number;
  /** Drip only: body bytes written, and whether the client closed the connection before the last. */
  bytesSent?: number;
  clientHungUp?: boolean;
}

export interface FaultProxy {
  /** https://127.0.0.1:PORT */
  url: string;
  /** "127.0.0.1:PORT" */
  host: string;
  log: FaultRecord[];
  setRule(rule: FaultRule | undefined): void;
  stop(): Promise<void>;
}

/** Lets the first `n` requests that match `when` get `fault`, then everything passes. */
export function firstN(n: number, when: (r: FaultRequest) => boolean, fault: Fault): FaultRule {
  let left = n;
  return (r) => {
    if (left <= 0 || !when(r)) return undefined;
    left--;
    return fault;
  };
}

/** Writes `body` one byte every `everyMs`, counting what was written; stops when the client hangs up. */
function drip(res: ServerResponse, body: Buffer, everyMs: number, record: FaultRecord): void {
  record.bytesSent = 0;
  record.clientHungUp = false;
  res.on('close', () => {
    if (!res.writableFinished) record.clientHungUp = true;
  });
  const timer = setInterval(() => {
    if (res.destroyed) return clearInterval(timer);
    const sent = record.bytesSent!;
    if (sent === body.length) {
      clearInterval(timer);
      res.end();
      return;
    }
    res.write(body.subarray(sent, sent + 1));
    record.bytesSent = sent + 1;
  }, everyMs);
}

export async function startFaultProxy(upstream: string, ca: TestCa): Promise<FaultProxy> {
  const [key, cert] = await Promise.all([readFile(ca.serverKeyPath), readFile(ca.serverCertPath)]);
  let rule: FaultRule | undefined;
  let seq = 0;
  const log: FaultRecord[] = [];
  const sockets = new Set<Socket>();

  const pass = (req: IncomingMessage, body: Buffer, res: ServerResponse, record: FaultRecord, shape: 'whole' | 'truncate' | { dripMs: number }) => {
    const headers = { ...req.headers, host: new URL(upstream).host };
    const up = request(upstream + (req.url ?? '/'), { method: req.method, headers, ca: ca.caPem, agent: false }, (upRes) => {
      const chunks: Buffer[] = [];
      upRes.on('data', (c: Buffer) => chunks.push(c));
      upRes.on('end', () => {
        const all = Buffer.concat(chunks);
        record.status = upRes.statusCode;
        const outHeaders = { ...upRes.headers };
        delete outHeaders['transfer-encoding'];
        outHeaders['content-length'] = String(all.length);
        res.writeHead(upRes.statusCode ?? 502, outHeaders);
        if (shape === 'truncate') {
          res.write(all.subarray(0, Math.floor(all.length / 2)), () => req.socket.destroy());
        } else if (shape !== 'whole') {
          drip(res, all, shape.dripMs, record);
        } else {
          res.end(all);
        }
      });
      upRes.on('error', () => req.socket.destroy());
    });
    up.on('error', () => req.socket.destroy());
    up.end(body);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const info: FaultRequest = { method: req.method ?? 'GET', path: req.url ?? '/', seq: ++seq };
    const fault = rule?.(info);
    const record: FaultRecord = { method: info.method, path: info.path, action: 'pass' };
    log.push(record);
    if (!fault) return pass(req, body, res, record, 'whole');
    if ('reset' in fault) {
      record.action = 'reset';
      req.socket.resetAndDestroy();
    } else if ('truncate' in fault) {
      record.action = 'truncate';
      pass(req, body, res, record, 'truncate');
    } else if ('hang' in fault) {
      record.action = 'hang';
    } else if ('dripMs' in fault) {
      record.action = 'drip';
      pass(req, body, res, record, fault);
    } else if ('status' in fault) {
      record.action = String(fault.status);
      res.writeHead(fault.status, { 'content-type': 'text/plain', ...fault.headers });
      res.end(`injected fault ${fault.status}\n`);
    } else {
      record.action = 'hold';
      await fault.hold;
      pass(req, body, res, record, 'whole');
    }
  };

  const server: Server = createServer({ key, cert }, (req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as { port: number };
  return {
    url: `https://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    log,
    setRule: (r) => {
      rule = r;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
