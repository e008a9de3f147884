/**
 * A loopback server that records every request it gets (method, path and
 * the Authorization header, if any) and every connection, and answers from a
 * rule: the second registry, the foreign token realm and the hostile Notary
 * server of the credential tests. HTTPS with the test CA's 127.0.0.1
 * certificate, or plain HTTP when no CA is given (a realm that must never be
 * reached).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { TestCa } from './ca.ts';

export interface RecordedRequest {
  method: string;
  path: string;
  authorization: string | undefined;
}

export interface RecorderAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export type RecorderRule = (req: RecordedRequest) => RecorderAnswer;

export interface Recorder {
  /** https://127.0.0.1:PORT (http:// without a CA). */
  url: string;
  /** 127.0.0.1:PORT, as an image reference names a registry. */
  host: string;
  requests: RecordedRequest[];
  /** TCP connections accepted, whether or not a request followed. */
  connections: number;
  /** The Authorization headers received, in order. */
  authorizations(): string[];
  stop(): Promise<void>;
}

/** Starts a recorder; `rule` answers each request (it may read what was recorded so far). */
export async function startRecorder(ca: TestCa | undefined, rule: RecorderRule): Promise<Recorder> {
  const requests: RecordedRequest[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const seen: RecordedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization };
    requests.push(seen);
    req.resume();
    req.on('end', () => {
      const answer = rule(seen);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body ?? '{}');
    });
  };
  const server: Server = ca ? createHttpsServer({ key: await readFile(ca.serverKeyPath), cert: await readFile(ca.serverCertPath) }, handle) : createHttpServer(handle);
  const recorder: Recorder = {
    url: '',
    host: '',
    requests,
    connections: 0,
    authorizations: () => requests.flatMap((r) => (r.authorization === undefined ? [] : [r.authorization])),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  // Counted at TCP accept, before TLS: a client that only connects counts.
  server.on('connection', () => recorder.connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  recorder.host = `127.0.0.1:${port}`;
  recorder.url = `${ca ? 'https' : 'http'}://${recorder.host}`;
  return recorder;
}
