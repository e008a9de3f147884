import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyMap, isMap, own } from '../../src/util/maps.ts';

describe('maps', () => {
  it('isMap: an object, neither null nor a list', () => {
    assert.equal(isMap({}), true);
    assert.equal(isMap(Object.create(null)), true);
    for (const v of [null, undefined, [], 'a', 1, true]) assert.equal(isMap(v), false, String(v));
  });

  it('own: a key the map holds, never one inherited', () => {
    const m: { [key: string]: number } = { a: 1 };
    assert.equal(own(m, 'a'), 1);
    assert.equal(own(m, 'toString'), undefined);
    assert.equal(own(m, 'constructor'), undefined);
    assert.equal(own(undefined, 'a'), undefined);
  });

  it('emptyMap takes __proto__ as a key', () => {
    const m = emptyMap<number>();
    m['__proto__'] = 1;
    assert.deepEqual(Object.keys(m), ['__proto__']);
    assert.equal(Object.getPrototypeOf(m), null);
    assert.equal(own(m, '__proto__'), 1);
  });
});
