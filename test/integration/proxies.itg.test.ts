/**
 * The action behind a real forward proxy (tinyproxy, test/stack/http-proxy.ts)
 * between it and the real registry and notary-server: HTTPS_PROXY sends every
 * connection through a CONNECT tunnel, NO_PROXY bypasses it, a proxy that
 * denies or refuses the credentials ends the run with PROXY_FAILED naming the
 * proxy and the variable, and a proxy password appears nowhere.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pushImage } from '../stack/index.ts';
import { startHttpProxy, type HttpProxy } from '../stack/http-proxy.ts';
import { describeRun, hex, initRepo, runAction, trustState, useStack } from './helpers.ts';

const PROXY_USER = 'ci-proxy';
const PROXY_PASSWORD = 'Pr0xy-pass-4d1e';
const WRONG_PASSWORD = 'Wr0ng-pass-77c2';

describe('proxies: the action through tinyproxy', () => {
  const ctx = useStack();
  let open: HttpProxy;
  let authed: HttpProxy;
  let denying: HttpProxy;

  before(async () => {
    [open, authed, denying] = await Promise.all([
      startHttpProxy({ dir: ctx.stack.dir, name: 'proxy-open' }),
      startHttpProxy({ dir: ctx.stack.dir, name: 'proxy-auth', basicAuth: { user: PROXY_USER, password: PROXY_PASSWORD } }),
      startHttpProxy({ dir: ctx.stack.dir, name: 'proxy-deny', denyAll: true }),
    ]);
  });
  after(async () => {
    await Promise.all([open?.stop(), authed?.stop(), denying?.stop()]);
  });

  const notaryHost = () => new URL(ctx.stack.notary.url).host;

  it('HTTPS_PROXY: sign and verify succeed, and every connection was a CONNECT through the proxy, to the registry or the Notary server', async () => {
    const img = await pushImage(ctx.stack, 'proxy/through:v1');
    const gun = await initRepo(ctx.stack, 'proxy/through', ctx.ci);
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { HTTPS_PROXY: open.url, RUNNER_DEBUG: '1' });
    assert.equal(sign.code, 0, describeRun(sign));
    const afterSign = await open.connects();
    assert.ok(afterSign.includes(ctx.stack.registry.host), `a CONNECT to the registry: ${afterSign.join(', ')}`);
    assert.ok(afterSign.includes(notaryHost()), `a CONNECT to the Notary server: ${afterSign.join(', ')}`);
    assert.deepEqual(new Set(afterSign), new Set([ctx.stack.registry.host, notaryHost()]));
    assert.match(sign.stdout, new RegExp(`via the proxy ${open.host.replace(/\./g, '\\.')} \\(from HTTPS_PROXY\\) -> HTTP 200`));
    assert.deepEqual(
      (await ctx.stack.notaryCli.list(gun, { role: 'targets/releases' })).map((r) => r.digest),
      [hex(img.digest)],
    );

    // The lower-case form, for verify.
    const verify = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { https_proxy: open.url });
    assert.equal(verify.code, 0, describeRun(verify));
    assert.ok((await open.connects()).length > afterSign.length, 'verify went through the proxy too');
  });

  it("NO_PROXY naming the servers' host bypasses the proxy: the run succeeds, the proxy logs no CONNECT", async () => {
    const img = await pushImage(ctx.stack, 'proxy/bypass:v1');
    await initRepo(ctx.stack, 'proxy/bypass', ctx.ci);
    for (const noProxy of ['127.0.0.1', `${ctx.stack.registry.host},${notaryHost()}`]) {
      const before = (await open.connects()).length;
      const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { HTTPS_PROXY: open.url, NO_PROXY: noProxy });
      assert.equal(run.code, 0, describeRun(run));
      assert.equal((await open.connects()).length, before, `NO_PROXY=${noProxy}: no CONNECT`);
    }
  });

  it('a proxy that denies the runner: PROXY_FAILED naming the proxy and HTTPS_PROXY, nothing published', async () => {
    const img = await pushImage(ctx.stack, 'proxy/denied:v1');
    const gun = await initRepo(ctx.stack, 'proxy/denied', ctx.ci);
    const before = await trustState(ctx.stack, gun);
    const run = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { HTTPS_PROXY: denying.url });
    assert.equal(run.code, 1, describeRun(run));
    const [error] = run.errors;
    assert.match(error?.title ?? '', /^PROXY_FAILED: /, describeRun(run));
    assert.match(error!.message, new RegExp(`the proxy ${denying.host.replace(/\./g, '\\.')} \\(from HTTPS_PROXY\\) refused to open a connection to 127\\.0\\.0\\.1:\\d+ \\(HTTP 403\\): ask for the proxy to allow CONNECT`));
    assert.deepEqual(await trustState(ctx.stack, gun), before);
  });

  it('a proxy that asks for Basic credentials: those in HTTPS_PROXY work; wrong or none: PROXY_FAILED, and the password appears nowhere', async () => {
    const img = await pushImage(ctx.stack, 'proxy/authed:v1');
    await initRepo(ctx.stack, 'proxy/authed', ctx.ci);
    const good = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem }, { HTTPS_PROXY: `http://${PROXY_USER}:${PROXY_PASSWORD}@${authed.host}`, RUNNER_DEBUG: '1' });
    assert.equal(good.code, 0, describeRun(good));
    assert.ok((await authed.connects()).length > 0);

    const wrong = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { HTTPS_PROXY: `http://${PROXY_USER}:${WRONG_PASSWORD}@${authed.host}`, RUNNER_DEBUG: '1' });
    assert.equal(wrong.code, 1, describeRun(wrong));
    assert.match(wrong.errors[0]?.title ?? '', /^PROXY_FAILED: /, describeRun(wrong));
    assert.match(wrong.errors[0]!.message, new RegExp(`the proxy ${authed.host.replace(/\./g, '\\.')} \\(from HTTPS_PROXY\\) refused the user name and password in HTTPS_PROXY`));

    const none = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { HTTPS_PROXY: authed.url });
    assert.equal(none.code, 1, describeRun(none));
    assert.match(none.errors[0]?.title ?? '', /^PROXY_FAILED: /, describeRun(none));
    assert.match(none.errors[0]!.message, /asks for credentials \(HTTP 407 Proxy Authentication Required\) for 127\.0\.0\.1:\d+: give them in HTTPS_PROXY as http:\/\/user:password@host:port/);

    for (const run of [good, wrong, none]) {
      for (const where of [run.stdout, run.stderr, run.outputFile, run.summary]) {
        assert.ok(!where.includes(PROXY_PASSWORD) && !where.includes(WRONG_PASSWORD), 'no proxy password in any output');
        assert.ok(!where.includes(`${PROXY_USER}:`), 'no user:password pair in any output');
      }
    }
  });

  it('a malformed HTTPS_PROXY: PROXY_INVALID naming the variable before any request, the value not repeated', async () => {
    const img = await pushImage(ctx.stack, 'proxy/malformed:v1');
    const before = (await open.connects()).length;
    const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] }, { HTTPS_PROXY: `socks5://${PROXY_USER}:${PROXY_PASSWORD}@${open.host}` });
    assert.equal(run.code, 1, describeRun(run));
    assert.match(run.errors[0]?.title ?? '', /^PROXY_INVALID: /, describeRun(run));
    assert.match(run.errors[0]!.message, /HTTPS_PROXY names a "socks5:" proxy; only http:\/\/ and https:\/\/ proxies are supported/);
    assert.ok(!run.text.includes(PROXY_PASSWORD));
    assert.equal((await open.connects()).length, before);
  });
});
