/**
 * Resolves a tag to the digest and byte length of the manifest the registry
 * serves (Registry API v2). A multi-arch image resolves to its index.
 */
import { createHash } from 'node:crypto';
import type { AuthClient, Credentials } from '../http/auth.ts';
import type { HttpResponse } from '../http/client.ts';
import { formatRef, registryHost, type ImageRef } from './reference.ts';
import { InputError, NetworkError } from '../errors.ts';

export interface ManifestInfo {
  /** sha256:<hex> of the exact bytes served. */
  digest: string;
  size: number;
  mediaType: string;
}

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * HEAD first: a registry that announces Docker-Content-Digest and
 * Content-Length for the tag has said what a GET would serve, and the
 * registry is the authority on what a tag points at either way. When either
 * header is missing (or the digest is not sha256), GET and hash the bytes.
 */
export async function resolveManifest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined): Promise<ManifestInfo> {
  const head = await requestManifest(client, ref, credentials, 'HEAD');
  if (head.status === 404) throw tagNotFound(ref);
  const digest = head.headers['docker-content-digest'];
  const length = Number(head.headers['content-length'] ?? NaN);
  if (head.status === 200 && typeof digest === 'string' && SHA256_DIGEST.test(digest) && Number.isSafeInteger(length) && length > 0) {
    return { digest, size: length, mediaType: mediaTypeOf(head.headers['content-type']) };
  }
  return getManifest(client, ref, credentials);
}

function requestManifest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined, method: 'HEAD' | 'GET'): Promise<HttpResponse> {
  return client.send(`https://${registryHost(ref.domain)}/v2/${ref.path}/manifests/${encodeURIComponent(ref.tag)}`, {
    method,
    headers: { accept: MANIFEST_ACCEPT },
    maxBytes: client.http.config.maxManifestBytes,
    credentials,
    scope: `repository:${ref.path}:pull`,
  });
}

function mediaTypeOf(contentType: string | string[] | undefined): string {
  return String(contentType ?? '').split(';')[0]!.trim();
}

function tagNotFound(ref: ImageRef): InputError {
  return new InputError('TAG_NOT_FOUND', `image ${formatRef(ref)}: the registry has no such tag: check the name, and push the image first (docker/build-push-action with push: true)`);
}

/** GET the manifest and hash the exact bytes served. */
export async function getManifest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined): Promise<ManifestInfo> {
  const res = await requestManifest(client, ref, credentials, 'GET');
  if (res.status === 404) throw tagNotFound(ref);
  if (res.status !== 200) {
    throw new NetworkError('HTTP_ERROR', `image ${formatRef(ref)}: the registry answered HTTP ${res.status} for the manifest`, { status: res.status });
  }
  const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  const announced = res.headers['docker-content-digest'];
  if (typeof announced === 'string' && announced.startsWith('sha256:') && announced !== digest) {
    throw new NetworkError('DIGEST_MISMATCH', `image ${formatRef(ref)}: the registry announced ${announced} but served bytes hashing to ${digest}; something between you and the registry changes manifests`);
  }
  return { digest, size: res.body.length, mediaType: mediaTypeOf(res.headers['content-type']) };
}
