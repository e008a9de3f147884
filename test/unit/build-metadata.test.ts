import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { builtImages, parseBuildMetadata, parseDigest, pinBuilt, untaggedNotice } from '../../src/registry/build-metadata.ts';
import { parseReferences } from '../../src/registry/reference.ts';
import { MultiError } from '../../src/errors.ts';
import { assertCode } from './helpers/errors.ts';

/** The hand-written samples in buildx's shapes (test/fixtures/buildx/README.md says where each shape comes from). */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/buildx/${name}`, import.meta.url), 'utf8');
const json = (name: string) => JSON.parse(fixture(name)) as Record<string, unknown>;
const D = (c: string) => `sha256:${c.repeat(64)}`;
const LABEL = 'input metadata';

describe('parseBuildMetadata: buildx --metadata-file JSON, build-push-action metadata output', () => {
  it('one platform: the digest and every name of image.name, as written', () => {
    const [build, ...rest] = parseBuildMetadata(fixture('single-platform.json'), LABEL);
    assert.equal(rest.length, 0);
    assert.deepEqual(build, {
      target: undefined,
      names: ['registry.example.com/org/app:1.2.3', 'registry.example.com/org/app:1.2', 'registry.example.com/org/app'],
      digest: json('single-platform.json')['containerimage.digest'],
    });
  });

  it('multi-platform: the index digest (the descriptor is the index)', () => {
    const doc = json('multi-platform.json');
    const [build] = parseBuildMetadata(fixture('multi-platform.json'), LABEL);
    assert.equal((doc['containerimage.descriptor'] as { mediaType: string }).mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(build!.digest, doc['containerimage.digest']);
    assert.equal(build!.names.length, 3);
  });

  it("bake: one build per target that exported an image; bake's own keys and image-less targets are left out", () => {
    const doc = json('bake.json');
    const builds = parseBuildMetadata(fixture('bake.json'), LABEL);
    assert.deepEqual(
      builds.map((b) => [b.target, b.names, b.digest]),
      [
        ['db', ['registry.example.com/org/db:1.2.3'], (doc.db as Record<string, string>)['containerimage.digest']],
        ['webapp', ['registry.example.com/org/webapp:1.2.3', 'registry.example.com/org/webapp:1.2'], (doc.webapp as Record<string, string>)['containerimage.digest']],
      ],
    );
  });

  it('imagetools create: the digest from the descriptor; the names there have no tags', () => {
    const [build] = parseBuildMetadata(fixture('imagetools-create.json'), LABEL);
    assert.equal(build!.digest, (json('imagetools-create.json')['containerimage.descriptor'] as { digest: string }).digest);
    assert.deepEqual(build!.names, ['registry.example.com/org/app']);
  });

  it('containerimage.digest wins over the descriptor (buildx with the docker driver puts the registry digest there, the descriptor stays local)', () => {
    const text = JSON.stringify({ 'containerimage.digest': D('a'), 'containerimage.descriptor': { digest: D('b'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1 } });
    assert.equal(parseBuildMetadata(text, LABEL)[0]!.digest, D('a'));
  });

  it('a build merged from several nodes: containerimage.digest alone, no names', () => {
    assert.deepEqual(parseBuildMetadata(JSON.stringify({ 'containerimage.digest': D('c') }), LABEL), [{ target: undefined, names: [], digest: D('c') }]);
  });

  it('anything else is BUILD_METADATA_INVALID naming the input and what is wrong', () => {
    const bad: [string, RegExp][] = [
      ['sha256:abc', /input metadata is not JSON/],
      ['[]', /is JSON an array, not buildx's metadata object/],
      ['null', /is JSON null/],
      ['"x"', /is JSON a string/],
      ['{}', /records no image build/],
      ['{"buildx.build.ref":"a/b/c"}', /records no image build/],
      ['{"containerimage.digest":"sha256:abc"}', /"containerimage.digest" "sha256:abc", which is not a sha256 digest/],
      [`{"containerimage.digest":"${D('A')}"}`, /which is not a sha256 digest/],
      ['{"containerimage.digest":5}', /"containerimage.digest" a number/],
      ['{"containerimage.descriptor":"x"}', /"containerimage.descriptor" a string, not an OCI descriptor/],
      ['{"containerimage.descriptor":{"size":1}}', /has no "containerimage.descriptor".digest/],
      [`{"containerimage.digest":"${D('a')}","image.name":["a:1"]}`, /"image.name" an array, not the comma-separated names/],
      [`{"t":{"containerimage.digest":"nope"}}`, /\(bake target "t"\) "nope"/],
      ['{"a":'.repeat(70) + '1' + '}'.repeat(70), /nests arrays or objects more than 64 deep/],
    ];
    for (const [text, message] of bad) {
      const e = assertCode(() => parseBuildMetadata(text, LABEL), 'BUILD_METADATA_INVALID', message);
      assert.match(e.message, /build-push-action's metadata output/, 'says what to give');
    }
  });

  it('target names are ordinary keys (no prototype): __proto__ and constructor are targets like any other', () => {
    const text = `{"__proto__":{"containerimage.digest":"${D('a')}","image.name":"r.example/a:1"},"constructor":{"containerimage.digest":"${D('b')}","image.name":"r.example/b:1"}}`;
    assert.deepEqual(
      parseBuildMetadata(text, LABEL).map((b) => [b.target, b.digest]),
      [
        ['__proto__', D('a')],
        ['constructor', D('b')],
      ],
    );
  });
});

describe('parseDigest', () => {
  it('takes sha256:<64 lowercase hex>, trimmed', () => {
    assert.equal(parseDigest(` ${D('f')}\n`, 'input digest'), D('f'));
  });

  it('refuses anything else, naming the input and pointing away from imageid', () => {
    for (const v of ['', 'f'.repeat(64), `sha512:${'f'.repeat(128)}`, D('F'), `${D('f')}0`, `repo@${D('f')}`]) {
      assertCode(() => parseDigest(v, 'input digest'), 'INPUT_INVALID', /^input digest ".*" is not an image digest: .*not imageid/);
    }
  });
});

describe('builtImages: the images to sign and the digest each must have', () => {
  const single = fixture('single-platform.json');
  const singleDigest = json('single-platform.json')['containerimage.digest'] as string;

  it('the digest alone applies to every image given', () => {
    const built = builtImages({ listed: ['r.example/a:1'], digest: { value: D('a'), label: 'input digest' } });
    assert.deepEqual(built, { names: [], untagged: [], every: { digest: D('a'), by: 'input digest' }, byName: new Map() });
  });

  it('metadata: its tagged names, its digest for every image; names without a tag are set apart', () => {
    const built = builtImages({ listed: ['r.example/other:1'], metadata: { text: single, label: LABEL } });
    assert.deepEqual(built.names, ['registry.example.com/org/app:1.2.3', 'registry.example.com/org/app:1.2']);
    assert.deepEqual(built.untagged, ['registry.example.com/org/app']);
    assert.deepEqual(built.every, { digest: singleDigest, by: LABEL });
  });

  it('digest and metadata: the same digest is fine; different ones are an error naming both', () => {
    assert.equal(builtImages({ listed: [], digest: { value: singleDigest, label: 'input digest' }, metadata: { text: single, label: LABEL } }).every?.digest, singleDigest);
    assertCode(
      () => builtImages({ listed: [], digest: { value: D('e'), label: 'input digest' }, metadata: { text: single, label: LABEL } }),
      'INPUT_INVALID',
      `input digest is ${D('e')}, but input metadata records ${singleDigest}: they are not the same build`,
    );
  });

  it("bake: each target's names get its own digest; images given besides are refused (which digest?)", () => {
    const doc = json('bake.json') as Record<string, Record<string, string>>;
    const built = builtImages({ listed: [], metadata: { text: fixture('bake.json'), label: LABEL } });
    assert.equal(built.every, undefined);
    assert.deepEqual(built.names, ['registry.example.com/org/db:1.2.3', 'registry.example.com/org/webapp:1.2.3', 'registry.example.com/org/webapp:1.2']);
    assert.deepEqual(built.byName.get('registry.example.com/org/webapp:1.2'), { digest: doc.webapp!['containerimage.digest'], by: 'input metadata (target "webapp")' });
    assert.deepEqual(built.byName.get('registry.example.com/org/db:1.2.3'), { digest: doc.db!['containerimage.digest'], by: 'input metadata (target "db")' });
    assertCode(() => builtImages({ listed: ['r.example/a:1'], metadata: { text: fixture('bake.json'), label: LABEL } }), 'INPUT_INVALID', /records several builds \(bake targets "db", "webapp"\)/);
    assertCode(() => builtImages({ listed: [], digest: { value: D('e'), label: '--digest' }, metadata: { text: fixture('bake.json'), label: '--metadata "m.json"' } }), 'INPUT_INVALID', /--metadata "m\.json" \(target "db"\) records/);
  });

  it('bake: one name in two targets with different digests is an error', () => {
    const text = JSON.stringify({ a: { 'containerimage.digest': D('a'), 'image.name': 'r.example/x:1' }, b: { 'containerimage.digest': D('b'), 'image.name': 'r.example/x:1' } });
    assertCode(() => builtImages({ listed: [], metadata: { text, label: LABEL } }), 'BUILD_METADATA_INVALID', /names r\.example\/x:1 in two builds with different digests/);
  });

  it('names without a tag: a bare repository, imagetools create repositories, a dangling name@digest; names given twice once', () => {
    const text = JSON.stringify({ 'containerimage.digest': D('a'), 'image.name': `r.example:5000/x,r.example:5000/x:1, r.example:5000/x:1 ,dangling@${D('a')},r.example:5000/y:2@${D('a')}` });
    const built = builtImages({ listed: [], metadata: { text, label: LABEL } });
    assert.deepEqual(built.names, ['r.example:5000/x:1', `r.example:5000/y:2@${D('a')}`]);
    assert.deepEqual(built.untagged, ['r.example:5000/x', `dangling@${D('a')}`]);
    assert.match(untaggedNotice(built, LABEL, 'the images input'), /^input metadata names r\.example:5000\/x, dangling@sha256:a+ without a tag: not signed\. .*list the tags in the images input$/);
  });

  it('refuses a bad digest input before reading the metadata', () => {
    assertCode(() => builtImages({ listed: [], digest: { value: 'latest', label: '--digest' }, metadata: { text: 'not json', label: LABEL } }), 'INPUT_INVALID', /^--digest "latest"/);
  });
});

describe('pinBuilt: the build digest becomes each reference pin', () => {
  it('pins every reference, saying where the pin came from; a bake pins each name to its own target', () => {
    const built = builtImages({ listed: [], metadata: { text: fixture('bake.json'), label: LABEL } });
    const refs = pinBuilt(parseReferences(built.names), built);
    assert.deepEqual(
      refs.map((r) => [r.gun, r.tag, r.pin, r.pinnedBy]),
      built.names.map((n) => {
        const [name, tag] = n.split(/:(?=[^:/]*$)/) as [string, string];
        return [name, tag, built.byName.get(n)!.digest, built.byName.get(n)!.by];
      }),
    );
  });

  it('a reference pinning the same digest is kept; another digest is an error naming both', () => {
    const built = builtImages({ listed: [], digest: { value: D('a'), label: 'input digest' } });
    const [same] = pinBuilt(parseReferences([`r.example/a:1@${D('a')}`]), built);
    assert.equal(same!.pin, D('a'));
    const e = assertCode(() => pinBuilt(parseReferences([`r.example/a:1@${D('b')}`, 'r.example/a:2']), built), 'INPUT_INVALID');
    assert.ok(e instanceof MultiError && e.failures.length === 1);
    assert.match(e.message, new RegExp(`image r\\.example/a:1@${D('b')} pins ${D('b')}, but input digest says the build pushed ${D('a')}`));
  });

  it('without a digest for a reference it is left as it is', () => {
    const refs = parseReferences(['r.example/a:1']);
    assert.deepEqual(pinBuilt(refs, { names: [], untagged: [], every: undefined, byName: new Map() }), refs);
  });
});
