/**
 * Resolves a tag to the digest and byte length of the manifest the registry
 * serves (Registry API v2). A multi-arch image resolves to its index.
 */
import { createHash } from 'node:crypto';
import type { AuthClient, Credentials } from '../http/auth.ts';
import { registryHost, type ImageRef } from './reference.ts';
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

export async function resolveManifest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined): Promise<ManifestInfo> {
  const url = `https://${registryHost(ref.domain)}/v2/${ref.path}/manifests/${encodeURIComponent(ref.tag)}`;
  const res = await client.send(url, {
    headers: { accept: MANIFEST_ACCEPT },
    maxBytes: client.http.config.maxManifestBytes,
    credentials,
    scope: `repository:${ref.path}:pull`,
  });
  if (res.status === 404) {
    throw new InputError('TAG_NOT_FOUND', `image ${ref.gun}:${ref.tag}: the registry has no such tag: check the name, and push the image first (docker/build-push-action with push: true)`);
  }
  if (res.status !== 200) {
    throw new NetworkError('HTTP_ERROR', `image ${ref.gun}:${ref.tag}: the registry answered HTTP ${res.status} for the manifest`, { status: res.status });
  }
  const digest = `sha256:${createHash('sha256').update(res.body).digest('hex')}`;
  const announced = res.headers['docker-content-digest'];
  if (typeof announced === 'string' && announced.startsWith('sha256:') && announced !== digest) {
    throw new NetworkError('DIGEST_MISMATCH', `image ${ref.gun}:${ref.tag}: the registry announced ${announced} but served bytes hashing to ${digest}; something between you and the registry changes manifests`);
  }
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  return { digest, size: res.body.length, mediaType };
}
