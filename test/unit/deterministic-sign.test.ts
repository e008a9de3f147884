import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { planSign, type NewTarget } from '../../src/notary/sign-plan.ts';
import type { TrustedRepo } from '../../src/notary/model.ts';
import { toSigningKey } from '../../src/tuf/private-key.ts';
import { NOW, delegationKey, loadRepo, scenario } from './helpers/fixtures.ts';

/**
 * ECDSA signatures are RFC 6979 deterministic (src/tuf/ecdsa.ts): the same
 * repository state, tags and time signed twice publish the same bytes.
 */
describe('signing the same input twice', () => {
  const { one, two } = scenario.images;
  const targets: NewTarget[] = [
    { tag: 'v3', digest: two.digest, size: two.size },
    { tag: 'latest', digest: one.digest, size: one.size },
  ];
  let repo: TrustedRepo;
  before(async () => {
    repo = await loadRepo();
  });

  it('plans byte-identical files, with the key read once or read again', () => {
    const first = planSign(repo, delegationKey(), targets, NOW, 1095);
    const again = planSign(repo, delegationKey(), targets, new Date(NOW.getTime()), 1095);
    assert.deepEqual([...first.files.keys()].sort(), ['targets/ci', 'targets/releases']);
    assert.deepEqual([...again.files.keys()], [...first.files.keys()]);
    for (const [role, bytes] of first.files) assert.ok(bytes.equals(again.files.get(role)!), `${role} differs between two runs`);
  });

  it('a different time or tag gives different signatures', () => {
    const key = delegationKey();
    const base = planSign(repo, key, targets, NOW, 1095).files.get('targets/releases')!;
    const later = planSign(repo, key, targets, new Date(NOW.getTime() + 1000), 1095).files.get('targets/releases')!;
    const fewer = planSign(repo, key, targets.slice(0, 1), NOW, 1095).files.get('targets/releases')!;
    const sig = (b: Buffer) => JSON.parse(b.toString('utf8')).signatures[0].sig as string;
    assert.notEqual(sig(later), sig(base));
    assert.notEqual(sig(fewer), sig(base));
  });

  it('RSA keys are RSASSA-PSS, randomised by design: same content, other signature bytes', () => {
    const rsa = toSigningKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, undefined, undefined);
    const m = Buffer.from('{"signed":{}}');
    const a = rsa.sign(m);
    const b = rsa.sign(m);
    assert.equal(a.method, 'rsapss');
    assert.notDeepEqual(a.sig, b.sig);
  });
});
