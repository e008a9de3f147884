import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { findDeployFiles } from '../../src/deploy/files.ts';
import { assertCode } from './helpers/errors.ts';

const LABEL = { name: 'input manifests', fix: 'give paths or globs' };

/** A workspace holding `files` (empty files), and a directory beside it. */
function workspace(files: string[]): { ws: string; beside: string } {
  const root = mkdtempSync(join(tmpdir(), 'deploy-files-'));
  const ws = join(root, 'ws');
  const beside = join(root, 'beside');
  mkdirSync(ws);
  mkdirSync(beside);
  writeFileSync(join(beside, 'secret.yaml'), 'x: 1\n');
  for (const f of files) {
    mkdirSync(dirname(join(ws, f)), { recursive: true });
    writeFileSync(join(ws, f), 'x: 1\n');
  }
  return { ws, beside };
}

const paths = (patterns: string[], ws: string) => findDeployFiles(patterns, ws, LABEL).map((f) => f.path);

describe('findDeployFiles', () => {
  const { ws, beside } = workspace(['k8s/app.yaml', 'k8s/db.yml', 'k8s/base/svc.yaml', 'k8s/overlays/prod/deploy.yaml', 'k8s/.hidden.yaml', 'compose.yaml', '.github/workflows/ci.yml', '.github/workflows/notes.md', 'a,b.yaml']);

  it('takes paths, and globs where * and ? stay in a segment and ** spans directories (none included)', () => {
    assert.deepEqual(paths(['compose.yaml', './k8s/app.yaml'], ws), ['compose.yaml', 'k8s/app.yaml']);
    assert.deepEqual(paths(['k8s/*.yaml'], ws), ['k8s/app.yaml']);
    assert.deepEqual(paths(['k8s/*.y?ml'], ws), ['k8s/app.yaml']);
    assert.deepEqual(paths(['k8s/*.y*'], ws), ['k8s/app.yaml', 'k8s/db.yml']);
    assert.deepEqual(paths(['k8s/**/*.yaml'], ws), ['k8s/app.yaml', 'k8s/base/svc.yaml', 'k8s/overlays/prod/deploy.yaml']);
    assert.deepEqual(paths(['**/deploy.yaml'], ws), ['k8s/overlays/prod/deploy.yaml']);
    assert.deepEqual(paths(['k8s/**'], ws), ['k8s/app.yaml', 'k8s/base/svc.yaml', 'k8s/db.yml', 'k8s/overlays/prod/deploy.yaml']);
  });

  it('wildcards skip dot names unless the pattern names the dot; files come once, in the order given', () => {
    assert.deepEqual(paths(['**/*.yml'], ws), ['k8s/db.yml']);
    assert.deepEqual(paths(['.github/workflows/*.yml'], ws), ['.github/workflows/ci.yml']);
    assert.deepEqual(paths(['k8s/.*.yaml'], ws), ['k8s/.hidden.yaml']);
    assert.deepEqual(paths(['k8s/db.yml', 'k8s/*.y*ml', 'compose.yaml'], ws), ['k8s/db.yml', 'k8s/app.yaml', 'compose.yaml']);
  });

  it('a pattern that matches nothing, or a missing path, is FILE_NOT_FOUND naming it', () => {
    assertCode(() => paths(['k8s/*.json'], ws), 'FILE_NOT_FOUND', /^input manifests "k8s\/\*\.json" matches no file: give paths or globs/);
    assertCode(() => paths(['nowhere/*.yaml'], ws), 'FILE_NOT_FOUND', /"nowhere\/\*\.yaml" matches no file \("nowhere" does not exist\)/);
    assertCode(() => paths(['k8s/missing.yaml'], ws), 'FILE_NOT_FOUND', /"k8s\/missing\.yaml" does not exist/);
  });

  it('nothing outside the workspace: .., absolute paths elsewhere and links out are FILE_OUTSIDE_WORKSPACE, never skipped', () => {
    symlinkSync(join(beside, 'secret.yaml'), join(ws, 'k8s', 'link-out.yaml'));
    symlinkSync(beside, join(ws, 'outdir'));
    assertCode(() => paths(['../beside/secret.yaml'], ws), 'FILE_OUTSIDE_WORKSPACE', /"\.\.\/beside\/secret\.yaml" is outside the workspace/);
    assertCode(() => paths([join(beside, 'secret.yaml')], ws), 'FILE_OUTSIDE_WORKSPACE', /is outside the workspace/);
    assertCode(() => paths(['k8s/../../beside/*.yaml'], ws), 'FILE_OUTSIDE_WORKSPACE', /has a \. or \.\. segment/);
    assertCode(() => paths(['k8s/link-out.yaml'], ws), 'FILE_OUTSIDE_WORKSPACE', /is a link to ".*beside\/secret\.yaml", outside the workspace/);
    assertCode(() => paths(['k8s/link-*.yaml'], ws), 'FILE_OUTSIDE_WORKSPACE', /matches "k8s\/link-out\.yaml", a link that leads outside the workspace/);
    assertCode(() => paths(['outdir/*.yaml'], ws), 'FILE_OUTSIDE_WORKSPACE', /starts in ".*beside", outside the workspace/);
    // A link to a directory is not walked into by a wildcard.
    assertCode(() => paths(['*/secret.yaml'], ws), 'FILE_NOT_FOUND', /"\*\/secret\.yaml" matches no file/);
  });

  it('a link inside the workspace is read; a file name with a control character is refused', () => {
    const { ws: w } = workspace(['real/app.yaml']);
    symlinkSync(join(w, 'real', 'app.yaml'), join(w, 'alias.yaml'));
    assert.deepEqual(paths(['alias.yaml', '*.yaml'], w), ['alias.yaml']);
    writeFileSync(join(w, 'real', 'bad\nname.yaml'), 'x: 1\n');
    assertCode(() => paths(['real/*.yaml'], w), 'DEPLOY_FILE_INVALID', /the file name "real\/bad\\nname\.yaml" holds a control character/);
  });
});
