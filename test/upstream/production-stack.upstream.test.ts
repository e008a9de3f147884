/**
 * The production stack (test/stack/production.ts): notary-server with
 * notary-signer over mutual TLS, both on PostgreSQL, behind token auth. First
 * that the harness builds that shape, then what notary-server 0.7 does on
 * PostgreSQL that it does not do on memory storage, and that the product's
 * tests and test helpers allow for.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { httpsRequest } from '../stack/https.ts';
import { NOTARY_SERVICE, REGISTRY_SERVICE } from '../stack/production.ts';
import type { Stack } from '../stack/index.ts';
import { initRepo, useStack } from '../integration/helpers.ts';
import { snapshotHashesGoReEncoding } from './helpers.ts';

/** GET a file from the token-protected Notary server with a pull token minted for the stack's account. */
async function notaryGet(stack: Stack, gun: string, path: string) {
  const token = stack.auth!.issuer.mint(stack.auth!.username, NOTARY_SERVICE, [{ type: 'repository', name: gun, actions: ['pull'] }]);
  return httpsRequest(`${stack.notary.url}/v2/${gun}/_trust/tuf/${path}`, { ca: stack.ca.caPem, headers: { Authorization: `Bearer ${token}` } });
}

describe('the production stack: notary-server 0.7 and notary-signer on PostgreSQL, token auth', () => {
  const ctx = useStack({ production: true });

  it('harness: is the production shape: remote ecdsa signer with client certificate, postgres storage, Bearer challenges from the token issuer', async () => {
    const config = JSON.parse(await readFile(ctx.stack.notary.configPath, 'utf8'));
    assert.equal(config.trust_service.type, 'remote');
    assert.equal(config.trust_service.key_algorithm, 'ecdsa');
    assert.ok(config.trust_service.tls_client_cert && config.trust_service.tls_client_key);
    assert.equal(config.storage.backend, 'postgres');
    assert.equal(config.auth.type, 'token');
    const signerConfig = JSON.parse(await readFile(ctx.stack.signer!.configPath, 'utf8'));
    assert.equal(signerConfig.storage.backend, 'postgres');
    assert.ok(signerConfig.server.client_ca_file, 'the signer demands client certificates');

    const gun = ctx.stack.gun('prod/shape');
    const anonymous = await httpsRequest(`${ctx.stack.notary.url}/v2/${gun}/_trust/tuf/root.json`, { ca: ctx.stack.ca.caPem });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers['www-authenticate'], `Bearer realm="${ctx.stack.auth!.issuer.realm}",service="${NOTARY_SERVICE}",scope="repository:${gun}:pull"`);
    const registry = await httpsRequest(`${ctx.stack.registry.url}/v2/prod/shape/tags/list`, { ca: ctx.stack.ca.caPem });
    assert.equal(registry.status, 401);
    assert.match(String(registry.headers['www-authenticate']), new RegExp(`^Bearer realm="${ctx.stack.auth!.issuer.realm}",service="${REGISTRY_SERVICE}"`));

    // docker trust signer add initialises the repository through token auth: the signer makes ecdsa
    // timestamp and snapshot keys and keeps them in its own database; the server stores the metadata in its own.
    await initRepo(ctx.stack, 'prod/shape', ctx.ci);
    const keys = await ctx.stack.postgres!.query('notarysigner', `SELECT role || ':' || algorithm FROM private_keys WHERE gun = '${gun}' ORDER BY role`);
    assert.deepEqual(keys.split('\n').filter(Boolean), ['snapshot:ecdsa', 'timestamp:ecdsa']);
    const stored = await ctx.stack.postgres!.query('notaryserver', `SELECT role || ':' || version FROM tuf_files WHERE gun = '${gun.replace(/'/g, "''")}' ORDER BY role, version`);
    assert.deepEqual(
      stored
        .split('\n')
        .filter(Boolean)
        .filter((r) => r.startsWith('root') || r.startsWith('timestamp')),
      ['root:1', 'timestamp:1'],
    );
    const timestamp = JSON.parse((await notaryGet(ctx.stack, gun, 'timestamp.json')).body.toString('utf8'));
    assert.deepEqual(
      timestamp.signatures.map((s: { method: string }) => s.method),
      ['ecdsa'],
    );
  });

  // Test side: trustFile in test/integration/helpers.ts reads this 500 as "no file". The product reads
  // delegations only as the snapshot lists them, so it never asks for such a role (production.itg.test.ts signs there).
  it('notary-server 0.7 on PostgreSQL: a delegation that targets lists but nobody published answers 500 UNKNOWN (memory storage: 404); an unknown GUN still 404', async () => {
    const gun = await initRepo(ctx.stack, 'prod/missing-role', ctx.ci);
    const missing = await notaryGet(ctx.stack, gun, 'targets/ci.json');
    assert.equal(missing.status, 500);
    assert.deepEqual(JSON.parse(missing.body.toString('utf8')), { errors: [{ code: 'UNKNOWN', message: 'unknown error', detail: { Role: 'targets/ci' } }] });
    assert.equal((await notaryGet(ctx.stack, ctx.stack.gun('prod/never-initialised'), 'targets/ci.json')).status, 404);
    assert.equal((await notaryGet(ctx.stack, ctx.stack.gun('prod/never-initialised'), 'root.json')).status, 404);
  });

  // Product side: sign.itg.test.ts, run on this stack by production-flows.itg.test.ts.
  it('notary-server 0.7 on PostgreSQL: a snapshot it makes hashes its Go re-encoding of an uploaded delegation, which then cannot be read back (404)', async () => {
    await snapshotHashesGoReEncoding(ctx, 'prod/server-reencodes');
  });
});
