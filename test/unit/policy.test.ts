import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import { loadPolicy } from '../../src/policy/load.ts';
import { compileGlob, globMatches, matchEntry, parsePolicy, type Policy } from '../../src/policy/policy.ts';
import { ContentTrustError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

const KEY = 'a'.repeat(64);

describe('parsePolicy', () => {
  let policy: Policy;
  before(async () => {
    policy = await parsePolicy(
      `default: verify
repositories:
  - name: pinned team
    match: [registry.example.com/team/*, ghcr.io/org/**]
    root-keys: [${KEY.toUpperCase()}]
    signers: [ci]
    min-validity: 2w
  - match: alpine
  - match: org/*
  - match: "**"
    signers: [release]
`,
      '.github/policy.yml',
    );
  });

  it('reads every field, normalises key IDs, durations in ms', () => {
    assert.equal(policy.default, 'verify');
    const [first] = policy.entries;
    assert.equal(first!.name, 'pinned team');
    assert.deepEqual(first!.rootKeys, [KEY]);
    assert.deepEqual(first!.signers, ['ci']);
    assert.equal(first!.minValidityMs, 14 * 86_400_000);
    assert.equal(policy.entries[1]!.name, 'alpine', 'the name defaults to the first pattern');
  });

  it('first match wins; * stays in a segment, ** crosses; host-less patterns are Docker Hub ones', () => {
    const name = (gun: string) => matchEntry(policy, gun)?.name;
    assert.equal(name('registry.example.com/team/app'), 'pinned team');
    assert.equal(name('registry.example.com/team/sub/app'), '**', '* does not cross /');
    assert.equal(name('ghcr.io/org/a/b/c'), 'pinned team');
    assert.equal(name('docker.io/library/alpine'), 'alpine');
    assert.equal(name('docker.io/org/tool'), 'org/*');
    assert.equal(name('quay.io/x/y'), '**');
  });

  it('reads JSON too', async () => {
    const p = await parsePolicy(JSON.stringify({ repositories: [{ match: '127.0.0.1:5000/org/*', 'min-validity': '12h' }] }), 'policy.json');
    assert.equal(p.default, 'deny');
    assert.equal(p.entries[0]!.minValidityMs, 12 * 3_600_000);
    assert.equal(matchEntry(p, '127.0.0.1:5000/org/app')?.name, '127.0.0.1:5000/org/*');
    assert.equal(matchEntry(p, '127.0.0.1:5001/org/app'), undefined);
  });

  for (const [text, message] of [
    ['repositories:\n  - match: a\n    signer: [ci]', /repositories\[0\]: unknown key "signer"/],
    ['default: allow\nrepositories: []', /default is "allow": use deny, verify or allow-unsigned/],
    ['repositories:\n  - match: a\n    min-validity: 30 days', /min-validity "30 days" is not a duration/],
    ['repositories:\n  - match: a\n    root-keys: [abc]', /"abc" is not a key ID/],
    ['repositories:\n  - match: a\n    signers: [releases]', /"releases" is not a valid signer name/],
    ['repositories:\n  - name: x', /repositories\[0\] has no "match" pattern/],
    ['repositories: []', /every image would fail/],
    ['version: 2\nrepositories: []', /version 2 is not supported/],
    ['{"repositories": [', /policy p: .*JSON/],
    ['repositories:\n  - match: a\n   signers: [ci]', /policy p: line 3/],
  ] as const) {
    it(`POLICY_INVALID: ${message}`, () =>
      assert.rejects(parsePolicy(text, 'p'), (e: ContentTrustError) => {
        assert.equal(e.code, 'POLICY_INVALID');
        assert.match(e.message, message);
        return true;
      }));
  }
});

describe('a policy cannot be weakened', () => {
  const invalid = (input: string | Buffer, message: RegExp) =>
    assert.rejects(parsePolicy(input, 'p.yml'), (e: ContentTrustError) => {
      assert.equal(e.code, 'POLICY_INVALID');
      assert.match(e.message, /^policy p\.yml: /);
      assert.match(e.message, message);
      return true;
    });
  const ENTRY = 'repositories:\n  - match: org/*\n';

  it('reads the YAML people write: comments, quotes, block and flow lists, empty values', async () => {
    const p = await parsePolicy(
      `# org policy
version: 1
default: deny   # trailing comment
repositories:
  - name: "team # not a comment"
    match: registry.example.com/team/*
    root-keys: [${KEY}, '${KEY}']
    signers:
      - ci
      - release
    min-validity: 30d
  - match:
    - docker.io/library/*
    - 127.0.0.1:5000/**
    name: 'it''s'
    signers:
    min-validity:
`,
      'p.yml',
    );
    assert.deepEqual(
      p.entries.map((e) => [e.name, e.patterns, e.rootKeys, e.signers, e.minValidity]),
      [
        ['team # not a comment', ['registry.example.com/team/*'], [KEY, KEY], ['ci', 'release'], '30d'],
        ["it's", ['docker.io/library/*', '127.0.0.1:5000/**'], [], [], undefined],
      ],
    );
  });

  for (const [label, text, message] of [
    ['__proto__ at the top (YAML)', `__proto__: {default: allow-unsigned}\n${ENTRY}`, /unknown key "__proto__": the keys are version, default, repositories \(line 1\)/],
    ['__proto__ at the top (JSON)', '{"__proto__": {"default": "allow-unsigned"}, "repositories": [{"match": "org/*"}]}', /unknown key "__proto__"/],
    ['__proto__ in an entry', 'repositories: [{match: x, __proto__: {signers: []}}]', /repositories\[0\]: unknown key "__proto__": the keys are match, name, root-keys, signers, min-validity \(line 1\)/],
    ['constructor at the top', `constructor: {default: allow-unsigned}\n${ENTRY}`, /unknown key "constructor"/],
    ['toString in an entry', `${ENTRY}    toString: x\n`, /repositories\[0\]: unknown key "toString": .*\(line 3\)/],
    ['hasOwnProperty in an entry', `${ENTRY}    hasOwnProperty: x\n`, /repositories\[0\]: unknown key "hasOwnProperty"/],
  ] as const) {
    it(`refuses ${label} by name`, () => invalid(text, message));
  }

  it('a refused __proto__ changes nothing anywhere', async () => {
    await assert.rejects(parsePolicy(`__proto__: {default: allow-unsigned, polluted: yes}\n${ENTRY}`, 'p.yml'));
    await assert.rejects(parsePolicy('{"__proto__": {"default": "allow-unsigned", "polluted": "yes"}, "repositories": []}', 'p.json'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(({} as Record<string, unknown>).default, undefined);
    // Without the key, the same file keeps the default: deny.
    assert.equal((await parsePolicy(ENTRY, 'p.yml')).default, 'deny');
  });

  it('refuses a duplicate default, in YAML and in JSON, with the line', async () => {
    await invalid(`default: deny\n${ENTRY}default: allow-unsigned\n`, /line 4, column 1: duplicate key "default"/);
    await invalid('{"default": "deny",\n "repositories": [{"match": "org/*"}],\n "default": "allow-unsigned"}', /line 3, column 2: duplicate key "default"/);
    await invalid(`${ENTRY}    signers: [ci]\n    signers: []\n`, /line 4, column 5: duplicate key "signers"/);
  });

  it('keeps signer names, key IDs, names and patterns as written (0x10 is not 16)', async () => {
    const p = await parsePolicy(`repositories:\n  - match: 0x10\n    name: 1e3\n    signers: [0x10, 1e3, 010, true, null, yes]\n`, 'p.yml');
    const [entry] = p.entries;
    assert.deepEqual(entry!.signers, ['0x10', '1e3', '010', 'true', 'null', 'yes']);
    assert.equal(entry!.name, '1e3');
    assert.deepEqual(entry!.patterns, ['0x10']);
    await invalid(`${ENTRY}    signers: [~]\n`, /"~" is not a valid signer name \(line 3\)/);
    await invalid(`${ENTRY}    root-keys: [0x${'1'.repeat(62)}]\n`, /"0x1{62}" is not a key ID/);
  });

  it('reads version 1 as written in YAML or JSON, and nothing else', async () => {
    assert.equal((await parsePolicy(`version: 1\n${ENTRY}`, 'p.yml')).entries.length, 1);
    assert.equal((await parsePolicy('{"version": 1, "repositories": [{"match": "x"}]}', 'p.json')).entries.length, 1);
    await invalid(`version: 1.0\n${ENTRY}`, /version 1\.0 is not supported \(use 1\) \(line 1\)/);
    await invalid(`version: [1]\n${ENTRY}`, /version a list is not supported/);
  });

  it('refuses values of the wrong kind by name, with the line', async () => {
    await invalid(`${ENTRY}    signers: {ci: yes}\n`, /repositories\[0\]\.signers must be a string or a list of strings \(line 3\)/);
    await invalid(`${ENTRY}    name: [a, b]\n`, /repositories\[0\]\.name must be a string \(line 3\)/);
    await invalid(`${ENTRY}    min-validity: [30d]\n`, /min-validity "a list" is not a duration/);
    await invalid('default: [deny]\nrepositories: []', /default is "a list": use deny/);
    await invalid('repositories: {match: x}', /"repositories" must be a list of entries \(line 1\)/);
    await invalid('repositories:\n  - org/*\n', /repositories\[0\] must be a mapping with "match" \(line 2\)/);
    await invalid('- a\n- b\n', /must be a mapping with a "repositories" list/);
    await invalid('', /must be a mapping with a "repositories" list/);
  });

  it('accepts a byte order mark and --- / ... markers; refuses a second document', async () => {
    const p = await parsePolicy(Buffer.from(`\uFEFF---\ndefault: verify\n${ENTRY}...\n`), 'p.yml');
    assert.equal(p.default, 'verify');
    assert.equal(p.entries[0]!.name, 'org/*');
    await invalid(`${ENTRY}---\ndefault: allow-unsigned\n`, /line 3, column 1: holds 2 documents/);
  });

  it('refuses an alias bomb, tags and deep nesting', async () => {
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [${Array(9).fill('*a').join(', ')}]\nc: &c [${Array(9).fill('*b').join(', ')}]\n`;
    await invalid(`${bomb}${ENTRY}`, /line 2, column \d+: an alias \(\*a\) is not allowed/);
    await invalid(`default: !!str deny\nversion: !!int 1\n${ENTRY}`, /line 2, column 10: Unresolved tag/);
    await invalid(`repositories: ${'['.repeat(100_000)}`, /line 1: nests lists and maps more than 32 deep/);
  });

  it('refuses a file over 1 MiB before parsing it (FILE_TOO_LARGE from disk), and a device or a missing file by name', async () => {
    // Were it parsed, this would fail on its nesting instead.
    await invalid('['.repeat(2 * 1024 * 1024), /^policy p\.yml: is larger than the 1048576 bytes allowed: fix the file/);
    const dir = await mkdtemp(join(tmpdir(), 'cta-policy-'));
    await writeFile(join(dir, 'big.yml'), `${ENTRY}# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    await assertCode(loadPolicy('big.yml', dir), 'FILE_TOO_LARGE', /^the policy file "big\.yml" .* is larger than the 1048576 bytes allowed/);
    await assertCode(loadPolicy('/dev/zero', dir), 'FILE_UNREADABLE', /is a device, not a regular file/);
    await writeFile(join(dir, 'ok.yml'), ENTRY);
    assert.equal((await loadPolicy('ok.yml', dir)).entries.length, 1);
    await assertCode(loadPolicy('missing.yml', dir), 'FILE_NOT_FOUND', /^the policy file "missing\.yml" /);
  });
});

describe('repository globs', () => {
  const never = () => new Error('unused') as never;
  const matches = (pattern: string, name: string) => globMatches(compileGlob(pattern, 'm', undefined, never), name);

  it('* and ? stay within a segment, ** crosses segments, the rest is literal', () => {
    for (const [pattern, name, expected] of [
      ['ghcr.io/org/*', 'ghcr.io/org/app', true],
      ['ghcr.io/org/*', 'ghcr.io/org/a/b', false],
      ['ghcr.io/org/**', 'ghcr.io/org/a/b', true],
      ['ghcr.io/**/app', 'ghcr.io/x/y/app', true],
      ['ghcr.io/**/app', 'ghcr.io/x/y/apps', false],
      ['ghcr.io/org/ap?', 'ghcr.io/org/app', true],
      ['ghcr.io/org?app', 'ghcr.io/org/app', false],
      ['ghcr.io/org/a.p', 'ghcr.io/org/axp', false],
      ['127.0.0.1:5000/*/*', '127.0.0.1:5000/org/app', true],
      ['alpine', 'docker.io/library/alpine', true],
      ['org/*', 'docker.io/org/tool', true],
      ['**', 'quay.io/x/y', true],
      ['ghcr.io/org/*app*', 'ghcr.io/org/app', true],
      ['ghcr.io/org/', 'ghcr.io/org/app', false],
    ] as const) {
      assert.equal(matches(pattern, name), expected, `${pattern} ~ ${name}`);
    }
  });

  it('matches in time bounded by pattern × name (a backtracking regexp never finishes these)', () => {
    const pattern = `ghcr.io/${'*a'.repeat(12)}*b`;
    assert.equal(matches(pattern, `ghcr.io/${'a'.repeat(200)}`), false);
    assert.equal(matches(pattern, `ghcr.io/${'a'.repeat(200)}b`), true);
    assert.equal(matches(`**${'a**'.repeat(12)}b`, `x/${'a/'.repeat(100)}`), false);
  });

  it('refuses an empty, spaced or over-long pattern by name, with the line', async () => {
    for (const [match, message] of [
      ['"a b"', /repositories\[0\]\.match: "a b" is not a repository pattern \(line 2\)/],
      ['""', /repositories\[0\]\.match: "" is not a repository pattern/],
      [`x${'y'.repeat(1024)}`, /repositories\[0\]\.match: "xy{63}…" is not a repository pattern/],
    ] as const) {
      await assert.rejects(parsePolicy(`repositories:\n  - match: ${match}\n`, 'p'), (e: ContentTrustError) => e.code === 'POLICY_INVALID' && message.test(e.message));
    }
  });
});

describe('any policy text', () => {
  const VALID = `version: 1\ndefault: verify\nrepositories:\n  - name: "team"\n    match: [ghcr.io/org/*, alpine]\n    root-keys: [${KEY}]\n    signers:\n      - ci\n    min-validity: 30d\n`;
  const piece = fc.oneof(fc.constantFrom(...'-:?[]{},&*!|>#\'"%@`\n\t \uFEFF'.split(''), '---', '...', '__proto__', '<<', '0x10', '~'), fc.string({ maxLength: 4 }));

  it('gives a policy or POLICY_INVALID, never another error (random edits of a valid file)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.nat(), fc.nat(3), piece), { maxLength: 6 }), async (edits) => {
        let text = VALID;
        for (const [at, cut, insert] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + cut);
        }
        try {
          const p = await parsePolicy(text, 'p.yml');
          assert.ok(['deny', 'verify', 'allow-unsigned'].includes(p.default));
        } catch (e) {
          assert.ok(e instanceof ContentTrustError && e.code === 'POLICY_INVALID', `${String(e)} for ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: 300 },
    );
  });
});
