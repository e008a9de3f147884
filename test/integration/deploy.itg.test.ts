/**
 * Verify what gets deployed, against the real stack: the images of
 * Kubernetes manifests (every workload kind, Helm and Kustomize output),
 * Compose files and a workflow file (test/fixtures/deploy/) verified by the
 * action as the runner runs it and by the CLI, each result at its file and
 * line, failures annotated there, and `pin` rewriting the files to the
 * digests the signed trust data names, byte for byte as the expected files
 * in test/fixtures/deploy/pinned/.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { pushImage, type PushedImage } from '../stack/index.ts';
import { describeRun, initRepo, resultOf, runAction, runCli, useStack, type ActionRun } from './helpers.ts';

const SAMPLES = ['workloads.yaml', 'helm-rendered.yaml', 'kustomize-output.yaml', 'compose-v2.yml', 'compose-v3.yaml', 'workflow.yml'];
/** Where the samples go in the workspace, as a repository would hold them. */
const PLACE: Record<string, string> = {
  'workloads.yaml': 'k8s/workloads.yaml',
  'helm-rendered.yaml': 'rendered/helm.yaml',
  'kustomize-output.yaml': 'rendered/kustomize.yaml',
  'compose-v2.yml': 'docker-compose.yml',
  'compose-v3.yaml': 'compose.yaml',
  'workflow.yml': '.github/workflows/integration.yml',
};
const PATTERNS = ['k8s/**/*.yaml', 'rendered/*.yaml', 'docker-compose.yml', 'compose.yaml', '.github/workflows/*.yml'];

/** `::error …::` lines as the runner parses them: the properties decoded, and the message. */
function annotations(run: ActionRun): { title: string; file?: string; line?: string; message: string }[] {
  const decode = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
  return run.stdout
    .split('\n')
    .filter((l) => l.startsWith('::error '))
    .map((l) => {
      const m = /^::error (.*?)::(.*)$/.exec(l)!;
      const props = Object.fromEntries(m[1]!.split(',').map((p) => [p.slice(0, p.indexOf('=')), decode(p.slice(p.indexOf('=') + 1))]));
      return { title: props.title ?? '', ...(props.file ? { file: props.file } : {}), ...(props.line ? { line: props.line } : {}), message: decode(m[2]!) };
    });
}

describe('verify what gets deployed: manifests and pin', () => {
  const ctx = useStack();
  const images: Record<string, PushedImage> = {};
  let fill: (text: string) => string;

  before(async () => {
    const refs = ['org/app:v1', 'org/app:v2', 'org/worker:v1', 'org/tools:v1'];
    const pushed = await Promise.all([...refs, 'other/unsigned:v1'].map((r) => pushImage(ctx.stack, r)));
    refs.forEach((r, i) => (images[r] = pushed[i]!));
    for (const repo of ['org/app', 'org/worker', 'org/tools']) await initRepo(ctx.stack, repo, ctx.ci);
    const signed = await runAction(ctx.stack, { mode: 'sign', images: refs.map((r) => ctx.stack.gun(r)), key: ctx.ci.privateKeyPem });
    assert.equal(signed.code, 0, describeRun(signed));
    const digests: Record<string, string> = { __APP_V1__: images['org/app:v1']!.digest, __APP_V2__: images['org/app:v2']!.digest, __WORKER_V1__: images['org/worker:v1']!.digest, __TOOLS_V1__: images['org/tools:v1']!.digest };
    fill = (text) => Object.entries(digests).reduce((t, [k, v]) => t.replaceAll(k, v), text.replaceAll('__REGISTRY__', ctx.stack.registry.host));
  });

  const fixture = async (name: string) => fill(await readFile(new URL(`../fixtures/deploy/${name}`, import.meta.url), 'utf8'));

  /** A workspace holding the samples (filled in) where PLACE says, plus `extra` files. */
  async function workspace(extra: Record<string, string> = {}, samples = SAMPLES): Promise<string> {
    const ws = await mkdtemp(join(ctx.stack.dir, 'deploy-ws-'));
    const files: Record<string, string> = { ...Object.fromEntries(await Promise.all(samples.map(async (s) => [PLACE[s]!, await fixture(s)]))), ...extra };
    for (const [path, text] of Object.entries(files)) {
      await mkdir(dirname(join(ws, path)), { recursive: true });
      await writeFile(join(ws, path), text);
    }
    return ws;
  }

  const verify = (ws: string, inputs: Record<string, string>, images: string[] = []) => {
    const env: Record<string, string> = { GITHUB_WORKSPACE: ws };
    for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    return runAction(ctx.stack, { mode: 'verify', images }, env);
  };

  const snapshot = async (ws: string) => Object.fromEntries(await Promise.all(Object.values(PLACE).map(async (p) => [p, await readFile(join(ws, p), 'utf8')])));

  it('verifies every image the files name, once each, every result naming the files and lines it came from', async () => {
    const ws = await workspace();
    const run = await verify(ws, { manifests: PATTERNS.join('\n') });
    assert.equal(run.code, 0, describeRun(run));
    const g = (r: string) => ctx.stack.gun(r);
    const result = resultOf(run);
    assert.deepEqual(
      result.map((r) => [r.image, r.digest, r.sources]),
      [
        [`${g('org/app:v1')}`, images['org/app:v1']!.digest, ['k8s/workloads.yaml:13', 'k8s/workloads.yaml:74', 'k8s/workloads.yaml:86', 'rendered/helm.yaml:62', 'docker-compose.yml:7', '.github/workflows/integration.yml:16']],
        [
          `${g('org/tools:v1')}`,
          images['org/tools:v1']!.digest,
          [
            'k8s/workloads.yaml:10',
            'k8s/workloads.yaml:16',
            'k8s/workloads.yaml:35',
            'k8s/workloads.yaml:113',
            'k8s/workloads.yaml:142',
            'rendered/helm.yaml:87',
            'rendered/kustomize.yaml:35',
            'compose.yaml:5',
            '.github/workflows/integration.yml:10',
            '.github/workflows/integration.yml:20',
          ],
        ],
        [`${g('org/app:v2')}`, images['org/app:v2']!.digest, ['k8s/workloads.yaml:33', 'k8s/workloads.yaml:127', 'rendered/kustomize.yaml:32', 'compose.yaml:11', '.github/workflows/integration.yml:26']],
        [`${g('org/worker:v1')}@${images['org/worker:v1']!.digest}`, images['org/worker:v1']!.digest, ['k8s/workloads.yaml:48', 'compose.yaml:21']],
        [`${g('org/worker:v1')}`, images['org/worker:v1']!.digest, ['k8s/workloads.yaml:61', 'k8s/workloads.yaml:98', 'k8s/workloads.yaml:116', 'rendered/kustomize.yaml:49', 'docker-compose.yml:13', '.github/workflows/integration.yml:13']],
      ],
    );
    // Each image is looked up once: one registry check per image, however many files name it.
    assert.equal(run.stdout.split('\n').filter((l) => l.includes(`${g('org/tools:v1')}: trusted`)).length, 1, describeRun(run));
    assert.match(run.stdout, /k8s\/workloads\.yaml line 177: .*org\/app@sha256:0{64} is pinned by digest only; content trust has no tag to check there/);
    assert.match(run.stdout, /docker-compose\.yml line 18: service local is not checked: pull_policy: build: Compose never pulls it/);
    assert.match(run.summary, /Named in/);
    assert.equal(run.outputs['pinned-files'], undefined, 'no pin, no pinned-files');
    assert.deepEqual(await snapshot(ws), Object.fromEntries(await Promise.all(SAMPLES.map(async (s) => [PLACE[s]!, await fixture(s)]))), 'nothing written without pin');
  });

  it('pin rewrites every verified image in place, byte for byte as expected; a second run changes nothing', async () => {
    const ws = await workspace();
    const run = await verify(ws, { manifests: PATTERNS.join('\n'), pin: 'true' });
    assert.equal(run.code, 0, describeRun(run));
    assert.deepEqual(run.outputs['pinned-files']!.split('\n'), ['k8s/workloads.yaml', 'rendered/helm.yaml', 'rendered/kustomize.yaml', 'docker-compose.yml', 'compose.yaml', '.github/workflows/integration.yml']);
    for (const s of SAMPLES) assert.equal(await readFile(join(ws, PLACE[s]!), 'utf8'), await fixture(`pinned/${s}`), PLACE[s]);
    assert.match(run.stdout, /docker-compose\.yml: pinned line 7: .*org\/app:v1@sha256:[0-9a-f]{64}; line 13: /);

    const again = await verify(ws, { manifests: PATTERNS.join('\n'), pin: 'true' });
    assert.equal(again.code, 0, describeRun(again));
    assert.equal(again.outputs['pinned-files'], '');
    assert.match(again.stdout, /every verified image is pinned to its trusted digest already; no file changed/);
    for (const s of SAMPLES) assert.equal(await readFile(join(ws, PLACE[s]!), 'utf8'), await fixture(`pinned/${s}`), PLACE[s]);
    assert.deepEqual((await readdir(join(ws, 'rendered'))).sort(), ['helm.yaml', 'kustomize.yaml'], 'no temporary file left');
  });

  it('a failure is annotated at each file and line naming the image (the runner command text), and with pin nothing is written', async () => {
    const unsigned = ctx.stack.gun('other/unsigned:v1');
    const bad = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bad}\nspec:\n  template:\n    spec:\n      containers:\n        - name: bad\n          image: ${unsigned}\n`;
    const ws = await workspace({ 'k8s/bad.yaml': bad, 'compose.override.yaml': `services:\n  bad:\n    image: "${unsigned}"\n` });
    const before = await readFile(join(ws, 'k8s/workloads.yaml'), 'utf8');
    const run = await verify(ws, { manifests: [...PATTERNS, 'compose.override.yaml'].join('\n'), pin: 'true' });
    assert.equal(run.code, 1, describeRun(run));
    const marks = annotations(run).filter((a) => a.file);
    assert.deepEqual(
      marks.map((a) => [a.title, a.file, a.line]),
      [
        [`REPO_NOT_INITIALISED: ${unsigned}`, 'k8s/bad.yaml', '9'],
        [`REPO_NOT_INITIALISED: ${unsigned}`, 'compose.override.yaml', '3'],
      ],
    );
    assert.match(marks[0]!.message, /\[named at k8s\/bad\.yaml:9, compose\.override\.yaml:3\]$/);
    // The raw command the runner reads: file and line properties, `:` and `,` escaped by core.
    assert.ok(run.stdout.includes(`::error title=REPO_NOT_INITIALISED%3A ${unsigned.replace(/:/g, '%3A')},file=k8s/bad.yaml,line=9::`), describeRun(run));
    assert.equal(run.outputs['pinned-files'], undefined);
    assert.equal(await readFile(join(ws, 'k8s/workloads.yaml'), 'utf8'), before, 'nothing pinned when anything failed');
  });

  it('an image pinned to another digest fails PIN_MISMATCH at its line; one pinned to the trusted digest stays', async () => {
    const other = images['org/app:v2']!.digest;
    const text = `services:\n  ok:\n    image: ${ctx.stack.gun('org/app:v1')}@${images['org/app:v1']!.digest}\n  moved:\n    image: ${ctx.stack.gun('org/app:v1')}@${other}   # pinned to v2's digest\n`;
    const ws = await workspace({ 'compose.yaml': text }, []);
    const run = await verify(ws, { manifests: 'compose.yaml', pin: 'true' });
    assert.equal(run.code, 1, describeRun(run));
    const marks = annotations(run).filter((a) => a.file);
    assert.deepEqual(
      marks.map((a) => [a.title.split(':')[0], a.file, a.line]),
      [['PIN_MISMATCH', 'compose.yaml', '5']],
    );
    assert.match(marks[0]!.message, new RegExp(`signed as ${images['org/app:v1']!.digest}, but the input pins ${other}`));
    assert.equal(await readFile(join(ws, 'compose.yaml'), 'utf8'), text);

    const good = `services:\n  ok:\n    image: ${ctx.stack.gun('org/app:v1')}@${images['org/app:v1']!.digest}\n`;
    await writeFile(join(ws, 'compose.yaml'), good);
    const ok = await verify(ws, { manifests: 'compose.yaml', pin: 'true' });
    assert.equal(ok.code, 0, describeRun(ok));
    assert.equal(ok.outputs['pinned-files'], '');
    assert.equal(await readFile(join(ws, 'compose.yaml'), 'utf8'), good);
  });

  it('bad files get named errors annotated at the file, before any request: a template image, not a manifest, a path outside the workspace, pin without manifests', async () => {
    const ws = await workspace({ 'tpl.yaml': 'services:\n  a:\n    image: "app:${TAG}"\n', 'notes.yaml': 'title: notes\n' }, []);
    const tpl = await verify(ws, { manifests: 'tpl.yaml\nnotes.yaml' });
    assert.equal(tpl.code, 1, describeRun(tpl));
    assert.deepEqual(
      annotations(tpl)
        .filter((a) => a.file)
        .map((a) => [a.title, a.file, a.line]),
      [
        ['DEPLOY_IMAGE_UNRESOLVED: tpl.yaml', 'tpl.yaml', '3'],
        ['DEPLOY_FILE_INVALID: notes.yaml', 'notes.yaml', '1'],
      ],
    );
    assert.doesNotMatch(tpl.stdout, /trusted/);
    const outside = await verify(ws, { manifests: '../*.yaml' });
    assert.equal(outside.code, 1);
    assert.match(outside.errors.at(-1)!.message, /^FILE_OUTSIDE_WORKSPACE: input manifests "\.\.\/\*\.yaml" has a \. or \.\. segment/);
    const pinAlone = await verify(ws, { pin: 'true' }, [ctx.stack.gun('org/app:v1')]);
    assert.match(pinAlone.errors.at(-1)!.message, /^INPUT_INVALID: input pin rewrites the images of the files input manifests names/);
  });

  it('the CLI does the same: --manifests (repeated, comma lists) and --pin, results and failures with file:line', async () => {
    const ws = await workspace();
    const env = { ...ctx.stack.docker.env() };
    const flags = ['--server', ctx.stack.notary.url, '--tlscacert', ctx.stack.ca.caCertPath];
    const run = await runCli(env, ['verify', ...flags, '--manifests', 'k8s/**/*.yaml,rendered/*.yaml', '--manifests', 'docker-compose.yml', '--manifests', 'compose.yaml,.github/workflows/*.yml', '--pin'], ws);
    assert.equal(run.code, 0, `${run.stderr}\n${run.stdout}`);
    assert.match(
      run.stdout,
      new RegExp(
        `^${ctx.stack.gun('org/app:v2').replace(/[.]/g, '\\.')} ${images['org/app:v2']!.digest} signed by ci .* named at k8s/workloads\\.yaml:33, k8s/workloads\\.yaml:127, rendered/kustomize\\.yaml:32, compose\\.yaml:11, \\.github/workflows/integration\\.yml:26$`,
        'm',
      ),
    );
    assert.match(run.stdout, /^Pinned docker-compose\.yml: line 7 /m);
    for (const s of SAMPLES) assert.equal(await readFile(join(ws, PLACE[s]!), 'utf8'), await fixture(`pinned/${s}`), PLACE[s]);
    // With --json, standard output is the JSON alone, though a file names an image by digest only: its note goes to standard error.
    const json = await runCli(env, ['verify', ...flags, '--manifests', 'k8s/**/*.yaml', '--json'], ws);
    assert.equal(json.code, 0, json.stderr);
    assert.ok(Array.isArray(JSON.parse(json.stdout)), json.stdout);
    assert.match(json.stderr, /is pinned by digest only; content trust has no tag to check there\n/, 'the note goes to standard error');

    await writeFile(join(ws, 'bad.yaml'), `services:\n  bad:\n    image: ${ctx.stack.gun('other/unsigned:v1')}\n`);
    const failed = await runCli(env, ['verify', ...flags, '--manifests', 'bad.yaml', '--pin'], ws);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^content-trust: REPO_NOT_INITIALISED: .*other\/unsigned.* \[named at bad\.yaml:3\]$/m);
    const tpl = await runCli(env, ['verify', ...flags, '--manifests', 'k8s/*.json'], ws);
    assert.match(tpl.stderr, /^content-trust: FILE_NOT_FOUND: --manifests "k8s\/\*\.json" matches no file/m);
  });
});
