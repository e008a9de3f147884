import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editRepositories, editRepository, type EditPlan, type Publisher, type RepoEdit } from '../../src/notary/edit.ts';
import { MultiError, NetworkError, NotInitialisedError, TrustError, VersionConflictError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

interface Plan extends EditPlan {
  attempt: number;
}

/** A publisher that records every publish and answers each with the next of `answers` (then succeeds). */
function publisher(gun: string, answers: (Error | undefined)[] = []): Publisher & { published: string[][] } {
  const published: string[][] = [];
  return {
    gun,
    published,
    async publish(files) {
      published.push([...files.values()].map((b) => b.toString()));
      const answer = answers.shift();
      if (answer) throw answer;
    },
  };
}

/** The publisher, answering `current` (the server's current file for a role) with `read`. */
function withCurrent<T extends Publisher>(p: T, read: (role: string) => Buffer | undefined | Promise<Buffer | undefined>): T {
  return Object.assign(p, { current: async (role: string) => read(role) });
}

/** An edit whose plan at attempt N publishes one file "<gun> vN"; `planFails` makes every plan throw. */
function edit(p: Publisher, options: { planFails?: Error; empty?: boolean } = {}): RepoEdit<Plan, string> & { attempts: number[]; readBacks: Plan[] } {
  const attempts: number[] = [];
  const readBacks: Plan[] = [];
  return {
    publisher: p,
    attempts,
    readBacks,
    async plan(attempt) {
      attempts.push(attempt);
      if (options.planFails) throw options.planFails;
      return { attempt, files: options.empty ? new Map() : new Map([['targets', Buffer.from(`${p.gun} v${attempt}`)]]) };
    },
    async readBack(plan) {
      readBacks.push(plan);
      return `${p.gun} read back at attempt ${plan.attempt}`;
    },
  };
}

const conflict = (gun: string) => new VersionConflictError(`${gun}: the Notary server refused the update of targets: another publish changed the repository first`);
const quiet = { info: () => {} };
const options = { publishAttempts: 3, concurrency: 2, log: quiet };

describe('editRepositories: plan all → publish with retry → read back', () => {
  it("plans, publishes and reads back every repository, results in the edits' order", async () => {
    const a = publisher('r.test/a');
    const b = publisher('r.test/b');
    const out = await editRepositories([edit(a), edit(b)], options);
    assert.deepEqual(out, ['r.test/a read back at attempt 1', 'r.test/b read back at attempt 1']);
    assert.deepEqual(a.published, [['r.test/a v1']]);
    assert.deepEqual(b.published, [['r.test/b v1']]);
  });

  it('a VERSION conflict re-reads and re-plans, then publishes the new plan once; the read back sees that plan', async () => {
    const p = publisher('r.test/a', [conflict('r.test/a')]);
    const e = edit(p);
    const told: string[] = [];
    const [out] = await editRepositories([e], { ...options, log: { info: (m) => told.push(m) } });
    assert.deepEqual(e.attempts, [1, 2]);
    assert.deepEqual(p.published, [['r.test/a v1'], ['r.test/a v2']]);
    assert.deepEqual(
      e.readBacks.map((r) => r.attempt),
      [2],
    );
    assert.equal(out, 'r.test/a read back at attempt 2');
    assert.equal(told.length, 1);
    assert.match(told[0]!, /^r\.test\/a: .*another publish changed the repository first; re-reading and retrying \(1\/2\)$/);
  });

  it('a VERSION conflict where the server already holds exactly the files sent (our publish applied, its answer lost): published, not re-planned', async () => {
    const p = withCurrent(publisher('r.test/a', [conflict('r.test/a')]), (role) => (role === 'targets' ? Buffer.from('r.test/a v1') : undefined));
    const e = edit(p);
    const told: string[] = [];
    const [out] = await editRepositories([e], { ...options, log: { info: (m) => told.push(m) } });
    assert.deepEqual(e.attempts, [1]);
    assert.deepEqual(p.published, [['r.test/a v1']]);
    assert.equal(out, 'r.test/a read back at attempt 1');
    assert.match(told[0]!, /the server already holds exactly the files sent .*: not publishing again$/);
  });

  it('a VERSION conflict where the server holds other bytes (or the read fails): re-read, re-planned and published as before', async () => {
    for (const current of [() => Buffer.from('r.test/a v0'), () => undefined, () => Promise.reject(new NetworkError('HTTP_ERROR', 'HTTP 503'))]) {
      const p = withCurrent(publisher('r.test/a', [conflict('r.test/a')]), current);
      const e = edit(p);
      await editRepositories([e], options);
      assert.deepEqual(e.attempts, [1, 2]);
      assert.deepEqual(p.published, [['r.test/a v1'], ['r.test/a v2']]);
    }
  });

  it('any plan failing publishes nothing anywhere; the failure names the repository', async () => {
    const a = publisher('r.test/a');
    const b = publisher('r.test/b');
    const ea = edit(a);
    const eb = edit(b, { planFails: new TrustError('METADATA_INVALID', 'targets.json is broken') });
    await assert.rejects(editRepositories([ea, eb], options), (e: unknown) => {
      assert.ok(e instanceof MultiError);
      assert.equal(e.code, 'METADATA_INVALID');
      assert.deepEqual(
        e.failures.map((f) => f.subject),
        ['r.test/b'],
      );
      assert.equal(e.message, 'r.test/b: targets.json is broken');
      return true;
    });
    assert.deepEqual(ea.attempts, [1], 'every repository is planned');
    assert.deepEqual([a.published, b.published], [[], []]);
    assert.deepEqual([ea.readBacks, eb.readBacks], [[], []]);
  });

  it('conflicts past publishAttempts: VERSION_CONFLICT, after exactly publishAttempts publishes', async () => {
    const p = publisher('r.test/a', [conflict('r.test/a'), conflict('r.test/a'), conflict('r.test/a'), conflict('r.test/a')]);
    const e = edit(p);
    await assertCode(editRepositories([e], options), 'VERSION_CONFLICT');
    assert.equal(p.published.length, 3);
    assert.deepEqual(e.attempts, [1, 2, 3]);
    assert.deepEqual(e.readBacks, []);
  });

  it('any other publish failure is not retried, and does not stop the other repositories', async () => {
    const a = publisher('r.test/a', [new NetworkError('HTTP_ERROR', 'r.test/a: HTTP 503')]);
    const b = publisher('r.test/b');
    const ea = edit(a);
    const eb = edit(b);
    await assert.rejects(editRepositories([ea, eb], options), (e: unknown) => e instanceof MultiError && e.code === 'HTTP_ERROR' && e.failures.length === 1 && e.failures[0]!.subject === 'r.test/a');
    assert.deepEqual(ea.attempts, [1]);
    assert.equal(a.published.length, 1);
    assert.deepEqual(b.published, [['r.test/b v1']]);
    assert.equal(eb.readBacks.length, 1);
  });

  it('a plan with no files publishes nothing and is still read back', async () => {
    const p = publisher('r.test/a');
    const e = edit(p, { empty: true });
    assert.deepEqual(await editRepositories([e], options), ['r.test/a read back at attempt 1']);
    assert.deepEqual(p.published, []);
  });
});

describe('editRepository: one repository, its failure as it is', () => {
  it('retries a conflict as editRepositories does', async () => {
    const p = publisher('r.test/a', [conflict('r.test/a')]);
    assert.equal(await editRepository(edit(p), { publishAttempts: 2, log: quiet }), 'r.test/a read back at attempt 2');
  });

  it("throws the plan's own error, not a MultiError", async () => {
    const failure = new NotInitialisedError('r.test/a has no trust data');
    const p = publisher('r.test/a');
    await assert.rejects(editRepository(edit(p, { planFails: failure }), { publishAttempts: 2, log: quiet }), (e) => e === failure);
    assert.deepEqual(p.published, []);
  });
});
