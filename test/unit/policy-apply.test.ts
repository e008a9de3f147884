/**
 * verifyWithPolicy: a parsed policy applied to verify, over the repository
 * captured from the real notary-server (served from memory by
 * helpers/notary-fake.ts). What each entry requires is checked against what
 * the capture's scenario.json says was signed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { verifyWithPolicy } from '../../src/policy/apply.ts';
import { parsePolicy } from '../../src/policy/policy.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { parseMetadata } from '../../src/tuf/metadata.ts';
import { MultiError, failureMessage } from '../../src/errors.ts';
import { signImages } from '../../src/notary/sign.ts';
import { FakeNotary, fakeEnv, initialised } from './helpers/notary-fake.ts';
import { GUN, NOW, delegationKey, fixtureBytes, fixtureFiles, scenario } from './helpers/fixtures.ts';

const NONE = { signers: [], checkRegistry: false };
const OTHER = 'registry.test/other/app';
const DAY = 86_400_000;

function captured(): FakeNotary {
  const fake = new FakeNotary({ now: () => NOW });
  fake.seed(GUN, fixtureFiles());
  return fake;
}

const policy = (text: string) => parsePolicy(text, 'policy.yml');
/** The failures of a MultiError as [subject, code], and each message. */
function failuresOf(e: unknown): { list: [string, string][]; messages: string[] } {
  assert.ok(e instanceof MultiError, String(e));
  return { list: e.failures.map((f) => [f.subject, f.error.code]), messages: e.failures.map((f) => failureMessage(f)) };
}

/** Days from NOW to the earliest expiry of root, snapshot and the roles signing v1 (what a result's `expires` is). */
const v1Expiry = () => {
  const roles = (['targets/releases', 'targets/ci'] as const).filter((r) => scenario.signed[r].v1 === scenario.signed['targets/releases'].v1);
  const expiries = [parseMetadata(fixtureBytes('root'), 'root', 'Root'), parseMetadata(fixtureBytes('snapshot'), 'snapshot', 'Snapshot'), ...roles.map((r) => parseMetadata(fixtureBytes(r), r, 'Targets'))];
  return Math.min(...expiries.map((m) => m.expires.getTime()));
};

describe('verifyWithPolicy', () => {
  it("the first matching entry applies: its signers on top of the input's, its name in each result", async () => {
    const p = await policy(`repositories:\n  - name: captured\n    match: "${GUN}"\n    signers: [ci]\n  - match: "**"\n`);
    const env = fakeEnv(captured(), NOW);
    const [r] = await verifyWithPolicy(env, parseReferences([`${GUN}:v1`]), p, NONE);
    assert.equal(r!.policy, 'captured');
    assert.equal(r!.digest, scenario.signed['targets/ci'].v1);
    assert.ok(env.log.at('info').includes(`${GUN}:v1: policy entry "captured"`), env.log.at('info').join('\n'));
    // The same image under the entry requiring ci, for a tag ci signed differently from releases: SIGNER_MISSING, naming the entry.
    await assert.rejects(verifyWithPolicy(fakeEnv(captured(), NOW), parseReferences([`${GUN}:latest`]), p, NONE), (e: unknown) => {
      const { list, messages } = failuresOf(e);
      assert.deepEqual(list, [[`${GUN}:latest`, 'SIGNER_MISSING']]);
      assert.match(messages[0]!, / \[policy entry "captured"\]$/);
      return true;
    });
  });

  it('default deny: an image no entry matches is POLICY_NO_MATCH; failures keep the input order, verified images are not returned', async () => {
    const p = await policy(`default: deny\nrepositories:\n  - match: "${GUN}"\n`);
    await assert.rejects(verifyWithPolicy(fakeEnv(captured(), NOW), parseReferences([`${OTHER}:v1`, `${GUN}:v1`, `${GUN}:nope`]), p, NONE), (e: unknown) => {
      const { list, messages } = failuresOf(e);
      assert.deepEqual(list, [
        [`${OTHER}:v1`, 'POLICY_NO_MATCH'],
        [`${GUN}:nope`, 'NOT_SIGNED'],
      ]);
      assert.match(messages[0]!, /no entry of policy policy\.yml matches repository registry\.test\/other\/app, and its default is deny/);
      assert.match(messages[1]!, new RegExp(`\\[policy entry "${GUN.replace(/[.]/g, '\\.')}"\\]$`), 'an entry without a name is named by its first pattern');
      return true;
    });
  });

  it('default allow-unsigned: an image no entry matches is left out with a warning, the others verified in order', async () => {
    const p = await policy(`default: allow-unsigned\nrepositories:\n  - match: "${GUN}"\n`);
    const fake = captured();
    const env = fakeEnv(fake, NOW);
    const results = await verifyWithPolicy(env, parseReferences([`${GUN}:latest`, `${OTHER}:v1`, `${GUN}:v1`]), p, NONE);
    assert.deepEqual(
      results.map((r) => r.image),
      [`${GUN}:latest`, `${GUN}:v1`],
    );
    assert.ok(
      env.log.at('warning').some((w) => w.includes(`${OTHER}:v1: not verified`) && w.includes('allow-unsigned')),
      env.log.at('warning').join('\n'),
    );
    assert.deepEqual(fake.sent(/other\/app/), [], 'nothing is asked about the unmatched repository');
  });

  it("default verify: an image no entry matches is verified as without a policy, under the default's name", async () => {
    const p = await policy(`default: verify\nrepositories:\n  - match: registry.test/nothing\n`);
    const [r] = await verifyWithPolicy(fakeEnv(captured(), NOW), parseReferences([`${GUN}:v1`]), p, NONE);
    assert.equal(r!.policy, '(policy default: verify)');
  });

  it('min-validity: trust data expiring sooner than the entry allows is POLICY_VALIDITY, saying when; a shorter one passes', async () => {
    const days = Math.floor((v1Expiry() - NOW.getTime()) / DAY);
    const pass = await policy(`repositories:\n  - name: fresh\n    match: "${GUN}"\n    min-validity: ${days - 1}d\n`);
    const [r] = await verifyWithPolicy(fakeEnv(captured(), NOW), parseReferences([`${GUN}:v1`]), pass, NONE);
    assert.equal(r!.expires, new Date(v1Expiry()).toISOString());
    const fail = await policy(`repositories:\n  - name: fresh\n    match: "${GUN}"\n    min-validity: ${days + 1}d\n`);
    await assert.rejects(verifyWithPolicy(fakeEnv(captured(), NOW), parseReferences([`${GUN}:v1`]), fail, NONE), (e: unknown) => {
      const { list, messages } = failuresOf(e);
      assert.deepEqual(list, [[`${GUN}:v1`, 'POLICY_VALIDITY']]);
      assert.match(messages[0]!, new RegExp(`policy entry "fresh" requires ${days + 1}d of validity left, but its trust data expires ${new Date(v1Expiry()).toISOString()} \\(in ${days} days\\)`));
      return true;
    });
  });

  it("an entry's root-keys replace the input's: the captured root key passes, another fails naming the entry", async () => {
    const root = scenario.privateKeyFileIds.root;
    const good = await policy(`repositories:\n  - name: pinned\n    match: "${GUN}"\n    root-keys: [${root}]\n`);
    const env = fakeEnv(captured(), NOW, { rootKeys: ['f'.repeat(64)] });
    const [r] = await verifyWithPolicy(env, parseReferences([`${GUN}:v1`]), good, NONE);
    assert.equal(r!.policy, 'pinned');
    const bad = await policy(`repositories:\n  - name: pinned\n    match: "${GUN}"\n    root-keys: ["${'0'.repeat(64)}"]\n`);
    await assert.rejects(verifyWithPolicy(fakeEnv(captured(), NOW, { rootKeys: [root] }), parseReferences([`${GUN}:v1`]), bad, NONE), (e: unknown) => {
      const { list, messages } = failuresOf(e);
      assert.deepEqual(list, [[`${GUN}:v1`, 'ROOT_NOT_PINNED']]);
      assert.match(messages[0]!, / \[policy entry "pinned"\]$/);
      return true;
    });
  });

  it('images under different entries are verified in their own groups; results keep the input order', async () => {
    const app = 'registry.test/org/app';
    const fake = await initialised(app);
    fake.seed(GUN, fixtureFiles());
    fake.pushImage(`${app}:v1`);
    await signImages(fakeEnv(fake, NOW), parseReferences([`${app}:v1`]), delegationKey());
    const p = await policy(`default: verify\nrepositories:\n  - name: ci-signed\n    match: "${GUN}"\n    signers: [ci]\n`);
    const results = await verifyWithPolicy(fakeEnv(fake, NOW), parseReferences([`${GUN}:ci-only`, `${app}:v1`, `${GUN}:v1`]), p, NONE);
    assert.deepEqual(
      results.map((r) => [r.image, r.policy]),
      [
        [`${GUN}:ci-only`, 'ci-signed'],
        [`${app}:v1`, '(policy default: verify)'],
        [`${GUN}:v1`, 'ci-signed'],
      ],
    );
  });
});
