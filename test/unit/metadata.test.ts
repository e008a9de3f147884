import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeMetadata, parseExpiry, parseMetadata, type Metadata, type SignedKind, type TargetsSigned } from '../../src/tuf/metadata.ts';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { ContentTrustError, TrustError } from '../../src/errors.ts';
import { ROLES, fixtureBytes, type FixtureRole } from './helpers/fixtures.ts';
import { assertCode } from './helpers/errors.ts';

const KIND: Record<FixtureRole, keyof SignedKind> = {
  root: 'Root',
  timestamp: 'Timestamp',
  snapshot: 'Snapshot',
  targets: 'Targets',
  'targets/releases': 'Targets',
  'targets/ci': 'Targets',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw captured JSON, edited freely to make what the parser must refuse
type Doc = { signed: Record<string, any>; signatures: any };
const doc = (role: FixtureRole) => JSON.parse(fixtureBytes(role).toString('utf8')) as Doc;
const bytes = (d: unknown) => Buffer.from(JSON.stringify(d));
/** Parsed maps have no prototype; compare their content with plain literals. */
const plain = <T>(v: T): T => structuredClone(v);

/** METADATA_INVALID whose message names the role's file (and matches `what`, if given). */
function invalid(role: string, what?: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ContentTrustError, String(e));
    assert.equal(e.code, 'METADATA_INVALID');
    assert.ok(e.message.includes(role), `message names ${role}: ${e.message}`);
    if (what) assert.match(e.message, what);
    return true;
  };
}

/** Parses a fixture after `edit` changed its decoded form. */
function parseEdited(role: FixtureRole, edit: (d: Doc) => void) {
  const d = doc(role);
  edit(d);
  return parseMetadata(bytes(d), role, KIND[role]);
}
const targetsEdited = (role: FixtureRole, edit: (d: Doc) => void) => parseEdited(role, edit) as Metadata<TargetsSigned>;

describe('parseMetadata', () => {
  describe('captured files', () => {
    for (const role of ROLES) {
      it(`${role}.json parses as ${KIND[role]}`, () => {
        const raw = fixtureBytes(role);
        const m = parseMetadata(raw, role, KIND[role]);
        assert.equal(m.role, role);
        assert.equal(m.signed._type, KIND[role]);
        assert.ok(m.signed.version >= 1);
        assert.equal(m.raw, raw);
        assert.deepEqual(m.canonical, canonicalize(doc(role).signed));
        assert.ok(m.signatures.length >= 1);
        assert.ok(m.expires.getTime() > Date.parse('2026-01-01T00:00:00Z'));
      });
    }

    it('reads the local-zone expiries docker (+05:30) and the notary CLI (-05:00) wrote', () => {
      const root = parseMetadata(fixtureBytes('root'), 'root', 'Root');
      assert.match(root.signed.expires, /\+05:30$/);
      const releases = parseMetadata(fixtureBytes('targets/releases'), 'targets/releases', 'Targets');
      assert.match(releases.signed.expires, /-05:00$/);
      for (const m of [root, releases]) {
        const [, base, frac, off] = /^(.*?T[\d:]+)(\.\d+)?([+-]\d\d:\d\d)$/.exec(m.signed.expires)!;
        assert.equal(m.expires.getTime(), Date.parse(`${base}${(frac ?? '').slice(0, 4)}${off}`));
      }
    });

    it('keeps fields it does not know, so a re-sign preserves them', () => {
      const m = targetsEdited('targets/releases', (d) => {
        d.signed.x_custom = { keep: [1, 2] };
        d.signed.targets.v1.custom = { note: 'kept' };
      });
      assert.deepEqual(plain((m.signed as unknown as Record<string, unknown>).x_custom), { keep: [1, 2] });
      assert.deepEqual(plain(m.signed.targets.v1!.custom), { note: 'kept' });
      assert.match(m.canonical.toString(), /"x_custom":\{"keep":\[1,2\]\}/);
    });

    it('accepts targets without delegations (or without their keys), reading them as empty, while signatures cover the file as written', () => {
      const m = targetsEdited('targets/ci', (d) => delete d.signed.delegations);
      assert.deepEqual(plain(m.signed.delegations), { keys: {}, roles: [] });
      assert.equal(m.canonical.includes('delegations'), false, 'the canonical bytes are those of the file, without the filled-in default');
      const noKeys = targetsEdited('targets/ci', (d) => delete d.signed.delegations.keys);
      assert.deepEqual(plain(noKeys.signed.delegations.keys), {});
    });
  });

  describe('malformed envelopes → METADATA_INVALID naming the role', () => {
    const cases: [string, Buffer][] = [
      ['not JSON', Buffer.from('{"signed":')],
      ['an array', Buffer.from('[]')],
      ['null', Buffer.from('null')],
      ['no signed', bytes({ signatures: [] })],
      ['signed is a string', bytes({ signed: 'x', signatures: [] })],
      ['no signatures', bytes({ signed: doc('targets/releases').signed })],
      ['signatures is an object', bytes({ signed: doc('targets/releases').signed, signatures: {} })],
      ['a signature without keyid', bytes({ signed: doc('targets/releases').signed, signatures: [{ method: 'ecdsa', sig: 'AA==' }] })],
      ['a signature with a numeric sig', bytes({ signed: doc('targets/releases').signed, signatures: [{ keyid: 'a', method: 'ecdsa', sig: 1 }] })],
      ['a null signature', bytes({ signed: doc('targets/releases').signed, signatures: [null] })],
    ];
    for (const [label, raw] of cases) {
      it(label, () => assert.throws(() => parseMetadata(raw, 'targets/releases', 'Targets'), invalid('targets/releases.json')));
    }

    it('a float anywhere in signed cannot be canonicalized', () => {
      assertCode(() => parseEdited('targets/ci', (d) => (d.signed.targets.v1.length = 1.5)), 'METADATA_INVALID');
    });
  });

  describe('wrong _type', () => {
    it('root.json read as Targets', () => {
      assert.throws(() => parseMetadata(fixtureBytes('root'), 'targets', 'Targets'), invalid('targets.json', /_type "Root", expected Targets/));
    });
    it('a delegation read as Snapshot, a missing _type', () => {
      assert.throws(() => parseMetadata(fixtureBytes('targets/ci'), 'snapshot', 'Snapshot'), invalid('snapshot.json', /_type/));
      assert.throws(() => parseEdited('timestamp', (d) => delete d.signed._type), invalid('timestamp.json', /_type/));
    });
  });

  describe('version', () => {
    for (const v of [0, -1, 1.5, '2', null, 2 ** 53]) {
      it(`rejects version ${JSON.stringify(v)}`, () => {
        assert.throws(() => parseEdited('targets/releases', (d) => (d.signed.version = v)), invalid('targets/releases.json', /version/));
      });
    }
    it('rejects a missing version', () => {
      assert.throws(() => parseEdited('snapshot', (d) => delete d.signed.version), invalid('snapshot.json', /version/));
    });
  });

  describe('expiry', () => {
    for (const v of ['tomorrow', '2029-11-24', '2029-11-24T04:03:20', '2029-11-24 04:03:20Z', '2029-13-01T00:00:00Z', 1890259200, null, '']) {
      it(`rejects expires ${JSON.stringify(v)}`, () => {
        assert.throws(() => parseEdited('targets', (d) => (d.signed.expires = v)), invalid('targets.json', /expiry/));
      });
    }
  });

  describe('root shape', () => {
    it('a missing base role, a zero threshold, a keyids string', () => {
      assert.throws(() => parseEdited('root', (d) => delete d.signed.roles.timestamp), invalid('root', /timestamp/));
      assert.throws(() => parseEdited('root', (d) => (d.signed.roles.snapshot.threshold = 0)), invalid('root', /snapshot/));
      assert.throws(() => parseEdited('root', (d) => (d.signed.roles.targets.keyids = 'abc')), invalid('root', /targets/));
    });
    it('no keys map, a key without keyval.public', () => {
      assert.throws(() => parseEdited('root', (d) => delete d.signed.keys), invalid('root.json', /keys/));
      assert.throws(
        () =>
          parseEdited('root', (d) => {
            const id = Object.keys(d.signed.keys)[0]!;
            d.signed.keys[id] = { keytype: 'ecdsa', keyval: {} };
          }),
        invalid('root.json', /malformed key/),
      );
    });
  });

  describe('targets and delegations', () => {
    const role = 'targets';
    const edits: [string, (d: Doc) => void, RegExp][] = [
      ['no targets map', (d) => delete d.signed.targets, /targets map/],
      ['delegations is an array', (d) => (d.signed.delegations = []), /delegations/],
      ['delegations.roles missing', (d) => delete d.signed.delegations.roles, /delegations/],
      ['delegations.keys not a map', (d) => (d.signed.delegations.keys = []), /keys/],
      ['a role without a name', (d) => delete d.signed.delegations.roles[0].name, /role name/],
      ['an uppercase role name', (d) => (d.signed.delegations.roles[0].name = 'targets/CI'), /targets\/CI/],
      ['a name outside targets/', (d) => (d.signed.delegations.roles[0].name = 'releases'), /role name "releases"/],
      ['the name targets/', (d) => (d.signed.delegations.roles[0].name = 'targets/'), /role name/],
      ['a name with an empty segment', (d) => (d.signed.delegations.roles[0].name = 'targets//ci'), /role name/],
      ['a name with ..', (d) => (d.signed.delegations.roles[0].name = 'targets/../ci'), /role name/],
      ['a 256-character name', (d) => (d.signed.delegations.roles[0].name = `targets/${'a'.repeat(248)}`), /role name/],
      ['paths is a string', (d) => (d.signed.delegations.roles[0].paths = ''), /paths/],
      ['paths holds a number', (d) => (d.signed.delegations.roles[0].paths = ['', 1]), /paths/],
      ['a role without keyids', (d) => delete d.signed.delegations.roles[0].keyids, /delegation/],
      ['a role with threshold 0', (d) => (d.signed.delegations.roles[0].threshold = 0), /delegation/],
    ];
    for (const [label, edit, what] of edits) {
      it(label, () => assert.throws(() => parseEdited(role, edit), invalid(role, what)));
    }

    it('a 255-character name is fine', () => {
      const m = targetsEdited(role, (d) => (d.signed.delegations.roles[0].name = `targets/${'a'.repeat(247)}`));
      assert.equal(m.signed.delegations.roles[0]!.name.length, 255);
    });

    const NO_LENGTH = /^targets\/releases target "v1" needs hashes and a length$/;
    const targetEdits: [string, (d: Doc) => void, RegExp][] = [
      ['a target without hashes', (d) => delete d.signed.targets.v1.hashes, NO_LENGTH],
      ['a target with a string length', (d) => (d.signed.targets.v1.length = '401'), NO_LENGTH],
      ['a target with a negative length', (d) => (d.signed.targets.v1.length = -1), NO_LENGTH],
      ['a target with a numeric hash', (d) => (d.signed.targets.v1.hashes.sha256 = 5), /^targets\/releases target "v1" has a non-string hash$/],
    ];
    for (const [label, edit, what] of targetEdits) {
      it(label, () => assert.throws(() => parseEdited('targets/releases', edit), invalid('targets/releases', what)));
    }
  });

  describe('snapshot and timestamp', () => {
    it('a snapshot without meta, or an entry without a length', () => {
      assert.throws(() => parseEdited('snapshot', (d) => delete d.signed.meta), invalid('snapshot.json', /meta/));
      assert.throws(() => parseEdited('snapshot', (d) => delete d.signed.meta['targets/ci'].length), invalid('snapshot', /targets\/ci/));
    });
    it('a timestamp without meta.snapshot', () => {
      assert.throws(() => parseEdited('timestamp', (d) => (d.signed.meta = { targets: d.signed.meta.snapshot })), invalid('timestamp', /snapshot/));
    });
  });
});

describe('decodeMetadata', () => {
  const fail = (why: string) => new TrustError('METADATA_INVALID', why);
  it('parseMetadata of the buffer it decoded uses that decoding once: the same result as a fresh parse, and again on a second parse', () => {
    const raw = fixtureBytes('targets/releases');
    const decoded = decodeMetadata(raw, fail, {}) as Doc;
    const first = parseMetadata(raw, 'targets/releases', 'Targets');
    assert.equal(first.signed, decoded.signed, 'the decoded document was used');
    const again = parseMetadata(raw, 'targets/releases', 'Targets');
    assert.notEqual(again.signed, first.signed, 'taken once: the second parse decodes anew');
    assert.deepEqual(plain(again.signed), plain(first.signed));
    assert.deepEqual(again.canonical, first.canonical);
  });
  it('another buffer with the same bytes is parsed from its own bytes', () => {
    const raw = fixtureBytes('targets');
    const decoded = decodeMetadata(raw, fail, {}) as Doc;
    assert.notEqual(parseMetadata(Buffer.from(raw), 'targets', 'Targets').signed, decoded.signed);
  });
});

describe('parseExpiry', () => {
  const ok: [string, string][] = [
    ['2029-11-24T09:03:20.120840745Z', '2029-11-24T09:03:20.120Z'],
    ['2029-11-24T09:03:20Z', '2029-11-24T09:03:20.000Z'],
    ['2029-11-24T09:03:20.1Z', '2029-11-24T09:03:20.100Z'],
    ['2036-11-22T14:33:36.554595599+05:30', '2036-11-22T09:03:36.554Z'],
    ['2024-03-10T10:15:36.027379879-05:00', '2024-03-10T15:15:36.027Z'],
    ['2024-03-10T10:15:36.999999999-05:00', '2024-03-10T15:15:36.999Z'],
    ['2024-12-31T23:00:00-01:00', '2025-01-01T00:00:00.000Z'],
    ['2024-02-29T00:00:00+14:00', '2024-02-28T10:00:00.000Z'],
    ['2029-11-24T09:03:20.120Z', '2029-11-24T09:03:20.120Z'],
  ];
  for (const [input, iso] of ok) {
    it(`reads ${input}`, () => assert.equal(parseExpiry(input, 'targets/ci').toISOString(), iso));
  }

  it('names the role when it cannot read the value', () => {
    assert.throws(() => parseExpiry('2029-11-24T09:03:20', 'targets/ci'), invalid('targets/ci.json', /expiry "2029-11-24T09:03:20"/));
  });

  // Go's time.Parse (RFC 3339) refuses these; JavaScript's Date.parse rolls them over.
  for (const v of ['2029-02-30T00:00:00Z', '2029-11-31T00:00:00Z', '2030-02-29T00:00:00Z', '2029-11-24T24:00:00Z', '2029-11-24T23:60:00Z', '2029-11-24T23:59:60Z', '2029-11-24T23:59:59+25:00']) {
    it(`rejects the impossible time ${v}`, () => assert.throws(() => parseExpiry(v, 'targets'), invalid('targets.json')));
  }
});
