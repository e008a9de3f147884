/**
 * The HTTPS client against an in-process node:https server on loopback with
 * a throwaway self-signed certificate (made here, no programs): keep-alive,
 * the size cap (announced and streamed), the idle timeout and the deadline,
 * retries with backoff on 5xx and a reset connection, none on TLS failures.
 * Written against the public API only (new HttpClient({ ca, config }),
 * send(url, init) → { status, headers, body }), so it holds for any
 * implementation of it; failures are checked by `code`.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes, sign, createPublicKey, type KeyObject } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HttpClient } from '../../src/http/client.ts';
import { ContentTrustError } from '../../src/errors.ts';
import type { Config } from '../../src/config.ts';
import * as der from '../../src/tuf/der.ts';

/** A self-signed P-256 server certificate for IP 127.0.0.1 (serverAuth), valid for a day. */
function serverCertificate(key: KeyObject): string {
  const alg = der.sequence(der.oid('1.2.840.10045.4.3.2'));
  const name = der.sequence(der.set(der.sequence(der.oid('2.5.4.3'), der.printableString('127.0.0.1'))));
  const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
  const ext = der.sequence(der.sequence(der.oid('2.5.29.37'), der.octetString(der.sequence(der.oid('1.3.6.1.5.5.7.3.1')))), der.sequence(der.oid('2.5.29.17'), der.octetString(der.sequence(Buffer.from([0x87, 4, 127, 0, 0, 1])))));
  const serial = randomBytes(8);
  serial[0]! &= 0x7f;
  const tbs = der.sequence(
    der.explicit(0, der.integer(2)),
    der.integer(serial),
    alg,
    name,
    der.sequence(der.time(now), der.time(new Date(now.getTime() + 86_400_000))),
    name,
    createPublicKey(key).export({ type: 'spki', format: 'der' }),
    der.explicit(3, ext),
  );
  return der.pem('CERTIFICATE', der.sequence(tbs, alg, der.bitString(sign('sha256', tbs, { key, dsaEncoding: 'der' }))));
}

type Handler = (req: IncomingMessage, res: ServerResponse, n: number) => void;

const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
const cert = serverCertificate(key);
let server: https.Server;
let base: string;
let handler: Handler = (_req, res) => res.end('ok');
let requests = 0;
let connections = 0;
let tlsFailures = 0;

before(async () => {
  server = https.createServer({ key: key.export({ type: 'pkcs8', format: 'pem' }), cert }, (req, res) => {
    requests++;
    req.resume();
    req.on('end', () => handler(req, res, requests));
  });
  server.on('secureConnection', () => connections++);
  server.on('tlsClientError', () => tlsFailures++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

/** A fresh client trusting the test certificate, counters reset, `h` answering. */
function setUp(h: Handler, config: Partial<Config> = {}, trust = true): HttpClient {
  handler = h;
  requests = 0;
  connections = 0;
  tlsFailures = 0;
  return new HttpClient({ ...(trust ? { ca: cert } : {}), config: { retries: 0, backoffMs: 1, timeoutMs: 5_000, deadlineMs: 10_000, ...config } });
}

const code = (c: string) => (e: unknown) => {
  assert.ok(e instanceof ContentTrustError, String(e));
  assert.equal(e.code, c, e.message);
  return true;
};

const close = (c: HttpClient) => (c as unknown as { close?: () => void }).close?.();

describe('HttpClient', { concurrency: false }, () => {
  it('returns status, headers and body; sends the method, headers and body given', async () => {
    const client = setUp((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      res.setHeader('x-seen', `${req.method} ${String(req.headers['x-test'])}`);
      res.statusCode = 201;
      res.end(`echo ${req.url}`);
    });
    const res = await client.send(`${base}/a?b=c`, { method: 'POST', headers: { 'x-test': 'yes' }, body: Buffer.from('payload') });
    assert.equal(res.status, 201);
    assert.equal(res.headers['x-seen'], 'POST yes');
    assert.equal(res.body.toString(), 'echo /a?b=c');
    close(client);
  });

  it('keeps connections alive: sequential requests share one TLS connection', async () => {
    const client = setUp((_req, res) => res.end('ok'));
    for (let i = 0; i < 3; i++) assert.equal((await client.send(`${base}/k${i}`)).status, 200);
    assert.equal(requests, 3);
    assert.equal(connections, 1);
    close(client);
  });

  it('keeps connections alive for HEAD too (a registry check per tag is one HEAD): sequential HEADs share one TLS connection', async () => {
    const client = setUp((req, res) => {
      res.setHeader('content-length', '2');
      res.end(req.method === 'HEAD' ? undefined : 'ok');
    });
    for (let i = 0; i < 3; i++) assert.equal((await client.send(`${base}/h${i}`, { method: 'HEAD' })).status, 200);
    assert.equal((await client.send(`${base}/after-head`)).body.toString(), 'ok');
    assert.equal(requests, 4);
    assert.equal(connections, 1);
    close(client);
  });

  it('a Content-Length above maxBytes is LENGTH_EXCEEDED, not retried', async () => {
    const client = setUp(
      (_req, res) => {
        res.setHeader('content-length', '1000');
        res.end(Buffer.alloc(1000));
      },
      { retries: 3 },
    );
    await assert.rejects(client.send(`${base}/big`, { maxBytes: 999 }), code('LENGTH_EXCEEDED'));
    assert.equal(requests, 1);
    assert.equal((await client.send(`${base}/big`, { maxBytes: 1000 })).body.length, 1000, 'exactly maxBytes is allowed');
    close(client);
  });

  it('a streamed body (no Content-Length) past maxBytes is LENGTH_EXCEEDED, however it would have ended', async () => {
    const client = setUp(
      (_req, res) => {
        res.write(Buffer.alloc(600));
        res.write(Buffer.alloc(600));
        res.end();
      },
      { retries: 3 },
    );
    await assert.rejects(client.send(`${base}/stream`, { maxBytes: 1000 }), code('LENGTH_EXCEEDED'));
    assert.equal(requests, 1);
    close(client);
  });

  it('a server that goes silent is TIMEOUT after the idle timeout', async () => {
    const client = setUp(
      (_req, res) => {
        res.writeHead(200, { 'content-length': '10' });
        res.write('12345');
      },
      { timeoutMs: 200, deadlineMs: 10_000 },
    );
    const started = Date.now();
    await assert.rejects(client.send(`${base}/silent`), code('TIMEOUT'));
    assert.ok(Date.now() - started < 5_000);
    close(client);
  });

  it('a server that drips bytes forever is TIMEOUT at the deadline, though never idle', async () => {
    const client = setUp(
      (_req, res) => {
        res.writeHead(200);
        const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write('.')), 20);
        res.on('close', () => clearInterval(t));
      },
      { timeoutMs: 200, deadlineMs: 600 },
    );
    const started = Date.now();
    await assert.rejects(client.send(`${base}/drip`), code('TIMEOUT'));
    assert.ok(Date.now() - started >= 500, 'not the idle timeout');
    close(client);
  });

  it('retries a 5xx (with backoff) and returns the answer that got through', async () => {
    const client = setUp(
      (_req, res, n) => {
        res.statusCode = n < 3 ? 503 : 200;
        res.end(`attempt ${n}`);
      },
      { retries: 3, backoffMs: 5 },
    );
    const res = await client.send(`${base}/flaky`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'attempt 3');
    assert.equal(requests, 3);
    close(client);
  });

  it('after the last retry, the 5xx answer itself is returned; a 4xx is not retried', async () => {
    const client = setUp(
      (_req, res) => {
        res.statusCode = 502;
        res.end();
      },
      { retries: 2, backoffMs: 1 },
    );
    assert.equal((await client.send(`${base}/down`)).status, 502);
    assert.equal(requests, 3);
    handler = (_req, res) => {
      res.statusCode = 404;
      res.end();
    };
    requests = 0;
    assert.equal((await client.send(`${base}/missing`)).status, 404);
    assert.equal(requests, 1);
    close(client);
  });

  it('retries a connection reset by the server', async () => {
    const client = setUp(
      (req, res, n) => {
        if (n === 1) req.socket.destroy();
        else res.end('second time');
      },
      { retries: 2, backoffMs: 1 },
    );
    const res = await client.send(`${base}/reset`);
    assert.equal(res.body.toString(), 'second time');
    assert.equal(requests, 2);
    close(client);
  });

  it('a connection reset on every attempt is a NetworkError after the retries, not a hang', async () => {
    const client = setUp((req) => req.socket.destroy(), { retries: 1, backoffMs: 1 });
    await assert.rejects(client.send(`${base}/always-reset`), (e: unknown) => e instanceof ContentTrustError && e.code !== 'TLS_FAILED');
    assert.equal(requests, 2);
    close(client);
  });

  it('a certificate the client does not trust is TLS_FAILED, and not retried', async () => {
    const client = setUp((_req, res) => res.end('never'), { retries: 3, backoffMs: 1 }, false);
    await assert.rejects(client.send(`${base}/tls`), code('TLS_FAILED'));
    assert.equal(requests, 0);
    // The server learns of the refused handshake a little later: wait for it, then for any retry.
    for (let i = 0; i < 100 && tlsFailures === 0; i++) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(tlsFailures, 1, 'one handshake, no retry');
    close(client);
  });

  it('nothing listening is a NetworkError other than TLS_FAILED', async () => {
    const client = setUp(() => {}, { retries: 0 });
    const probe = https.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await assert.rejects(client.send(`https://127.0.0.1:${port}/`), (e: unknown) => e instanceof ContentTrustError && e.code === 'SERVER_UNREACHABLE');
    close(client);
  });
});
