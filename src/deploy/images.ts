/**
 * The images a deployment file names, with the line and the text range each
 * is written at (for annotations and for pin):
 *
 * - Kubernetes manifests (every document has `apiVersion` and `kind`;
 *   several `---` documents, as Helm and Kustomize render them): the
 *   containers, init containers and ephemeral containers of a Pod, of the
 *   pod template of a Deployment, StatefulSet, DaemonSet, ReplicaSet,
 *   ReplicationController, Job and PodTemplate, of a CronJob's job template,
 *   and of the objects of a List (`kind: List`, `…List` with `items`).
 *   Another kind whose `spec.template.spec` (or CronJob-like
 *   `spec.jobTemplate.spec.template.spec`) lists containers (an Argo
 *   Rollout, a Knative Service, an OpenKruise CloneSet) is read the same
 *   way; kinds without a pod template name no image.
 * - Docker Compose files (`services` at the top): `services.*.image`. A
 *   service with `pull_policy: build` or `never` is never pulled, so has
 *   nothing for content trust to check, and is skipped (said in the log);
 *   any other `image` is checked, with or without `build` (Compose pulls
 *   before it builds).
 * - GitHub workflow files (`jobs` at the top): `jobs.*.container` (a string
 *   or `{image}`), `jobs.*.services.*.image`, and steps'
 *   `uses: docker://image`. An empty image (a service a condition turns off)
 *   is skipped.
 *
 * An image written with a variable or template (`${TAG}`, `$(IMAGE)`,
 * `{{ .Values.image }}`, `${{ matrix.image }}`) is only known at deploy time:
 * it is an error (DEPLOY_IMAGE_UNRESOLVED), never skipped, since the image
 * deployed would go unchecked. Render the file first (`helm template`,
 * `kustomize build`, `docker compose config`) and give the rendered file.
 * An image pinned by digest only (`name@sha256:…`) is immutable already and
 * has no tag for content trust to check: listed apart, as a Dockerfile's are.
 *
 * Parsing is src/util/yaml.ts with its rules (every scalar the text
 * written, no duplicate keys or tags, bounded size and nesting), plus
 * anchors, aliases and `<<` merge keys within a bound: Compose files share
 * settings that way and Kubernetes' reader accepts them. A file that is none
 * of the three, or whose structure is not what its kind says, is an error
 * naming the file, the object and the line.
 */
import { ContentTrustError, InputError, type InputErrorCode } from '../errors.ts';
import { digestOnlyName, parseReference, type ImageRef } from '../registry/reference.ts';
import { entry, parseYaml, type ScalarSource, type YamlDocument, type YamlMap, type YamlValue } from '../util/yaml.ts';
import { isMap } from '../util/maps.ts';

type DeployKind = 'kubernetes' | 'compose' | 'workflow';

export interface DeployImage {
  /** The reference as written, without a `docker://` prefix. */
  image: string;
  /** The parsed reference; for a digest-only image, its name parsed alone. */
  ref: ImageRef;
  line: number;
  /** Where the whole value is written (pin rewrites it there). */
  source: ScalarSource | undefined;
  /** What the value holds before the reference (`docker://` in a step's `uses`). */
  prefix: string;
  /** What names it, for messages: `Deployment web, container app`. */
  what: string;
}

interface DeployProblem {
  error: ContentTrustError;
  line: number | undefined;
}

export interface DeployFile {
  /** Relative to the workspace. */
  path: string;
  kind: DeployKind;
  /** The text parsed (a byte order mark included), for pin. */
  text: string;
  /** Images with a tag: verified. */
  images: DeployImage[];
  /** Images pinned by digest only. */
  digestOnly: DeployImage[];
  /** Images left out, and why (never pulled). */
  skipped: { what: string; line: number | undefined; why: string }[];
  /** What is wrong with the file; empty when nothing is. */
  problems: DeployProblem[];
}

/** Rendered charts with their CRDs run to megabytes and hundreds of documents; OpenAPI schemas nest deep. */
export const DEPLOY_YAML_LIMITS = { maxBytes: 8 * 1024 * 1024, maxDepth: 128, maxDocuments: 10_000, maxAliasValues: 10_000 } as const;

const KIND_LABEL: Record<DeployKind, string> = { kubernetes: 'Kubernetes manifest', compose: 'Compose file', workflow: 'workflow file' };

/** The pod spec of each workload kind, as a path of keys from the object. */
const POD_SPEC: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
  PodTemplate: ['template', 'spec'],
};
const OTHER_POD_SPECS: readonly (readonly string[])[] = [POD_SPEC.Deployment!, POD_SPEC.CronJob!];
const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const CONTAINER_LABEL: Record<(typeof CONTAINER_LISTS)[number], string> = { containers: 'container', initContainers: 'init container', ephemeralContainers: 'ephemeral container' };

// A value Compose, Helm, Kustomize's vars, envsubst or Actions would fill in.
const TEMPLATE = /\$\{\{|\$\{|\$\(|\{\{|\$[A-Za-z_]/;

/** Parses one deployment file; its problems are collected, not thrown (a YAML error is one problem). */
export async function parseDeployFile(text: string, path: string): Promise<DeployFile> {
  const file: DeployFile = { path, kind: 'kubernetes', text, images: [], digestOnly: [], skipped: [], problems: [] };
  let docs: YamlDocument[];
  let line: number | undefined;
  const fail = (why: string) => {
    line = Number(/^line (\d+)/.exec(why)?.[1]) || undefined;
    return new InputError('DEPLOY_FILE_INVALID', `${path}: ${why}: fix the file (a Kubernetes manifest, a Compose file or a GitHub workflow, in YAML)`);
  };
  try {
    docs = await parseYaml(text, fail, DEPLOY_YAML_LIMITS);
  } catch (e) {
    if (!(e instanceof ContentTrustError)) throw e;
    file.problems.push({ error: e as ContentTrustError, line });
    return file;
  }
  const reader = new Reader(file);
  const present = docs.filter((d) => d.value !== null);
  const first = present[0];
  const top = first?.value;
  if (!first || !isMap(top)) {
    reader.problem(
      'DEPLOY_FILE_INVALID',
      first ? first.line(top as YamlValue[]) : undefined,
      `${path}: ${first ? 'is not a mapping' : 'holds no YAML document'}: a Kubernetes manifest (apiVersion, kind), a Compose file (services) or a GitHub workflow (jobs) was expected`,
    );
    return file;
  }
  if (has(top, 'apiVersion') || has(top, 'kind')) {
    present.forEach((doc, i) => reader.kubernetesDocument(doc, `document ${i + 1}`));
  } else if (present.length > 1) {
    reader.problem('DEPLOY_FILE_INVALID', first.line(top), `${path}: holds ${present.length} YAML documents, but its first has no apiVersion and kind: only Kubernetes manifests may hold several`);
  } else if (has(top, 'jobs')) {
    file.kind = 'workflow';
    reader.workflow(first, top);
  } else if (has(top, 'services')) {
    file.kind = 'compose';
    reader.compose(first, top);
  } else {
    reader.problem('DEPLOY_FILE_INVALID', first.line(top), `${path}: is not a Kubernetes manifest (apiVersion and kind), a Compose file (services) or a GitHub workflow (jobs)`);
  }
  return file;
}

/** A short name for the kind of file, for log lines. */
export function kindLabel(kind: DeployKind): string {
  return KIND_LABEL[kind];
}

class Reader {
  private readonly file: DeployFile;
  constructor(file: DeployFile) {
    this.file = file;
  }

  problem(code: InputErrorCode, line: number | undefined, message: string): void {
    this.file.problems.push({ error: new InputError(code, message), line });
  }

  private structure(line: number | undefined, what: string, wrong: string): void {
    this.problem('DEPLOY_FILE_INVALID', line, `${this.file.path}: ${what}: ${wrong}: fix the ${KIND_LABEL[this.file.kind]}`);
  }

  kubernetesDocument(doc: YamlDocument, where: string): void {
    if (!isMap(doc.value)) return this.structure(Array.isArray(doc.value) ? doc.line(doc.value) : undefined, where, 'is not a mapping (every document of a Kubernetes manifest is an object with apiVersion and kind)');
    this.kubernetesObject(doc, doc.value, where, 0);
  }

  private kubernetesObject(doc: YamlDocument, obj: YamlMap, where: string, depth: number): void {
    const kind = entry(obj, 'kind');
    const apiVersion = entry(obj, 'apiVersion');
    if (typeof kind !== 'string' || !kind || typeof apiVersion !== 'string' || !apiVersion) {
      return this.structure(doc.line(obj), where, 'has no apiVersion and kind (every document of a Kubernetes manifest needs both)');
    }
    const metadata = entry(obj, 'metadata');
    const name = isMap(metadata) && typeof entry(metadata, 'name') === 'string' ? ` ${entry(metadata, 'name') as string}` : '';
    const what = `${kind}${name}`;
    if (kind.endsWith('List') && has(obj, 'items')) {
      const items = entry(obj, 'items');
      if (!Array.isArray(items)) return this.structure(doc.line(obj, 'items'), what, 'items is not a list');
      // Depth is bounded by the YAML nesting bound already; this stops a List of Lists early.
      items.forEach((item, i) => (isMap(item) && depth < 8 ? this.kubernetesObject(doc, item, `${what}, item ${i + 1}`, depth + 1) : this.structure(doc.line(items, i), `${what}, item ${i + 1}`, 'is not an object')));
      return;
    }
    const path = POD_SPEC[kind];
    if (path) {
      const spec = this.follow(doc, obj, path, what);
      if (spec) this.podSpec(doc, spec, what, true);
      return;
    }
    // Another kind with a pod template (custom resources): read where workloads keep one.
    for (const p of OTHER_POD_SPECS) {
      const spec = lookup(obj, p);
      if (isMap(spec) && has(spec, 'containers')) return this.podSpec(doc, spec, what, true);
    }
  }

  /** The map at `path` under `obj`, or a problem naming the first missing or wrong step. */
  private follow(doc: YamlDocument, obj: YamlMap, path: readonly string[], what: string): YamlMap | undefined {
    let at = obj;
    for (const [i, key] of path.entries()) {
      const next = entry(at, key);
      if (!isMap(next)) {
        this.structure(doc.line(at, key) ?? doc.line(at), what, `${path.slice(0, i + 1).join('.')} is ${next === null ? 'missing' : 'not a mapping'}`);
        return undefined;
      }
      at = next;
    }
    return at;
  }

  private podSpec(doc: YamlDocument, spec: YamlMap, what: string, containersRequired: boolean): void {
    for (const list of CONTAINER_LISTS) {
      const containers = entry(spec, list);
      if (containers === null) {
        if (list === 'containers' && containersRequired) this.structure(doc.line(spec), what, 'the pod spec has no containers');
        continue;
      }
      if (!Array.isArray(containers)) {
        this.structure(doc.line(spec, list), what, `${list} is not a list`);
        continue;
      }
      containers.forEach((c, i) => {
        if (!isMap(c)) return this.structure(doc.line(containers, i), what, `${list} item ${i + 1} is not a mapping`);
        const cname = entry(c, 'name');
        const label = `${what}, ${CONTAINER_LABEL[list]} ${typeof cname === 'string' ? cname : i + 1}`;
        this.image(doc, c, 'image', label, { required: true });
      });
    }
  }

  compose(doc: YamlDocument, top: YamlMap): void {
    const services = entry(top, 'services');
    if (!isMap(services)) return this.structure(doc.line(top, 'services'), 'services', 'is not a mapping of service names to services');
    for (const name of Object.keys(services)) {
      const service = services[name]!;
      const what = `service ${name}`;
      if (!isMap(service)) {
        this.structure(doc.line(services, name), what, 'is not a mapping');
        continue;
      }
      const pull = entry(service, 'pull_policy');
      if (has(service, 'image') && (pull === 'build' || pull === 'never')) {
        this.file.skipped.push({ what, line: doc.line(service, 'image'), why: `pull_policy: ${pull}: Compose never pulls it` });
        continue;
      }
      this.image(doc, service, 'image', what, { required: false });
    }
  }

  workflow(doc: YamlDocument, top: YamlMap): void {
    const jobs = entry(top, 'jobs');
    if (!isMap(jobs)) return this.structure(doc.line(top, 'jobs'), 'jobs', 'is not a mapping of job IDs to jobs');
    for (const id of Object.keys(jobs)) {
      const job = jobs[id]!;
      const what = `job ${id}`;
      if (!isMap(job)) {
        this.structure(doc.line(jobs, id), what, 'is not a mapping');
        continue;
      }
      const container = entry(job, 'container');
      if (typeof container === 'string') this.image(doc, job, 'container', `${what}, container`, { required: false });
      else if (isMap(container)) this.image(doc, container, 'image', `${what}, container`, { required: false });
      else if (container !== null) this.structure(doc.line(job, 'container'), `${what}, container`, 'is neither an image nor a mapping with image');
      const services = entry(job, 'services');
      if (isMap(services)) {
        for (const sid of Object.keys(services)) {
          const service = services[sid]!;
          if (isMap(service)) this.image(doc, service, 'image', `${what}, service ${sid}`, { required: false });
          else this.structure(doc.line(services, sid), `${what}, service ${sid}`, 'is not a mapping with image');
        }
      } else if (services !== null) this.structure(doc.line(job, 'services'), `${what}, services`, 'is not a mapping');
      const steps = entry(job, 'steps');
      if (Array.isArray(steps)) {
        steps.forEach((step, i) => {
          const uses = isMap(step) ? entry(step, 'uses') : null;
          if (isMap(step) && typeof uses === 'string' && uses.startsWith('docker://')) this.image(doc, step, 'uses', `${what}, step ${i + 1}`, { required: true, prefix: 'docker://' });
        });
      }
    }
  }

  /** The image at `map[key]`: checked, parsed, and filed as to verify, digest-only or a problem. */
  private image(doc: YamlDocument, map: YamlMap, key: string, what: string, options: { required: boolean; prefix?: string }): void {
    const prefix = options.prefix ?? '';
    const value = entry(map, key);
    const line = doc.line(map, key) ?? doc.line(map) ?? 1;
    if (value === null || value === '') {
      if (options.required) this.structure(line, what, `has no ${key}`);
      return;
    }
    if (typeof value !== 'string') return this.structure(line, what, `${key} is not a string`);
    const image = value.slice(prefix.length).trim();
    const template = TEMPLATE.exec(image);
    if (template) {
      return this.problem(
        'DEPLOY_IMAGE_UNRESOLVED',
        line,
        `${this.file.path}: ${what}: image ${JSON.stringify(image)} holds a variable or template (${template[0]}…), so the image deployed is only known at deploy time and content trust cannot check it: render the file first (helm template, kustomize build, docker compose config) and give the rendered file, or write the image out`,
      );
    }
    const digestOnlyAs = digestOnlyName(image);
    const digestOnly = digestOnlyAs !== undefined;
    try {
      const ref = parseReference(digestOnlyAs ?? image);
      const found: DeployImage = { image, ref, line, source: doc.scalar(map, key), prefix, what };
      (digestOnly ? this.file.digestOnly : this.file.images).push(found);
    } catch (e) {
      if (!(e instanceof ContentTrustError)) throw e;
      this.problem('REFERENCE_INVALID', line, `${this.file.path}: ${what}: ${e.message}`);
    }
  }
}

function has(map: YamlMap, key: string): boolean {
  return Object.hasOwn(map, key);
}

function lookup(obj: YamlMap, path: readonly string[]): YamlValue {
  let at: YamlValue = obj;
  for (const key of path) {
    if (!isMap(at)) return null;
    at = entry(at, key);
  }
  return at;
}
