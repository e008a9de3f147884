/**
 * A tag's manifest in the registry (Registry API v2), two ways, one per use:
 *
 * - fetchManifest (sign): GET the manifest, check the bytes are a manifest or
 *   an index of a media type we asked for, and hash them. What is signed is
 *   this hash and this length, never a header. A multi-arch tag resolves to
 *   its index.
 * - currentDigest (verify's registry check): HEAD, and the registry's
 *   Docker-Content-Digest is compared with the signed digest. Trusted is the
 *   signed digest from the trust data; the header only tells whether the tag
 *   still points there (a lying header can fail a verify, or hide that a tag
 *   moved, but a pull by the signed digest still gets the signed bytes). One
 *   HEAD per tag keeps verifying thousands of tags cheap. A registry that
 *   announces no sha256 digest is asked with fetchManifest instead.
 */
import type { AuthClient, Credentials } from '../http/auth.ts';
import type { HttpResponse } from '../http/client.ts';
import { formatRef, registryHost, type ImageRef } from './reference.ts';
import { NetworkError, RegistryError } from '../errors.ts';
import { checkManifest, MANIFEST_ACCEPT, type ManifestInfo } from './manifest-body.ts';

export { MANIFEST_ACCEPT, type ManifestInfo } from './manifest-body.ts';

const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** GET the manifest; its checked bytes give the digest and length to sign. */
export async function fetchManifest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined): Promise<ManifestInfo> {
  const res = expectOk(ref, await requestManifest(client, ref, credentials, 'GET'));
  return checkManifest(formatRef(ref), res.body, res.headers, client.http.config.maxManifestBytes);
}

/** The digest the registry says the tag points at now (HEAD; GET when HEAD announces none). */
export async function currentDigest(client: AuthClient, ref: ImageRef, credentials: Credentials | undefined): Promise<string> {
  const head = await requestManifest(client, ref, credentials, 'HEAD');
  if (head.status === 404) throw tagNotFound(ref);
  const digest = head.headers['docker-content-digest'];
  if (head.status === 200 && typeof digest === 'string' && SHA256_DIGEST.test(digest)) return digest;
  // No usable answer to HEAD (no digest, or a registry that refuses HEAD): the GET decides.
  return (await fetchManifest(client, ref, credentials)).digest;
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

function tagNotFound(ref: ImageRef): RegistryError {
  return new RegistryError('TAG_NOT_FOUND', `image ${formatRef(ref)}: the registry has no such tag: check the name, and push the image first (docker/build-push-action with push: true)`);
}

function expectOk(ref: ImageRef, res: HttpResponse): HttpResponse {
  if (res.status === 404) throw tagNotFound(ref);
  if (res.status !== 200) {
    throw new NetworkError('HTTP_ERROR', `image ${formatRef(ref)}: the registry answered HTTP ${res.status} for the manifest`, { status: res.status });
  }
  return res;
}
