import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type ManifestFormat = 'oci' | 'docker';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

const MEDIA_TYPES = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
} as const;

/** "linux/arm64/v8" or "arm64" → Platform (os defaults to linux). */
function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length === 1) return { os: 'linux', architecture: parts[0]! };
  const [os, architecture, variant] = parts;
  if (!os || !architecture || parts.length > 3) throw new Error(`bad platform "${text}"`);
  return variant ? { os, architecture, variant } : { os, architecture };
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A one-file ustar archive; deterministic (mtime 0, root owner). */
function tarOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => header.write(text, offset, length, 'utf8');
  const octal = (value: number, length: number) => value.toString(8).padStart(length - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(0, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(octal(sum, 7) + ' ', 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}

class LayoutWriter {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async blob(mediaType: string, data: Buffer): Promise<Descriptor> {
    const hex = sha256(data);
    await writeFile(join(this.dir, 'blobs', 'sha256', hex), data);
    return { mediaType, digest: `sha256:${hex}`, size: data.length };
  }

  async json(mediaType: string, value: unknown): Promise<Descriptor> {
    return this.blob(mediaType, Buffer.from(JSON.stringify(value)));
  }
}

async function writeImage(out: LayoutWriter, format: ManifestFormat, seed: string, platform: Platform): Promise<Descriptor> {
  const types = MEDIA_TYPES[format];
  const tar = tarOneFile('seed.txt', Buffer.from(`${seed}\n${JSON.stringify(platform)}\n`));
  const layer = await out.blob(types.layer, gzipSync(tar));
  const config = await out.json(types.config, {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: '2024-01-01T00:00:00Z',
    config: { Labels: { 'org.example.test-seed': seed } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(tar)}`] },
  });
  const manifest = { schemaVersion: 2, mediaType: types.manifest, config, layers: [layer] };
  return { ...(await out.json(types.manifest, manifest)), platform };
}

export interface BuildLayoutOptions {
  /** Content seed: equal seeds give equal digests, different seeds different ones. */
  seed: string;
  /** Given: an index with one manifest per platform. Absent: one linux/amd64 manifest. */
  platforms?: readonly string[];
  format?: ManifestFormat;
  /** Name recorded in index.json (org.opencontainers.image.ref.name). */
  refName: string;
}

/** Writes an OCI image layout at `dir` and returns the top-level descriptor. */
export async function buildOciLayout(dir: string, options: BuildLayoutOptions): Promise<Descriptor> {
  const format = options.format ?? 'oci';
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const out = new LayoutWriter(dir);
  let top: Descriptor;
  if (options.platforms === undefined) {
    const { platform: _unused, ...manifest } = await writeImage(out, format, options.seed, parsePlatform('linux/amd64'));
    top = manifest;
  } else {
    if (options.platforms.length === 0) throw new Error('platforms must not be empty');
    const manifests: Descriptor[] = [];
    for (const text of options.platforms) manifests.push(await writeImage(out, format, options.seed, parsePlatform(text)));
    const type = MEDIA_TYPES[format].index;
    top = await out.json(type, { schemaVersion: 2, mediaType: type, manifests });
  }
  const entry = { ...top, annotations: { 'org.opencontainers.image.ref.name': options.refName } };
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [entry] }));
  return top;
}
