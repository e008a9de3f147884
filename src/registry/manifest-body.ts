/**
 * What a registry served for a manifest, checked before anything is signed:
 * the bytes are hashed here (never a header believed), they must be a
 * manifest or an index of a media type we asked for, of that shape, and every
 * header that describes them must agree with them. Pure: bytes and headers in,
 * ManifestInfo or a named error out.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { RegistryError } from '../errors.ts';
import { parseJson, type JsonObject } from '../util/json.ts';

export interface ManifestInfo {
  /** sha256:<hex> of the exact bytes served. */
  digest: string;
  size: number;
  mediaType: string;
}

const MANIFEST_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];
const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
const SCHEMA1_TYPES = ['application/vnd.docker.distribution.manifest.v1+prettyjws', 'application/vnd.docker.distribution.manifest.v1+json'];

/** What we ask the registry for, and so the only media types we accept: indexes first, so a multi-arch tag resolves to its index. */
export const MANIFEST_ACCEPT = [...INDEX_TYPES, ...MANIFEST_TYPES].join(', ');

/** OCI descriptor digest grammar: algorithm ":" encoded. */
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
/** Algorithms whose Docker-Content-Digest we can recompute, and their hex length. */
const CHECKABLE: Record<string, number> = { sha256: 64, sha512: 128 };
/** Manifests nest descriptors a few levels (annotations, platform); anything deeper is not a manifest. */
const MAX_DEPTH = 16;

/**
 * Checks the body of a manifest GET and returns its digest, length and media
 * type. `image` names the image in every message. Checks, in order: the
 * framing headers (Content-Length, Docker-Content-Digest) against the bytes,
 * then the bytes as JSON, then the media type (body and Content-Type must
 * agree, and be one we asked for), then the shape.
 */
export function checkManifest(image: string, body: Buffer, headers: IncomingHttpHeaders, maxBytes: number): ManifestInfo {
  const digest = `sha256:${sha(body, 'sha256')}`;
  checkFraming(image, body, headers, digest);
  const headerType = mediaTypeOf(headers['content-type']);
  const doc = parseDocument(image, body, headerType, maxBytes);
  const mediaType = agreedMediaType(image, doc, headerType);
  if (INDEX_TYPES.includes(mediaType)) checkIndex(image, doc);
  else checkImageManifest(image, doc);
  return { digest, size: body.length, mediaType };
}

/** The media type of a Content-Type header, lowercased, parameters dropped ('' when absent). */
export function mediaTypeOf(contentType: string | string[] | undefined): string {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  return String(value ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

function sha(body: Buffer, algorithm: string): string {
  return createHash(algorithm).update(body).digest('hex');
}

function checkFraming(image: string, body: Buffer, headers: IncomingHttpHeaders, digest: string): void {
  const length = headerText(headers['content-length']);
  if (length !== undefined && Number(length) !== body.length) {
    throw mismatch(image, `its Content-Length announces ${excerpt(length)} bytes, but ${body.length} bytes arrived`);
  }
  const announced = headerText(headers['docker-content-digest']);
  if (announced === undefined) return;
  const [algorithm = '', encoded = ''] = announced.split(':', 2);
  if (!DIGEST.test(announced) || CHECKABLE[algorithm] !== encoded.length || !/^[0-9a-f]+$/.test(encoded)) {
    throw mismatch(image, `its Docker-Content-Digest ${excerpt(announced)} is not a sha256 or sha512 digest, so it cannot be checked against the bytes`);
  }
  const actual = algorithm === 'sha256' ? digest : `sha512:${sha(body, 'sha512')}`;
  if (announced !== actual) {
    throw new RegistryError('DIGEST_MISMATCH', `image ${image}: the registry announced ${announced} but served bytes hashing to ${actual}; something between you and the registry changes manifests: check the registry host and any proxy in between`);
  }
}

/** One header's value as text; undefined when absent (Node joins repeated unknown headers with ", "). */
function headerText(value: string | string[] | undefined): string | undefined {
  return value === undefined ? undefined : Array.isArray(value) ? value.join(', ') : value;
}

function parseDocument(image: string, body: Buffer, headerType: string, maxBytes: number): JsonObject {
  if (headerType === 'text/html' || /^\s*</.test(body.subarray(0, 64).toString('latin1'))) {
    throw invalid(image, `a web page (${headerType || 'no Content-Type'}) answered instead of the Registry API; check the registry host and the login, and that no portal or proxy stands in between`);
  }
  const doc = parseJson(body, (why) => invalid(image, `the manifest served ${why}; check the registry host and any proxy in between`), { maxBytes, maxDepth: MAX_DEPTH });
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw invalid(image, `the registry served JSON that is not an object (${Array.isArray(doc) ? 'an array' : typeof doc}), not a manifest; check the registry host`);
  }
  return doc as JsonObject;
}

/** The one media type both the body and the Content-Type header name (either alone will do), checked to be one we asked for. */
function agreedMediaType(image: string, doc: JsonObject, headerType: string): string {
  const bodyType = doc.mediaType;
  if (bodyType !== undefined && typeof bodyType !== 'string') throw invalid(image, 'the manifest\'s "mediaType" is not a string');
  if (bodyType !== undefined && headerType !== '' && bodyType !== headerType) {
    throw mismatch(image, `the Content-Type header says ${excerpt(headerType)} but the manifest's "mediaType" is ${excerpt(bodyType)}`);
  }
  const mediaType = bodyType ?? headerType;
  if (SCHEMA1_TYPES.includes(mediaType) || doc.schemaVersion === 1) {
    throw new RegistryError(
      'MANIFEST_UNSUPPORTED',
      `image ${image}: the registry serves a schema 1 manifest (${mediaType || 'schemaVersion 1'}), which cannot be signed by its content digest; push the image again with a current docker or buildx (schema 2 or OCI)`,
    );
  }
  if (doc.schemaVersion !== 2) {
    const got = typeof doc.schemaVersion === 'number' ? String(doc.schemaVersion) : doc.schemaVersion === undefined ? 'missing' : `a ${typeof doc.schemaVersion}`;
    throw invalid(image, `the manifest's "schemaVersion" is ${got}, not 2`);
  }
  if (mediaType === '') throw invalid(image, 'neither the Content-Type header nor the manifest names a media type');
  if (!MANIFEST_TYPES.includes(mediaType) && !INDEX_TYPES.includes(mediaType)) {
    throw invalid(image, `the media type ${excerpt(mediaType)} is none of those asked for (${MANIFEST_ACCEPT}); only image manifests and indexes can be signed`);
  }
  return mediaType;
}

function checkImageManifest(image: string, doc: JsonObject): void {
  checkDescriptor(image, doc.config, '"config"');
  if (!Array.isArray(doc.layers)) throw invalid(image, 'the manifest has no "layers" array');
  doc.layers.forEach((d: unknown, i) => checkDescriptor(image, d, `"layers"[${i}]`));
}

function checkIndex(image: string, doc: JsonObject): void {
  if (!Array.isArray(doc.manifests)) throw invalid(image, 'the index has no "manifests" array');
  doc.manifests.forEach((d: unknown, i) => checkDescriptor(image, d, `"manifests"[${i}]`));
}

function checkDescriptor(image: string, value: unknown, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(image, `${where} is not a descriptor object`);
  const d = value as JsonObject;
  if (typeof d.mediaType !== 'string' || d.mediaType === '') throw invalid(image, `${where} has no "mediaType"`);
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) throw invalid(image, `${where} has no valid "digest"`);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw invalid(image, `${where} has no valid "size"`);
}

/** Outside text in a message: at most 80 characters, printable ASCII only, quoted. */
export function excerpt(text: string): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 80 ? `${clean.slice(0, 77)}...` : clean);
}

function invalid(image: string, why: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', `image ${image}: ${why}`);
}

function mismatch(image: string, why: string): RegistryError {
  return new RegistryError('MANIFEST_MISMATCH', `image ${image}: the registry's answer contradicts itself: ${why}; something between you and the registry changes manifests: check the registry host and any proxy in between`);
}
