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
    // The library resolves these under the failsafe schema too, with no warning: refused all the same.
    ['a binary tag', 'a: !!binary aGk=\n', /line 1, column \d+: the tag !!binary is not allowed/],
    ['a timestamp tag', 'a: !!timestamp 2001-01-01\n', /line 1, column \d+: the tag !!timestamp is not allowed/],
    ['a set tag', 'a: !!set {x}\n', /line 1, column \d+: the tag !!set is not allowed/],
    ['an omap tag', 'a: !!omap [x: 1]\n', /the tag !!omap is not allowed/],
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

  it('gives where a scalar value is written: offsets, line and quoting, for an in-place rewrite', async () => {
    const text = 'a: plain:1 # comment\nb: "double"\nc: \'single\'\nd: |\n  block\nlist: [x, "y"]\nm: {k: v}\n';
    const doc = await one(text);
    const top = doc.value as YamlMap;
    const at = (container: YamlMap | YamlValue[], key: string | number) => {
      const s = doc.scalar(container, key)!;
      return [text.slice(s.start, s.end), s.line, s.style];
    };
    assert.deepEqual(at(top, 'a'), ['plain:1', 1, 'plain']);
    assert.deepEqual(at(top, 'b'), ['"double"', 2, 'double']);
    assert.deepEqual(at(top, 'c'), ["'single'", 3, 'single']);
    assert.deepEqual(at(top, 'd'), ['|\n  block\n', 4, 'block']);
    assert.deepEqual(at(top.list as YamlValue[], 1), ['"y"', 6, 'double']);
    assert.deepEqual(at(top.m as YamlMap, 'k'), ['v', 7, 'plain']);
    assert.equal(doc.scalar(top, 'm'), undefined, 'a map is no scalar');
    assert.equal(doc.scalar(top, 'missing'), undefined);
  });

  it('with maxAliasValues: reads aliases as copies and merges << maps (keys written win), positions from the anchor', async () => {
    const text = 'base: &b\n  image: app:1\n  restart: always\nweb:\n  <<: *b\n  restart: never\nboth:\n  <<: [{x: 1}, *b]\nname: &n tag\ncopy: *n\n';
    const [doc] = await parseYaml(text, fail, { maxAliasValues: 100 });
    const top = doc!.value as YamlMap;
    assert.deepEqual({ ...(top.web as YamlMap) }, { restart: 'never', image: 'app:1' });
    assert.deepEqual({ ...(top.both as YamlMap) }, { x: '1', image: 'app:1', restart: 'always' });
    assert.equal(top.copy, 'tag');
    const image = doc!.scalar(top.web as YamlMap, 'image')!;
    assert.deepEqual([text.slice(image.start, image.end), image.line, doc!.line(top.web as YamlMap, 'image')], ['app:1', 2, 2]);
    const copy = doc!.scalar(top, 'copy')!;
    assert.equal(text.slice(copy.start, copy.end), 'tag', 'an alias is written where its anchor is');
  });

  it('with maxAliasValues: an alias inside an anchored node keeps the anchor it named, though the name is anchored again before the copy (as the yaml library resolves it)', async () => {
    const text = 'x-a: &img nginx:1.0\nx-b: &svc\n  image: *img\nx-c: &img evil:6.6\nservices:\n  web: *svc\n';
    const [doc] = await parseYaml(text, fail, { maxAliasValues: 100 });
    const web = ((doc!.value as YamlMap).services as YamlMap).web as YamlMap;
    assert.equal(web.image, 'nginx:1.0');
    const image = doc!.scalar(web, 'image')!;
    assert.deepEqual([text.slice(image.start, image.end), image.line], ['nginx:1.0', 1], 'the position is the value used');
    const { parse } = await import('yaml');
    assert.equal((parse(text) as { services: { web: { image: string } } }).services.web.image, 'nginx:1.0', 'the yaml library reads it the same');
  });

  it('with maxAliasValues: bounds what aliases make ("billion laughs"), and refuses an alias inside its own anchor or naming nothing', async () => {
    const laughs = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefgh'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`)].join('\n');
    await refuses(laughs, /aliases expand to more than 1000 values: write the values out/, { maxAliasValues: 1000 });
    await refuses('a: &a [x, *a]\n', /more than|deep/, { maxAliasValues: 1000 });
    await refuses('a: *nothing\n', /line 1, column 4: the alias \*nothing names no anchor/, { maxAliasValues: 10 });
    await refuses('a: {<<: x}\n', /a merge key \(<<\) takes a map or a list of maps/, { maxAliasValues: 10 });
    await refuses('a: &a x\nb: *a\n', /an alias \(\*a\) is not allowed/);
  });
});
