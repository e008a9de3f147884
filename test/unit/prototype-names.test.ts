/**
 * Names that are also Object.prototype's (`__proto__`, `constructor`,
 * `toString`, `hasOwnProperty`, `valueOf`) as tags, delegation names and key
 * IDs: parsed, looked up, written, canonicalised and re-signed like any other
 * name, or refused by name. And JSON nested far too deep, refused by name
 * before it is decoded.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { parseMetadata, cloneSigned, type TargetsSigned } from '../../src/tuf/metadata.ts';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { parseKeyMap } from '../../src/tuf/keys.ts';
import { planSign, startFrom } from '../../src/notary/sign-plan.ts';
import { envelope } from '../../src/tuf/go-encoding.ts';
import { resolveTag, targetIn } from '../../src/notary/resolve.ts';
import { planRevoke } from '../../src/notary/admin/revoke.ts';
import { inspectRepo } from '../../src/notary/admin/inspect.ts';
import { signerRole } from '../../src/notary/admin/common.ts';
import { parseSignerKeys } from '../../src/notary/admin/common.ts';
import { withSigner } from '../../src/notary/admin/signers.ts';
import type { TrustedRepo } from '../../src/notary/model.ts';
import type { SigningKey } from '../../src/tuf/private-key.ts';
import { readDockerConfig } from '../../src/registry/docker-config.ts';
import { FileTrustStore, metadataDir } from '../../src/notary/trust-store.ts';
import { NotaryRepoClient } from '../../src/notary/server.ts';
import type { AuthClient } from '../../src/http/auth.ts';
import { ContentTrustError } from '../../src/errors.ts';
import { GUN, NOW, PUBLIC_PEM, delegationKey, fixtureBytes, loadRepo, scenario, parsePlanned, withSigned } from './helpers/fixtures.ts';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCode } from './helpers/errors.ts';

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;
const { one, two } = scenario.images;
const b64 = (digest: string) => Buffer.from(digest.slice('sha256:'.length), 'hex').toString('base64');
const entry = (digest: string, size: number) => ({ hashes: { sha256: b64(digest) }, length: size });
/** `map[name] = value` with a string-typed name (TypeScript types `.constructor` as Object's). */
const put = <T>(map: Record<string, T>, name: string, value: T) => {
  map[name] = value;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- raw captured JSON, edited freely to plant prototype names
type Doc = { signed: Record<string, any>; signatures: unknown[] };
/** A captured file's decoded form; JSON.parse makes `"__proto__"` an own key, as it must. */
const doc = (role: 'root' | 'targets' | 'targets/releases' | 'snapshot') => JSON.parse(fixtureBytes(role).toString('utf8')) as Doc;
/** JSON text with these entries added under `signed.targets` (JSON.stringify keeps an own `__proto__`). */
function withTargets(d: Doc, names: readonly string[]): Buffer {
  const targets = JSON.parse(JSON.stringify(d.signed.targets));
  const text = JSON.stringify({ ...d, signed: { ...d.signed, targets: {} } });
  const extra = names.map((n) => `${JSON.stringify(n)}:${JSON.stringify(entry(one.digest, one.size))}`).join(',');
  const inner = JSON.stringify(targets).slice(1, -1);
  return Buffer.from(text.replace('"targets":{}', `"targets":{${[inner, extra].filter(Boolean).join(',')}}`));
}

function metadataInvalid(role: string, what: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof ContentTrustError, String(e));
    assert.equal(e.code, 'METADATA_INVALID', e.message);
    assert.ok(e.message.includes(`${role}.json`), `names ${role}.json: ${e.message}`);
    assert.match(e.message, what);
    return true;
  };
}

let repo: TrustedRepo;
let key: SigningKey;
before(async () => {
  repo = await loadRepo();
  key = delegationKey();
});

describe('parseMetadata with prototype names', () => {
  it('targets named __proto__, constructor, toString, hasOwnProperty, valueOf are ordinary entries', () => {
    const raw = withTargets(doc('targets/releases'), PROTO_NAMES);
    const m = parseMetadata(raw, 'targets/releases', 'Targets');
    for (const name of PROTO_NAMES) {
      assert.ok(Object.hasOwn(m.signed.targets, name), name);
      assert.equal(m.signed.targets[name]!.length, one.size, name);
    }
    assert.equal(Object.getPrototypeOf(m.signed.targets), null);
    // The signatures cover what the file holds, `__proto__` included.
    assert.ok(m.canonical.toString('utf8').includes(`"__proto__":{"hashes":{"sha256":"${b64(one.digest)}"},"length":${one.size}}`));
    assert.deepEqual(m.canonical, canonicalize(JSON.parse(raw.toString('utf8')).signed));
  });

  it('a file without those names has none of them (no inherited lookups)', () => {
    const m = parseMetadata(fixtureBytes('targets/releases'), 'targets/releases', 'Targets');
    for (const name of PROTO_NAMES) assert.equal(m.signed.targets[name], undefined, name);
    assert.equal(m.signed.delegations.keys.constructor, undefined);
  });

  it('delegation names targets/constructor and targets/__proto__ parse like any other', () => {
    const d = doc('targets');
    const roles = d.signed.delegations.roles as { name: string }[];
    d.signed.delegations.roles = [...roles, { ...roles[0], name: 'targets/constructor' }, { ...roles[0], name: 'targets/__proto__' }];
    const m = parseMetadata(Buffer.from(JSON.stringify(d)), 'targets', 'Targets');
    assert.deepEqual(
      m.signed.delegations.roles.slice(-2).map((r) => r.name),
      ['targets/constructor', 'targets/__proto__'],
    );
  });

  it('a key listed under the ID __proto__ or constructor is KEY_ID_MISMATCH naming it, not a prototype write', () => {
    for (const id of ['__proto__', 'constructor']) {
      const d = doc('targets');
      const [real] = Object.values(d.signed.delegations.keys);
      const text = JSON.stringify(d).replace('"keys":{', `"keys":{${JSON.stringify(id)}:${JSON.stringify(real)},`);
      const m = parseMetadata(Buffer.from(text), 'targets', 'Targets');
      assert.ok(Object.hasOwn(m.signed.delegations.keys, id));
      assertCode(() => parseKeyMap(m.signed.delegations.keys, 'targets.json delegations'), 'KEY_ID_MISMATCH', `listed as ${id}`);
    }
  });

  it('root keys and snapshot entries keyed by prototype names are plain keys', () => {
    const root = doc('root');
    const rootText = JSON.stringify(root).replace('"keys":{', `"keys":{"toString":${JSON.stringify(Object.values(root.signed.keys)[0])},`);
    const r = parseMetadata(Buffer.from(rootText), 'root', 'Root');
    assert.ok(Object.hasOwn(r.signed.keys, 'toString'));
    const snap = doc('snapshot');
    const snapText = JSON.stringify(snap).replace('"meta":{', `"meta":{"__proto__":${JSON.stringify(snap.signed.meta.targets)},`);
    const s = parseMetadata(Buffer.from(snapText), 'snapshot', 'Snapshot');
    assert.ok(Object.hasOwn(s.signed.meta, '__proto__'));
    assert.equal(s.signed.meta.constructor, undefined);
  });
});

describe('JSON nested too deep', () => {
  const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

  it('a targets file made of 100,000 nested arrays is METADATA_INVALID naming the role', () => {
    assert.throws(() => parseMetadata(Buffer.from(deep(100_000)), 'targets/releases', 'Targets'), metadataInvalid('targets/releases', /nests arrays or objects more than 64 deep/));
  });

  it("100,000 nested arrays inside a target's custom data are refused the same way", () => {
    const d = doc('targets/releases');
    const text = JSON.stringify(d).replace('"targets":{', `"targets":{"deep":{"custom":${deep(100_000)},"hashes":{},"length":1},`);
    assert.throws(() => parseMetadata(Buffer.from(text), 'targets/releases', 'Targets'), metadataInvalid('targets/releases', /more than 64 deep/));
  });

  it('a timestamp of nested objects is refused naming timestamp.json', () => {
    const text = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    assert.throws(() => parseMetadata(Buffer.from(text), 'timestamp', 'Timestamp'), metadataInvalid('timestamp', /more than 64 deep/));
  });
});

describe('remembered trust files', () => {
  it('one nested 100,000 deep, or larger than the root cap, is METADATA_INVALID naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-proto-store-'));
    try {
      const store = new FileTrustStore(dir);
      await store.save(repo);
      const path = join(metadataDir(dir, GUN), 'timestamp.json');
      writeFileSync(path, '['.repeat(100_000) + ']'.repeat(100_000));
      await assert.rejects(store.load(GUN), (e: unknown) => e instanceof ContentTrustError && e.code === 'METADATA_INVALID' && e.message.includes(path) && /more than 64 deep/.test(e.message));
      truncateSync(path, 100 * 1024 * 1024 + 1);
      await assert.rejects(store.load(GUN), (e: unknown) => e instanceof ContentTrustError && e.code === 'METADATA_INVALID' && e.message.includes(path) && /more than the 104857600 allowed/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('signing, revoking and inspecting prototype names', () => {
  it('a copy to re-sign has no prototypes anywhere', () => {
    const copy = startFrom(repo, 'targets/releases');
    assert.equal(Object.getPrototypeOf(copy), null);
    assert.equal(Object.getPrototypeOf(copy.targets), null);
    assert.equal(Object.getPrototypeOf(copy.delegations.keys), null);
    const fresh = cloneSigned({ a: [{ b: {} }] });
    assert.equal(Object.getPrototypeOf(fresh.a[0]!.b), null);
    assert.ok(Array.isArray(fresh.a));
  });

  it('planSign writes tags __proto__, constructor, toString: kept, canonicalised and signed', () => {
    const targets = PROTO_NAMES.map((tag) => ({ tag, digest: two.digest, size: two.size }));
    const plan = planSign(repo, key, targets, NOW, 1095);
    for (const role of plan.roles) {
      const meta = parsePlanned(repo, plan.files, role);
      for (const tag of PROTO_NAMES) {
        assert.ok(Object.hasOwn(meta.signed.targets, tag), `${role} lists ${tag}`);
        assert.equal(meta.signed.targets[tag]!.hashes.sha256, b64(two.digest));
      }
      assert.ok(
        plan.files
          .get(role)!
          .toString('utf8')
          .includes(`"__proto__":{"hashes":{"sha256":"${b64(two.digest)}"},"length":${two.size}}`),
      );
      // Every tag signed before is still there.
      for (const tag of Object.keys(repo.roles.get(role)!.meta.signed.targets)) assert.ok(Object.hasOwn(meta.signed.targets, tag), tag);
    }
  });

  it('planSign writes __proto__ into a role that has published nothing yet', () => {
    const roles = new Map(repo.roles);
    roles.delete('targets/ci');
    const snapshot = { ...repo.snapshot, signed: cloneSigned(repo.snapshot.signed) };
    delete snapshot.signed.meta['targets/ci'];
    const fresh = { ...repo, roles, snapshot };
    const meta = parsePlanned(fresh, planSign(fresh, key, [{ tag: '__proto__', digest: two.digest, size: two.size }], NOW, 1095).files, 'targets/ci');
    assert.deepEqual(Object.keys(meta.signed.targets), ['__proto__']);
  });

  it('the Go-shaped envelope encodes a prototype-free targets map as JSON.stringify and canonicalize do', () => {
    const signed = startFrom(repo, 'targets/releases');
    signed.targets['__proto__'] = entry(one.digest, one.size);
    put(signed.targets, 'constructor', entry(two.digest, two.size));
    const text = envelope(signed, key, ['x']).toString('utf8');
    const decoded = JSON.parse(text) as { signed: unknown };
    assert.deepEqual(Buffer.from(JSON.stringify(decoded.signed)), canonicalize(decoded.signed));
    assert.ok(Object.hasOwn(decoded.signed as object, 'targets'));
    assert.deepEqual(
      Object.keys((decoded.signed as TargetsSigned).targets).filter((t) => PROTO_NAMES.includes(t as never)),
      ['__proto__', 'constructor'],
    );
  });

  it('a tag named constructor that nobody signed is NOT_SIGNED; one that is signed resolves', () => {
    for (const tag of PROTO_NAMES) {
      assert.equal(targetIn(repo, 'targets/releases', tag), undefined, tag);
      assertCode(() => resolveTag(repo, tag), 'NOT_SIGNED', `:${tag} has no trust data`);
    }
    const signed = withSigned(repo, 'targets/releases', (s) => {
      s.targets['__proto__'] = entry(two.digest, two.size);
      put(s.targets, 'constructor', entry(one.digest, one.size));
    });
    assert.deepEqual(resolveTag(signed, '__proto__'), { role: 'targets/releases', digest: two.digest, size: two.size });
    assert.deepEqual(resolveTag(signed, 'constructor'), { role: 'targets/releases', digest: one.digest, size: one.size });
    assertCode(() => resolveTag(signed, 'toString'), 'NOT_SIGNED');
    const rows = inspectRepo('x', signed).SignedTags.map((t) => t.SignedTag);
    assert.ok(rows.includes('__proto__') && rows.includes('constructor') && !rows.includes('toString'), rows.join(','));
  });

  it('revoke removes __proto__ and leaves the other tags', () => {
    const signed = withSigned(repo, 'targets/releases', (s) => {
      s.targets['__proto__'] = entry(two.digest, two.size);
    });
    const plan = planRevoke(signed, [key], ['__proto__'], NOW);
    const meta = parseMetadata(plan.files.get('targets/releases')!, 'targets/releases', 'Targets');
    assert.equal(Object.hasOwn(meta.signed.targets, '__proto__'), false);
    assert.deepEqual(Object.keys(meta.signed.targets).sort(), Object.keys(repo.roles.get('targets/releases')!.meta.signed.targets).sort());
    assertCode(() => planRevoke(repo, [key], ['constructor'], NOW), 'NOT_SIGNED', 'constructor');
  });

  it('a signer named constructor works like any other; __proto__ and toString are refused by name, as docker refuses them', () => {
    assert.equal(signerRole('constructor'), 'targets/constructor');
    const out = withSigner(startFrom(repo, 'targets'), 'constructor', parseSignerKeys(PUBLIC_PEM, 'constructor'), undefined, repo.gun);
    assert.ok(out.delegations.roles.some((r) => r.name === 'targets/constructor'));
    for (const name of ['__proto__', 'toString']) {
      assertCode(() => signerRole(name), 'INPUT_INVALID', `"${name}"`);
    }
  });
});

describe('Docker config with prototype names and bad JSON', () => {
  const dirs: string[] = [];
  const configEnv = (text: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ct-proto-config-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'config.json'), text);
    return { DOCKER_CONFIG: dir };
  };
  it('registries and helpers keyed constructor or __proto__ are plain entries', () => {
    const auth = Buffer.from('user:pw-constructor').toString('base64');
    const c = readDockerConfig(configEnv(`{"auths":{"constructor":{"auth":"${auth}"},"__proto__":{"auth":"${auth}"}},"credHelpers":{"toString":"pass"}}`));
    assert.deepEqual([...c.auths.keys()].sort(), ['__proto__', 'constructor']);
    assert.equal(c.credHelpers.get('tostring'), 'pass');
    rmSync(dirs.pop()!, { recursive: true, force: true });
  });

  it('malformed or over-deep JSON is INPUT_INVALID naming the file, without quoting it', () => {
    const secret = Buffer.from('user:very-secret-password').toString('base64');
    const env = configEnv(`{"auths":{"r":{"auth":"${secret}"}} oops`);
    assert.throws(
      () => readDockerConfig(env),
      (e: unknown) => e instanceof ContentTrustError && e.code === 'INPUT_INVALID' && e.message.includes('config.json is not valid JSON') && !e.message.includes(secret.slice(0, 8)),
    );
    const deep = configEnv(`{"auths":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    assertCode(() => readDockerConfig(deep), 'INPUT_INVALID', /more than 64 deep/);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
});

describe('Notary server answers (error bodies, server keys)', () => {
  /** A client whose every request is answered with `status` and `body`. */
  const answering = (status: number, body: string) =>
    new NotaryRepoClient({ send: async (url: string) => ({ status, headers: {}, body: Buffer.from(body), url }) } as unknown as AuthClient, 'https://notary.test', 'registry.test/app', undefined, true);
  const publishFails = async (status: number, body: string, code: string, what: RegExp) =>
    assert.rejects(answering(status, body).publish(new Map([['targets', Buffer.from('{}')]])), (e: unknown) => e instanceof ContentTrustError && e.code === code && what.test(e.message));

  it("reads the first error's code, detail name and message, strings only", async () => {
    await publishFails(400, '{"errors":[{"code":"VERSION","message":"version conflict"}]}', 'VERSION_CONFLICT', /another publish changed the repository first/);
    await publishFails(400, '{"errors":[{"code":"UNKNOWN","detail":{"Name":"ErrBadHierarchy"}}]}', 'SNAPSHOT_KEY_NOT_ON_SERVER', /notary key rotate registry\.test\/app snapshot -r/);
    await publishFails(400, '{"errors":[{"code":"BAD","detail":{"Error":{"Msg":"the reason"}}}]}', 'PUBLISH_REJECTED', /HTTP 400: BAD the reason$/);
    await publishFails(400, '{"errors":[{"code":"BAD","message":{"toString":"x"},"detail":{"Error":{"Msg":["no"]}}}]}', 'PUBLISH_REJECTED', /HTTP 400: BAD$/);
  });

  it('an error body that is not the expected shape, or nested 100,000 deep, gives the status alone', async () => {
    for (const body of ['{"errors":"VERSION"}', '{"errors":{"0":{"code":"VERSION"}}}', '{"__proto__":{"errors":[{"code":"VERSION"}]}}', `{"errors":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, '<html>']) {
      await publishFails(400, body, 'PUBLISH_REJECTED', /refused the update of targets: HTTP 400$/);
    }
  });

  it('a server key answer nested too deep or not a key is METADATA_INVALID naming the role and GUN', async () => {
    await assertCode(
      answering(200, `{"keytype":${'['.repeat(100_000)}${']'.repeat(100_000)}}`).getKey('timestamp'),
      'METADATA_INVALID',
      /registry\.test\/app: the server's timestamp key \(GET timestamp\.key\) nests arrays or objects more than 64 deep/,
    );
    await assertCode(answering(200, '{"__proto__":{"keytype":"ecdsa","keyval":{"public":"AA=="}}}').rotateKey('snapshot'), 'METADATA_INVALID', /the server's snapshot key \(POST snapshot\.key\) is not a TUF key/);
    const key = await answering(200, '{"keytype":"ed25519","keyval":{"public":"AA==","private":"leak"},"constructor":1}').getKey('timestamp');
    assert.deepEqual({ ...key, keyval: { ...key.keyval } }, { keytype: 'ed25519', keyval: { private: null, public: 'AA==' } });
  });
});
