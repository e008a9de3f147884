/**
 * What notary-server 0.7 (memory storage) and the notary CLI 0.7, as Debian
 * ships them, do that the product relies on or works around. Each test names
 * the product tests that depend on it; when one of these fails after an
 * upgrade, those are the tests (and the code) to revisit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readRealRepo } from '../stack/forger.ts';
import { goQuirksRepo, useStack } from '../integration/helpers.ts';
import { snapshotHashesGoReEncoding, twoSignerRepo } from './helpers.ts';

describe('notary-server 0.7 and the notary CLI 0.7 (memory storage)', () => {
  const ctx = useStack();

  // Product side: sign.itg.test.ts (expiry written as Go writes it), go-encoding.itg.test.ts.
  it('notary-server 0.7: a snapshot it makes hashes its Go re-encoding of an uploaded delegation, not the uploaded bytes it stores', async () => {
    await snapshotHashesGoReEncoding(ctx, 'upstream/server-reencodes');
  });

  // Product side: tuf-rules.itg.test.ts › a real removal after a remembered run still verifies.
  it("notary-server 0.7: after notary delegation remove, the snapshot still lists the removed delegation's file", async () => {
    const { gun, state } = await twoSignerRepo(ctx, 'upstream/removal');
    assert.deepEqual(await state(), { listed: ['root', 'targets', 'targets/ci', 'targets/ops', 'targets/releases'], delegated: ['targets/ci', 'targets/ops', 'targets/releases'] });
    await ctx.stack.notaryCli.run(['delegation', 'remove', gun, 'targets/ops', '--publish'], 'yes\n');
    assert.deepEqual(await state(), { listed: ['root', 'targets', 'targets/ci', 'targets/ops', 'targets/releases'], delegated: ['targets/ci', 'targets/releases'] }, 'targets no longer delegates targets/ops; the server still lists its file');
  });

  // Product side: attacks.itg.test.ts › what Go writes (HTML-escaped JSON and an expires in +05:30 verify).
  it("notary CLI 0.7: writes target names HTML-escaped and expires in the signer's time zone", async () => {
    const { gun } = await goQuirksRepo(ctx.stack, ctx.ci, 'upstream/quirks');
    const served = (await readRealRepo(ctx.stack.notary.url, ctx.stack.ca, gun)).raw.get('targets/releases')!.toString('utf8');
    assert.match(served, /a\\u0026b\\u003cc\\u003e/, 'Go HTML-escapes the target name on the wire');
    assert.match(served, /"expires":"[^"]+\+05:30"/, "the expiry carries the signer's zone");
  });
});
