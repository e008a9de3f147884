import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getList } from '../../src/action/inputs.ts';

describe('getList', () => {
  it('splits on new lines', () => {
    assert.deepEqual(getList('alpine:3\nghcr.io/o/app:v1\n'), ['alpine:3', 'ghcr.io/o/app:v1']);
  });

  it('splits on commas, with or without spaces', () => {
    assert.deepEqual(getList('a:1,b:2, c:3 ,d:4'), ['a:1', 'b:2', 'c:3', 'd:4']);
  });

  it('mixes both, as docker/metadata-action tags outputs and hand-written lists do', () => {
    assert.deepEqual(getList('a:1,a:2\nb:1\n  c:1 , c:2  \n'), ['a:1', 'a:2', 'b:1', 'c:1', 'c:2']);
  });

  it('drops blank lines, white space and CRLF ends', () => {
    assert.deepEqual(getList('\n\n  a:1  \r\n\r\n\tb:1\t\r\n,,\n , \n'), ['a:1', 'b:1']);
    assert.deepEqual(getList(''), []);
    assert.deepEqual(getList('   \n  '), []);
  });

  it('drops # comment lines, also indented ones', () => {
    assert.deepEqual(getList('# images to sign\na:1\n   # b:1\nc:1'), ['a:1', 'c:1']);
  });

  it('a commented-out line drops all of it, commas included', () => {
    assert.deepEqual(getList('a:1\n# b:1, b:2\n  #c:1,c:2,c:3\nd:1'), ['a:1', 'd:1']);
  });

  it('keeps order and duplicates (the caller decides)', () => {
    assert.deepEqual(getList('b,a\nb'), ['b', 'a', 'b']);
  });

  it('a # after a comma starts a comment item of its own', () => {
    assert.deepEqual(getList('a:1, #b:1'), ['a:1']);
  });
});
