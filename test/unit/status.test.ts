/**
 * The expiry watch (src/notary/admin/status.ts) over the in-memory Notary
 * server: each role's state at a given time, what fails the watch and how
 * the failure reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiryFailure, repositoryStatuses, type RepositoryStatus } from '../../src/notary/admin/status.ts';
import { signImages } from '../../src/notary/sign.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { MultiError } from '../../src/errors.ts';
import { fakeEnv, initialised } from './helpers/notary-fake.ts';
import { NOW, delegationKey } from './helpers/fixtures.ts';

const GUN = 'registry.test/org/app';
const DAY = 86_400_000;

async function statusAt(daysLater: number, withinDays: number): Promise<RepositoryStatus> {
  const fake = await initialised(GUN);
  fake.pushImage(`${GUN}:v1`);
  await signImages(fakeEnv(fake, NOW), parseReferences([`${GUN}:v1`]), delegationKey());
  const [status] = await repositoryStatuses(fakeEnv(fake, new Date(NOW.getTime() + daysLater * DAY)), parseReferences([`${GUN}:v1`, GUN]), withinDays);
  return status!;
}

const states = (s: RepositoryStatus) => Object.fromEntries(s.roles.map((r) => [r.role, r.state]));

describe('status', () => {
  it('a fresh repository: every role ok, listed root first, with its signers and key IDs; the root key IDs as root.json lists them', async () => {
    const s = await statusAt(0, 30);
    assert.equal(s.repository, GUN);
    assert.equal(s.state, 'ok');
    assert.deepEqual(
      s.roles.map((r) => [r.role, r.version, r.signers]),
      [
        ['root', 1, ['Root']],
        ['targets', 1, ['Repository']],
        ['targets/ci', 1, ['ci']],
        ['targets/releases', 1, ['ci']],
        ['snapshot', 2, ['Notary server']],
        ['timestamp', 2, ['Notary server']],
      ],
    );
    assert.deepEqual(s.roles.find((r) => r.role === 'targets/ci')!.keyIds, [delegationKey().id]);
    assert.deepEqual(s.rootKeyIds, s.roles[0]!.keyIds);
    assert.equal(s.roles[1]!.daysLeft, 1095);
    assert.ok(s.roles.every((r) => r.fix === undefined));
    assert.equal(expiryFailure([s]), undefined);
  });

  it('the timestamp (two weeks) never counts as expiring: the server renews it', async () => {
    const s = await statusAt(10, 30);
    assert.equal(states(s).timestamp, 'ok');
    assert.equal(s.state, 'ok');
  });

  it('files expiring within the window are expiring, with the fix; EXPIRING names repository, role, date and key', async () => {
    const s = await statusAt(1095 - 20, 30);
    assert.deepEqual(states(s), { root: 'ok', targets: 'expiring', 'targets/ci': 'expiring', 'targets/releases': 'expiring', snapshot: 'ok', timestamp: 'expired' }, 'the snapshot (three years from the last publish) is never expiring, only expired');
    const failure = expiryFailure([s])!;
    assert.ok(failure instanceof MultiError);
    assert.deepEqual(
      failure.failures.map((f) => [f.error.code, f.error.message.split('.json')[0]]),
      [
        ['EXPIRED', `${GUN}: timestamp`],
        ['EXPIRING', `${GUN}: targets`],
        ['EXPIRING', `${GUN}: targets/ci`],
        ['EXPIRING', `${GUN}: targets/releases`],
      ],
      'expired first',
    );
    assert.match(failure.failures[2]!.error.message, /targets\/ci\.json expires at \S+ \(in 20 days, within the 30-day window\); re-sign it with signer "ci"'s key \(mode: refresh, input delegation-key/);
    assert.match(failure.failures[0]!.error.message, /timestamp\.json expired at .* days ago\); the Notary server signs timestamp\.json itself/);
  });

  it('an expired repository is read (signatures still checked) and reported whole, not refused', async () => {
    const s = await statusAt(1200, 30);
    assert.equal(s.state, 'expired');
    assert.equal(states(s).targets, 'expired');
    assert.ok(s.roles.find((r) => r.role === 'targets')!.daysLeft < 0);
    assert.match(s.roles.find((r) => r.role === 'targets')!.fix!, /repository key/);
    assert.equal(s.roles.length, 6);
  });
});
