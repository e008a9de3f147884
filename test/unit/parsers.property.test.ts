/**
 * Bad input never crashes: for any input, each parser the action feeds with
 * outside data (image references, PEM keys, public keys, metadata files,
 * canonical JSON, WWW-Authenticate) returns a value or throws a
 * ContentTrustError with a stable code — never a TypeError, RangeError or
 * another foreign exception. Inputs are random, and random mutations of real
 * files captured from notary and docker.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ContentTrustError } from '../../src/errors.ts';
import { parseReference, parseReferences } from '../../src/registry/reference.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';
import { parseKeyMap, parsePublicKey, type TufKeyJson } from '../../src/tuf/keys.ts';
import { parseMetadata, type SignedKind } from '../../src/tuf/metadata.ts';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { parseChallenge } from '../../src/http/challenge.ts';

const FIXTURES = new URL('../fixtures/notary/docker-signer-add/', import.meta.url).pathname;
const KEY_FILE = readdirSync(FIXTURES).find((f) => f.endsWith('.key'))!;
const KEY_PEM = readFileSync(join(FIXTURES, KEY_FILE), 'utf8');
const PASSPHRASE = readFileSync(join(FIXTURES, 'passphrase.txt'), 'utf8').trim();
const METADATA: [string, keyof SignedKind, Buffer][] = [
  ['root', 'Root', readFileSync(join(FIXTURES, 'root.json'))],
  ['targets', 'Targets', readFileSync(join(FIXTURES, 'targets.json'))],
  ['snapshot', 'Snapshot', readFileSync(join(FIXTURES, 'snapshot.json'))],
  ['timestamp', 'Timestamp', readFileSync(join(FIXTURES, 'timestamp.json'))],
  ['targets/releases', 'Targets', readFileSync(join(FIXTURES, 'targets', 'releases.json'))],
];
const RUNS = { numRuns: 300 };

/** Runs `f`; a ContentTrustError is an accepted outcome, anything else thrown fails the property. */
function typedOrValue(f: () => unknown): true {
  try {
    f();
  } catch (e) {
    if (e instanceof ContentTrustError) {
      assert.match(e.code, /^[A-Z_]+$/);
      assert.ok(e.message.length > 0);
      return true;
    }
    throw new Error(`threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`, { cause: e });
  }
  return true;
}

/** Strings biased towards the characters and pieces image references are made of. */
const refPiece = fc.stringMatching(/^[a-zA-Z0-9._\-:/@]{0,40}$/);
const refLike = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.constantFrom('', 'docker.io/', 'ghcr.io/', 'localhost:5000/', '127.0.0.1:5000/', '[::1]:5000/', 'UPPER.io/', 'a..b/'),
      fc.array(refPiece, { maxLength: 4 }).map((p) => p.join('/')),
      fc.constantFrom('', ':v1', ':latest', ':' + 'x'.repeat(200), ':', ':-bad', '@sha256:' + 'a'.repeat(64), ':v1@sha256:' + '0'.repeat(64), '@sha256:zz', '@md5:00'),
    )
    .map(([d, p, t]) => d + p + t),
  refPiece,
);

/** Replaces a random span of `text` with random text. */
function mutate(text: string) {
  return fc.tuple(fc.nat(), fc.nat({ max: 12 }), fc.string({ maxLength: 12 })).map(([at, len, insert]) => {
    const i = at % (text.length + 1);
    return text.slice(0, i) + insert + text.slice(i + len);
  });
}

/** A JSON document with one value somewhere replaced by something random. */
function mutateJson(raw: Buffer) {
  const doc = JSON.parse(raw.toString('utf8'));
  const paths: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const [k, c] of Object.entries(v)) walk(c, [...path, Array.isArray(v) ? Number(k) : k]);
  };
  walk(doc, []);
  return fc.tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue(), fc.constant(undefined), fc.string(), fc.integer(), fc.double())).map(([path, value]) => {
    const copy = structuredClone(doc);
    if (path.length === 0) return Buffer.from(JSON.stringify(value) ?? '');
    let parent = copy;
    for (const p of path.slice(0, -1)) parent = parent[p];
    const last = path[path.length - 1]!;
    if (value === undefined) delete parent[last];
    else parent[last] = value;
    return Buffer.from(JSON.stringify(copy));
  });
}

describe('property: bad input ends in a value or a ContentTrustError', () => {
  it('image references (parseReference, parseReferences)', () => {
    fc.assert(
      fc.property(refLike, (s) => typedOrValue(() => parseReference(s))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.array(refLike, { maxLength: 5 }), (list) => typedOrValue(() => parseReferences(list))),
      RUNS,
    );
  });

  it('a parsed reference is normalised: GUN = domain/path (domain case kept, as docker keeps it), docker.io paths have a namespace', () => {
    fc.assert(
      fc.property(refLike, (s) => {
        let ref;
        try {
          ref = parseReference(s);
        } catch (e) {
          if (e instanceof ContentTrustError) return true;
          throw e;
        }
        assert.equal(ref.gun, `${ref.domain}/${ref.path}`);
        assert.equal(ref.path, ref.path.toLowerCase(), 'repository paths are lowercase');
        if (ref.domain === 'docker.io') assert.ok(ref.path.includes('/'), `docker.io path ${ref.path} has its namespace`);
        return true;
      }),
      { numRuns: 2000 },
    );
  });

  it('private keys: random text, PEM armour around random bytes, mutations of a real docker key, any passphrase', () => {
    const armour = fc
      .tuple(
        fc.constantFrom('ENCRYPTED PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY', 'PUBLIC KEY', 'CERTIFICATE'),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom('', 'role: ci\n\n', 'gun: x\n', 'Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\n'),
      )
      .map(([label, der, headers]) => `-----BEGIN ${label}-----\n${headers}${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`);
    const passphrase = fc.option(fc.oneof(fc.string(), fc.constant(PASSPHRASE)), { nil: undefined });
    fc.assert(
      fc.property(fc.oneof(fc.string(), armour, mutate(KEY_PEM)), passphrase, (pem, pass) => typedOrValue(() => parsePrivateKey(pem, pass))),
      { numRuns: 200 },
    );
    // Flipped bytes inside the encrypted key's DER (a damaged secret).
    const lines = KEY_PEM.split('\n');
    const body = Buffer.from(lines.filter((l) => /^[A-Za-z0-9+/=]+$/.test(l)).join(''), 'base64');
    const damaged = fc.tuple(fc.nat({ max: body.length - 1 }), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
      const copy = Buffer.from(body);
      copy[i]! ^= x;
      return `-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: ci\n\n${copy.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ENCRYPTED PRIVATE KEY-----\n`;
    });
    fc.assert(
      fc.property(damaged, (pem) => typedOrValue(() => parsePrivateKey(pem, PASSPHRASE))),
      { numRuns: 150 },
    );
  });

  it('public keys and key maps from metadata', () => {
    const keyJson = fc.record({
      keytype: fc.oneof(fc.constantFrom('ecdsa', 'ecdsa-x509', 'ed25519', 'rsa', 'rsa-x509', 'ECDSA'), fc.string()),
      keyval: fc.oneof(fc.record({ public: fc.oneof(fc.base64String({ maxLength: 200 }), fc.string()), private: fc.constant(null) }), fc.anything()),
    }) as fc.Arbitrary<TufKeyJson>;
    fc.assert(
      fc.property(keyJson, (k) => typedOrValue(() => parsePublicKey(k))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string(), keyJson, { maxKeys: 3 }), (m) => typedOrValue(() => parseKeyMap(m, 'root'))),
      RUNS,
    );
  });

  it('metadata files: random bytes, random JSON, and real notary files with one value changed', () => {
    const kinds = fc.constantFrom<keyof SignedKind>('Root', 'Targets', 'Snapshot', 'Timestamp');
    const roles = fc.constantFrom('root', 'targets', 'snapshot', 'timestamp', 'targets/releases');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), roles, kinds, (b, role, kind) => typedOrValue(() => parseMetadata(Buffer.from(b), role, kind))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.jsonValue(), roles, kinds, (v, role, kind) => typedOrValue(() => parseMetadata(Buffer.from(JSON.stringify(v) ?? ''), role, kind))),
      RUNS,
    );
    const envelope = fc.record({ signed: fc.dictionary(fc.constantFrom('_type', 'version', 'expires', 'keys', 'roles', 'meta', 'targets', 'delegations'), fc.jsonValue()), signatures: fc.jsonValue() });
    fc.assert(
      fc.property(envelope, roles, kinds, (v, role, kind) => typedOrValue(() => parseMetadata(Buffer.from(JSON.stringify(v)), role, kind))),
      RUNS,
    );
    for (const [role, kind, raw] of METADATA) {
      assert.ok(parseMetadata(raw, role, kind), `${role} fixture parses`);
      fc.assert(
        fc.property(mutateJson(raw), (b) => typedOrValue(() => parseMetadata(b, role, kind))),
        { numRuns: 400 },
      );
      fc.assert(
        fc.property(mutate(raw.toString('utf8')), (t) => typedOrValue(() => parseMetadata(Buffer.from(t), role, kind))),
        { numRuns: 150 },
      );
    }
  });

  it('canonical JSON: any value encodes or is refused typed; output re-parses to the same canonical bytes', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => typedOrValue(() => canonicalize(v))),
      RUNS,
    );
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        let bytes: Buffer;
        try {
          bytes = canonicalize(v);
        } catch (e) {
          if (e instanceof ContentTrustError) return true;
          throw e;
        }
        assert.ok(canonicalize(JSON.parse(bytes.toString('utf8'))).equals(bytes), 'canonical form is a fixed point');
        return true;
      }),
      { numRuns: 1000 },
    );
  });

  it('WWW-Authenticate challenges never throw', () => {
    const header = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.constantFrom('Bearer', 'Basic', 'bearer', 'Negotiate', ''), fc.array(fc.tuple(fc.stringMatching(/^[a-z_]{0,8}$/), fc.string()), { maxLength: 4 }))
        .map(([scheme, params]) => `${scheme} ${params.map(([k, v]) => `${k}="${v.replace(/"/g, '\\"')}"`).join(',')}`),
    );
    fc.assert(
      fc.property(fc.oneof(header, fc.array(header, { maxLength: 2 }), fc.constant(undefined)), (h) => {
        const c = parseChallenge(h);
        if (c !== undefined) assert.equal(typeof c.scheme, 'string');
        return true;
      }),
      { numRuns: 1000 },
    );
  });
});
