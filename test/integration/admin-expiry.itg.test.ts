import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { httpsRequest } from '../stack/https.ts';
import { startProxy } from '../stack/proxy.ts';
import { pushImage, REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type Stack } from '../stack/index.ts';
import { assertCliBadInput, describeRun, hex, initRepo, libraryEnv, runAction, runCli, useStack, type ActionRun } from './helpers.ts';
import { dockerKeyPem, publishEndingCertificate, publishExpiring, publishExpiringIn, runAdminAction, serverState } from './admin-helpers.ts';
import { initRepository } from '../../src/notary/admin/init.ts';
import { administer, adminClient } from '../../src/notary/admin/workflow.ts';
import { parseSignerKeys } from '../../src/notary/admin/common.ts';
import { planAddSigner } from '../../src/notary/admin/signers.ts';
import { parseReference } from '../../src/registry/reference.ts';
import { generateKey } from '../../src/tuf/key-file.ts';
import { toSigningKey } from '../../src/tuf/private-key.ts';

// An expiry as JavaScript's toISOString writes it (".100Z") is accepted, but notary-server hashes its own
// Go re-encoding into the snapshot (".1Z"; test/upstream/notary.upstream.test.ts), so the snapshot would
// name a body one byte shorter than the stored one and every later read would fail.
describe('expiry written as Go writes it', () => {
  const ctx = useStack();

  it('a publish at a whole-tenth millisecond leaves a snapshot whose hashes match the stored files', async () => {
    const { stack, ci } = ctx;
    const env = libraryEnv(stack);
    const now = new Date('2026-11-25T10:00:00.100Z');
    env.now = () => now;
    const ref = parseReference(`${stack.gun('org/expiry')}:x`);
    const targetsKey = generateKey();
    await initRepository(adminClient(env, ref), { targetsKey: toSigningKey(targetsKey, 'targets', ref.gun), now });
    const keys = parseSignerKeys(await readFile(ci.publicKeyPath, 'utf8'), 'ci');
    await administer(env, [ref], (repo, _c, t) => planAddSigner(repo, toSigningKey(targetsKey, 'targets', ref.gun), 'ci', keys, t));
    const get = (p: string) => httpsRequest(`${stack.notary.url}/v2/${ref.gun}/_trust/tuf/${p}`, { ca: stack.ca.caPem });
    const snapshot = JSON.parse((await get('snapshot.json')).body.toString()) as { signed: { meta: Record<string, { hashes: { sha256: string }; length: number }> } };
    for (const role of ['root', 'targets']) {
      const body = (await get(`${role}.json`)).body;
      assert.match(body.toString(), /"expires":"20\d\d-11-2\dT10:00:00\.1Z"/);
      assert.equal(snapshot.signed.meta[role]!.length, body.length, role);
      assert.equal(snapshot.signed.meta[role]!.hashes.sha256, createHash('sha256').update(body).digest('base64'), role);
    }
    env.close();
  });
});

/** The action's first failure: its code (the annotation title's) and message. */
function firstError(run: ActionRun): { code: string; message: string } {
  assert.notEqual(run.code, 0, describeRun(run));
  const e = run.errors[0];
  assert.ok(e, `an ::error annotation\n${describeRun(run)}`);
  return { code: e.title.split(':')[0]!, message: e.message };
}

/** A docker-initialised repository with signer ci, v1 signed by the action (targets/ci and targets/releases). */
async function signedRepo(stack: Stack, ci: Parameters<typeof initRepo>[2], repo: string): Promise<{ gun: string; digest: string; ref: string }> {
  const gun = await initRepo(stack, repo, ci);
  const img = await pushImage(stack, `${repo}:v1`, { seed: repo.replace('/', '-') });
  const sign = await runAction(stack, { mode: 'sign', images: [img.ref], key: ci.privateKeyPem });
  assert.equal(sign.code, 0, describeRun(sign));
  return { gun, digest: img.digest, ref: img.ref };
}

/** verify with a trust dir of its own (no cache): the first run remembers the repository, later runs start from it. */
function verifyRemembering(stack: Stack, ref: string, trustDir: string, extra: Record<string, string> = {}): Promise<ActionRun> {
  return runAction(stack, { mode: 'verify', images: [ref] }, { 'INPUT_TRUST-DIR': trustDir, INPUT_CACHE: 'false', ...extra });
}

describe('reviving expired repositories (refresh) and the expiry watch (status)', () => {
  const ctx = useStack();
  const delegations = ['targets/releases', 'targets/ci'];

  // The notary and docker CLIs cannot read such a repository, and notary cannot re-sign it: test/upstream/expiry.upstream.test.ts.
  it('a repository whose targets.json expired: verify says EXPIRED naming targets.json and the repository key; refresh revives it, nothing deleted; docker, notary and the remembered trust read it', async () => {
    const { stack } = ctx;
    const { gun, digest, ref } = await signedRepo(stack, ctx.ci, 'revive/targets');
    const trustDir = join(stack.dir, 'trust-revive-targets');
    const first = await verifyRemembering(stack, ref, trustDir);
    assert.equal(first.code, 0, describeRun(first));
    const repoKey = await dockerKeyPem(stack, 'targets', gun);
    await publishExpiring(stack, gun, 'targets', repoKey, REPOSITORY_PASSPHRASE);

    const refused = firstError(await verifyRemembering(stack, ref, trustDir));
    assert.equal(refused.code, 'EXPIRED');
    assert.match(refused.message, /targets\.json expired at .*re-sign it with the repository key \(mode: refresh with the repository-key input\)/);

    const before = await serverState(stack, gun, delegations);
    const run = await runAdminAction(stack, 'refresh', [gun], { 'repository-key': repoKey, 'repository-passphrase': REPOSITORY_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.outputs.result!)[0].roles, ['targets']);
    const after = await serverState(stack, gun, delegations);
    assert.equal(after.root, before.root, 'root untouched');
    for (const role of delegations) assert.equal(after[role], before[role], `${role} untouched (nothing deleted)`);
    assert.equal(after.posts, (before.posts as number) + 1, 'one publish');

    const [info] = await stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v1', Digest: hex(digest), Signers: ['ci'] }]);
    assert.deepEqual(
      (await stack.notaryCli.list(gun)).map((r) => r.name),
      ['v1'],
    );
    const again = await verifyRemembering(stack, ref, trustDir);
    assert.equal(again.code, 0, describeRun(again));
  });

  it('an expired root.json: refresh without the root key is refused before publishing, naming the root key; with it, root is revived and read by docker and the remembered trust', async () => {
    const { stack } = ctx;
    const { gun, digest, ref } = await signedRepo(stack, ctx.ci, 'revive/root');
    const trustDir = join(stack.dir, 'trust-revive-root');
    assert.equal((await verifyRemembering(stack, ref, trustDir)).code, 0);
    const rootKey = await dockerKeyPem(stack, 'root');
    const repoKey = await dockerKeyPem(stack, 'targets', gun);
    await publishExpiring(stack, gun, 'root', rootKey, ROOT_PASSPHRASE);

    const refused = firstError(await verifyRemembering(stack, ref, trustDir));
    assert.equal(refused.code, 'EXPIRED');
    assert.match(refused.message, /root\.json expired at .*re-sign it with the root key \(mode: refresh with the root-key input\)/);

    const before = await serverState(stack, gun, delegations);
    const without = firstError(await runAdminAction(stack, 'refresh', [gun], { 'repository-key': repoKey, 'repository-passphrase': REPOSITORY_PASSPHRASE }));
    assert.equal(without.code, 'EXPIRED');
    assert.match(without.message, /root\.json expired at .*no key given here signs it.*the root-key input.*Nothing was published/);
    assert.deepEqual(await serverState(stack, gun, delegations), before, 'nothing published');

    const run = await runAdminAction(stack, 'refresh', [gun], { 'root-key': rootKey, 'root-passphrase': ROOT_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.outputs.result!)[0].roles, ['root']);
    const [info] = await stack.docker.inspect(gun);
    assert.deepEqual(info!.SignedTags, [{ SignedTag: 'v1', Digest: hex(digest), Signers: ['ci'] }]);
    assert.equal((await stack.notaryCli.list(gun)).length, 1);
    const again = await verifyRemembering(stack, ref, trustDir);
    assert.equal(again.code, 0, describeRun(again));
  });

  it("expired signer files: verify says EXPIRED naming the role and the signer's key (not unsigned), in the action and the CLI; refresh with the signer's key revives them", async () => {
    const { stack } = ctx;
    const { gun, ref } = await signedRepo(stack, ctx.ci, 'revive/signer');
    await publishExpiring(stack, gun, delegations, ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE);

    const dct = firstError(await runAction(stack, { mode: 'verify', images: [ref] }));
    assert.equal(dct.code, 'EXPIRED');
    assert.match(dct.message, /revive\/signer:v1 is signed in targets\/releases, whose file has expired.*targets\/releases\.json expired at .*re-sign it with a signer's key .*\(mode: refresh with the delegation-key input\)/);
    const named = firstError(await runAction(stack, { mode: 'verify', images: [ref], signers: 'ci' }));
    assert.equal(named.code, 'EXPIRED');
    assert.match(named.message, /signer "ci"'s signatures are not trusted: .*targets\/ci\.json expired at .*signer "ci"'s key/);
    const cli = await runCli(stack.docker.env(), ['verify', ref]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /^content-trust: EXPIRED: .*targets\/releases\.json expired at .*\(`content-trust refresh [^`]+revive\/signer`, with that key in the trust directory\)/m);

    const run = await runAdminAction(stack, 'refresh', [gun], { 'delegation-key': ctx.ci.privateKeyPem, 'delegation-passphrase': REPOSITORY_PASSPHRASE });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(JSON.parse(run.outputs.result!)[0].roles.sort(), ['targets/ci', 'targets/releases']);
    const verify = await runAction(stack, { mode: 'verify', images: [ref], signers: 'ci' });
    assert.equal(verify.code, 0, describeRun(verify));
    assert.equal((await stack.docker.inspect(gun))[0]!.SignedTags.length, 1);
  });

  // What notary and docker do with it, and that notary-server then refuses every update, a new root key too: test/upstream/expiry.upstream.test.ts (a root certificate that ended).
  it('a root certificate that ended (root.json current): verify says EXPIRED naming the certificate (not ROOT_INVALID), status reports root expired by its certificate, refresh refuses before publishing', async () => {
    const { stack } = ctx;
    const { gun, ref } = await signedRepo(stack, ctx.ci, 'revive/root-cert');
    const trustDir = join(stack.dir, 'trust-revive-cert');
    assert.equal((await verifyRemembering(stack, ref, trustDir)).code, 0);
    const rootKey = await dockerKeyPem(stack, 'root');
    const { keyId } = await publishEndingCertificate(stack, gun, rootKey, ROOT_PASSPHRASE);

    const refused = firstError(await verifyRemembering(stack, ref, trustDir));
    assert.equal(refused.code, 'EXPIRED');
    assert.match(
      refused.message,
      new RegExp(
        `revive/root-cert: the root certificate \\(root key ${keyId}\\) expired at .*, so no client trusts root\\.json .*; notary-server accepts no update of a repository whose root certificate has ended.*notary delete [^ ]+revive/root-cert --remote`,
      ),
    );

    const watch = await runAdminAction(stack, 'status', [gun]);
    assert.equal(firstError(watch).code, 'EXPIRED');
    assert.match(watch.errors[0]!.message, /revive\/root-cert: root\.json's key certificate expired at .* \(the file itself runs until 20\d\d-.*notary-server accepts no update/);
    const [status] = JSON.parse(watch.outputs.status!) as { state: string; roles: { role: string; state: string; expiresBy: string; fix: string }[] }[];
    assert.equal(status!.state, 'expired');
    assert.deepEqual(status!.roles.map((r) => [r.role, r.state, r.expiresBy]).slice(0, 2), [
      ['root', 'expired', 'certificate'],
      ['targets', 'ok', 'file'],
    ]);
    assert.match(watch.summaryText, /its key certificate/);

    const before = await serverState(stack, gun, delegations);
    const refresh = firstError(await runAdminAction(stack, 'refresh', [gun], { 'root-key': rootKey, 'root-passphrase': ROOT_PASSPHRASE }));
    assert.equal(refresh.code, 'EXPIRED');
    assert.match(refresh.message, /the root certificate expired at .*a refresh cannot renew a certificate: notary-server accepts no update.*Nothing was published/);
    assert.deepEqual(await serverState(stack, gun, delegations), before, 'nothing published');
  });

  it('status names a root certificate ending within the window, with rotate-role: root as the fix, before anything fails', async () => {
    const { stack } = ctx;
    const { gun } = await signedRepo(stack, ctx.ci, 'watch/root-cert');
    const rootKey = await dockerKeyPem(stack, 'root');
    const { keyId } = await publishEndingCertificate(stack, gun, rootKey, ROOT_PASSPHRASE, 20 * 86_400, false);
    const watch = await runAdminAction(stack, 'status', [gun]);
    assert.equal(firstError(watch).code, 'EXPIRING');
    assert.match(
      watch.errors[0]!.message,
      /watch\/root-cert: root\.json's key certificate expires at .* \(in 19 days, within the 30-day window\).*give the root a new key and certificate before then \(mode: rotate with rotate-role: root and the root-key input\)/,
    );
    const [status] = JSON.parse(watch.outputs.status!) as { rootKeyIds: string[]; roles: { role: string; state: string; expiresBy: string; certificateExpires: string; fileExpires: string }[] }[];
    assert.deepEqual(status!.rootKeyIds, [keyId]);
    assert.deepEqual([status!.roles[0]!.state, status!.roles[0]!.expiresBy], ['expiring', 'certificate']);
    assert.ok(Date.parse(status!.roles[0]!.fileExpires) > Date.parse(status!.roles[0]!.certificateExpires));
    const rotate = await runAdminAction(stack, 'rotate', [gun], { 'rotate-role': 'root', 'root-key': rootKey, 'root-passphrase': ROOT_PASSPHRASE, cache: 'false' });
    assert.equal(rotate.code, 0, describeRun(rotate));
    const after = await runAdminAction(stack, 'status', [gun]);
    assert.equal(after.code, 0, describeRun(after));
  });

  it('status: a healthy repository passes with every role, its signers and key IDs (the root key as docker prints it) in the output and the summary', async () => {
    const { stack } = ctx;
    const { gun } = await signedRepo(stack, ctx.ci, 'watch/healthy');
    const run = await runAdminAction(stack, 'status', [gun]);
    assert.equal(run.code, 0, describeRun(run));
    const [status] = JSON.parse(run.outputs.status!) as { repository: string; state: string; withinDays: number; rootKeyIds: string[]; roles: { role: string; state: string; signers: string[]; keyIds: string[]; version: number }[] }[];
    assert.equal(status!.repository, gun);
    assert.equal(status!.state, 'ok');
    assert.equal(status!.withinDays, 30, 'the default window');
    const [info] = await stack.docker.inspect(gun);
    assert.deepEqual(
      status!.rootKeyIds,
      info!.AdministrativeKeys.find((k) => k.Name === 'Root')!.Keys.map((k) => k.ID),
    );
    assert.deepEqual(
      status!.roles.map((r) => [r.role, r.state, r.signers]),
      [
        ['root', 'ok', ['Root']],
        ['targets', 'ok', ['Repository']],
        ['targets/ci', 'ok', ['ci']],
        ['targets/releases', 'ok', ['ci']],
        ['snapshot', 'ok', ['Notary server']],
        ['timestamp', 'ok', ['Notary server']],
      ],
    );
    assert.deepEqual(status!.roles.find((r) => r.role === 'targets/ci')!.keyIds, [ctx.ci.keyId]);
    assert.match(run.summaryText, /Content trust: status/);
    assert.match(run.summaryText, /targets\/releases/);
    assert.match(run.summaryText, new RegExp(`Root key <code>${status!.rootKeyIds[0]}</code>`));
    assert.deepEqual(run.errors, []);
  });

  it('status: a signer file expiring within the window fails EXPIRING naming repository, role, date and fix; an expired targets.json fails EXPIRED; the output and summary still list every role; a narrower window passes', async () => {
    const { stack } = ctx;
    const soon = await signedRepo(stack, ctx.ci, 'watch/soon');
    const expires = await publishExpiringIn(stack, soon.gun, ['targets/ci'], ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE, 10 * 86_400);
    const gone = await signedRepo(stack, ctx.ci, 'watch/gone');
    await publishExpiring(stack, gone.gun, 'targets', await dockerKeyPem(stack, 'targets', gone.gun), REPOSITORY_PASSPHRASE);
    const healthy = await signedRepo(stack, ctx.ci, 'watch/fine');

    const run = await runAdminAction(stack, 'status', [soon.gun, gone.gun, healthy.gun]);
    assert.equal(run.code, 1, describeRun(run));
    assert.deepEqual(
      run.errors.filter((e) => e.title).map((e) => e.title),
      [`EXPIRED: ${gone.gun}`, `EXPIRING: ${soon.gun}`],
    );
    assert.match(run.errors[0]!.message, /watch\/gone: targets\.json expired at .*re-sign it with the repository key \(mode: refresh with the repository-key input\)/);
    assert.match(run.errors[1]!.message, new RegExp(`watch/soon: targets/ci\\.json expires at ${expires.toISOString().slice(0, 19)}.*within the 30-day window.*signer "ci"'s key \\(mode: refresh with the delegation-key input\\)`));
    const statuses = JSON.parse(run.outputs.status!) as { repository: string; state: string; roles: { role: string; state: string }[] }[];
    assert.deepEqual(
      statuses.map((s) => [s.repository, s.state]),
      [
        [soon.gun, 'expiring'],
        [gone.gun, 'expired'],
        [healthy.gun, 'ok'],
      ],
    );
    assert.equal(statuses[1]!.roles.length, 6, 'the expired repository is reported whole');
    assert.match(run.summaryText, /expiring/);
    assert.match(run.summaryText, /Failed/);
    assert.equal(run.summaryText.match(/Content trust: status/g)?.length, 1, 'one heading');

    const narrow = await runAdminAction(stack, 'status', [soon.gun], { 'expires-within': '5' });
    assert.equal(narrow.code, 0, describeRun(narrow));

    const cli = await runCli(stack.docker.env(), ['status', soon.gun, gone.gun, '--within', '30', '--json']);
    assert.equal(cli.code, 1, cli.stderr);
    assert.deepEqual(
      (JSON.parse(cli.stdout) as { state: string }[]).map((s) => s.state),
      ['expiring', 'expired'],
    );
    assert.match(cli.stderr, /^content-trust: EXPIRED: .*watch\/gone: targets\.json expired at .*\(`content-trust refresh [^`]+watch\/gone`, with that key in the trust directory\)/m);
    assert.match(cli.stderr, /^content-trust: EXPIRING: .*watch\/soon: targets\/ci\.json expires at /m);
    const text = await runCli(stack.docker.env(), ['status', healthy.gun]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /watch\/fine \(root key [0-9a-f]{64}; window 30 days\): ok\n\s*ROLE\s+VERSION\s+EXPIRES/);
  });

  it('status over four repositories (healthy, expiring, never initialised, a server answering garbage): every one reported in the output, the summary and the CLI; one failure per failing repository, codes kept', async () => {
    const { stack } = ctx;
    const healthy = await signedRepo(stack, ctx.ci, 'watch4/healthy');
    const soon = await signedRepo(stack, ctx.ci, 'watch4/soon');
    await publishExpiringIn(stack, soon.gun, ['targets/ci'], ctx.ci.privateKeyPem, REPOSITORY_PASSPHRASE, 10 * 86_400);
    const never = stack.gun('watch4/never');
    const garbage = await signedRepo(stack, ctx.ci, 'watch4/garbage');
    // The real notary-server behind a proxy that answers an HTML page for every trust file of one repository.
    const proxy = await startProxy(stack.notary.url, stack.ca);
    proxy.setRule((req) => (req.path.includes('watch4/garbage/_trust/tuf/') ? { body: Buffer.from('<html><body>Bad gateway \u001b[31m</body></html>'), headers: { 'content-type': 'text/html' } } : undefined));
    try {
      const guns = [healthy.gun, soon.gun, never, garbage.gun];
      const run = await runAction(stack, { mode: 'verify', images: guns, trustServer: proxy.url }, { INPUT_MODE: 'status' });
      assert.equal(run.code, 1, describeRun(run));
      const statuses = JSON.parse(run.outputs.status!) as { repository: string; state: string; roles: { role: string; state: string }[]; error?: { code: string; message: string } }[];
      assert.deepEqual(
        statuses.map((s) => [s.repository, s.state, s.error?.code, s.roles.length]),
        [
          [healthy.gun, 'ok', undefined, 6],
          [soon.gun, 'expiring', undefined, 6],
          [never, 'uninitialised', 'REPO_NOT_INITIALISED', 0],
          [garbage.gun, 'unreadable', 'METADATA_INVALID', 0],
        ],
      );
      assert.match(statuses[2]!.error!.message, /watch4\/never has no trust data on the Notary server: initialise it first \(mode: init\)$/, "in the action's words");
      assert.match(
        statuses[3]!.error!.message,
        /^[^ ]+watch4\/garbage: the Notary server's root\.json is not JSON, so it is not trust data for this repository: check the server with its operator, or that trust-server and the image names point at the right server$/,
      );
      assert.deepEqual(
        run.errors.filter((e) => e.title).map((e) => e.title),
        [`REPO_NOT_INITIALISED: ${never}`, `METADATA_INVALID: ${garbage.gun}`, `EXPIRING: ${soon.gun}`],
        'one annotation per failing repository, unreadable ones before expiring roles',
      );
      assert.match(run.errors.at(-1)!.message, /^REPO_NOT_INITIALISED: 3 images or repositories failed/);
      assert.match(run.summaryText, /watch4\/never.*no trust data.*REPO_NOT_INITIALISED/s);
      assert.match(run.summaryText, /watch4\/garbage.*unreadable.*METADATA_INVALID/s);
      assert.match(run.summaryText, /4 repositories checked; 1 needs renewing, 2 could not be read\./);
      assert.ok(!run.summaryText.includes('\u001b'), 'outside text made inert');
      assert.equal(run.summaryText.match(/Content trust: status/g)?.length, 1, 'one heading');

      const cli = await runCli(stack.docker.env(), ['--tlscacert', stack.ca.caCertPath, '--server', proxy.url, 'status', ...guns, '--json']);
      assert.equal(cli.code, 1, cli.stderr);
      const printed = JSON.parse(cli.stdout) as { state: string; error?: { code: string; message: string } }[];
      assert.deepEqual(
        printed.map((s) => [s.state, s.error?.code]),
        [
          ['ok', undefined],
          ['expiring', undefined],
          ['uninitialised', 'REPO_NOT_INITIALISED'],
          ['unreadable', 'METADATA_INVALID'],
        ],
      );
      assert.match(printed[2]!.error!.message, /\(`content-trust init [^`]+watch4\/never`\)$/, "in the CLI's words");
      assert.match(printed[3]!.error!.message, /watch4\/garbage: the Notary server's root\.json is not JSON, .* or that --server \(or \$DOCKER_CONTENT_TRUST_SERVER\) and the image names point at the right server$/);
      assert.deepEqual(
        [...cli.stderr.matchAll(/^content-trust: ([A-Z_]+): /gm)].map((m) => m[1]),
        ['REPO_NOT_INITIALISED', 'METADATA_INVALID', 'EXPIRING'],
        cli.stderr,
      );
      const text = await runCli(stack.docker.env(), ['--tlscacert', stack.ca.caCertPath, '--server', proxy.url, 'status', healthy.gun, never, garbage.gun]);
      assert.equal(text.code, 1, text.stderr);
      assert.match(text.stdout, /watch4\/healthy \(root key [0-9a-f]{64}; window 30 days\): ok\n/);
      assert.match(text.stdout, /watch4\/never: uninitialised \(REPO_NOT_INITIALISED: .*`content-trust init [^`]+`\)\)\n/);
      assert.match(text.stdout, /watch4\/garbage: unreadable \(METADATA_INVALID: /);
    } finally {
      await proxy.stop();
    }
  });

  it('status takes no key: a key input is refused before any request, naming the input', async () => {
    const run = await runAdminAction(ctx.stack, 'status', [ctx.stack.gun('watch/any')], { 'root-key': await dockerKeyPem(ctx.stack, 'root'), 'root-passphrase': ROOT_PASSPHRASE });
    const e = firstError(run);
    assert.equal(e.code, 'INPUT_INVALID');
    assert.match(e.message, /mode status only reads and takes no keys: remove the root-key input/);
    const help = await runCli(ctx.stack.docker.env(), ['status', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: content-trust status REPOSITORY\.\.\. \[--within DAYS\] \[--json\]\n\nEvery role's expiry and keys; fails when one expires within DAYS \(30\)\.\nReads only and needs no key\./);
    assertCliBadInput(await runCli(ctx.stack.docker.env(), ['status', ctx.stack.gun('watch/any'), '--within', 'soon']), 'INPUT_INVALID', '--within');
  });
});
