import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestingDepth, parseJson } from '../../src/util/json.ts';
import { own } from '../../src/util/maps.ts';
import { ContentTrustError, TrustError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

const fail = (why: string) => new TrustError('METADATA_INVALID', `test.json ${why}`);

describe('parseJson', () => {
  it('parses objects without prototypes, so inherited names are plain keys', () => {
    const doc = parseJson('{"targets":{"constructor":{"length":1},"__proto__":{"length":2}}}', fail) as { targets: Record<string, { length: number }> };
    assert.equal(Object.getPrototypeOf(doc), null);
    assert.equal(Object.getPrototypeOf(doc.targets), null);
    assert.equal(doc.targets.constructor.length, 1);
    assert.equal(doc.targets['__proto__']!.length, 2);
    assert.deepEqual(Object.keys(doc.targets), ['constructor', '__proto__']);
    assert.equal(own(doc.targets, 'toString'), undefined);
    const none = parseJson('{}', fail) as Record<string, unknown>;
    assert.equal(none.toString, undefined);
  });

  it('keeps arrays as arrays and re-parents objects inside them', () => {
    const doc = parseJson('[{"a":[{"b":1}]}]', fail) as [{ a: [{ b: number }] }];
    assert.ok(Array.isArray(doc));
    assert.equal(Object.getPrototypeOf(doc[0]), null);
    assert.equal(Object.getPrototypeOf(doc[0].a[0]), null);
  });

  it("refuses over-deep nesting before JSON.parse recurses, with the caller's code", () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    assertCode(() => parseJson(deep, fail), 'METADATA_INVALID', /more than 64 deep/);
    assert.doesNotThrow(() => parseJson('['.repeat(64) + ']'.repeat(64), fail));
    assert.throws(() => parseJson('['.repeat(65) + ']'.repeat(65), fail), /more than 64 deep/);
  });

  it('does not count brackets inside strings (escaped quotes included)', () => {
    assert.equal(nestingDepth('{"a":"[[[{{{\\"[[["}', 10), 1);
    assert.doesNotThrow(() => parseJson(`{"a":"${'['.repeat(1000)}"}`, fail));
  });

  it('refuses oversize input before decoding it', () => {
    assert.throws(() => parseJson(Buffer.alloc(11, 0x20), fail, { maxBytes: 10 }), /is 11 bytes, more than the 10 allowed/);
  });

  it('names malformed input', () => {
    assert.throws(
      () => parseJson('<html>portal</html>', fail),
      (e: unknown) => e instanceof ContentTrustError && /^test\.json is not JSON/.test(e.message),
    );
  });

  it('keeps the last of duplicate keys, as Go does', () => {
    assert.deepEqual({ ...(parseJson('{"a":1,"a":2}', fail) as object) }, { a: 2 });
  });
});

describe('parseJson error text', () => {
  it('never quotes the input (it may hold a secret)', () => {
    for (const text of ['{"password":"hunter2-secret"', 'hunter2-secret', '{"a":hunter2-secret}']) {
      assert.throws(
        () => parseJson(text, fail),
        (e: unknown) => e instanceof ContentTrustError && /^test\.json is not JSON/.test(e.message) && !e.message.includes('hunter2'),
      );
    }
  });
});
