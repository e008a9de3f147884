/**
 * Credentials go only where they belong. Registry A is real notary-server and
 * docker-registry behind the loopback token issuer, laid out as Docker Hub
 * (the realm on a host of its own, https). Registry B, a foreign token realm
 * and a hostile Notary server are recorders that log every Authorization
 * header they get. The action runs as the runner runs it (node dist/index.js),
 * with `username`/`password` for A.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeCa, REPOSITORY_PASSPHRASE, type TestCa } from '../stack/index.ts';
import { startShape, type Shape } from '../stack/registry-auth-shapes.ts';
import { startRecorder, type Recorder, type RecordedRequest } from '../stack/recorder.ts';
import { assertRefused, describeRun, runDist, type ActionRun } from './helpers.ts';
import { HttpClient } from '../../src/http/client.ts';
import { AuthClient } from '../../src/http/auth.ts';
import type { ContentTrustError } from '../../src/errors.ts';

const USER = 'hubuser';
const PASSWORD = 'p4ss-w0rd-for-registry-a';

/** A registry or Notary server that wants a token from `realm` for `service` before it answers 200. */
function wantsToken(realm: string, service: string) {
  return (req: RecordedRequest) =>
    req.authorization?.startsWith('Bearer ') ? { status: 200, body: '{}' } : { status: 401, headers: { 'www-authenticate': `Bearer realm="${realm}",service="${service}"` }, body: '{"errors":[{"code":"UNAUTHORIZED"}]}' };
}

describe('credentials go only where they belong', () => {
  let work: string;
  let ca: TestCa;
  let a: Shape;
  let gunA: string;
  let ciKey: string;
  const recorders: Recorder[] = [];
  const record = async (...args: Parameters<typeof startRecorder>) => {
    const r = await startRecorder(...args);
    recorders.push(r);
    return r;
  };

  /** node dist/index.js with the inputs, an empty Docker config and a workspace holding `dockerfile` (if given). */
  async function runAction(inputs: Record<string, string>, dockerfile?: string, files: Record<string, string> = {}): Promise<ActionRun> {
    const workspace = mkdtempSync(join(work, 'workspace-'));
    const dockerConfig = join(workspace, '.docker');
    mkdirSync(dockerConfig);
    writeFileSync(join(dockerConfig, 'config.json'), '{}');
    if (dockerfile !== undefined) writeFileSync(join(workspace, 'Dockerfile'), dockerfile);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(workspace, name), text);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', DOCKER_CONFIG: dockerConfig, GITHUB_WORKSPACE: workspace, 'INPUT_CA-CERT': ca.caCertPath };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    return runDist(work, env);
  }

  /** What the token issuer saw during `run`. */
  async function issuerDuring(run: () => Promise<ActionRun>) {
    const from = a.issuer.requests.length;
    const result = await run();
    return { result, seen: a.issuer.requests.slice(from) };
  }

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'cta-creds-scope-'));
    ca = await makeCa(join(work, 'ca'));
    a = await startShape('docker-hub', { dir: work, ca, users: { [USER]: PASSWORD, admin: 'admin-pass' }, login: { username: 'admin', password: 'admin-pass' } });
    await a.push('org/app:v1');
    gunA = a.gun('org/app');
    mkdirSync(join(work, 'keys'), { recursive: true });
    const key = await a.docker.keyGenerate('ci', join(work, 'keys'));
    await a.docker.signerAdd('ci', key.publicKeyPath, gunA);
    ciKey = key.privateKeyPem;
  });
  after(async () => {
    await Promise.allSettled(recorders.map((r) => r.stop()));
    await a?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("with `registry` naming A (as https://host/): A's registry, its foreign https realm and its trust server get them, and signing works", async () => {
    const { result, seen } = await issuerDuring(() =>
      runAction({ mode: 'sign', images: `${gunA}:v1`, 'trust-server': a.trustServer!, registry: `https://${a.registryHost}/`, username: USER, password: PASSWORD, 'delegation-key': ciKey, 'delegation-passphrase': REPOSITORY_PASSPHRASE }),
    );
    assert.equal(result.code, 0, describeRun(result));
    assert.ok(seen.some((r) => r.service === a.registryService) && seen.some((r) => r.service === a.notaryService), 'tokens for the registry and the Notary server');
    for (const r of seen) assert.deepEqual([r.grantType, r.account, r.status], ['basic', USER, 200], JSON.stringify(r));
  });

  it('a registry only a `manifests` file names never gets them either', async () => {
    const b = await record(ca, wantsToken(a.issuer.realm, a.registryService));
    const gunB = `${b.host}/org/app`;
    const deploy = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: b, image: "${gunB}:v1"}\n`;
    const { result, seen } = await issuerDuring(() => runAction({ mode: 'verify', images: `${gunA}:v1`, manifests: 'pod.yaml', 'trust-server': a.trustServer!, username: USER, password: PASSWORD }, undefined, { 'pod.yaml': deploy }));
    assert.equal(result.code, 1, describeRun(result));
    assert.ok(b.requests.length > 0, 'the action asked B for the image the file names');
    assert.deepEqual(b.authorizations(), [], 'B saw no Authorization header');
    assert.ok(result.errors.some((e) => e.title.startsWith('AUTH_REFUSED') && e.title.includes(gunB)));
    for (const r of seen.filter((r) => r.account !== undefined))
      assert.ok(
        r.scopes.every((s) => s.name !== gunB),
        `B's repository with A's credentials: ${JSON.stringify(r)}`,
      );
  });

  it("a registry only a `dockerfile` line names never gets them, even when its challenge copies A's realm, service and scope", async () => {
    // B hosts org/app too and names A's realm and service: with A's token
    // cached under realm|service|scope|user, B would be handed it.
    const b = await record(ca, wantsToken(a.issuer.realm, a.registryService));
    const gunB = `${b.host}/org/app`;
    const { result, seen } = await issuerDuring(() => runAction({ mode: 'verify', images: `${gunA}:v1`, dockerfile: 'Dockerfile', 'trust-server': a.trustServer!, username: USER, password: PASSWORD }, `FROM ${gunB}:v1\n`));
    assert.equal(result.code, 1, describeRun(result));
    assert.ok(b.requests.length > 0, 'the action asked B for the base image');
    assert.deepEqual(b.authorizations(), [], 'B saw no Authorization header');
    const failed = result.errors.map((e) => e.title);
    assert.ok(
      failed.some((t) => t.startsWith('AUTH_REFUSED') && t.includes(gunB)),
      `B's image refused anonymously: ${failed.join(',')}`,
    );
    assert.ok(!failed.some((t) => t.includes(gunA)), `A's image verified: ${failed.join(',')}`);
    // The issuer: A's user only for A's repository; B's repository asked for anonymously.
    for (const r of seen.filter((r) => r.account !== undefined))
      assert.ok(
        r.scopes.every((s) => s.name !== gunB),
        `B's repository with A's credentials: ${JSON.stringify(r)}`,
      );
    assert.ok(
      seen.some((r) => r.grantType === 'anonymous'),
      "B's trust data asked for anonymously",
    );
  });

  it('username/password with images on two registries and no `registry`: INPUT_INVALID naming both, before any request', async () => {
    const b = await record(ca, wantsToken(a.issuer.realm, a.registryService));
    const { result, seen } = await issuerDuring(() => runAction({ mode: 'verify', images: `${gunA}:v1\n${b.host}/org/app:v1`, 'trust-server': a.trustServer!, username: USER, password: PASSWORD }));
    const names = [a.registryHost, b.host].sort().map((h) => h.replace(/\./g, '\\.'));
    assertRefused(result, 'INPUT_INVALID', new RegExp(`belong to one registry, but images names several \\(${names.join(', ')}\\): set the registry input`));
    assert.deepEqual(seen, [], 'the token issuer was not asked');
    assert.equal(b.connections, 0, 'B was not contacted');
  });

  it('with `registry: A` and images on A and B: B and the foreign realm B names get no Authorization', async () => {
    const realm = await record(ca, () => ({ status: 401, headers: { 'www-authenticate': 'Basic realm="foreign"' }, body: '{"errors":[{"code":"UNAUTHORIZED"}]}' }));
    const b = await record(ca, wantsToken(`${realm.url}/token`, 'registry-b'));
    const gunB = `${b.host}/org/app`;
    const { result, seen } = await issuerDuring(() => runAction({ mode: 'verify', images: `${gunA}:v1\n${gunB}:v1`, 'trust-server': a.trustServer!, registry: a.registryHost, username: USER, password: PASSWORD }));
    assert.equal(result.code, 1, describeRun(result));
    assert.ok(b.requests.length > 0 && realm.requests.length > 0, "the action asked B, and B's realm for a token");
    assert.deepEqual(b.authorizations(), [], 'B saw no Authorization header');
    assert.deepEqual(realm.authorizations(), [], "B's realm saw no Authorization header");
    assert.ok(
      seen.some((r) => r.account === USER),
      'A got them',
    );
    for (const r of seen.filter((r) => r.account !== undefined))
      assert.ok(
        r.scopes.every((s) => s.name !== gunB),
        `B's repository with A's credentials: ${JSON.stringify(r)}`,
      );
    assert.ok(!result.errors.some((e) => e.title.includes(gunA)), `A's image verified: ${result.errors.map((e) => e.title).join(',')}`);
  });

  it('a Notary server whose Bearer challenge names an http:// realm: AUTH_REALM_INSECURE naming both; the realm gets nothing', async () => {
    const plain = await record(undefined, () => ({ status: 200, body: '{"token":"t"}' }));
    const notary = await record(ca, wantsToken(`${plain.url}/token`, 'notary'));
    const result = await runAction({ mode: 'verify', images: `${gunA}:v1`, 'trust-server': notary.url, username: USER, password: PASSWORD });
    assertRefused(
      result,
      'AUTH_REALM_INSECURE',
      new RegExp(`^${notary.url.replace(/\./g, '\\.')} sent a Bearer challenge naming a plain-http token realm, "${plain.url.replace(/\./g, '\\.')}/token" \\(scope repository:${gunA.replace(/\./g, '\\.')}:[a-z,*]+\\): nothing was sent there`),
    );
    assert.ok(notary.requests.length > 0);
    assert.deepEqual(notary.authorizations(), [], 'the Notary server saw no Authorization header');
    assert.equal(plain.connections, 0, 'the plain-http realm was never connected to');
  });

  it("a token got for origin X is never sent to origin Y, though Y's challenge names the same realm, service and scope", async () => {
    const x = await record(ca, wantsToken(a.issuer.realm, a.registryService));
    const y = await record(ca, wantsToken(a.issuer.realm, a.registryService));
    const http = new HttpClient({ ca: ca.caPem });
    const client = new AuthClient(http);
    const credentials = { username: USER, password: PASSWORD };
    const scope = 'repository:org/app:pull';
    const from = a.issuer.requests.length;
    try {
      for (const origin of [x.url, y.url, x.url]) {
        const res = await client.send(`${origin}/v2/org/app/manifests/v1`, { credentials, scope });
        assert.equal(res.status, 200);
      }
    } finally {
      http.close();
    }
    const [toX, againX] = x.authorizations();
    const [toY] = y.authorizations();
    assert.ok(toX?.startsWith('Bearer ') && toY?.startsWith('Bearer '), 'each got a token');
    assert.notEqual(toY, toX, "Y got a token of its own, not X's");
    assert.equal(againX, toX, "X's token is reused for X");
    assert.equal(a.issuer.requests.length - from, 2, 'one token request per origin');
  });

  it('a token answer that is not a JSON object with a clean token is AUTH_REFUSED naming the token service; the server gets no header', async () => {
    const answers = ['not json', '["token"]', '{"token":"abc\\r\\nx-injected: 1"}', '{"token":42}', `${'['.repeat(100)}${']'.repeat(100)}`, '{"constructor":"t"}'];
    let next = '';
    const realm = await record(ca, () => ({ status: 200, body: next }));
    const server = await record(ca, wantsToken(`${realm.url}/token`, 'svc'));
    const http = new HttpClient({ ca: ca.caPem });
    try {
      for (const answer of answers) {
        next = answer;
        await assert.rejects(new AuthClient(http).send(`${server.url}/v2/org/app/manifests/v1`, { scope: 'repository:org/app:pull' }), (e: ContentTrustError) => {
          assert.equal(e.code, 'AUTH_REFUSED', `${answer}: ${e.message}`);
          assert.match(e.message, new RegExp(`^token service ${realm.url.replace(/\./g, '\\.')}/token(:| sent no usable token)`));
          return true;
        });
      }
    } finally {
      http.close();
    }
    assert.equal(realm.requests.length, answers.length);
    assert.deepEqual(server.authorizations(), []);
  });
});
