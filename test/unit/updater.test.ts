import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config.ts';
import { checkSnapshotKeepsRoles, updateRepo, type MetadataSource } from '../../src/notary/updater.ts';
import type { TrustedState } from '../../src/notary/model.ts';
import type { TrustStore } from '../../src/notary/trust-store.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { GUN, NOW, fakeServer, fixtureBytes, fixtureFiles, loadRepo, scenario, withSigned } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

describe('updateRepo (captured files, served from memory)', () => {
  it('trusts every role of the captured repository', async () => {
    const repo = await loadRepo();
    assert.equal(repo.gun, GUN);
    assert.deepEqual([...repo.roles.keys()].sort(), ['targets', 'targets/ci', 'targets/releases']);
    for (const r of repo.roles.values()) assert.deepEqual(r.paths, ['']);
    assert.equal(repo.skipped.size, 0);
    assert.deepEqual(repo.warnings, []);
    assert.equal(repo.root.signed.version, 1);
    assert.equal(repo.roles.get('targets')!.meta.signed.version, 2);
    assert.deepEqual(Object.keys(repo.roles.get('targets/ci')!.meta.signed.targets).sort(), Object.keys(scenario.signed['targets/ci']).sort());
    // Delegation keys are parsed once, with the role that lists them.
    const targets = repo.roles.get('targets')!;
    assert.deepEqual([...targets.delegationKeys.keys()].sort(), Object.keys(targets.meta.signed.delegations.keys).sort());
    assert.deepEqual(
      [...targets.delegationKeys.values()].map((k) => k.canonicalId),
      [scenario.delegationKey.canonicalId],
    );
    assert.equal(repo.roles.get('targets/ci')!.delegationKeys.size, 0);
  });

  it('reads root and timestamp by name, then snapshot, targets and delegations by the sha256 their parent announced', async () => {
    const requested: string[] = [];
    const repo = await updateRepo(fakeServer(fixtureFiles(), GUN, requested), { config: defaultConfig, now: NOW });
    const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
    const expected = ['root', 'timestamp', `snapshot.${hex(repo.timestamp.signed.meta.snapshot.hashes.sha256!)}`, ...['targets', 'targets/ci', 'targets/releases'].map((r) => `${r}.${hex(repo.snapshot.signed.meta[r]!.hashes.sha256!)}`)];
    assert.deepEqual(requested.sort(), expected.sort());
  });

  it('a file that does not match its announced hash is HASH_MISMATCH', async () => {
    const files = fixtureFiles();
    const ci = Buffer.from(files.get('targets/ci')!);
    ci[ci.length - 5] = ci.readUInt8(ci.length - 5) ^ 1;
    files.set('targets/ci', ci);
    await assertCode(loadRepo(files), 'HASH_MISMATCH', /targets\/ci\.json/);
  });

  it('an expired timestamp is EXPIRED', async () => {
    await assertCode(loadRepo(fixtureFiles(), new Date(NOW.getTime() + 15 * 86_400_000)), 'EXPIRED', /timestamp\.json/);
  });

  it('a root certificate for another GUN is ROOT_INVALID', async () => {
    await assertCode(updateRepo(fakeServer(fixtureFiles(), 'docker.io/library/alpine'), { config: defaultConfig, now: NOW }), 'ROOT_INVALID', /CN must be docker\.io\/library\/alpine/);
  });

  it('no root on the server is REPO_NOT_INITIALISED', async () => {
    const files = fixtureFiles();
    files.delete('root');
    await assertCode(loadRepo(files), 'REPO_NOT_INITIALISED', /docker trust signer add/);
  });

  it('warns about metadata expiring within the warning window', async () => {
    const repo = await loadRepo(fixtureFiles(), NOW);
    assert.deepEqual(repo.warnings, []);
    // Three years on the delegations would be close to expiry, but the timestamp has long expired then; shorten the window instead.
    const warned = await updateRepo(fakeServer(fixtureFiles()), { config: { ...defaultConfig, expiryWarningDays: 3 * 365 + 30 }, now: NOW });
    assert.ok(
      warned.warnings.some((w) => /targets\/ci\.json expires in \d+ days/.test(w)),
      warned.warnings.join('\n'),
    );
  });
});

describe('checkSnapshotKeepsRoles (TUF client workflow 5.5.5: a newer snapshot keeps every targets role)', () => {
  const remembered = parseMetadata(fixtureBytes('snapshot'), 'snapshot', 'Snapshot');
  /** The captured snapshot, one version on, with `edit` applied to its meta (signatures are not checked here). */
  const next = (edit: (meta: Record<string, unknown>) => void) => {
    const doc = JSON.parse(fixtureBytes('snapshot').toString('utf8'));
    doc.signed.version += 1;
    edit(doc.signed.meta);
    return parseMetadata(Buffer.from(JSON.stringify(doc)), 'snapshot', 'Snapshot');
  };

  it('a delegation its parent still delegates, left out of the newer snapshot: ROLLBACK naming the role and the repository', async () => {
    const repo = await loadRepo();
    const dropped = next((m) => delete m['targets/releases']);
    assertCode(
      () => checkSnapshotKeepsRoles(remembered, dropped, repo.roles, GUN),
      'ROLLBACK',
      new RegExp(
        `^${GUN.replace(/[.]/g, '\\.')}: snapshot\\.json version ${remembered.signed.version + 1} no longer lists targets/releases, which the snapshot trusted before \\(version ${remembered.signed.version}\\) listed and targets still delegates`,
      ),
    );
  });

  it('a delegation its parent no longer delegates may go (docker trust signer remove)', async () => {
    const repo = withSigned(await loadRepo(), 'targets', (t) => (t.delegations.roles = t.delegations.roles.filter((r) => r.name !== 'targets/ci')));
    checkSnapshotKeepsRoles(
      remembered,
      next((m) => delete m['targets/ci']),
      repo.roles,
      GUN,
    );
  });

  it('nothing remembered, the same snapshot, or one listing more: nothing to refuse', async () => {
    const repo = await loadRepo();
    const dropped = next((m) => delete m['targets/releases']);
    checkSnapshotKeepsRoles(undefined, dropped, repo.roles, GUN);
    checkSnapshotKeepsRoles(remembered, remembered, repo.roles, GUN);
    checkSnapshotKeepsRoles(dropped, remembered, repo.roles, GUN);
  });

  it('updateRepo: a remembered snapshot that listed a role targets no longer delegates does not refuse the current one', async () => {
    const files = fixtureFiles();
    const older = JSON.parse(files.get('snapshot')!.toString('utf8'));
    older.signed.meta['targets/gone'] = older.signed.meta['targets/ci'];
    const trusted = { root: parseMetadata(files.get('root')!, 'root', 'Root'), versions: new Map<string, number>(), source: 'memory', files: new Map([['snapshot', Buffer.from(JSON.stringify(older))]]) };
    const repo = await updateRepo(fakeServer(files), { config: defaultConfig, now: NOW, store: { load: async () => trusted, save: async () => {} } });
    assert.equal(repo.trustedBefore, trusted);
    assert.ok(repo.roles.has('targets/releases'));
  });
});

describe('updateRepo, step by step (TUF client workflow 5.3-5.6.7)', () => {
  /** A store that remembers `state` for GUN and records what it is asked to save. */
  const memoryStore = (state: TrustedState | undefined, saved: unknown[] = []): TrustStore => ({ load: async () => state, save: async (repo) => void saved.push(repo) });
  const rootMeta = () => parseMetadata(fixtureBytes('root'), 'root', 'Root');
  /** The captured source with `current` answering as `answer` says for the roles it names. */
  const answering = (answer: Partial<Record<'root' | 'timestamp', () => Promise<Buffer | undefined>>>): MetadataSource => {
    const base = fakeServer(fixtureFiles());
    return { ...base, current: (role, max) => (answer[role as 'root' | 'timestamp'] ?? (() => base.current(role, max)))() };
  };

  it('5.4: a timestamp fetch that failed is reported at the timestamp step, once the root verified', async () => {
    const failure = new Error('timestamp fetch failed');
    await assert.rejects(updateRepo(answering({ timestamp: async () => Promise.reject(failure) }), { config: defaultConfig, now: NOW }), (e) => e === failure);
  });

  it('5.3 before 5.4: no root is REPO_NOT_INITIALISED even when the timestamp fetch failed too (and that failure is not left unhandled)', async () => {
    const source = answering({ root: async () => undefined, timestamp: async () => Promise.reject(new Error('timestamp fetch failed')) });
    await assertCode(updateRepo(source, { config: defaultConfig, now: NOW }), 'REPO_NOT_INITIALISED', new RegExp(`^${GUN.replace(/[.]/g, '\\.')} has no trust data`));
  });

  it('5.3: a root fetch that failed is reported, not the timestamp', async () => {
    const failure = new Error('root fetch failed');
    await assert.rejects(updateRepo(answering({ root: async () => Promise.reject(failure) }), { config: defaultConfig, now: NOW }), (e) => e === failure);
  });

  it('5.4: a root but no timestamp is METADATA_INVALID naming the repository', async () => {
    await assertCode(updateRepo(answering({ timestamp: async () => undefined }), { config: defaultConfig, now: NOW }), 'METADATA_INVALID', /has a root but no timestamp/);
  });

  it('5.3, 5.4: a root or timestamp that is not metadata (an HTML page) is METADATA_INVALID naming the repository and blaming the server', async () => {
    const page = async () => Buffer.from('<html><body>502 Bad Gateway</body></html>');
    const blamed = (file: string) => new RegExp(`^${GUN.replace(/[.]/g, '\\.')}: the Notary server's ${file}\\.json is not JSON, so it is not trust data for this repository: check the server with its operator, or that trust-server`);
    await assertCode(updateRepo(answering({ root: page }), { config: defaultConfig, now: NOW }), 'METADATA_INVALID', blamed('root'));
    await assertCode(updateRepo(answering({ timestamp: page }), { config: defaultConfig, now: NOW }), 'METADATA_INVALID', blamed('timestamp'));
  });

  it('5.3: no root on the server, though one is remembered: REPO_NOT_INITIALISED says where it is remembered', async () => {
    const state: TrustedState = { root: rootMeta(), versions: new Map(), source: '/remembered/dir', files: new Map() };
    await assertCode(updateRepo(answering({ root: async () => undefined }), { config: defaultConfig, now: NOW, store: memoryStore(state) }), 'REPO_NOT_INITIALISED', /remembered in \/remembered\/dir/);
  });

  it("5.3: a remembered root that differs from the server's and does not verify is METADATA_INVALID naming where it is kept; no N.root.json is asked for", async () => {
    const doc = JSON.parse(fixtureBytes('root').toString('utf8'));
    doc.signed.version = 2;
    const altered = parseMetadata(Buffer.from(JSON.stringify(doc)), 'root', 'Root');
    const requested: string[] = [];
    const state: TrustedState = { root: altered, versions: new Map(), source: '/remembered/dir', files: new Map() };
    await assertCode(updateRepo(fakeServer(fixtureFiles(), GUN, requested), { config: defaultConfig, now: NOW, store: memoryStore(state) }), 'METADATA_INVALID', /remembered root\.json in \/remembered\/dir does not verify/);
    assert.deepEqual(
      requested.filter((r) => /^\d+\.root$/.test(r)),
      [],
    );
  });

  for (const role of ['timestamp', 'snapshot', 'targets', 'targets/ci'] as const) {
    it(`${role}: a version below the one trusted before is ROLLBACK (fatal, delegation or not)`, async () => {
      const version = JSON.parse(fixtureBytes(role).toString('utf8')).signed.version as number;
      const state: TrustedState = { root: rootMeta(), versions: new Map([[role, version + 1]]), source: 'memory', files: new Map() };
      await assertCode(updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: NOW, store: memoryStore(state) }), 'ROLLBACK', new RegExp(role.replace('/', '\\/')));
    });
  }

  it('5.4.4: an update started after the timestamp expired is EXPIRED, even with everything else valid', async () => {
    const expires = parseMetadata(fixtureBytes('timestamp'), 'timestamp', 'Timestamp').expires;
    await assertCode(updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: new Date(expires.getTime() + 1) }), 'EXPIRED', /timestamp\.json/);
  });

  it('5.5.1, 5.6.1: remembered files matching what their parent announces are used as they are, with no fetch', async () => {
    const files = fixtureFiles();
    const remembered = new Map([...files].filter(([r]) => r !== 'timestamp'));
    const state: TrustedState = { root: rootMeta(), versions: new Map(), source: 'memory', files: remembered };
    const requested: string[] = [];
    const saved: unknown[] = [];
    const repo = await updateRepo(fakeServer(files, GUN, requested), { config: defaultConfig, now: NOW, store: memoryStore(state, saved) });
    assert.deepEqual(requested.sort(), ['root', 'timestamp']);
    assert.deepEqual([...repo.roles.keys()].sort(), ['targets', 'targets/ci', 'targets/releases']);
    assert.equal(repo.trustedBefore, state);
    assert.deepEqual(saved, [repo], 'the verified update is persisted once');
  });

  it('persist: a store that cannot save is a warning, not a failure', async () => {
    const store: TrustStore = { load: async () => undefined, save: async () => Promise.reject(new Error('disk full')) };
    const repo = await updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: NOW, store });
    assert.ok(
      repo.warnings.some((w) => w.startsWith(`${GUN}: could not remember the trusted metadata (disk full)`)),
      repo.warnings.join('\n'),
    );
  });
});

describe('updateRepo with allowExpired (refresh and status only)', () => {
  const LATER = new Date(NOW.getTime() + 4 * 365 * 86_400_000);

  it('keeps expired files, every role and delegation included, instead of refusing them; warns with the fix; remembers nothing', async () => {
    const saved: unknown[] = [];
    const store: TrustStore = { load: async () => undefined, save: async (repo) => void saved.push(repo) };
    const repo = await updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: LATER, allowExpired: true, store });
    assert.ok(repo.timestamp.expires < LATER && repo.roles.get('targets')!.meta.expires < LATER, 'expired, and read');
    assert.deepEqual([...repo.roles.keys()].sort(), ['targets', 'targets/ci', 'targets/releases'], 'expired delegations are kept, not skipped');
    assert.equal(repo.skipped.size, 0);
    assert.ok(
      repo.warnings.some((w) => /targets\.json expired at .*re-sign it with the repository key \(mode: refresh, input repository-key/.test(w)),
      repo.warnings.join('\n'),
    );
    assert.deepEqual(saved, [], 'what was read past its expiry is not remembered');
    await assertCode(updateRepo(fakeServer(fixtureFiles()), { config: defaultConfig, now: LATER }), 'EXPIRED', /timestamp\.json expired at .*the Notary server signs timestamp\.json itself/);
  });

  it('still checks everything but expiry: a bad signature or hash is refused', async () => {
    const files = fixtureFiles();
    const ci = Buffer.from(files.get('targets/ci')!);
    ci[ci.length - 5] = ci.readUInt8(ci.length - 5) ^ 1;
    files.set('targets/ci', ci);
    await assertCode(updateRepo(fakeServer(files), { config: defaultConfig, now: LATER, allowExpired: true }), 'HASH_MISMATCH', /targets\/ci\.json/);
  });
});
