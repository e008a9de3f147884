/**
 * src/http/proxy.ts: which variables count, the proxy URL forms, NO_PROXY
 * matching, and that proxyFor (which names the proxy in messages) agrees
 * with undici's EnvHttpProxyAgent (which routes the requests).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { EnvHttpProxyAgent } from '../../src/http/undici.ts';
import { parseProxyUrl, proxyFor, readProxySettings } from '../../src/http/proxy.ts';
import { ContentTrustError } from '../../src/errors.ts';

describe('readProxySettings', () => {
  it('no variable: no proxy', () => {
    const s = readProxySettings({});
    assert.equal(s.http, undefined);
    assert.equal(s.https, undefined);
    assert.equal(proxyFor(s, new URL('https://reg.example/v2/')), undefined);
  });

  it('HTTPS_PROXY for https URLs; HTTP_PROXY for http URLs, and for https ones when HTTPS_PROXY is unset', () => {
    const both = readProxySettings({ HTTPS_PROXY: 'http://secure:3128', HTTP_PROXY: 'http://plain:8080' });
    assert.equal(proxyFor(both, new URL('https://reg.example'))?.host, 'secure:3128');
    assert.equal(proxyFor(both, new URL('http://reg.example'))?.host, 'plain:8080');
    const httpOnly = readProxySettings({ HTTP_PROXY: 'http://plain:8080' });
    assert.deepEqual(proxyFor(httpOnly, new URL('https://reg.example')), { url: 'http://plain:8080', host: 'plain:8080', variable: 'HTTP_PROXY', hasCredentials: false });
    const httpsOnly = readProxySettings({ HTTPS_PROXY: 'http://secure:3128' });
    assert.equal(proxyFor(httpsOnly, new URL('http://reg.example')), undefined);
  });

  it('the lower-case form wins over the upper-case one, even empty', () => {
    assert.equal(readProxySettings({ https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' }).https?.variable, 'https_proxy');
    assert.equal(readProxySettings({ https_proxy: '', HTTPS_PROXY: 'http://upper:2' }).https, undefined);
    const s = readProxySettings({ HTTPS_PROXY: 'http://p:1', no_proxy: 'a.example', NO_PROXY: 'b.example' });
    assert.equal(s.noProxyVariable, 'no_proxy');
    assert.equal(proxyFor(s, new URL('https://a.example')), undefined);
    assert.equal(proxyFor(s, new URL('https://b.example'))?.host, 'p:1');
  });

  it('proxy URL forms: scheme or not, default ports, credentials kept for undici and flagged, path dropped', () => {
    assert.deepEqual(parseProxyUrl('proxy.corp:3128', 'HTTPS_PROXY'), { url: 'http://proxy.corp:3128', host: 'proxy.corp:3128', variable: 'HTTPS_PROXY', hasCredentials: false });
    assert.deepEqual(parseProxyUrl(' http://proxy.corp/ ', 'HTTPS_PROXY'), { url: 'http://proxy.corp', host: 'proxy.corp:80', variable: 'HTTPS_PROXY', hasCredentials: false });
    assert.deepEqual(parseProxyUrl('https://proxy.corp', 'https_proxy'), { url: 'https://proxy.corp', host: 'proxy.corp:443', variable: 'https_proxy', hasCredentials: false });
    assert.deepEqual(parseProxyUrl('http://us%40er:p%3Ass@proxy.corp:3128/ignored?x#y', 'HTTP_PROXY'), { url: 'http://us%40er:p%3Ass@proxy.corp:3128', host: 'proxy.corp:3128', variable: 'HTTP_PROXY', hasCredentials: true });
    assert.equal(parseProxyUrl('http://[::1]:3128', 'HTTP_PROXY').host, '[::1]:3128');
  });

  it('a value that is no http(s) proxy URL: PROXY_INVALID naming the variable, never repeating the value', () => {
    for (const value of ['socks5://user:hunter2@proxy:1080', 'ftp://user:hunter2@proxy', 'http://user:hunter2@', 'http://hunter2@[::1', 'http://proxy:99999']) {
      assert.throws(
        () => readProxySettings({ HTTPS_PROXY: value }),
        (e: unknown) => {
          assert.ok(e instanceof ContentTrustError);
          assert.equal(e.code, 'PROXY_INVALID');
          assert.match(e.message, /HTTPS_PROXY/);
          assert.doesNotMatch(e.message, /hunter2/, e.message);
          return true;
        },
        value,
      );
    }
  });
});

describe('NO_PROXY', () => {
  const CASES: Array<[noProxy: string, url: string, bypass: boolean]> = [
    ['', 'https://a.example', false],
    ['a.example', 'https://a.example', true],
    ['a.example', 'https://sub.a.example:5000', true],
    ['a.example', 'https://ba.example', false],
    ['.a.example', 'https://a.example', true],
    ['.a.example', 'https://x.a.example', true],
    ['*.a.example', 'https://a.example', false],
    ['*.a.example', 'https://x.a.example', true],
    ['a.example:8443', 'https://a.example:8443', true],
    ['a.example:8443', 'https://a.example', false],
    ['a.example:443', 'https://a.example', true],
    ['*', 'https://anything.example:1234', true],
    ['*:443', 'https://anything.example', true],
    ['*:443', 'https://anything.example:8443', false],
    ['127.0.0.1', 'https://127.0.0.1:5000', true],
    ['127.0.0.1:5000', 'https://127.0.0.1:5001', false],
    ['[::1]', 'https://[::1]:5000', true],
    ['[::1]:5000', 'https://[::1]:5000', true],
    ['[::1]:5000', 'https://[::1]:5001', false],
    ['::1', 'https://[::1]:5000', true],
    ['A.Example.', 'https://a.example', true],
    ['a.example', 'https://A.EXAMPLE./v2/', true],
    ['x.example, a.example', 'https://a.example', true],
    ['x.example a.example', 'https://a.example', true],
    ['x.example,,', 'https://a.example', false],
    ['localhost', 'https://127.0.0.1', false],
    ['example', 'https://a.example', true],
  ];

  it('proxyFor: hosts, .suffix and *.suffix, ports, IPv6, *, case and trailing dots', () => {
    for (const [noProxy, url, bypass] of CASES) {
      const s = readProxySettings({ HTTPS_PROXY: 'http://proxy.test:3128', NO_PROXY: noProxy });
      assert.equal(proxyFor(s, new URL(url)) === undefined, bypass, `NO_PROXY=${JSON.stringify(noProxy)} ${url}`);
    }
  });

  describe('agrees with undici: a request goes to the proxy exactly when proxyFor names one', () => {
    let proxy: Server;
    let port = 0;
    const connects: string[] = [];
    before(async () => {
      // Records each CONNECT's target and refuses it: no request ever leaves the machine.
      proxy = createServer((socket) => {
        socket.once('data', (d) => {
          connects.push(/^CONNECT (\S+) /.exec(d.toString('latin1'))?.[1] ?? '?');
          socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
        });
        socket.on('error', () => {});
      });
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      port = (proxy.address() as AddressInfo).port;
    });
    after(() => new Promise<void>((r) => proxy.close(() => r())));

    for (const [noProxy, url] of CASES) {
      it(`NO_PROXY=${JSON.stringify(noProxy)} ${url}`, async () => {
        const direct: string[] = [];
        const agent = new EnvHttpProxyAgent({
          httpsProxy: `http://127.0.0.1:${port}`,
          httpProxy: '',
          noProxy,
          // The direct agent's connector: records, never connects.
          connect: (opts: { hostname: string; port: string }, cb: (e: Error, s: null) => void) => {
            direct.push(`${opts.hostname}:${opts.port}`);
            cb(new Error('direct connection refused by the test'), null);
          },
        });
        const before = connects.length;
        const u = new URL(url);
        await new Promise<void>((resolve) => {
          agent.dispatch({ origin: u.origin, path: '/', method: 'GET' }, { onRequestStart: () => {}, onResponseStart: () => {}, onResponseData: () => {}, onResponseError: () => resolve(), onResponseEnd: () => resolve() });
        });
        await agent.destroy();
        const viaProxy = connects.length > before;
        assert.equal(viaProxy, direct.length === 0, 'either the proxy or the direct connector');
        const s = readProxySettings({ HTTPS_PROXY: `http://127.0.0.1:${port}`, NO_PROXY: noProxy });
        assert.equal(viaProxy, proxyFor(s, u) !== undefined, `undici ${viaProxy ? 'proxied' : 'went direct'}`);
      });
    }
  });
});
