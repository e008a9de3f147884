import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readBuildRecord, type BuildRecordNames } from '../../src/build-record.ts';
import { assertCode } from './helpers/errors.ts';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/buildx/${name}`, import.meta.url), 'utf8');
const D = (c: string) => `sha256:${c.repeat(64)}`;

/** Names as the CLI gives them (the action's are the same shape, checked through getInputs in inputs.test.ts). */
const NAMES: BuildRecordNames = {
  digest: '--digest',
  metadata: '--metadata',
  metadataFile: (path) => `--metadata ${JSON.stringify(path)}`,
  metadataFix: 'give the metadata file',
  list: 'IMAGE:TAG arguments',
  listTags: 'give the tags to sign as IMAGE:TAG arguments',
};

describe('readBuildRecord: sign from what a build pushed, one set of rules for the action and the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'build-record-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const none = () => assert.fail('no warning expected');

  it('nothing given: undefined; a digest alone pins the tags listed', () => {
    assert.equal(readBuildRecord({ listed: ['r.example/a:1'], digest: undefined, metadata: undefined, inline: false }, NAMES, none), undefined);
    const record = readBuildRecord({ listed: ['r.example/a:1'], digest: D('a'), metadata: undefined, inline: false }, NAMES, none);
    assert.deepEqual(record?.images, ['r.example/a:1']);
    assert.deepEqual(record?.built.every, { digest: D('a'), by: '--digest' });
  });

  it('metadata from a file (named in its label), or inline JSON only where the front end takes it', () => {
    const file = join(dir, 'm.json');
    writeFileSync(file, fixture('bake.json'));
    const fromFile = readBuildRecord({ listed: [], digest: undefined, metadata: file, inline: false }, NAMES, none);
    assert.ok(fromFile!.images.includes('registry.example.com/org/db:1.2.3'));
    assert.match(fromFile!.built.byName.get('registry.example.com/org/db:1.2.3')!.by, /^--metadata ".*m\.json" \(target "db"\)$/);
    const inline = JSON.stringify({ 'containerimage.digest': D('b'), 'image.name': 'r.example/a:2' });
    assert.deepEqual(readBuildRecord({ listed: [], digest: undefined, metadata: inline, inline: true }, NAMES, none)?.images, ['r.example/a:2']);
    assertCode(() => readBuildRecord({ listed: [], digest: undefined, metadata: inline, inline: false }, NAMES, none), 'FILE_NOT_FOUND', /--metadata/);
  });

  it('untagged names are left out with a warning, or refused when nothing else is left; metadata without names needs listed tags', () => {
    const untagged = JSON.stringify({ 'containerimage.digest': D('c'), 'image.name': 'r.example/a:3,r.example/b' });
    const warnings: string[] = [];
    assert.deepEqual(readBuildRecord({ listed: [], digest: undefined, metadata: untagged, inline: true }, NAMES, (n) => warnings.push(n))?.images, ['r.example/a:3']);
    assert.match(warnings.join('\n'), /^--metadata names r\.example\/b without a tag: not signed\..*list the tags in IMAGE:TAG arguments$/);
    const onlyUntagged = JSON.stringify({ 'containerimage.digest': D('c'), 'image.name': 'r.example/b' });
    assertCode(() => readBuildRecord({ listed: [], digest: undefined, metadata: onlyUntagged, inline: true }, NAMES, none), 'INPUT_INVALID', /^--metadata names r\.example\/b without a tag/);
    const nameless = JSON.stringify({ 'containerimage.digest': D('c') });
    assertCode(() => readBuildRecord({ listed: [], digest: undefined, metadata: nameless, inline: true }, NAMES, none), 'INPUT_INVALID', /^--metadata has no image\.name .* no tags are listed: give the tags to sign as IMAGE:TAG arguments$/);
    assert.deepEqual(readBuildRecord({ listed: ['r.example/a:4'], digest: undefined, metadata: nameless, inline: true }, NAMES, none)?.images, ['r.example/a:4']);
  });
});
