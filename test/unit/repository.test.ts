import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { firstUseNotice } from '../../src/notary/repository.ts';
import { GUN, loadRepo } from './helpers/fixtures.ts';

describe('firstUseNotice', () => {
  it('nothing remembered, nothing pinned: names the repository, the Root Key ID as root.json lists it, and the root-keys line to pin it', async () => {
    const repo = await loadRepo();
    const id = repo.root.signed.roles.root.keyids[0]!;
    const notice = firstUseNotice(repo, undefined)!;
    assert.match(notice, new RegExp(`^${GUN.replace(/[.]/g, '\\.')}: trusted on first use: .*\\(${id}\\).*docker trust inspect ${GUN.replace(/[.]/g, '\\.')}.*root-keys: ${id}$`));
    assert.equal(firstUseNotice(repo, []), notice);
  });

  it('none when root keys are pinned or trust was remembered', async () => {
    const repo = await loadRepo();
    assert.equal(firstUseNotice(repo, [repo.root.signed.roles.root.keyids[0]!]), undefined);
    assert.equal(firstUseNotice({ ...repo, trustedBefore: { root: repo.root, versions: new Map(), source: 'memory', files: new Map() } }, undefined), undefined);
  });
});
