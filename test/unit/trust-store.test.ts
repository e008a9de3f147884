/** Remembered trust on disk: docker's layout, round trip, refusals. */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileTrustStore, defaultTrustDir, metadataDir } from '../../src/notary/trust-store.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { defaultConfig } from '../../src/config.ts';
import { GUN, NOW, fakeServer, fixtureBytes, fixtureFiles, loadRepo } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

describe('trust store', () => {
  it("uses docker's trust directory by default", () => {
    assert.equal(defaultTrustDir({}, '/home/u'), '/home/u/.docker/trust');
    assert.equal(defaultTrustDir({ DOCKER_CONFIG: '/cfg' }, '/home/u'), '/cfg/trust');
    assert.equal(metadataDir('/t', 'host:5000/org/app'), '/t/tuf/host:5000/org/app/metadata');
  });

  it('refuses a GUN that would leave the trust directory', () => {
    for (const gun of ['host/../../etc', 'host//app', 'host/./app', '/abs']) {
      assert.throws(() => metadataDir('/t', gun), { code: 'METADATA_INVALID' }, gun);
    }
  });

  it('saves every trusted file byte for byte and loads versions back; nothing remembered is undefined', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cta-store-'));
    try {
      const store = new FileTrustStore(dir);
      assert.equal(await store.load(GUN), undefined);
      await store.save(await loadRepo());
      const md = metadataDir(dir, GUN);
      for (const role of ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/ci'] as const) {
        assert.deepEqual(await readFile(join(md, `${role}.json`)), fixtureBytes(role), role);
      }
      const state = (await store.load(GUN))!;
      assert.deepEqual(state.root.raw, fixtureBytes('root'));
      const version = (role: 'timestamp' | 'snapshot' | 'targets' | 'targets/releases' | 'targets/ci') => JSON.parse(fixtureBytes(role).toString('utf8')).signed.version;
      assert.deepEqual(Object.fromEntries(state.versions), Object.fromEntries((['timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/ci'] as const).map((r) => [r, version(r)])));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('an update from remembered state: the same data passes, a timestamp below it is ROLLBACK', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cta-store-'));
    try {
      const store = new FileTrustStore(dir);
      await updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: NOW, store });
      const again = await updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: NOW, store });
      assert.ok(again.trustedBefore, 'the second update starts from the remembered state');
      const ts = JSON.parse(fixtureBytes('timestamp').toString('utf8'));
      const path = join(metadataDir(dir, GUN), 'timestamp.json');
      await writeFile(path, JSON.stringify({ ...ts, signed: { ...ts.signed, version: ts.signed.version + 1 } }));
      await assertCode(updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: NOW, store }), 'ROLLBACK');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
