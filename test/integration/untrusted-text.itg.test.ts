/**
 * Hostile text in every path that carries outside text to the runner (an
 * input echoed in an error, a Dockerfile, a policy entry name, a Notary
 * server's error body), read back as the runner reads the step's stdout: no
 * command but the action's own, no line the text started, and a summary with
 * no HTML or Markdown of the text's making. And thousands of bad inputs: one
 * failure code, capped annotations, a summary under GitHub's 1 MiB.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { startProxy, tufPath, type RewritingProxy } from '../stack/proxy.ts';
import { runnerCommands } from '../unit/helpers/runner-commands.ts';
import { describeRun, initRepo, runAction, useStack, type ActionRun } from './helpers.ts';

/** One string with each trick: new lines and commands in both forms, HTML, Markdown, a mention. */
const HOSTILE = 'x\n::set-env name=X::y\r\n::stop-commands::tok\u2028::error::pwned ##[set-output name=a]b <img src=x onerror=alert(1)> [click](https://evil.example) @octocat';

/** The commands the action itself writes, at the start of a line. */
const OWN = new Set(['add-mask', 'error', 'warning', 'debug']);

/** Decodes a workflow command's data or property (what the runner shows). */
const decoded = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');

/** Tags core.summary writes for the action. */
const OWN_TAGS = /<\/?(?:h3|h4|table|tr|th|td|ul|li|b|code|br)>/g;

/**
 * The run's stdout, read as the runner reads it, holds only the action's own
 * commands, whose decoded text is one line with no command mark; the summary
 * has no tag, link, image or mention but core.summary's own.
 */
function assertNeutral(run: ActionRun): void {
  for (const c of runnerCommands(run.stdout)) {
    assert.ok(OWN.has(c.name) && c.line.startsWith(`::${c.name}`), `a command the action did not write: ${JSON.stringify(c.line)}\n${describeRun(run)}`);
    const m = /^::[a-z-]+(?: (.*?))?::(.*)$/.exec(c.line);
    assert.ok(m, c.line);
    for (const part of [m[1] ?? '', m[2]!].map(decoded)) {
      assert.doesNotMatch(part, /[\r\n\u2028\u2029\u0085]/, `an annotation shows a line break: ${JSON.stringify(c.line)}`);
      assert.doesNotMatch(part, /::|##\[/, `an annotation shows a command mark: ${JSON.stringify(c.line)}`);
    }
  }
  assert.doesNotMatch(run.stdout, /::set-env|::stop-commands|##\[set-output|\u2028/);
  const text = run.summary.replace(OWN_TAGS, '');
  assert.doesNotMatch(text, /[<>]/, `the summary has markup of outside text: ${run.summary.slice(0, 2000)}`);
  assert.doesNotMatch(text, /\]\(|@octocat|https:\/\//, 'a Markdown link or a mention in the summary');
}

describe('outside text reaches the runner neutralised', () => {
  const ctx = useStack();
  let app: PushedImage;
  let workspace: string;
  let proxy: RewritingProxy;

  before(async () => {
    app = await pushImage(ctx.stack, 'hostile/app:v1');
    await initRepo(ctx.stack, 'hostile/app', ctx.ci);
    const signed = await runAction(ctx.stack, { mode: 'sign', images: [app.ref], key: ctx.ci.privateKeyPem });
    assert.equal(signed.code, 0, describeRun(signed));
    workspace = await mkdtemp(join(ctx.stack.dir, 'workspace-'));
    proxy = await startProxy(ctx.stack.notary.url, ctx.stack.ca);
  });
  after(() => proxy?.stop());

  const verify = (images: string[] | string, env: Record<string, string> = {}, trustServer?: string) =>
    runAction(ctx.stack, { mode: 'verify', images, ...(trustServer ? { trustServer } : {}) }, { GITHUB_WORKSPACE: workspace, INPUT_CACHE: 'false', RUNNER_DEBUG: '1', ...env });

  it('an image reference that fails to parse is echoed neutralised in the log, annotation and summary', async () => {
    const refs = ['::error::pwned', 'bad/##[set-output name=a]b:v1', 'ghcr.io/x:<img src=x onerror=alert(1)>', 'a/[click](https://evil.example):@octocat'];
    const run = await verify(refs);
    assert.equal(run.code, 1, describeRun(run));
    assert.deepEqual(
      run.errors.map((e) => e.title.split(':')[0]),
      ['REFERENCE_INVALID', 'REFERENCE_INVALID', 'REFERENCE_INVALID', 'REFERENCE_INVALID', ''],
      describeRun(run),
    );
    // The text got there, neutralised: the test sees the path.
    assert.ok(run.stdout.includes(':\\:error:\\:pwned') && run.stdout.includes('#\\#[set-output'), describeRun(run));
    assert.ok(run.summary.includes('&#60;img'), run.summary);
    assertNeutral(run);
  });

  it('a Dockerfile whose ARG and FROM lines carry commands and markup is logged neutralised', async () => {
    // Parsed: the substituted images reach the info lines, then fail as references.
    await writeFile(join(workspace, 'Dockerfile'), `ARG BASE=::error::pwned\nARG OTHER=##[warning]pwned<img>\nFROM \${BASE}\nFROM \${OTHER}\nFROM ${app.ref}\nFROM alpine@sha256:${'0'.repeat(64)}\n`);
    const parsed = await verify('', { INPUT_DOCKERFILE: 'Dockerfile' });
    assert.equal(parsed.code, 1, describeRun(parsed));
    assert.match(parsed.stdout, /^Dockerfile: base images :\\:error:\\:pwned, #\\#\[warning\]pwned<img>, /m, describeRun(parsed));
    assertNeutral(parsed);
    // Refused: the line is echoed in the DOCKERFILE_INVALID message.
    await writeFile(join(workspace, 'Dockerfile.bad'), 'FROM ##[set-output name=a]b ::error::pwned\n');
    const refused = await verify('', { INPUT_DOCKERFILE: 'Dockerfile.bad' });
    assert.equal(refused.errors[0]?.title.split(':')[0], 'DOCKERFILE_INVALID', describeRun(refused));
    assert.ok(refused.stdout.includes('#\\#[set-output'), describeRun(refused));
    assertNeutral(refused);
  });

  it('a policy entry name with HTML, Markdown and new lines is inert in the summary table and the failure', async () => {
    const policy = (entry: Record<string, unknown>) => JSON.stringify({ repositories: [{ name: HOSTILE, match: ctx.stack.gun('hostile/app'), ...entry }] });
    await writeFile(join(workspace, 'ok.json'), policy({}));
    const passed = await verify([app.ref], { INPUT_POLICY: 'ok.json' });
    await writeFile(join(workspace, 'strict.json'), policy({ 'min-validity': '1000w' }));
    const refused = await verify([app.ref], { INPUT_POLICY: 'strict.json' });
    for (const run of [passed, refused]) assertNeutral(run);
    // Both runs carried the name to a sink (as a table cell, or in the refusal).
    assert.ok(`${passed.summary}${passed.stdout}`.includes('&#60;img') || passed.stdout.includes(':\\:error:\\:pwned'), describeRun(passed));
    assert.equal(refused.code, 1, describeRun(refused));
    assert.ok(refused.summary.includes('&#60;img'), refused.summary);
  });

  it('a Notary server error body with commands, HTML and a link is reported neutralised', async () => {
    const gun = ctx.stack.gun('hostile/app');
    const body = Buffer.from(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: HOSTILE, detail: { Error: { Msg: `##[error]pwned\n${HOSTILE}` } } }] }));
    proxy.setRule((req) => (req.path.startsWith(tufPath(gun, '')) ? { body, status: 400 } : undefined));
    try {
      const run = await verify([app.ref], { 'INPUT_TRUST-DIR': await mkdtemp(join(ctx.stack.dir, 'trust-')) }, proxy.url);
      assert.equal(run.code, 1, describeRun(run));
      assert.ok(run.errors[0]!.message.includes('#\\#[error]pwned'), describeRun(run));
      assert.ok(run.summary.includes('&#60;img'), run.summary);
      assertNeutral(run);
    } finally {
      proxy.setRule(undefined);
    }
  });

  it('5,000 bad references: one REFERENCE_INVALID failure counting them, 10 annotations, every one in the log, a summary under 1 MiB', async () => {
    const refs = Array.from({ length: 5000 }, (_, i) => `BAD${i}/<i>[x](y)`);
    const run = await verify(refs);
    assert.equal(run.code, 1, describeRun(run).slice(0, 4000));
    assert.equal(run.errors.length, 10, 'GitHub shows 10 error annotations per step: 9 failures and the step failure');
    assert.ok(run.errors.every((e) => e.title === '' || e.title.startsWith('REFERENCE_INVALID: ')));
    const failed = run.errors.at(-1)!;
    assert.match(failed.message, /^REFERENCE_INVALID: 5000 images or repositories failed \(the first 9 are annotated; the log lists every one\)$/);
    for (let i = 0; i < 5000; i++) assert.ok(run.stdout.includes(`"BAD${i}/<i>[x](y)"`), `failure ${i} is in the log`);
    assert.ok(Buffer.byteLength(run.summary) < 1024 * 1024, `${Buffer.byteLength(run.summary)} bytes of summary`);
    assert.match(run.summary, /\d+ more failure\(s\) are not listed here: the step's log lists every one\./);
    assertNeutral(run);
  });
});
