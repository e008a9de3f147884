import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseDeployFile, type DeployFile } from '../../src/deploy/images.ts';

const REGISTRY = 'reg.test:5000';
const WORKER_V1 = `sha256:${'a'.repeat(64)}`;

/** A sample of test/fixtures/deploy with its placeholders filled in. */
export function sample(name: string, registry = REGISTRY, digests: Record<string, string> = { __WORKER_V1__: WORKER_V1 }): string {
  let text = readFileSync(new URL(`../fixtures/deploy/${name}`, import.meta.url), 'utf8').replaceAll('__REGISTRY__', registry);
  for (const [k, v] of Object.entries(digests)) text = text.replaceAll(k, v);
  return text;
}

const images = (f: DeployFile) => f.images.map((i) => [i.line, i.image.replace(`${REGISTRY}/`, ''), i.what]);
const problems = (f: DeployFile) => f.problems.map((p) => [p.error.code, p.line, p.error.message]);

describe('parseDeployFile: Kubernetes', () => {
  it('reads every workload kind of a multi-document file: containers, init and ephemeral containers, CronJob templates, List items', async () => {
    const file = await parseDeployFile(sample('workloads.yaml'), 'k8s/workloads.yaml');
    assert.equal(file.kind, 'kubernetes');
    assert.deepEqual(problems(file), []);
    assert.deepEqual(images(file), [
      [13, 'org/app:v1', 'Pod debug-pod, container app'],
      [10, 'org/tools:v1', 'Pod debug-pod, init container migrate'],
      [16, 'org/tools:v1', 'Pod debug-pod, ephemeral container debugger'],
      [33, 'org/app:v2', 'Deployment web, container web'],
      [35, 'org/tools:v1', 'Deployment web, container sidecar'],
      [48, `org/worker:v1@${WORKER_V1}`, 'StatefulSet db, container db'],
      [61, 'org/worker:v1', 'DaemonSet agent, container agent'],
      [74, 'org/app:v1', 'ReplicaSet legacy, container legacy'],
      [86, 'org/app:v1', 'ReplicationController older, container older'],
      [98, 'org/worker:v1', 'Job backfill, container backfill'],
      [116, 'org/worker:v1', 'CronJob nightly, container report'],
      [113, 'org/tools:v1', 'CronJob nightly, init container wait'],
      [127, 'org/app:v2', 'PodTemplate template, container main'],
      [142, 'org/tools:v1', 'Deployment listed, container listed'],
    ]);
    assert.deepEqual(
      file.digestOnly.map((d) => [d.line, d.ref.gun]),
      [[177, `${REGISTRY}/org/app`]],
    );
    assert.equal(file.images[5]!.ref.pin, WORKER_V1);
  });

  it('reads helm template and kustomize build output as rendered (quoted images, # Source comments, sorted keys)', async () => {
    const helm = await parseDeployFile(sample('helm-rendered.yaml'), 'out/helm.yaml');
    assert.deepEqual(images(helm), [
      [62, 'org/app:v1', 'Deployment release-web, container web'],
      [87, 'org/tools:v1', 'Pod release-web-test-connection, container wget'],
    ]);
    const kustomize = await parseDeployFile(sample('kustomize-output.yaml'), 'out/kustomize.yaml');
    assert.deepEqual(images(kustomize), [
      [32, 'org/app:v2', 'Deployment prod-api, container api'],
      [35, 'org/tools:v1', 'Deployment prod-api, init container init'],
      [49, 'org/worker:v1', 'CronJob prod-cleanup, container cleanup'],
    ]);
  });

  it('reads the pod template of another kind (a custom resource such as an Argo Rollout); kinds without one name nothing', async () => {
    const file = await parseDeployFile(
      'apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: "x/a:1"}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n',
      'r.yaml',
    );
    assert.deepEqual(images(file), [[7, 'x/a:1', 'Rollout r, container a']]);
  });

  it('a document that is not what a manifest is gets DEPLOY_FILE_INVALID with the file, object and line', async () => {
    const cases: [string, RegExp, number | undefined][] = [
      ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n', /^p\.yaml: Pod p: the pod spec has no containers/, 4],
      ['apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: 1\n', /^p\.yaml: Deployment d: spec\.template is missing/, 5],
      ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: nginx\n', /containers is not a list/, 5],
      ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: a\n', /Pod p, container a: has no image/, 6],
      ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - {name: a, image: [x]}\n', /image is not a string/, 6],
      ['apiVersion: v1\nkind: Service\n---\nkind: Service\n', /^p\.yaml: document 2: has no apiVersion and kind/, 4],
      ['name: x\nvalue: y\n', /is not a Kubernetes manifest \(apiVersion and kind\), a Compose file \(services\) or a GitHub workflow \(jobs\)/, 1],
      ['services: {}\n---\nservices: {}\n', /holds 2 YAML documents, but its first has no apiVersion and kind/, 1],
      ['# nothing\n', /holds no YAML document/, undefined],
      ['- a\n- b\n', /is not a mapping/, 1],
      ['apiVersion: v1\nkind: Pod\nkind: Pod\n', /line 3, column 1: duplicate key "kind"/, 3],
    ];
    for (const [text, message, line] of cases) {
      const file = await parseDeployFile(text, 'p.yaml');
      assert.equal(file.problems.length, 1, `${text}: ${JSON.stringify(problems(file))}`);
      assert.equal(file.problems[0]!.error.code, 'DEPLOY_FILE_INVALID', text);
      assert.match(file.problems[0]!.error.message, message);
      assert.equal(file.problems[0]!.line, line, text);
    }
  });

  it('an image with a variable or template is DEPLOY_IMAGE_UNRESOLVED, never skipped; a bad reference REFERENCE_INVALID; each with its line, all reported', async () => {
    const text = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata: {name: p}',
      'spec:',
      '  containers:',
      '    - {name: a, image: "{{ .Values.image }}"}',
      '    - {name: b, image: "app:$(TAG)"}',
      '    - {name: c, image: "app:${TAG}"}',
      '    - {name: d, image: "UPPER/app:1"}',
      '    - {name: e, image: "ok/app:1"}',
      '',
    ].join('\n');
    const file = await parseDeployFile(text, 'p.yaml');
    assert.deepEqual(
      file.problems.map((p) => [p.error.code, p.line]),
      [
        ['DEPLOY_IMAGE_UNRESOLVED', 6],
        ['DEPLOY_IMAGE_UNRESOLVED', 7],
        ['DEPLOY_IMAGE_UNRESOLVED', 8],
        ['REFERENCE_INVALID', 9],
      ],
    );
    assert.match(file.problems[0]!.error.message, /^p\.yaml: Pod p, container a: image "\{\{ \.Values\.image \}\}" holds a variable or template \(\{\{…\).*render the file first \(helm template, kustomize build, docker compose config\)/);
    assert.match(file.problems[3]!.error.message, /^p\.yaml: Pod p, container d: image "UPPER\/app:1": repository "UPPER\/app" must be lowercase/);
    assert.deepEqual(images(file), [[10, 'ok/app:1', 'Pod p, container e']]);
  });

  it('a YAML error is one problem with its line; the size bound is the deployment one', async () => {
    const file = await parseDeployFile('apiVersion: v1\nkind: Pod\nspec: !!binary x\n', 'bad.yaml');
    assert.deepEqual(
      file.problems.map((p) => [p.error.code, p.line]),
      [['DEPLOY_FILE_INVALID', 3]],
    );
    assert.match(file.problems[0]!.error.message, /^bad\.yaml: line 3, column \d+: the tag !!binary is not allowed/);
    const big = await parseDeployFile(`apiVersion: v1\nkind: ConfigMap\ndata:\n  x: ${'a'.repeat(8 * 1024 * 1024)}\n`, 'big.yaml');
    assert.match(big.problems[0]!.error.message, /is larger than the 8388608 bytes allowed/);
  });
});

describe('parseDeployFile: Compose', () => {
  it('a numeric tag with a digest is a tag to verify (redis:7@…), not a registry port; only a digest with no tag is digest-only', async () => {
    const text = `services:\n  cache:\n    image: redis:7@${WORKER_V1}\n  db:\n    image: ${REGISTRY}/postgres@${WORKER_V1}\n  web:\n    image: ${REGISTRY}/org/app:16@${WORKER_V1}\n`;
    const file = await parseDeployFile(text, 'compose.yaml');
    assert.deepEqual(problems(file), []);
    assert.deepEqual(
      file.images.map((i) => [i.line, i.ref.tag, i.ref.pin]),
      [
        [3, '7', WORKER_V1],
        [7, '16', WORKER_V1],
      ],
    );
    assert.deepEqual(
      file.digestOnly.map((d) => [d.line, d.ref.gun]),
      [[5, `${REGISTRY}/postgres`]],
    );
    // A stray @ before the digest is no digest-only image but a reference that does not parse.
    const stray = await parseDeployFile(`services:\n  odd:\n    image: ${REGISTRY}/app@x@${WORKER_V1}\n`, 'compose.yaml');
    assert.deepEqual(stray.digestOnly, []);
    assert.deepEqual(
      problems(stray).map(([code]) => code),
      ['REFERENCE_INVALID'],
    );
  });

  it('reads services.*.image of a 2.x file; a service Compose never pulls (pull_policy build) is skipped and said', async () => {
    const file = await parseDeployFile(sample('compose-v2.yml'), 'docker-compose.yml');
    assert.equal(file.kind, 'compose');
    assert.deepEqual(images(file), [
      [7, 'org/app:v1', 'service web'],
      [13, 'org/worker:v1', 'service db'],
    ]);
    assert.deepEqual(file.skipped, [{ what: 'service local', line: 18, why: 'pull_policy: build: Compose never pulls it' }]);
  });

  it('reads a 3.x file with an anchor and << merge keys: the merged image is named at the anchor', async () => {
    const file = await parseDeployFile(sample('compose-v3.yaml'), 'compose.yaml');
    assert.deepEqual(images(file), [
      [11, 'org/app:v2', 'service api'],
      [5, 'org/tools:v1', 'service worker'],
      [5, 'org/tools:v1', 'service cron'],
      [21, `org/worker:v1@${WORKER_V1}`, 'service cache'],
    ]);
    assert.equal(file.images[1]!.source!.start, file.images[2]!.source!.start, 'one written value');
  });

  it('a ${TAG} image is DEPLOY_IMAGE_UNRESOLVED; a build-only service (no image) names nothing', async () => {
    const file = await parseDeployFile('services:\n  a:\n    image: "app:${TAG:-latest}"\n  b:\n    build: .\n', 'compose.yaml');
    assert.deepEqual(
      file.problems.map((p) => [p.error.code, p.line]),
      [['DEPLOY_IMAGE_UNRESOLVED', 3]],
    );
    assert.match(file.problems[0]!.error.message, /service a: image "app:\$\{TAG:-latest\}" holds a variable or template \(\$\{…\)/);
    assert.deepEqual(file.images, []);
  });

  it('services that are not a mapping are DEPLOY_FILE_INVALID', async () => {
    const file = await parseDeployFile('services:\n  - web\n', 'compose.yaml');
    assert.match(file.problems[0]!.error.message, /^compose\.yaml: services: is not a mapping of service names to services: fix the Compose file/);
  });
});

describe('parseDeployFile: GitHub workflows', () => {
  it('reads jobs.*.container (string or {image}), jobs.*.services.*.image and docker:// steps', async () => {
    const file = await parseDeployFile(sample('workflow.yml'), '.github/workflows/ci.yml');
    assert.equal(file.kind, 'workflow');
    assert.deepEqual(images(file), [
      [10, 'org/tools:v1', 'job test, container'],
      [13, 'org/worker:v1', 'job test, service db'],
      [16, 'org/app:v1', 'job test, service cache'],
      [20, 'org/tools:v1', 'job test, step 2'],
      [26, 'org/app:v2', 'job e2e, container'],
    ]);
    assert.equal(file.images[3]!.prefix, 'docker://');
  });

  it('an expression is DEPLOY_IMAGE_UNRESOLVED; an empty service image (turned off by a condition) is skipped', async () => {
    const file = await parseDeployFile("on: push\njobs:\n  a:\n    container: ${{ matrix.image }}\n    services:\n      db:\n        image: ''\n", 'ci.yml');
    assert.deepEqual(
      file.problems.map((p) => [p.error.code, p.line]),
      [['DEPLOY_IMAGE_UNRESOLVED', 4]],
    );
    assert.deepEqual(file.images, []);
  });
});
