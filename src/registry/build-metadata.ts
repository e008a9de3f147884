/**
 * The build's own record of what it pushed, so sign signs exactly that: the
 * `digest` output of docker/build-push-action, and its `metadata` output
 * (the JSON `docker buildx build --metadata-file` writes, as it is).
 *
 * Shapes (buildx commands/build.go decodeExporterResponse; buildkit
 * exporter/containerimage/export.go; buildx docs/reference/buildx_build.md
 * and buildx_bake.md "--metadata-file"): one JSON object whose values are
 * the exporter's strings (`containerimage.digest`, `image.name`: the names
 * as given, comma-separated) or decoded objects (`containerimage.descriptor`:
 * an OCI descriptor; `buildx.build.provenance`…). `docker buildx bake`
 * writes one such object per target, keyed by target name, beside
 * top-level keys of its own (`buildx.build.warnings`); `buildx imagetools
 * create` writes only the descriptor and the repositories' names.
 *
 * The digest found here says what each tag must point at; it is never
 * signed as it is: sign GETs each tag and signs the hash of the bytes the
 * registry serves (fetchManifest), which must equal it.
 */
import { InputError, MultiError, type Failure } from '../errors.ts';
import { parseJson, type JsonObject } from '../util/json.ts';
import { isMap, own } from '../util/maps.ts';
import { hasTag, type ImageRef } from './reference.ts';

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const DIGEST_KEY = 'containerimage.digest';
const DESCRIPTOR_KEY = 'containerimage.descriptor';
const NAME_KEY = 'image.name';

/** One image build in the metadata: a bake target's, or the build's (target undefined). */
export interface BuildResult {
  target: string | undefined;
  /** `image.name` split on commas, as written (empty when the metadata has none). */
  names: string[];
  /** `sha256:<hex>`: what the build pushed under every one of its names. */
  digest: string;
}

/** A digest the build says it pushed, and how messages name where it came from ("input digest", "--metadata \"m.json\""). */
export interface Pin {
  digest: string;
  by: string;
}

/** The images a build's record names and the digest each must resolve to. */
export interface BuiltImages {
  /** The metadata's names that carry a tag, in order, once each. */
  names: string[];
  /** The metadata's names without a tag (left out: see untagged()). */
  untagged: string[];
  /** The digest every image must resolve to: the digest input, or a one-build metadata's. */
  every: Pin | undefined;
  /** A bake's names, each to its own target's digest. */
  byName: Map<string, Pin>;
}

interface BuildRecord {
  /** The images given besides the metadata (the images input, the CLI's arguments). */
  listed: readonly string[];
  /** build-push-action's `digest` output; `label` names the input or flag. */
  digest?: { value: string; label: string } | undefined;
  /** The metadata JSON text; `label` names the input or flag (and file). */
  metadata?: { text: string; label: string } | undefined;
}

/** The digest input or flag, checked: `sha256:` and 64 lowercase hex digits. */
export function parseDigest(value: string, label: string): string {
  const v = value.trim();
  if (!DIGEST.test(v)) {
    throw new InputError('INPUT_INVALID', `${label} ${JSON.stringify(v.slice(0, 100))} is not an image digest: give sha256: and 64 lowercase hex digits, build-push-action's digest output (not imageid, which is the image config's digest)`);
  }
  return v;
}

/** Parses buildx metadata (one build, or a bake's targets); BUILD_METADATA_INVALID names `label` and what is wrong. */
export function parseBuildMetadata(text: string, label: string): BuildResult[] {
  const fix = "give build-push-action's metadata output as it is, or the file `docker buildx build --metadata-file` wrote";
  const bad = (why: string) => new InputError('BUILD_METADATA_INVALID', `${label} ${why}: ${fix}`);
  const doc = parseJson(text, (why) => bad(why));
  if (!isMap(doc)) throw bad(`is JSON ${describe(doc)}, not buildx's metadata object`);
  if (isBuild(doc)) return [buildResult(doc, undefined, bad)];
  // A bake: one build per target; other keys (buildx.build.warnings) and targets that exported no image are left out.
  const results: BuildResult[] = [];
  for (const [k, v] of Object.entries(doc)) if (isMap(v) && isBuild(v)) results.push(buildResult(v, k, bad));
  if (results.length === 0) throw bad(`records no image build (no "${DIGEST_KEY}" or "${DESCRIPTOR_KEY}", nor a bake target with one): the build must push an image (build-push-action's push: true)`);
  return results;
}

function isBuild(o: JsonObject): boolean {
  return Object.hasOwn(o, DIGEST_KEY) || Object.hasOwn(o, DESCRIPTOR_KEY);
}

function describe(v: unknown): string {
  return Array.isArray(v) ? 'an array' : v === null ? 'null' : `a ${typeof v}`;
}

function buildResult(o: JsonObject, target: string | undefined, bad: (why: string) => InputError): BuildResult {
  const where = target === undefined ? '' : ` (bake target ${JSON.stringify(target)})`;
  const digestOf = (key: string, value: unknown) => {
    if (value === undefined) throw bad(`has no ${key}${where}`);
    if (typeof value !== 'string' || !DIGEST.test(value)) throw bad(`has ${key}${where} ${typeof value === 'string' ? JSON.stringify(value.slice(0, 100)) : describe(value)}, which is not a sha256 digest`);
    return value;
  };
  // containerimage.digest is what was pushed (with the docker driver, buildx sets it to the registry's digest and
  // leaves the descriptor local); `imagetools create` writes only the descriptor.
  const stated = own(o, DIGEST_KEY);
  let digest: string;
  if (stated !== undefined) digest = digestOf(`"${DIGEST_KEY}"`, stated);
  else {
    const descriptor = own(o, DESCRIPTOR_KEY);
    if (!isMap(descriptor)) throw bad(`has "${DESCRIPTOR_KEY}"${where} ${describe(descriptor)}, not an OCI descriptor`);
    digest = digestOf(`"${DESCRIPTOR_KEY}".digest`, own(descriptor, 'digest'));
  }
  const name = own(o, NAME_KEY);
  if (name !== undefined && typeof name !== 'string') throw bad(`has "${NAME_KEY}"${where} ${describe(name)}, not the comma-separated names buildx writes`);
  const names = (name ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  return { target, names, digest };
}

/**
 * The images to sign from a build's record and the digest each must have.
 *
 * A name without a tag is left out (reported in `untagged`): buildkit pushes
 * `repo` as `repo:latest`, but a push by digest (`push-by-digest=true`)
 * pushes no tag, `imagetools create` records the repositories without their
 * tags, and a dangling name is `repo@sha256:…`; the metadata cannot tell
 * these apart, and signing a `latest` this build may not have pushed would
 * sign someone else's image. Such tags are listed in `images` instead.
 */
export function builtImages(record: BuildRecord): BuiltImages {
  const digest = record.digest && { digest: parseDigest(record.digest.value, record.digest.label), by: record.digest.label };
  const out: BuiltImages = { names: [], untagged: [], every: digest || undefined, byName: new Map() };
  if (!record.metadata) return out;
  const { label } = record.metadata;
  const builds = parseBuildMetadata(record.metadata.text, label);
  const bake = builds.length > 1;
  if (bake && record.listed.length > 0) {
    const targets = builds.map((b) => JSON.stringify(b.target)).join(', ');
    throw new InputError(
      'INPUT_INVALID',
      `${label} records several builds (bake targets ${targets}), so which digest the other images given must have is unclear: leave them out (each target's names are signed with its own digest), or sign each build in a step of its own`,
    );
  }
  for (const b of builds) {
    const where = b.target === undefined ? '' : ` (target ${JSON.stringify(b.target)})`;
    if (digest && digest.digest !== b.digest) {
      throw new InputError('INPUT_INVALID', `${digest.by} is ${digest.digest}, but ${label}${where} records ${b.digest}: they are not the same build; pass the digest and metadata outputs of one build-push-action step`);
    }
    const pin = { digest: b.digest, by: `${label}${where}` };
    if (!bake) out.every = pin;
    for (const name of b.names) {
      if (!hasTag(name)) {
        if (!out.untagged.includes(name)) out.untagged.push(name);
        continue;
      }
      const seen = out.byName.get(name);
      if (seen && seen.digest !== b.digest) throw new InputError('BUILD_METADATA_INVALID', `${label} names ${name} in two builds with different digests (${seen.digest} in ${seen.by}, ${b.digest}${where}): sign them in separate steps`);
      if (!seen) out.names.push(name);
      out.byName.set(name, pin);
    }
  }
  return out;
}

/** Why the metadata's untagged names are not signed, for a warning; `list` names where tags are given (the images input, the CLI's arguments). */
export function untaggedNotice(built: BuiltImages, label: string, list: string): string {
  return `${label} names ${built.untagged.join(', ')} without a tag: not signed. Content trust signs tags, and the metadata cannot say which tag (if any) such a name was pushed as (a push by digest or \`buildx imagetools create\` records none); give repo:tag names in build-push-action's tags, or list the tags in ${list}`;
}

/**
 * `refs` with the digest the build pushed as their pin (see ImageRef.pin):
 * sign then refuses any tag the registry no longer serves that digest for.
 * A reference that pins another digest itself is an error.
 */
export function pinBuilt(refs: readonly ImageRef[], built: BuiltImages): ImageRef[] {
  const failures: Failure[] = [];
  const out = refs.map((ref) => {
    const pin = built.byName.get(ref.input) ?? built.every;
    if (!pin) return ref;
    if (ref.pin && ref.pin !== pin.digest) {
      failures.push({
        subject: ref.input,
        error: new InputError('INPUT_INVALID', `image ${ref.input} pins ${ref.pin}, but ${pin.by} says the build pushed ${pin.digest}: drop the @sha256:… from the image, or give the digest of the build that pushed it`),
      });
      return ref;
    }
    return { ...ref, pin: pin.digest, pinnedBy: pin.by };
  });
  if (failures.length > 0) throw new MultiError(failures);
  return out;
}
