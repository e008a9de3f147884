import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { groupBy, mapLimit, settleLimit } from '../../src/util/pool.ts';

/** fn that records how many calls are in flight and finishes after `delay(i)` ms. */
function tracked(delay: (i: number) => number) {
  const state = { inFlight: 0, max: 0, started: [] as number[] };
  const fn = async (item: number, index: number) => {
    state.started.push(index);
    state.inFlight++;
    state.max = Math.max(state.max, state.inFlight);
    await sleep(delay(index));
    state.inFlight--;
    return item * 10;
  };
  return { state, fn };
}

const items = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('mapLimit', () => {
  it('never has more than `limit` calls in flight, and reaches the limit', async () => {
    const { state, fn } = tracked((i) => (i % 3) * 3 + 1);
    await mapLimit(items(20), 4, fn);
    assert.equal(state.max, 4);
    assert.equal(state.inFlight, 0);
  });

  it('keeps input order whatever the completion order', async () => {
    const { fn } = tracked((i) => (10 - i) * 2);
    assert.deepEqual(
      await mapLimit(items(10), 3, fn),
      items(10).map((i) => i * 10),
    );
  });

  it('starts items in order and passes the index', async () => {
    const { state, fn } = tracked(() => 1);
    await mapLimit(items(7), 2, fn);
    assert.deepEqual(state.started, items(7));
  });

  it('limit 1 runs one at a time', async () => {
    const { state, fn } = tracked(() => 1);
    await mapLimit(items(5), 1, fn);
    assert.equal(state.max, 1);
  });

  it('a limit above the item count runs them all at once', async () => {
    const { state, fn } = tracked(() => 5);
    assert.deepEqual(await mapLimit(items(3), 100, fn), [0, 10, 20]);
    assert.equal(state.max, 3);
  });

  it('no items: [] without calling fn', async () => {
    assert.deepEqual(await mapLimit([], 4, async () => assert.fail('called')), []);
  });

  it('a limit below 1 still runs every item (one at a time) instead of returning holes', async () => {
    for (const limit of [0, -1, Number.NaN]) {
      const { state, fn } = tracked(() => 0);
      assert.deepEqual(await mapLimit(items(3), limit, fn), [0, 10, 20], `limit ${limit}`);
      assert.equal(state.max, 1);
    }
  });

  it('rejects with the first failure', async () => {
    await assert.rejects(
      mapLimit(items(5), 2, async (i) => {
        if (i === 2) throw new Error('item 2 failed');
        return i;
      }),
      /item 2 failed/,
    );
  });
});

describe('settleLimit', () => {
  it('runs every item and reports each outcome in order', async () => {
    const out = await settleLimit(items(4), 2, async (i) => {
      await sleep(4 - i);
      if (i % 2) throw new Error(`odd ${i}`);
      return i;
    });
    assert.deepEqual(
      out.map((o) => (o.ok ? o.value : (o.error as Error).message)),
      [0, 'odd 1', 2, 'odd 3'],
    );
  });
});

describe('groupBy', () => {
  it('groups by key, keeping first-seen key order and item order', () => {
    assert.deepEqual(
      [...groupBy(['b1', 'a1', 'b2', 'c1', 'a2'], (s) => s[0]!)],
      [
        ['b', ['b1', 'b2']],
        ['a', ['a1', 'a2']],
        ['c', ['c1']],
      ],
    );
  });
});
