import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { httpsRequest } from './https.ts';
import type { Descriptor } from './oci-layout.ts';

/**
 * Uploads an image layout's blobs and manifests with plain registry API
 * calls (monolithic blob upload, manifest PUT). Used for Docker schema 2
 * media types, which skopeo's oci: transport does not read.
 */
export async function pushLayoutDirect(
  registry: { url: string },
  ca: TestCa,
  layoutDir: string,
  repository: string,
  tag: string,
  top: Descriptor,
  /** An Authorization header for registries with token auth. */
  auth: Record<string, string> = {},
): Promise<void> {
  const base = `${registry.url}/v2/${repository}`;
  const read = (digest: string) => readFile(join(layoutDir, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));

  async function putBlob(digest: string): Promise<void> {
    const head = await httpsRequest(`${base}/blobs/${digest}`, { ca: ca.caPem, method: 'HEAD', headers: auth });
    if (head.status === 200) return;
    const start = await httpsRequest(`${base}/blobs/uploads/`, { ca: ca.caPem, method: 'POST', headers: auth });
    const location = start.headers.location;
    if (start.status !== 202 || typeof location !== 'string') throw new Error(`blob upload start: HTTP ${start.status}`);
    const url = new URL(location, registry.url);
    url.searchParams.set('digest', digest);
    const body = await read(digest);
    const put = await httpsRequest(url.href, { ca: ca.caPem, method: 'PUT', headers: { 'Content-Type': 'application/octet-stream', ...auth }, body });
    if (put.status !== 201) throw new Error(`blob upload ${digest}: HTTP ${put.status} ${put.body.toString('utf8')}`);
  }

  async function putManifest(descriptor: Descriptor, reference: string): Promise<void> {
    const body = await read(descriptor.digest);
    const parsed = JSON.parse(body.toString('utf8')) as { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
    for (const child of parsed.manifests ?? []) await putManifest(child, child.digest);
    for (const blob of [...(parsed.config ? [parsed.config] : []), ...(parsed.layers ?? [])]) await putBlob(blob.digest);
    const res = await httpsRequest(`${base}/manifests/${reference}`, {
      ca: ca.caPem,
      method: 'PUT',
      headers: { 'Content-Type': descriptor.mediaType, ...auth },
      body,
    });
    if (res.status !== 201) throw new Error(`manifest PUT ${reference}: HTTP ${res.status} ${res.body.toString('utf8')}`);
  }

  await putManifest(top, tag);
}
