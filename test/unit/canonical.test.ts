import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { parseKeyMap, verifySignature, type PublicKey, type TufKeyJson } from '../../src/tuf/keys.ts';
import { ROLES, fixtureBytes, type FixtureRole } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

interface Envelope {
  signed: Record<string, unknown> & { keys?: Record<string, TufKeyJson>; delegations?: { keys: Record<string, TufKeyJson> } };
  signatures: { keyid: string; method: string; sig: string }[];
}

const parse = (role: FixtureRole) => JSON.parse(fixtureBytes(role).toString('utf8')) as Envelope;

/** Keys that sign each captured role: root's keys for base roles, targets' delegation keys for delegations. */
function signingKeys(role: FixtureRole): Map<string, PublicKey> {
  if (role.startsWith('targets/')) return parseKeyMap(parse('targets').signed.delegations!.keys, 'targets');
  return parseKeyMap(parse('root').signed.keys!, 'root');
}

/** A canonicalizer that differs only in using JavaScript's UTF-16 key order. */
function utf16Canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(utf16Canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${utf16Canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return typeof v === 'string' ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : JSON.stringify(v);
}

describe('canonicalize', () => {
  describe('reproduces the bytes notary signed (captured from a real notary-server)', () => {
    for (const role of ROLES) {
      it(`${role}.json: every signature verifies over parse → canonicalize`, () => {
        const doc = parse(role);
        const bytes = canonicalize(doc.signed);
        const keys = signingKeys(role);
        assert.ok(doc.signatures.length > 0);
        for (const s of doc.signatures) {
          const key = keys.get(s.keyid);
          assert.ok(key, `signing key ${s.keyid} is listed`);
          assert.equal(verifySignature(key, s.method, bytes, Buffer.from(s.sig, 'base64')), true, `${role} signature by ${s.keyid.slice(0, 8)} (${s.method})`);
        }
      });
    }

    it('the served bytes carry Go HTML escaping, the signed bytes do not', () => {
      const served = fixtureBytes('targets/releases').toString('utf8');
      assert.match(served, /"a\\u0026b\\u003cc\\u003eé"/);
      assert.match(served, /"line\\u2028sep"/);
      const canonical = canonicalize(parse('targets/releases').signed).toString('utf8');
      assert.ok(canonical.includes('"a&b<c>é"'));
      assert.ok(canonical.includes('"line\u2028sep"'));
      assert.ok(!served.includes(canonical), 'the signed bytes are not a substring of the served file');
    });

    it('the server orders U+E000 before U+1F600 (UTF-8 bytes); a UTF-16 sort breaks the signature', () => {
      const served = fixtureBytes('targets/ci').toString('utf8');
      assert.ok(served.indexOf('"\u{E000}"') < served.indexOf('"\u{1F600}"'));
      const doc = parse('targets/ci');
      const key = signingKeys('targets/ci').get(doc.signatures[0]!.keyid)!;
      const sig = Buffer.from(doc.signatures[0]!.sig, 'base64');
      const wrongOrder = Buffer.from(utf16Canonical(doc.signed), 'utf8');
      assert.notDeepEqual(wrongOrder, canonicalize(doc.signed));
      assert.equal(verifySignature(key, 'ecdsa', wrongOrder, sig), false);
      assert.equal(verifySignature(key, 'ecdsa', canonicalize(doc.signed), sig), true);
    });
  });

  describe('key order', () => {
    it('sorts by UTF-8 bytes: U+E000 and U+FFFF before U+1F600', () => {
      const out = canonicalize({ '\u{1F600}': 1, '\u{E000}': 2, '\u{FFFF}': 3, z: 4, A: 5, é: 6 }).toString('utf8');
      assert.equal(out, '{"A":5,"z":4,"é":6,"\u{E000}":2,"\u{FFFF}":3,"\u{1F600}":1}');
    });

    it('sorts keys below U+D800 bytewise without the byte comparison (é, ÿ before U+0100, a 2-byte sequence starting higher)', () => {
      assert.equal(canonicalize({ Ā: 1, ÿ: 2, é: 3, z: 4, Z: 5 }).toString('utf8'), '{"Z":5,"z":4,"é":3,"ÿ":2,"Ā":1}');
    });

    it('a key at or above U+D800 anywhere in an object makes every key compare by bytes', () => {
      const keys = Object.fromEntries([...Array.from({ length: 50 }, (_, i) => `t${String(i).padStart(2, '0')}`), '\u{1F600}', '\u{E000}', 'é'].map((k, i) => [k, i]));
      const out = Object.keys(JSON.parse(canonicalize(keys).toString('utf8')) as object);
      const bytewise = Object.keys(keys).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      assert.deepEqual(out, bytewise);
      assert.deepEqual(out.slice(-3), ['é', '\u{E000}', '\u{1F600}']);
    });

    it('sorts ASCII keys bytewise (uppercase before lowercase, prefix first)', () => {
      assert.equal(canonicalize({ b: 1, a: 2, B: 3, ab: 4, _: 5 }).toString(), '{"B":3,"_":5,"a":2,"ab":4,"b":1}');
    });

    it('sorts nested objects and keeps array order', () => {
      assert.equal(canonicalize({ z: [{ y: 1, x: 2 }, 3], a: { d: null, c: true } }).toString(), '{"a":{"c":true,"d":null},"z":[{"x":2,"y":1},3]}');
    });

    it('drops undefined fields (omitempty), keeps null', () => {
      assert.equal(canonicalize({ a: undefined, b: null }).toString(), '{"b":null}');
    });
  });

  describe('strings', () => {
    it('escapes only " and \\', () => {
      assert.equal(canonicalize('a"b\\c').toString(), '"a\\"b\\\\c"');
    });

    it('writes <>&, U+2028, non-ASCII and control characters raw', () => {
      const s = '<>&\u2028é😀\n\t\u0001/';
      assert.equal(canonicalize(s).toString('utf8'), `"${s}"`);
    });

    it('escapes keys the same way', () => {
      assert.equal(canonicalize({ 'k"\\': '<' }).toString(), '{"k\\"\\\\":"<"}');
    });
  });

  describe('numbers', () => {
    it('writes integers in plain decimal, no whitespace anywhere', () => {
      assert.equal(canonicalize({ a: [0, -1, 1095, 2 ** 53 - 1, -(2 ** 53 - 1)], b: false }).toString(), '{"a":[0,-1,1095,9007199254740991,-9007199254740991],"b":false}');
    });

    for (const [label, n] of [
      ['a float', 1.5],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['-Infinity', -Infinity],
      ['2^53', 2 ** 53],
      ['-(2^53)', -(2 ** 53)],
      ['1e300', 1e300],
    ] as const) {
      it(`rejects ${label} with METADATA_INVALID`, () => {
        assertCode(() => canonicalize({ version: n }), 'METADATA_INVALID');
      });
    }

    it('rejects values JSON has no form for', () => {
      assertCode(() => canonicalize({ a: 1n }), 'METADATA_INVALID');
      assertCode(() => canonicalize({ a: () => 1 }), 'METADATA_INVALID');
      assertCode(() => canonicalize([undefined]), 'METADATA_INVALID');
    });
  });
});
