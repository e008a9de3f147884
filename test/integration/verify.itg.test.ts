/**
 * mode: verify against the real stack, run as the runner runs it: tags signed
 * by the notary CLI and by the action, unsigned and moved tags, signers, pins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pushImage } from '../stack/index.ts';
import { describeRun, hex, initRepo, resultOf, runAction, trustState, useStack, type ActionRun } from './helpers.ts';

/** The run failed with `code` in an annotation about `subject`, and said so on stdout. */
function assertFailed(run: ActionRun, code: string, subject: string): string {
  assert.notEqual(run.code, 0, describeRun(run));
  const annotation = run.errors.find((e) => e.title === `${code}: ${subject}`);
  assert.ok(annotation, `an ::error annotation titled "${code}: ${subject}"\n${describeRun(run)}`);
  assert.ok(annotation.message.includes(subject.replace(/@.*$/, '').replace(/:[^:/]+$/, '')), `the message names the repository: ${annotation.message}`);
  assert.match(run.stdout, new RegExp(`::error::${code}: `), 'the failure line starts with the code');
  assert.equal(run.outputs.digests, undefined, 'no outputs on failure');
  return annotation.message;
}

describe('verify', () => {
  const ctx = useStack();

  it('a tag signed by the notary CLI into targets/releases verifies; the output digest is the signed one', async () => {
    const gun = await initRepo(ctx.stack, 'verify/notary-cli', ctx.ci);
    const img = await pushImage(ctx.stack, 'verify/notary-cli:v1');
    await ctx.stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/releases', publish: true });

    const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] });
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(run.outputs.digests, `${gun}@${img.digest}`);
    const [result] = resultOf(run);
    assert.deepEqual(
      { ...result!, expires: undefined },
      {
        image: img.ref,
        repository: gun,
        tag: 'v1',
        digest: img.digest,
        size: img.size,
        signers: [],
        roles: ['targets/releases'],
        expires: undefined,
      },
    );
    assert.match(run.summary, /Content trust: verify/);
    assert.ok(run.summaryText.includes(`<td>${gun}:v1</td><td><code>${img.digest}</code></td>`), run.summary);
    assert.match(run.summary, /Verified 1 image\(s\)/);
  });

  it('an unsigned tag fails with NOT_SIGNED naming the image; the signed ones in the same run are not enough', async () => {
    const gun = await initRepo(ctx.stack, 'verify/unsigned', ctx.ci);
    const signed = await pushImage(ctx.stack, 'verify/unsigned:signed');
    const unsigned = await pushImage(ctx.stack, 'verify/unsigned:nosig');
    await ctx.stack.notaryCli.addhash(gun, 'signed', signed.size, signed.digest, { role: 'targets/releases', publish: true });

    const run = await runAction(ctx.stack, { mode: 'verify', images: [signed.ref, unsigned.ref] });
    const message = assertFailed(run, 'NOT_SIGNED', unsigned.ref);
    assert.ok(message.includes(`${gun}:nosig`), message);
    assert.equal(run.errors.filter((e) => e.title.startsWith('NOT_SIGNED')).length, 1, 'only the unsigned tag failed');
    assert.match(run.summary, /Failed/);
    assert.ok(run.summaryText.includes(`${gun}:nosig`), run.summary);
  });

  it('a tag signed only in targets/<signer> is NOT_SIGNED for a DCT pull (docker accepts only targets/releases or targets)', async () => {
    const gun = await initRepo(ctx.stack, 'verify/signer-only', ctx.ci);
    const img = await pushImage(ctx.stack, 'verify/signer-only:v1');
    await ctx.stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/ci', publish: true });
    const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref] });
    const message = assertFailed(run, 'NOT_SIGNED', img.ref);
    assert.match(message, /targets\/ci/);
  });

  it('signers: ci passes when ci signed; signers: bob fails SIGNER_MISSING', async () => {
    const gun = await initRepo(ctx.stack, 'verify/signers', ctx.ci);
    const img = await pushImage(ctx.stack, 'verify/signers:v1');
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [img.ref], key: ctx.ci.privateKeyPem });
    assert.equal(sign.code, 0, describeRun(sign));

    const ok = await runAction(ctx.stack, { mode: 'verify', images: [img.ref], signers: 'ci' });
    assert.equal(ok.code, 0, describeRun(ok));
    assert.equal(ok.outputs.digests, `${gun}@${img.digest}`);
    assert.deepEqual(resultOf(ok)[0]!.signers, ['ci']);

    const bob = await runAction(ctx.stack, { mode: 'verify', images: [img.ref], signers: 'ci\nbob' });
    const message = assertFailed(bob, 'SIGNER_MISSING', img.ref);
    assert.match(message, /"bob"/);
  });

  it('a tag moved after signing fails DIGEST_MISMATCH naming both digests', async () => {
    await initRepo(ctx.stack, 'verify/moved', ctx.ci);
    const first = await pushImage(ctx.stack, 'verify/moved:v1');
    const sign = await runAction(ctx.stack, { mode: 'sign', images: [first.ref], key: ctx.ci.privateKeyPem });
    assert.equal(sign.code, 0, describeRun(sign));
    const moved = await pushImage(ctx.stack, 'verify/moved:v1');
    assert.notEqual(moved.digest, first.digest);

    const run = await runAction(ctx.stack, { mode: 'verify', images: [first.ref] });
    const message = assertFailed(run, 'DIGEST_MISMATCH', first.ref);
    assert.ok(message.includes(first.digest), `names the signed digest: ${message}`);
    assert.ok(message.includes(moved.digest), `names the registry's digest: ${message}`);
  });

  it('a pin tag@sha256:<other> fails PIN_MISMATCH; the right pin passes', async () => {
    const gun = await initRepo(ctx.stack, 'verify/pin', ctx.ci);
    const img = await pushImage(ctx.stack, 'verify/pin:v1');
    const other = await pushImage(ctx.stack, 'verify/pin:other');
    await ctx.stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/releases', publish: true });

    const bad = await runAction(ctx.stack, { mode: 'verify', images: [`${img.ref}@${other.digest}`] });
    const message = assertFailed(bad, 'PIN_MISMATCH', `${img.ref}@${other.digest}`);
    assert.ok(message.includes(other.digest) && message.includes(img.digest), message);

    const good = await runAction(ctx.stack, { mode: 'verify', images: [`${img.ref}@${img.digest}`] });
    assert.equal(good.code, 0, describeRun(good));
    assert.equal(good.outputs.digests, `${gun}@${img.digest}`);
  });

  it('verify reads only: it never publishes', async () => {
    const gun = await initRepo(ctx.stack, 'verify/read-only', ctx.ci);
    const img = await pushImage(ctx.stack, 'verify/read-only:v1');
    await ctx.stack.notaryCli.addhash(gun, 'v1', img.size, hex(img.digest), { role: 'targets/releases', publish: true });
    const before = await trustState(ctx.stack, gun);
    const run = await runAction(ctx.stack, { mode: 'verify', images: [img.ref, img.ref.replace(':v1', ':missing')] });
    assert.notEqual(run.code, 0);
    assert.deepEqual(await trustState(ctx.stack, gun), before);
  });
});
