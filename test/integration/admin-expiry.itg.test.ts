import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { httpsRequest } from '../stack/https.ts';
import { libraryEnv, useStack } from './helpers.ts';
import { initRepository } from '../../src/notary/admin/init.ts';
import { administer, adminClient } from '../../src/notary/admin/workflow.ts';
import { parseSignerKeys } from '../../src/notary/admin/common.ts';
import { planAddSigner } from '../../src/notary/admin/signers.ts';
import { parseReference } from '../../src/registry/reference.ts';
import { generateKey } from '../../src/tuf/key-file.ts';
import { toSigningKey } from '../../src/tuf/private-key.ts';

// An expiry as JavaScript's toISOString writes it (".100Z") is accepted, but notary-server hashes its own
// Go re-encoding into the snapshot (".1Z"; test/upstream/notary.upstream.test.ts), so the snapshot would
// name a body one byte shorter than the stored one and every later read would fail.
describe('expiry written as Go writes it', () => {
  const ctx = useStack();

  it('a publish at a whole-tenth millisecond leaves a snapshot whose hashes match the stored files', async () => {
    const { stack, ci } = ctx;
    const env = libraryEnv(stack);
    const now = new Date('2026-11-25T10:00:00.100Z');
    env.now = () => now;
    const ref = parseReference(`${stack.gun('org/expiry')}:x`);
    const targetsKey = generateKey();
    await initRepository(adminClient(env, ref), { targetsKey, now });
    const keys = parseSignerKeys(await readFile(ci.publicKeyPath, 'utf8'), 'ci');
    await administer(env, [ref], (repo, _c, t) => planAddSigner(repo, toSigningKey(targetsKey, 'targets', ref.gun), 'ci', keys, t));
    const get = (p: string) => httpsRequest(`${stack.notary.url}/v2/${ref.gun}/_trust/tuf/${p}`, { ca: stack.ca.caPem });
    const snapshot = JSON.parse((await get('snapshot.json')).body.toString()) as { signed: { meta: Record<string, { hashes: { sha256: string }; length: number }> } };
    for (const role of ['root', 'targets']) {
      const body = (await get(`${role}.json`)).body;
      assert.match(body.toString(), /"expires":"20\d\d-11-2\dT10:00:00\.1Z"/);
      assert.equal(snapshot.signed.meta[role]!.length, body.length, role);
      assert.equal(snapshot.signed.meta[role]!.hashes.sha256, createHash('sha256').update(body).digest('base64'), role);
    }
    env.close();
  });
});
