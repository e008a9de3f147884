import { createHash, randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { run } from './exec.ts';
import { httpsRequest } from './https.ts';
import { pushLayoutDirect } from './registry-push.ts';
import { buildOciLayout, type Descriptor, type ManifestFormat } from './oci-layout.ts';

/** What image helpers need from a stack. */
export interface ImageStack {
  dir: string;
  ca: TestCa;
  registry: { host: string; url: string };
  /** Set when the registry wants a Bearer token (the production stack). */
  registryAuth?: RegistryAuth;
}

export interface RegistryAuth {
  username: string;
  password: string;
  /** An Authorization header granting `actions` on `repository`. */
  headers(repository: string, actions: string[]): Record<string, string>;
}

export interface PushedImage {
  /** "127.0.0.1:PORT/org/app:v1" */
  ref: string;
  /** "127.0.0.1:PORT/org/app", the Docker Content Trust GUN. */
  gun: string;
  repository: string;
  tag: string;
  /** Digest, size and media type of the manifest or index the registry serves for the tag. */
  digest: string;
  size: number;
  mediaType: string;
  /** For an index: its child manifests as listed in it. */
  manifests?: Descriptor[];
}

export interface PushImageOptions {
  /** Defaults to a random string, so every push has new content. */
  seed?: string;
  /** Given: push an index with one manifest per platform ("linux/amd64", "linux/arm64/v8"). */
  platforms?: string[];
  /** OCI media types (default, pushed with skopeo) or Docker schema 2 ones (pushed over the registry API). */
  format?: ManifestFormat;
}

export const MANIFEST_ACCEPT = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json', 'application/vnd.docker.distribution.manifest.v2+json'].join(', ');

/** "org/app:v1" (or "<registry host>/org/app:v1") → repository and tag. */
function splitRef(stack: ImageStack, ref: string): { repository: string; tag: string } {
  const prefix = `${stack.registry.host}/`;
  const local = ref.startsWith(prefix) ? ref.slice(prefix.length) : ref;
  const colon = local.lastIndexOf(':');
  if (colon <= 0 || local.includes('@') || local.slice(colon).includes('/')) throw new Error(`expected "repo:tag", got "${ref}"`);
  return { repository: local.slice(0, colon), tag: local.slice(colon + 1) };
}

/** Fetches a manifest by tag or digest exactly as the registry serves it. */
export async function getManifest(stack: ImageStack, repository: string, reference: string): Promise<{ body: Buffer; digest: string; mediaType: string }> {
  const url = `${stack.registry.url}/v2/${repository}/manifests/${reference}`;
  const res = await httpsRequest(url, { ca: stack.ca.caPem, headers: { Accept: MANIFEST_ACCEPT, ...stack.registryAuth?.headers(repository, ['pull']) } });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
  const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  const served = res.headers['docker-content-digest'];
  if (served !== undefined && served !== digest) throw new Error(`GET ${url}: Docker-Content-Digest ${String(served)} but body hashes to ${digest}`);
  return { body: res.body, digest, mediaType: String(res.headers['content-type'] ?? '') };
}

async function describeTag(stack: ImageStack, repository: string, tag: string): Promise<PushedImage> {
  const { body, digest, mediaType } = await getManifest(stack, repository, tag);
  const parsed = JSON.parse(body.toString('utf8')) as { manifests?: Descriptor[] };
  const gun = `${stack.registry.host}/${repository}`;
  return {
    ref: `${gun}:${tag}`,
    gun,
    repository,
    tag,
    digest,
    size: body.length,
    mediaType,
    ...(parsed.manifests ? { manifests: parsed.manifests } : {}),
  };
}

/**
 * Builds an image (or multi-platform index) whose content depends on `seed`
 * and pushes it with skopeo to the stack's registry under "repo:tag". Pushing
 * again with another seed moves the tag to new content.
 */
export async function pushImage(stack: ImageStack, ref: string, options: PushImageOptions = {}): Promise<PushedImage> {
  const { repository, tag } = splitRef(stack, ref);
  const layoutDir = join(stack.dir, 'images', randomUUID());
  await mkdir(layoutDir, { recursive: true });
  try {
    const local = await buildOciLayout(layoutDir, {
      seed: options.seed ?? randomUUID(),
      refName: tag,
      ...(options.platforms ? { platforms: options.platforms } : {}),
      ...(options.format ? { format: options.format } : {}),
    });
    if ((options.format ?? 'oci') === 'oci') {
      await run(
        'skopeo',
        [
          '--insecure-policy',
          'copy',
          '--quiet',
          '--preserve-digests',
          ...(stack.registryAuth ? ['--dest-creds', `${stack.registryAuth.username}:${stack.registryAuth.password}`] : ['--dest-no-creds']),
          '--dest-cert-dir',
          stack.ca.certDir,
          ...(options.platforms ? ['--all'] : []),
          `oci:${layoutDir}:${tag}`,
          `docker://${stack.registry.host}/${repository}:${tag}`,
        ],
        { timeoutMs: 60_000 },
      );
    } else {
      // skopeo's oci: transport only reads OCI media types.
      await pushLayoutDirect(stack.registry, stack.ca, layoutDir, repository, tag, local, stack.registryAuth?.headers(repository, ['push', 'pull']));
    }
    const pushed = await describeTag(stack, repository, tag);
    if (pushed.digest !== local.digest) throw new Error(`pushed ${local.digest} but the registry serves ${pushed.digest} for ${ref}`);
    return pushed;
  } finally {
    await rm(layoutDir, { recursive: true, force: true });
  }
}

/** Points `targetRef` ("repo:tag") at the exact manifest bytes `sourceRef` has now. */
export async function tagImage(stack: ImageStack, sourceRef: string, targetRef: string): Promise<PushedImage> {
  const source = splitRef(stack, sourceRef);
  const target = splitRef(stack, targetRef);
  const { body, mediaType } = await getManifest(stack, source.repository, source.tag);
  if (source.repository !== target.repository) throw new Error('tagImage only retags within one repository (blobs are not copied)');
  const url = `${stack.registry.url}/v2/${target.repository}/manifests/${target.tag}`;
  const res = await httpsRequest(url, { ca: stack.ca.caPem, method: 'PUT', headers: { 'Content-Type': mediaType, ...stack.registryAuth?.headers(target.repository, ['push', 'pull']) }, body });
  if (res.status !== 201) throw new Error(`PUT ${url}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 500)}`);
  return describeTag(stack, target.repository, target.tag);
}
