import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseYaml } from '../../src/policy/yaml.ts';
import { matchEntry, parsePolicy } from '../../src/policy/policy.ts';
import type { ContentTrustError } from '../../src/errors.ts';

const KEY = 'a'.repeat(64);

describe('parseYaml (the policy subset)', () => {
  it('reads mappings, "- key:" items, nested and same-indent sequences, flow lists, quotes, comments, scalars', () => {
    const doc = parseYaml(`
# org policy
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
    empty:
flags:
- true
- 12
- ~
- 'it''s'
`);
    assert.deepEqual(doc, {
      version: 1,
      default: 'deny',
      repositories: [
        { name: 'team # not a comment', match: 'registry.example.com/team/*', 'root-keys': [KEY, KEY], signers: ['ci', 'release'], 'min-validity': '30d' },
        { match: ['docker.io/library/*', '127.0.0.1:5000/**'], empty: null },
      ],
      flags: [true, 12, null, "it's"],
    });
  });

  for (const [text, message] of [
    ['a: 1\n  b: 2', /line 2: unexpected indentation/],
    ['a: [1, 2', /line 1: a flow sequence must end on the same line/],
    ['a: {x: 1}', /line 1: flow mappings/],
    ['a: &anchor 1', /line 1: anchors, aliases and tags/],
    ['a: |\n  text', /line 1: block scalars/],
    ['a: 1\na: 2', /line 2: duplicate key "a"/],
    ['a:\n\t- x', /line 2: tabs/],
    ['a: "open', /line 1: unterminated quoted string/],
    ['a: 1\n---\nb: 2', /line 2: only one YAML document/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)} with the line`, () => assert.throws(() => parseYaml(text), message));
  }
});

describe('parsePolicy', () => {
  const policy = parsePolicy(
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

  it('reads JSON too', () => {
    const p = parsePolicy(JSON.stringify({ repositories: [{ match: '127.0.0.1:5000/org/*', 'min-validity': '12h' }] }), 'policy.json');
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
      assert.throws(() => parsePolicy(text, 'p'), (e: ContentTrustError) => {
        assert.equal(e.code, 'POLICY_INVALID');
        assert.match(e.message, message);
        return true;
      }));
  }
});
