import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultConfig } from '../../src/config.ts';
import { checkSnapshotKeepsRoles, updateRepo } from '../../src/notary/updater.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { ContentTrustError } from '../../src/errors.ts';
import { GUN, NOW, fakeServer, fixtureBytes, fixtureFiles, loadRepo, scenario, withSigned } from './helpers/fixtures.ts';

const code = (c: string, what?: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ContentTrustError, String(e));
  assert.equal(e.code, c, e.message);
  if (what) assert.match(e.message, what);
  return true;
};

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
    assert.deepEqual([...targets.delegationKeys.values()].map((k) => k.canonicalId), [scenario.delegationKey.canonicalId]);
    assert.equal(repo.roles.get('targets/ci')!.delegationKeys.size, 0);
  });

  it('fetches snapshot, targets and delegations by the sha256 their parent announced', async () => {
    const requested: string[] = [];
    const repo = await updateRepo(fakeServer(fixtureFiles(), GUN, requested), { config: defaultConfig, now: NOW });
    const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');
    const expected = [
      `snapshot.${hex(repo.timestamp.signed.meta.snapshot.hashes.sha256!)}`,
      ...['targets', 'targets/ci', 'targets/releases'].map((r) => `${r}.${hex(repo.snapshot.signed.meta[r]!.hashes.sha256!)}`),
    ];
    assert.deepEqual(requested.sort(), expected.sort());
  });

  it('a file that does not match its announced hash is HASH_MISMATCH', async () => {
    const files = fixtureFiles();
    const ci = Buffer.from(files.get('targets/ci')!);
    ci[ci.length - 5] ^= 1;
    files.set('targets/ci', ci);
    await assert.rejects(loadRepo(files), code('HASH_MISMATCH', /targets\/ci\.json/));
  });

  it('an expired timestamp is EXPIRED', async () => {
    await assert.rejects(loadRepo(fixtureFiles(), new Date(NOW.getTime() + 15 * 86_400_000)), code('EXPIRED', /timestamp\.json/));
  });

  it('a root certificate for another GUN is ROOT_INVALID', async () => {
    await assert.rejects(updateRepo(fakeServer(fixtureFiles(), 'docker.io/library/alpine'), { config: defaultConfig, now: NOW }), code('ROOT_INVALID', /CN must be docker\.io\/library\/alpine/));
  });

  it('no root on the server is REPO_NOT_INITIALISED', async () => {
    const files = fixtureFiles();
    files.delete('root');
    await assert.rejects(loadRepo(files), code('REPO_NOT_INITIALISED', /docker trust signer add/));
  });

  it('warns about metadata expiring within the warning window', async () => {
    const repo = await loadRepo(fixtureFiles(), NOW);
    assert.deepEqual(repo.warnings, []);
    // Three years on the delegations would be close to expiry, but the timestamp has long expired then; shorten the window instead.
    const warned = await updateRepo(fakeServer(fixtureFiles()), { config: { ...defaultConfig, expiryWarningDays: 3 * 365 + 30 }, now: NOW });
    assert.ok(warned.warnings.some((w) => /targets\/ci\.json expires in \d+ days/.test(w)), warned.warnings.join('\n'));
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
    assert.throws(
      () => checkSnapshotKeepsRoles(remembered, dropped, repo.roles, GUN),
      code('ROLLBACK', new RegExp(`^${GUN.replace(/[.]/g, '\\.')}: snapshot\\.json version ${remembered.signed.version + 1} no longer lists targets/releases, which the snapshot trusted before \\(version ${remembered.signed.version}\\) listed and targets still delegates`)),
    );
  });

  it('a delegation its parent no longer delegates may go (docker trust signer remove)', async () => {
    const repo = withSigned(await loadRepo(), 'targets', (t) => (t.delegations.roles = t.delegations.roles.filter((r) => r.name !== 'targets/ci')));
    checkSnapshotKeepsRoles(remembered, next((m) => delete m['targets/ci']), repo.roles, GUN);
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
