/**
 * src/http/client.ts against in-process servers: an HTTPS server with the
 * test CA (test/stack/ca.ts) and a CONNECT proxy, both on loopback. Keep-alive
 * pools, the extra CA, size caps, both clocks, the retry rules with
 * Retry-After, and proxies (credentials, refusals, NO_PROXY). No test asserts
 * a time: only outcomes, messages and what the servers saw, in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type TestCa } from '../stack/ca.ts';
import { HttpClient, type HttpClientOptions } from '../../src/http/client.ts';
import { ContentTrustError, NetworkError } from '../../src/errors.ts';

type Handler = (req: IncomingMessage, body: Buffer, res: ServerResponse) => void;

interface Seen {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}

let dir: string;
let ca: TestCa;
let server: HttpsServer;
let origin: string;
let host: string;
let handler: Handler = (_req, _body, res) => res.end('ok');
const seen: Seen[] = [];
const sockets = new Set<Socket>();
let connections = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cta-http-client-'));
  ca = await makeCa(join(dir, 'ca'));
  server = createHttpsServer({ key: await readFile(ca.serverKeyPath), cert: await readFile(ca.serverCertPath) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', path: req.url ?? '', body: body.toString(), headers: req.headers });
      handler(req, body, res);
    });
  });
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  origin = `https://${host}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  await rm(dir, { recursive: true, force: true });
});

/** A client trusting the test CA, no proxy unless `env` names one, its debug lines collected. */
function client(options: HttpClientOptions = {}) {
  const lines: string[] = [];
  const http = new HttpClient({ ca: ca.caPem, env: {}, debug: (m) => lines.push(m), ...options, config: { backoffMs: 1, ...options.config } });
  return { http, lines };
}

/** Runs `fn` with `h` as the server's handler and a fresh request log. */
async function serving<T>(h: Handler, fn: () => Promise<T>): Promise<T> {
  handler = h;
  seen.length = 0;
  try {
    return await fn();
  } finally {
    handler = (_req, _body, res) => res.end('ok');
  }
}

async function rejects(p: Promise<unknown>): Promise<NetworkError> {
  const e = await p.then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(e instanceof NetworkError, String(e));
  return e;
}

describe('HttpClient: connections, TLS, answers', () => {
  it('keeps connections alive: at most 8 per origin for 24 requests at once, none new for the next ones', async () => {
    const { http } = client();
    try {
      await serving(
        (_req, _body, res) => setTimeout(() => res.end('ok'), 20),
        async () => {
          const before = connections;
          const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => http.send(`${origin}/p${i}`)));
          assert.ok(answers.every((a) => a.status === 200 && a.body.toString() === 'ok'));
          const opened = connections - before;
          assert.ok(opened >= 1 && opened <= 8, `${opened} connections`);
          for (let i = 0; i < 5; i++) await http.send(`${origin}/again${i}`);
          assert.equal(connections - before, opened, 'the next requests reuse them');
        },
      );
    } finally {
      http.close();
    }
  });

  it('trusts the extra CA on top of the system roots; without it: TLS_FAILED, tried once', async () => {
    const { http } = client();
    assert.equal((await http.send(`${origin}/`)).status, 200);
    http.close();
    const bare = new HttpClient({ env: {}, config: { backoffMs: 1 } });
    const before = connections;
    const e = await rejects(bare.send(`${origin}/`));
    bare.close();
    assert.equal(e.code, 'TLS_FAILED');
    assert.match(e.message, new RegExp(`^TLS to ${host} failed \\(UNABLE_TO_VERIFY_LEAF_SIGNATURE\\): if the server uses a private CA, pass its certificate in the \`ca-cert\` input$`));
    assert.equal(connections - before, 1, 'not retried');
  });

  it('answers as node:http gave them: repeated headers joined (set-cookie a list), no prototype; redirects not followed; POST bodies sent whole', async () => {
    const { http } = client();
    try {
      await serving(
        (req, body, res) => {
          if (req.url === '/moved') {
            res.writeHead(302, { location: `${origin}/elsewhere` });
            res.end();
            return;
          }
          res.setHeader('www-authenticate', ['Bearer realm="https://a.example/token"', 'Basic realm="b"']);
          res.setHeader('set-cookie', ['a=1', 'b=2']);
          res.setHeader('content-type', 'text/plain');
          res.end(`got ${body.length} bytes`);
        },
        async () => {
          const r = await http.send(`${origin}/h`, { method: 'POST', body: Buffer.alloc(100_000, 7), headers: { 'content-type': 'application/octet-stream' } });
          assert.equal(r.body.toString(), 'got 100000 bytes');
          assert.equal(r.headers['www-authenticate'], 'Bearer realm="https://a.example/token", Basic realm="b"');
          assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
          assert.equal(Object.getPrototypeOf(r.headers), null);
          assert.equal(seen[0]!.headers['content-length'], '100000');
          assert.equal(seen[0]!.headers['user-agent'], 'content-trust-action');
          const moved = await http.send(`${origin}/moved`);
          assert.equal(moved.status, 302);
          assert.deepEqual(
            seen.map((s) => s.path),
            ['/h', '/moved'],
            'the redirect was not followed',
          );
        },
      );
    } finally {
      http.close();
    }
  });

  it('a Content-Length over the cap: LENGTH_EXCEEDED before reading the body, not retried', async () => {
    const { http } = client();
    try {
      await serving(
        (_req, _body, res) => {
          res.writeHead(200, { 'content-length': '10000000' });
          res.write(Buffer.alloc(1000));
        },
        async () => {
          const e = await rejects(http.send(`${origin}/big`, { maxBytes: 4096 }));
          assert.equal(e.code, 'LENGTH_EXCEEDED');
          assert.equal(e.message, `${origin}/big announces 10000000 bytes, more than the 4096 bytes allowed; refusing an endless or oversized response`);
          assert.equal(seen.length, 1);
        },
      );
    } finally {
      http.close();
    }
  });

  it('a header block over 16 KiB: LENGTH_EXCEEDED naming the host, not retried; one under it is read', async () => {
    const { http } = client();
    try {
      await serving(
        (req, _body, res) => {
          res.writeHead(200, { 'x-filler': 'a'.repeat(req.url === '/huge' ? 20 * 1024 : 12 * 1024) });
          res.end('ok');
        },
        async () => {
          const ok = await http.send(`${origin}/large`);
          assert.equal(ok.headers['x-filler']?.length, 12 * 1024);
          seen.length = 0;
          const e = await rejects(http.send(`${origin}/huge`));
          assert.equal(e.code, 'LENGTH_EXCEEDED');
          assert.equal(e.message, `${host} sent a header block larger than the 16384 bytes allowed, which no registry or Notary server needs: check that the URL names one, and what stands in front of it (a proxy or load balancer adding headers)`);
          assert.equal(seen.length, 1);
        },
      );
    } finally {
      http.close();
    }
  });

  it('an endless body: LENGTH_EXCEEDED once past the cap, and the client hangs up', async () => {
    const { http } = client();
    let hungUp: Promise<void> | undefined;
    try {
      await serving(
        (_req, _body, res) => {
          hungUp = new Promise((r) => res.on('close', () => r()));
          const chunk = Buffer.alloc(16 * 1024, 0x20);
          const pump = () => {
            while (!res.destroyed && res.write(chunk));
            if (!res.destroyed) res.once('drain', pump);
          };
          res.writeHead(200, { 'content-type': 'text/plain' });
          pump();
        },
        async () => {
          const e = await rejects(http.send(`${origin}/endless`, { maxBytes: 1 << 20 }));
          assert.equal(e.code, 'LENGTH_EXCEEDED');
          assert.match(e.message, /endless sent more than the 1048576 bytes allowed/);
          await hungUp;
          assert.equal(seen.length, 1);
        },
      );
    } finally {
      http.close();
    }
  });

  it('a server that never answers: TIMEOUT after the idle timeout, on every try (retries + 1)', async () => {
    const { http, lines } = client({ config: { timeoutMs: 200, retries: 2 } });
    try {
      await serving(
        () => {},
        async () => {
          const e = await rejects(http.send(`${origin}/hang`));
          assert.equal(e.code, 'TIMEOUT');
          assert.equal(e.message, `${host} did not answer within 200 ms`);
          assert.equal(seen.length, 3);
          assert.equal(lines.filter((l) => /: retry \d\/2 in \d+ ms$/.test(l)).length, 2);
        },
      );
    } finally {
      http.close();
    }
  });

  it('a server that drips its answer, never silent for the idle timeout: TIMEOUT at the deadline', async () => {
    const { http } = client({ config: { timeoutMs: 5000, deadlineMs: 400, retries: 0 } });
    let hungUp: Promise<void> | undefined;
    try {
      await serving(
        (_req, _body, res) => {
          hungUp = new Promise((r) => res.on('close', () => r()));
          res.writeHead(200, { 'content-length': '100000' });
          const timer = setInterval(() => (res.destroyed ? clearInterval(timer) : res.write('x')), 20);
        },
        async () => {
          const e = await rejects(http.send(`${origin}/drip`));
          assert.equal(e.code, 'TIMEOUT');
          assert.equal(e.message, `${host} did not finish answering within the 400 ms deadline for one exchange; check the server and the network in between`);
          await hungUp;
        },
      );
    } finally {
      http.close();
    }
  });

  it('a closed port: SERVER_UNREACHABLE naming the host, after every try', async () => {
    const closed = netConnect(0);
    closed.on('error', () => {});
    const { http, lines } = client({ config: { retries: 1 } });
    const e = await rejects(http.send('https://127.0.0.1:1/v2/'));
    http.close();
    assert.equal(e.code, 'SERVER_UNREACHABLE');
    assert.equal(e.message, 'cannot reach 127.0.0.1:1 (ECONNREFUSED): check the URL and that the server is up');
    assert.equal(lines.filter((l) => l.includes('retry 1/1')).length, 1);
  });
});

describe('HttpClient: Retry-After on 429 and 503', () => {
  /** Answers `first` to the first `n` requests, then 200. */
  const firstThen = (n: number, first: (res: ServerResponse) => void): Handler => {
    let left = n;
    return (_req, _body, res) => {
      if (left-- > 0) first(res);
      else res.end('ok');
    };
  };

  it('503 with Retry-After: 1 is tried again after the announced second, not after the backoff', async () => {
    const { http, lines } = client();
    try {
      await serving(
        firstThen(1, (res) => res.writeHead(503, { 'retry-after': '1' }).end()),
        async () => {
          const r = await http.send(`${origin}/busy`);
          assert.equal(r.status, 200);
          assert.equal(seen.length, 2);
          assert.ok(lines.includes(`GET ${origin}/busy: retry 1/3 in 1000 ms (Retry-After)`), lines.join('\n'));
        },
      );
    } finally {
      http.close();
    }
  });

  it('429 with an HTTP-date Retry-After: waits until then; without one: the backoff', async () => {
    const { http, lines } = client();
    try {
      const soon = new Date(Date.now() + 1000).toUTCString();
      await serving(
        firstThen(1, (res) => res.writeHead(429, { 'retry-after': soon }).end()),
        async () => {
          assert.equal((await http.send(`${origin}/limited`)).status, 200);
          assert.equal(seen.length, 2);
          assert.match(lines.join('\n'), /\/limited: retry 1\/3 in \d+ ms \(Retry-After\)/);
        },
      );
      await serving(
        firstThen(2, (res) => res.writeHead(429).end()),
        async () => {
          assert.equal((await http.send(`${origin}/limited2`)).status, 200);
          assert.equal(seen.length, 3);
          assert.deepEqual(
            lines.filter((l) => l.includes('/limited2: retry')).map((l) => l.replace(/in \d+ ms/, 'in N ms')),
            [`GET ${origin}/limited2: retry 1/3 in N ms`, `GET ${origin}/limited2: retry 2/3 in N ms`],
          );
        },
      );
    } finally {
      http.close();
    }
  });

  it('a Retry-After longer than 30 s: not retried, the 503 stands, and the debug line says why', async () => {
    const { http, lines } = client();
    try {
      await serving(
        (_req, _body, res) => res.writeHead(503, { 'retry-after': '3600' }).end(),
        async () => {
          const r = await http.send(`${origin}/maintenance`);
          assert.equal(r.status, 503);
          assert.equal(seen.length, 1);
          assert.ok(lines.includes(`GET ${origin}/maintenance: the server asks to wait 3600 s (Retry-After), more than the 30 s allowed: not retrying`), lines.join('\n'));
        },
      );
    } finally {
      http.close();
    }
  });

  it('Retry-After on a 502 is not honoured (the backoff applies), and the retries stay bounded', async () => {
    const { http, lines } = client({ config: { retries: 2 } });
    try {
      await serving(
        (_req, _body, res) => res.writeHead(502, { 'retry-after': '20' }).end(),
        async () => {
          assert.equal((await http.send(`${origin}/gateway`)).status, 502);
          assert.equal(seen.length, 3);
          assert.ok(!lines.some((l) => l.includes('(Retry-After)')));
        },
      );
    } finally {
      http.close();
    }
  });

  it('a POST answered 503 with Retry-After is sent again, the same bytes, once per try', async () => {
    const { http } = client();
    try {
      await serving(
        firstThen(2, (res) => res.writeHead(503, { 'retry-after': '0' }).end()),
        async () => {
          const body = Buffer.from('--b\r\nmultipart\r\n--b--\r\n');
          const r = await http.send(`${origin}/v2/gun/_trust/tuf/`, { method: 'POST', body, headers: { 'content-type': 'multipart/form-data; boundary=b' } });
          assert.equal(r.status, 200);
          assert.deepEqual(
            seen.map((s) => `${s.method} ${s.body}`),
            Array(3).fill(`POST ${body.toString()}`),
          );
        },
      );
    } finally {
      http.close();
    }
  });
});

describe('HttpClient: proxies', () => {
  let proxy: HttpServer;
  let proxyHost: string;
  let proxyPort: number;
  /** What the proxy saw: the CONNECT target and its Proxy-Authorization, or "GET <url>" for a plain request. */
  const tunnels: Array<{ target: string; auth: string | undefined }> = [];
  let answer: (req: IncomingMessage) => number = () => 200;
  const proxySockets = new Set<Socket>();

  before(async () => {
    proxy = createHttpServer((req, res) => {
      tunnels.push({ target: `${req.method} ${req.url}`, auth: req.headers['proxy-authorization'] });
      res.writeHead(400).end();
    });
    proxy.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      tunnels.push({ target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      proxySockets.add(socket);
      socket.on('close', () => proxySockets.delete(socket));
      socket.on('error', () => {});
      const status = answer(req);
      if (status !== 200) {
        socket.end(`HTTP/1.1 ${status} No\r\n${status === 407 ? 'proxy-authenticate: Basic realm="test"\r\n' : ''}content-length: 0\r\n\r\n`);
        return;
      }
      const [h, p] = (req.url ?? '').split(':');
      const up = netConnect(Number(p), h, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        if (head.length) up.write(head);
        up.pipe(socket).pipe(up);
      });
      up.on('error', () => socket.destroy());
      socket.on('close', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyPort = (proxy.address() as AddressInfo).port;
    proxyHost = `127.0.0.1:${proxyPort}`;
  });
  after(async () => {
    for (const s of proxySockets) s.destroy();
    await new Promise<void>((r) => proxy.close(() => r()));
  });

  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const onlyUser = (req: IncomingMessage) => (req.headers['proxy-authorization'] === basic('ci', 'pr0xy-s3cret') ? 200 : 407);

  it('HTTPS_PROXY: every exchange goes through a CONNECT tunnel; the proxy gets its credentials, the server never does', async () => {
    answer = onlyUser;
    tunnels.length = 0;
    const { http, lines } = client({ env: { HTTPS_PROXY: `http://ci:pr0xy-s3cret@${proxyHost}` } });
    try {
      await serving(
        (_req, _body, res) => res.end('through'),
        async () => {
          const r = await http.send(`${origin}/v2/`, { headers: { authorization: 'Bearer registry-token' } });
          assert.equal(r.body.toString(), 'through');
          assert.deepEqual(tunnels, [{ target: host, auth: basic('ci', 'pr0xy-s3cret') }]);
          assert.equal(seen[0]!.headers['proxy-authorization'], undefined);
          assert.equal(seen[0]!.headers.authorization, 'Bearer registry-token', 'inside the tunnel, for the server');
          assert.ok(
            lines.some((l) => l.includes(`GET ${origin}/v2/ via the proxy ${proxyHost} (from HTTPS_PROXY) -> HTTP 200`)),
            lines.join('\n'),
          );
          assert.ok(!lines.join('\n').includes('pr0xy-s3cret'));
        },
      );
    } finally {
      http.close();
    }
  });

  it('wrong or missing proxy credentials: PROXY_FAILED naming the proxy and the variable, never the password, not retried', async () => {
    answer = onlyUser;
    for (const [env, fix] of [
      [{ https_proxy: `http://ci:wr0ng-s3cret@${proxyHost}` }, /refused the user name and password in https_proxy \(HTTP 407 Proxy Authentication Required\)/],
      [{ HTTP_PROXY: `http://${proxyHost}` }, /asks for credentials \(HTTP 407 Proxy Authentication Required\) for 127\.0\.0\.1:\d+: give them in HTTP_PROXY as http:\/\/user:password@host:port/],
    ] as const) {
      tunnels.length = 0;
      const { http, lines } = client({ env });
      const e = await rejects(http.send(`${origin}/v2/`));
      http.close();
      assert.equal(e.code, 'PROXY_FAILED');
      assert.ok(e.message.startsWith(`the proxy ${proxyHost} (from ${Object.keys(env)[0]})`), e.message);
      assert.match(e.message, fix);
      assert.doesNotMatch(`${e.message}\n${lines.join('\n')}`, /wr0ng-s3cret|ci:/);
      assert.equal(tunnels.length, 1, 'a refusal is not retried');
    }
  });

  it('a proxy that refuses the tunnel (403): PROXY_FAILED, not retried; one that cannot reach the server (502): retried, then PROXY_FAILED', async () => {
    tunnels.length = 0;
    answer = () => 403;
    const { http } = client({ env: { HTTPS_PROXY: `http://${proxyHost}` }, config: { retries: 2 } });
    try {
      const refused = await rejects(http.send(`${origin}/v2/`));
      assert.equal(refused.code, 'PROXY_FAILED');
      assert.equal(refused.message, `the proxy ${proxyHost} (from HTTPS_PROXY) refused to open a connection to ${host} (HTTP 403): ask for the proxy to allow CONNECT to ${host}, or list it in NO_PROXY to go direct`);
      assert.equal(tunnels.length, 1);
      tunnels.length = 0;
      answer = () => 502;
      const gateway = await rejects(http.send(`${origin}/v2/`));
      assert.equal(gateway.code, 'PROXY_FAILED');
      assert.match(gateway.message, /could not open a connection to 127\.0\.0\.1:\d+ \(HTTP 502\)/);
      assert.equal(tunnels.length, 3, 'retried like a server fault');
    } finally {
      answer = () => 200;
      http.close();
    }
  });

  it('a proxy nobody listens on: PROXY_FAILED naming it, its variable and NO_PROXY', async () => {
    const { http } = client({ env: { https_proxy: 'http://user:s3cret@127.0.0.1:1' }, config: { retries: 0 } });
    const e = await rejects(http.send(`${origin}/v2/`));
    http.close();
    assert.equal(e.code, 'PROXY_FAILED');
    assert.equal(e.message, `cannot reach ${host} through the proxy 127.0.0.1:1 (from https_proxy) (ECONNREFUSED): check that the proxy is up and https_proxy names it, or list 127.0.0.1 in NO_PROXY to go direct`);
  });

  it('NO_PROXY names the host: straight to the server, the proxy sees nothing', async () => {
    answer = () => 200;
    for (const noProxy of ['127.0.0.1', `127.0.0.1:${new URL(origin).port}`, 'example.com, 127.0.0.1', '*']) {
      tunnels.length = 0;
      const { http, lines } = client({ env: { HTTPS_PROXY: `http://${proxyHost}`, NO_PROXY: noProxy } });
      assert.equal((await http.send(`${origin}/v2/`)).status, 200);
      http.close();
      assert.equal(tunnels.length, 0, noProxy);
      assert.ok(!lines.some((l) => l.includes(' via ')), noProxy);
    }
    tunnels.length = 0;
    const other = client({ env: { HTTPS_PROXY: `http://${proxyHost}`, NO_PROXY: '127.0.0.1:1' } });
    assert.equal((await other.http.send(`${origin}/v2/`)).status, 200);
    other.http.close();
    assert.equal(tunnels.length, 1, 'another port of the host still goes through the proxy');
  });

  it('a malformed proxy variable: PROXY_INVALID when the client is made, before any request', () => {
    assert.throws(
      () => new HttpClient({ env: { HTTPS_PROXY: 'socks5://u:s3cret@127.0.0.1:1080' } }),
      (e: unknown) => e instanceof ContentTrustError && e.code === 'PROXY_INVALID' && !e.message.includes('s3cret'),
    );
  });
});
