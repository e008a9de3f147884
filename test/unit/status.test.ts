/**
 * The expiry watch (src/notary/admin/status.ts) over the in-memory Notary
 * server: each role's state at a given time, what fails the watch and how
 * the failure reads.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expiryFailure, repositoryStatuses, statusJson, type RepositoryStatus } from '../../src/notary/admin/status.ts';
import { signImages } from '../../src/notary/sign.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { MultiError } from '../../src/errors.ts';
import { administer } from '../../src/notary/admin/workflow.ts';
import { planRefresh } from '../../src/notary/admin/refresh.ts';
import type { SignerKey } from '../../src/notary/admin/common.ts';
import { baseRoleKeyIds, replaceBaseKey } from '../../src/notary/admin/owner-keys.ts';
import { cloneSigned } from '../../src/tuf/metadata.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { parsePublicKey, type TufKeyJson } from '../../src/tuf/keys.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { toSigningKey } from '../../src/tuf/private-key.ts';
import { updateRepo } from '../../src/notary/updater.ts';
import { repoClient } from '../../src/notary/repository.ts';
import { defaultConfig } from '../../src/config.ts';
import { advise } from '../../src/advice.ts';
import { assertCode } from './helpers/errors.ts';
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

describe('status: repositories that cannot be read', () => {
  const OTHER = 'registry.test/org/none';
  const BROKEN = 'registry.test/org/broken';

  it('each is reported in its place with its state and error, the others still read; the verdict lists every failing one, codes kept', async () => {
    const fake = await initialised(GUN, BROKEN);
    // The server answers nonsense for one repository's timestamp.
    fake.intercept = (req) => (req.url.includes(`/${BROKEN}/_trust/tuf/timestamp`) ? { body: Buffer.from('<html>not json</html>') } : undefined);
    const statuses = await repositoryStatuses(fakeEnv(fake, NOW), parseReferences([OTHER, GUN, BROKEN]), 1100);
    assert.deepEqual(
      statuses.map((s) => [s.repository, s.state, s.error?.code, s.roles.length]),
      [
        [OTHER, 'uninitialised', 'REPO_NOT_INITIALISED', 0],
        [GUN, 'expiring', undefined, 4],
        [BROKEN, 'unreadable', 'METADATA_INVALID', 0],
      ],
    );
    const failure = expiryFailure(statuses)!;
    assert.deepEqual(
      failure.failures.map((f) => [f.subject, f.error.code]),
      [
        [OTHER, 'REPO_NOT_INITIALISED'],
        [BROKEN, 'METADATA_INVALID'],
        [GUN, 'EXPIRING'],
      ],
      'unreadable repositories before expiring roles, each with its own code',
    );
    assert.equal(failure.code, 'REPO_NOT_INITIALISED');
    const json = JSON.parse(JSON.stringify(statusJson(statuses, (t) => advise(t, 'action')))) as { state: string; error?: { code: string; message: string }; roles: { fix?: string }[] }[];
    assert.deepEqual(json[0]!.error!.code, 'REPO_NOT_INITIALISED');
    assert.match(json[0]!.error!.message, /org\/none has no trust data on the Notary server: initialise it first \(mode: init\)$/);
    assert.equal(json[1]!.error, undefined);
    assert.match(json[1]!.roles[1]!.fix!, /\(mode: refresh with the repository-key input\)$/, "fixes in the front end's words");
  });

  it('a repository whose server fails is unreadable with the HTTP error', async () => {
    const fake = await initialised(GUN);
    fake.intercept = () => ({ status: 500 });
    const [s] = await repositoryStatuses(fakeEnv(fake, NOW), parseReferences([GUN]), 30);
    assert.equal(s!.state, 'unreadable');
    assert.equal(s!.error?.code, 'HTTP_ERROR');
    assert.equal(expiryFailure([s!])!.failures[0]!.error, s!.error);
  });
});

/** Publishes root version N+1 of `gun` whose only root key is the same key with a certificate ending `days` after NOW (a rotation signed by both entries). */
async function shortCertificate(fake: Awaited<ReturnType<typeof initialised>>, gun: string, days: number): Promise<string> {
  const key = fake.inits.get(gun)!.generated.root!;
  const json: TufKeyJson = { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from(rootCertificate({ gun, key, now: NOW, days })).toString('base64') } };
  const cert: SignerKey = { id: parsePublicKey(json).id, json };
  const signing = toSigningKey(key, 'root', undefined);
  await administer(fakeEnv(fake, NOW), parseReferences([gun]), (repo, _c, now) => {
    const oldIds = baseRoleKeyIds(repo, 'root', signing, 'root key');
    const root = cloneSigned(repo.root.signed);
    replaceBaseKey(root, 'root', cert);
    root.version += 1;
    return { files: new Map([['root', envelope(root, signing, [cert.id], { key: signing, keyIds: oldIds })]]), summary: `${now.toISOString()}` };
  });
  return cert.id;
}

describe("status and refresh: the root certificate's own end", () => {
  it('a root certificate ending before root.json: the root role expires by its certificate, the watch says so and names the rotation', async () => {
    const fake = await initialised(GUN);
    const certId = await shortCertificate(fake, GUN, 100);
    const [s] = await repositoryStatuses(fakeEnv(fake, new Date(NOW.getTime() + 80 * DAY)), parseReferences([GUN]), 30);
    const root = s!.roles[0]!;
    assert.deepEqual([root.role, root.state, root.expiresBy, root.daysLeft], ['root', 'expiring', 'certificate', 19]);
    assert.deepEqual(s!.rootKeyIds, [certId]);
    assert.ok(Date.parse(root.fileExpires) > Date.parse(root.certificateExpires!));
    assert.equal(root.expires, root.certificateExpires);
    assert.match(root.fix!, /give the root a new key and certificate before then \(mode: rotate, rotate-role root; or `content-trust rotate registry\.test\/org\/app root`\)/);
    const failure = expiryFailure([s!])!.failures.find((f) => f.error.message.includes('root.json'))!.error;
    assert.equal(failure.code, 'EXPIRING');
    assert.match(failure.message, /org\/app: root\.json's key certificate expires at \S+ \(in 19 days, within the 30-day window\) \(the file itself runs until 20\d\d-/);
    assert.deepEqual(
      s!.roles.filter((r) => r.role !== 'root').map((r) => r.expiresBy),
      ['file', 'file', 'file'],
      'plain keys never end',
    );
  });

  it('a fresh repository: root.json and its certificate end together, and the file is named', async () => {
    const [s] = await repositoryStatuses(fakeEnv(await initialised(GUN), NOW), parseReferences([GUN]), 30);
    assert.equal(s!.roles[0]!.expiresBy, 'file');
    assert.ok(s!.roles[0]!.certificateExpires);
  });

  it('once the certificate ended: verify refuses EXPIRED naming the certificate and that the trust data must be made anew (not ROOT_INVALID); status reports it expired; refresh refuses before publishing', async () => {
    const fake = await initialised(GUN);
    await shortCertificate(fake, GUN, 100);
    const later = new Date(NOW.getTime() + 101 * DAY);
    const env = fakeEnv(fake, later);
    await assertCode(
      updateRepo(repoClient(env, parseReferences([GUN])[0]!, false), { config: defaultConfig, now: later }),
      'EXPIRED',
      /org\/app: the root certificate \(root key [0-9a-f]{64}\) expired at \S+, so no client trusts root\.json \(version 2\), although the file itself runs until .*; notary-server accepts no update .*`notary delete registry\.test\/org\/app --remote`/,
    );
    const [s] = await repositoryStatuses(env, parseReferences([GUN]), 30);
    assert.deepEqual([s!.state, s!.roles[0]!.state, s!.roles[0]!.expiresBy], ['expired', 'expired', 'certificate']);
    assert.equal(expiryFailure([s!])!.code, 'EXPIRED');
    const published = fake.published.length;
    const root = toSigningKey(fake.inits.get(GUN)!.generated.root!, 'root', undefined);
    await assertCode(
      administer(env, parseReferences([GUN]), (repo, _c, now) => planRefresh(repo, { root, signing: [] }, 182, now), { allowExpired: true }),
      'EXPIRED',
      /the root certificate expired at \S+, so no client trusts root\.json, and a refresh cannot renew a certificate: notary-server accepts no update .*initialise it again and sign its tags again\. Nothing was published/,
    );
    assert.equal(fake.published.length, published, 'nothing published');
  });

  it('refresh within the window of a certificate that has not ended: goes ahead, and its summary says to rotate before the end', async () => {
    const fake = await initialised(GUN);
    await shortCertificate(fake, GUN, 100);
    const root = toSigningKey(fake.inits.get(GUN)!.generated.root!, 'root', undefined);
    const [outcome] = await administer(fakeEnv(fake, new Date(NOW.getTime() + 50 * DAY)), parseReferences([GUN]), (repo, _c, now) => planRefresh(repo, { root, signing: [] }, 182, now), { allowExpired: true });
    assert.deepEqual(outcome!.roles, [], 'root.json itself runs for years');
    assert.match(outcome!.summary, /nothing these keys sign expires within 182 days \(root\); the root certificate ends at \S+, and a refresh cannot renew it: give the root a new key and certificate before then/);
  });
});
