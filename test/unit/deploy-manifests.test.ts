import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { collectImages, locateFailures, planPins, readDeployFiles, withSources, writePins } from '../../src/deploy/manifests.ts';
import { MultiError, TrustError, failureMessage } from '../../src/errors.ts';
import type { ImageResult } from '../../src/notary/env.ts';
import { assertCode } from './helpers/errors.ts';

const LABEL = { name: 'input manifests', fix: 'give paths or globs' };
const REGISTRY = 'reg.test:5000';
const DIGESTS = { __APP_V1__: `sha256:${'1'.repeat(64)}`, __APP_V2__: `sha256:${'2'.repeat(64)}`, __WORKER_V1__: `sha256:${'3'.repeat(64)}`, __TOOLS_V1__: `sha256:${'4'.repeat(64)}` };
const SAMPLES = ['workloads.yaml', 'helm-rendered.yaml', 'kustomize-output.yaml', 'compose-v2.yml', 'compose-v3.yaml', 'workflow.yml'];

function fill(text: string): string {
  let out = text.replaceAll('__REGISTRY__', REGISTRY);
  for (const [k, v] of Object.entries(DIGESTS)) out = out.replaceAll(k, v);
  return out;
}

const fixture = (path: string) => fill(readFileSync(new URL(`../fixtures/deploy/${path}`, import.meta.url), 'utf8'));

function workspace(files: Record<string, string | Buffer>): string {
  const ws = mkdtempSync(join(tmpdir(), 'deploy-pin-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(ws, name)), { recursive: true });
    writeFileSync(join(ws, name), text);
  }
  return ws;
}

/** What verify would return for these images: each tag's digest from DIGESTS. */
function results(images: readonly string[]): ImageResult[] {
  const digestOf: Record<string, string> = { 'org/app:v1': DIGESTS.__APP_V1__, 'org/app:v2': DIGESTS.__APP_V2__, 'org/worker:v1': DIGESTS.__WORKER_V1__, 'org/tools:v1': DIGESTS.__TOOLS_V1__ };
  return images.map((image) => {
    const key = image.replace(`${REGISTRY}/`, '').replace(/@.*$/, '');
    const [repository, tag] = key.split(':') as [string, string];
    return { image, repository: `${REGISTRY}/${repository}`, tag, digest: digestOf[key]!, size: 1, signers: ['ci'], roles: ['targets/releases'], expires: '2030-01-01T00:00:00.000Z' };
  });
}

describe('deployment files: verify once, report at each place', () => {
  it('collects each image once however it is spelt, after the images input, with every place it is named', async () => {
    const ws = workspace({ 'a.yaml': 'services:\n  a: {image: "reg.test:5000/org/app:v1"}\n  b: {image: reg.test:5000/org/app}\n', 'b.yaml': 'services:\n  c:\n    image: reg.test:5000/org/app:v1\n  d:\n    image: reg.test:5000/org/app:latest\n' });
    const files = await readDeployFiles(['*.yaml'], ws, LABEL);
    const { added, places } = collectImages(files, [' reg.test:5000/org/app:v1 ']);
    assert.deepEqual(added, ['reg.test:5000/org/app']);
    assert.deepEqual(Object.fromEntries(places), {
      'reg.test:5000/org/app:v1': [
        { file: 'a.yaml', line: 2 },
        { file: 'b.yaml', line: 3 },
      ],
      'reg.test:5000/org/app': [
        { file: 'a.yaml', line: 3 },
        { file: 'b.yaml', line: 5 },
      ],
    });
    const located = locateFailures(new MultiError([{ subject: 'reg.test:5000/org/app', error: new TrustError('NOT_SIGNED', 'image reg.test:5000/org/app:latest: not signed') }]), places);
    assert.ok(located instanceof MultiError);
    assert.equal(failureMessage(located.failures[0]!), 'image reg.test:5000/org/app:latest: not signed [named at a.yaml:3, b.yaml:5]');
    assert.deepEqual(withSources(results(['reg.test:5000/org/app:v1']), places)[0]!.sources, ['a.yaml:2', 'b.yaml:3']);
  });

  it('every problem of every file is reported at once, each at its file and line', async () => {
    const ws = workspace({ 'a.yaml': 'services:\n  a: {image: "app:${TAG}"}\n', 'b.yaml': 'nothing: here\n' });
    const e = await assertCode(readDeployFiles(['a.yaml', 'b.yaml'], ws, LABEL), 'DEPLOY_IMAGE_UNRESOLVED');
    assert.ok(e instanceof MultiError);
    assert.deepEqual(
      e.failures.map((f) => [f.error.code, f.places]),
      [
        ['DEPLOY_IMAGE_UNRESOLVED', [{ file: 'a.yaml', line: 2 }]],
        ['DEPLOY_FILE_INVALID', [{ file: 'b.yaml', line: 1 }]],
      ],
    );
  });
});

describe('pin', () => {
  it('rewrites every verified image of every sample to name:tag@sha256, byte for byte as the expected files', async () => {
    const ws = workspace(Object.fromEntries(SAMPLES.map((s) => [s, fixture(s)])));
    const files = await readDeployFiles(SAMPLES, ws, LABEL);
    const { added } = collectImages(files, []);
    const { plans, unverified } = planPins(files, results(added));
    assert.deepEqual(unverified, []);
    assert.deepEqual(writePins(plans, LABEL), SAMPLES);
    for (const s of SAMPLES) assert.equal(readFileSync(join(ws, s), 'utf8'), fixture(`pinned/${s}`), s);
    // Pinned already: a second run changes nothing.
    const again = planPins(await readDeployFiles(SAMPLES, ws, LABEL), results(added));
    assert.deepEqual(again.plans, []);
  });

  it('keeps a byte order mark, CRLF line ends, comments, the file mode; an image named without a tag gets the tag verified', async () => {
    const text = '\uFEFF# deploy\r\nservices:\r\n  web:\r\n    image: reg.test:5000/org/app   # the app\r\n  cache:\r\n    image: "reg.test:5000/org/worker:v1"\r\n';
    const ws = workspace({ 'compose.yaml': Buffer.from(text, 'utf8') });
    chmodSync(join(ws, 'compose.yaml'), 0o640);
    const files = await readDeployFiles(['compose.yaml'], ws, LABEL);
    const verified = results(['reg.test:5000/org/worker:v1']).concat({ ...results(['reg.test:5000/org/app:v1'])[0]!, image: 'reg.test:5000/org/app', tag: 'latest' });
    writePins(planPins(files, verified).plans, LABEL);
    const expected = `\uFEFF# deploy\r\nservices:\r\n  web:\r\n    image: reg.test:5000/org/app:latest@${DIGESTS.__APP_V1__}   # the app\r\n  cache:\r\n    image: "reg.test:5000/org/worker:v1@${DIGESTS.__WORKER_V1__}"\r\n`;
    assert.deepEqual(readFileSync(join(ws, 'compose.yaml')), Buffer.from(expected, 'utf8'));
    assert.equal(statSync(join(ws, 'compose.yaml')).mode & 0o777, 0o640);
    assert.deepEqual(readdirSync(ws), ['compose.yaml'], 'no temporary file left');
  });

  it('an image verify left out (allow-unsigned) is not pinned and is listed', async () => {
    const ws = workspace({ 'c.yaml': 'services:\n  a: {image: reg.test:5000/org/app:v1}\n  b: {image: reg.test:5000/other/x:v1}\n' });
    const files = await readDeployFiles(['c.yaml'], ws, LABEL);
    const { plans, unverified } = planPins(files, results(['reg.test:5000/org/app:v1']));
    assert.deepEqual(
      unverified.map((u) => u.image),
      ['reg.test:5000/other/x:v1'],
    );
    assert.equal(plans[0]!.text, `services:\n  a: {image: reg.test:5000/org/app:v1@${DIGESTS.__APP_V1__}}\n  b: {image: reg.test:5000/other/x:v1}\n`);
  });

  it('DEPLOY_PIN_UNSUPPORTED for a value it cannot rewrite as written (a block scalar, escapes, spaces), before anything is written', async () => {
    const ws = workspace({
      'ok.yaml': 'services:\n  a: {image: reg.test:5000/org/app:v1}\n',
      'block.yaml': 'services:\n  a:\n    image: >-\n      reg.test:5000/org/app:v1\n',
      'escaped.yaml': 'services:\n  a:\n    image: "reg.test:5000/org/app\\x3av1"\n',
      'spaced.yaml': "services:\n  a:\n    image: ' reg.test:5000/org/app:v1 '\n",
    });
    const files = await readDeployFiles(['*.yaml'], ws, LABEL);
    const e = await assertCode(async () => planPins(files, results(['reg.test:5000/org/app:v1'])), 'DEPLOY_PIN_UNSUPPORTED', /block\.yaml: service a: pin cannot rewrite image "reg\.test:5000\/org\/app:v1" as it is written \(a block scalar\)/);
    assert.ok(e instanceof MultiError);
    assert.deepEqual(
      e.failures.map((f) => f.places),
      [[{ file: 'block.yaml', line: 3 }], [{ file: 'escaped.yaml', line: 3 }], [{ file: 'spaced.yaml', line: 3 }]],
    );
    assert.equal(readFileSync(join(ws, 'ok.yaml'), 'utf8'), 'services:\n  a: {image: reg.test:5000/org/app:v1}\n');
  });

  it('DEPLOY_FILE_CHANGED when a file changed since it was read: nothing is written, no temporary file left', async () => {
    const ws = workspace({ 'a.yaml': 'services:\n  a: {image: reg.test:5000/org/app:v1}\n', 'b.yaml': 'services:\n  b: {image: reg.test:5000/org/app:v2}\n' });
    const files = await readDeployFiles(['a.yaml', 'b.yaml'], ws, LABEL);
    const { plans } = planPins(files, results(['reg.test:5000/org/app:v1', 'reg.test:5000/org/app:v2']));
    writeFileSync(join(ws, 'b.yaml'), 'services:\n  b: {image: reg.test:5000/org/app:v3}\n');
    assertCode(() => writePins(plans, LABEL), 'DEPLOY_FILE_CHANGED', /input manifests file "b\.yaml" changed while it was verified: nothing was pinned/);
    assert.equal(readFileSync(join(ws, 'a.yaml'), 'utf8'), 'services:\n  a: {image: reg.test:5000/org/app:v1}\n');
    assert.deepEqual(readdirSync(ws).sort(), ['a.yaml', 'b.yaml']);
  });
});
