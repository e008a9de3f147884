import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml, type YamlMap, type YamlValue } from '../../src/util/yaml.ts';
import { ContentTrustError, InputError } from '../../src/errors.ts';

const fail = (why: string) => new InputError('POLICY_INVALID', `test.yml ${why}`);
const one = async (text: string | Buffer) => (await parseYaml(text, fail))[0]!;
const refuses = (text: string | Buffer, message: RegExp, limits?: Parameters<typeof parseYaml>[2]) =>
  assert.rejects(parseYaml(text, fail, limits), (e: unknown) => {
    assert.ok(e instanceof ContentTrustError, String(e));
    assert.equal(e.code, 'POLICY_INVALID');
    assert.match(e.message, message);
    return true;
  });

describe('parseYaml', () => {
  it('keeps every scalar as the text written; an empty value is null, a quoted "" a string', async () => {
    const doc = await one('ids: [0x10, 1e3, 010, true, yes, null, ~, 1.0, .inf]\nempty:\nquoted: ""\nblock: |\n  two\n  lines\n');
    assert.deepEqual(
      { ...(doc.value as YamlMap) },
      {
        ids: ['0x10', '1e3', '010', 'true', 'yes', 'null', '~', '1.0', '.inf'],
        empty: null,
        quoted: '',
        block: 'two\nlines\n',
      },
    );
  });

  it('reads JSON with the same rules (YAML 1.2 contains it)', async () => {
    const doc = await one('{"version": 1, "list": [true, null, "x"]}');
    assert.deepEqual(JSON.parse(JSON.stringify(doc.value)), { version: '1', list: ['true', 'null', 'x'] });
  });

  it('builds maps without prototypes: __proto__, constructor and toString are ordinary keys', async () => {
    const doc = await one('__proto__: {polluted: yes}\nconstructor: x\nlist:\n  - toString: y\n');
    const map = doc.value as YamlMap;
    assert.equal(Object.getPrototypeOf(map), null);
    assert.deepEqual(Object.keys(map), ['__proto__', 'constructor', 'list']);
    assert.equal(Object.getPrototypeOf(map['__proto__']), null);
    assert.equal((map['__proto__'] as YamlMap).polluted, 'yes');
    assert.equal(map.constructor, 'x');
    assert.equal(((map.list as YamlValue[])[0] as YamlMap).toString, 'y');
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype is untouched');
  });

  it('accepts a UTF-8 byte order mark and --- / ... markers, from bytes or text', async () => {
    const text = '\uFEFF---\na: b\n...\n';
    assert.deepEqual({ ...((await one(Buffer.from(text))).value as YamlMap) }, { a: 'b' });
    assert.deepEqual({ ...((await one(text)).value as YamlMap) }, { a: 'b' });
  });

  it('gives the line of keys, items and collections', async () => {
    const doc = await one('# comment\ntop:\n  - a: 1\n    b: 2\n  - c\n');
    const top = doc.value as YamlMap;
    const list = top.top as YamlValue[];
    assert.equal(doc.line(top, 'top'), 2);
    assert.equal(doc.line(list), 3);
    assert.equal(doc.line(list, 1), 5);
    assert.equal(doc.line(list[0] as YamlMap, 'b'), 4);
    assert.equal(doc.line(list, 7), undefined);
  });

  it('returns no document for an empty file', async () => {
    assert.deepEqual(await parseYaml('', fail), []);
    assert.deepEqual(await parseYaml('# only a comment\n', fail), []);
  });

  for (const [label, text, message] of [
    ['a duplicate key', 'a: 1\nb: 2\na: 3\n', /^test\.yml line 3, column 1: duplicate key "a"/],
    ['a duplicate key in JSON', '{"default": "deny",\n "default": "allow-unsigned"}', /^test\.yml line 2, column 2: duplicate key "default"/],
    ['keys that differ only in quoting', 'a: 1\n"a": 2\n', /line 2, column 1: duplicate key "a"/],
    ['a second document', 'a: 1\n---\nb: 2\n', /line 2, column 1: holds 2 documents .*only one is allowed/],
    ['an alias', 'a: &x 1\nb: *x\n', /line 2, column 4: an alias \(\*x\) is not allowed/],
    ['an unknown tag', 'a: !!int 10\n', /line 1, column 4: Unresolved tag: .*tags are not allowed/],
    ['a key that is a list', '? [a]\n: b\n', /line 1, column 3: a key must be a name/],
    ['bad indentation', 'a:\n  - b: 1\n   c: 2\n', /line 3, column 1: /],
    ['a tab as indentation', 'a:\n\t- x\n', /line 2, column 1: Tabs/],
    ['unclosed JSON', '{"a": [', /line 1, column \d+: /],
  ] as const) {
    it(`refuses ${label}, with the line`, () => refuses(text, message));
  }

  it('refuses an alias bomb without expanding it', async () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((n, i) => `${n}: &${n} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(', ')}]`)].join('\n');
    await refuses(bomb, /line 2, column \d+: an alias \(\*a\)/);
  });

  it('refuses deep nesting: flow and one-line block nesting before the parser runs, indentation on its tokens', async () => {
    await refuses('['.repeat(1_000_000), /^test\.yml line 1: nests lists and maps more than 32 deep/);
    await refuses(`a:\n  b: ${'- '.repeat(40)}x\n`, /line 2: nests lists and maps more than 32 deep/);
    const indented = Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    await refuses(indented, /line 1, column 1: nests lists and maps more than 32 deep/);
    await refuses('[[x]]', /more than 1 deep/, { maxDepth: 1 });
    assert.ok(await one(`${'['.repeat(32)}x${']'.repeat(32)}`));
    assert.ok(await one('a: [{b: [c]}, {d: {e: f}}]\n' + Array.from({ length: 32 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n')));
  });

  it('refuses oversize input on its bytes, before parsing it', async () => {
    await refuses('['.repeat(2 * 1024 * 1024), /^test\.yml is larger than the 1048576 bytes allowed/);
    await refuses('é'.repeat(6), /larger than the 10 bytes allowed/, { maxBytes: 10 });
    await refuses(Buffer.alloc(11, 'a'), /larger than the 10 bytes allowed/, { maxBytes: 10 });
    assert.ok(await one('a: ' + 'b'.repeat(7)));
  });

  it('allows more documents when asked', async () => {
    const docs = await parseYaml('a: 1\n---\nb: 2\n', fail, { maxDocuments: 2 });
    assert.deepEqual(
      docs.map((d) => ({ ...(d.value as YamlMap) })),
      [{ a: '1' }, { b: '2' }],
    );
  });

  it('keeps << an ordinary key (no merge keys, whatever %YAML says)', async () => {
    const doc = await one('%YAML 1.1\n---\n<<: {a: yes}\n');
    assert.deepEqual(Object.keys(doc.value as YamlMap), ['<<']);
  });
});
