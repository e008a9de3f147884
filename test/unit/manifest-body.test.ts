import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, it } from 'node:test';
import { checkManifest, excerpt, MANIFEST_ACCEPT, mediaTypeOf } from '../../src/registry/manifest-body.ts';
import { RegistryError, type RegistryErrorCode } from '../../src/errors.ts';

const IMAGE = 'registry.example/org/app:v1';
const MAX = 4 * 1024 * 1024;
const DOCKER = 'application/vnd.docker.distribution.manifest.v2+json';
const OCI = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

const descriptor = (mediaType: string, n: number) => ({ mediaType, digest: `sha256:${String(n).repeat(64).slice(0, 64)}`, size: 100 + n });
const manifest = (mediaType: string | null = DOCKER) => ({
  schemaVersion: 2,
  ...(mediaType ? { mediaType } : {}),
  config: descriptor('application/vnd.docker.container.image.v1+json', 1),
  layers: [descriptor('application/vnd.docker.image.rootfs.diff.tar.gzip', 2)],
});
const index = (mediaType = OCI_INDEX) => ({ schemaVersion: 2, mediaType, manifests: [{ ...descriptor(OCI, 3), platform: { architecture: 'amd64', os: 'linux' } }] });

const bytes = (doc: unknown) => Buffer.from(JSON.stringify(doc, null, 3));
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
/** Headers a registry sends for `body`: its Content-Type, length and digest. */
const served = (body: Buffer, contentType: string | undefined, extra: IncomingHttpHeaders = {}): IncomingHttpHeaders => ({
  ...(contentType ? { 'content-type': contentType } : {}),
  'content-length': String(body.length),
  'docker-content-digest': sha256(body),
  ...extra,
});

/** The registry's answer refused: a RegistryError with `code`, naming the image. */
function refused(body: Buffer, headers: IncomingHttpHeaders, code: RegistryErrorCode, message: RegExp): string {
  let caught: unknown;
  try {
    checkManifest(IMAGE, body, headers, MAX);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof RegistryError, `a RegistryError, got ${String(caught)}`);
  const e = caught;
  assert.equal(e.code, code, e.message);
  assert.match(e.message, message);
  assert.ok(e.message.startsWith(`image ${IMAGE}: `), `names the image: ${e.message}`);
  return e.message;
}

describe('checkManifest accepts', () => {
  for (const [name, doc, type] of [
    ['a Docker schema 2 manifest', manifest(DOCKER), DOCKER],
    ['an OCI manifest', manifest(OCI), OCI],
    ['an OCI index', index(OCI_INDEX), OCI_INDEX],
    ['a Docker manifest list', index(DOCKER_LIST), DOCKER_LIST],
  ] as const) {
    it(`${name}: the digest and length are those of the bytes`, () => {
      const body = bytes(doc);
      assert.deepEqual(checkManifest(IMAGE, body, served(body, `${type}; charset=utf-8`), MAX), { digest: sha256(body), size: body.length, mediaType: type });
    });
  }

  it('an OCI manifest without "mediaType": the Content-Type names it', () => {
    const body = bytes(manifest(null));
    assert.equal(checkManifest(IMAGE, body, served(body, OCI), MAX).mediaType, OCI);
  });

  it('no Content-Type: the body\'s "mediaType" names it; no Content-Length or digest header: the bytes alone decide', () => {
    const body = bytes(manifest(OCI));
    assert.deepEqual(checkManifest(IMAGE, body, {}, MAX), { digest: sha256(body), size: body.length, mediaType: OCI });
  });

  it('a matching sha512 Docker-Content-Digest; the signed digest is still sha256', () => {
    const body = bytes(manifest());
    const sha512 = `sha512:${createHash('sha512').update(body).digest('hex')}`;
    assert.equal(checkManifest(IMAGE, body, served(body, DOCKER, { 'docker-content-digest': sha512 }), MAX).digest, sha256(body));
  });

  it('an empty layers array (OCI artifacts) and unknown extra fields', () => {
    const body = bytes({ ...manifest(OCI), layers: [], annotations: { 'org.opencontainers.image.source': 'x' }, subject: descriptor(OCI, 4) });
    assert.equal(checkManifest(IMAGE, body, served(body, OCI), MAX).mediaType, OCI);
  });

  it('asks for exactly the four media types it accepts, indexes first', () => {
    assert.equal(MANIFEST_ACCEPT, [OCI_INDEX, DOCKER_LIST, OCI, DOCKER].join(', '));
  });
});

describe('checkManifest refuses', () => {
  it('an HTML portal page served with 200 and a manifest Content-Type: MANIFEST_INVALID, "a web page answered"', () => {
    const body = Buffer.from('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><form action="/login"></form></body></html>');
    const message = refused(body, { 'content-type': DOCKER }, 'MANIFEST_INVALID', /a web page .* answered instead of the Registry API; check the registry host and the login/);
    assert.ok(!message.includes('Sign in'), 'no server text is echoed');
  });

  it('a page served as text/html even if it does not start with "<"', () => {
    refused(Buffer.from('\ufeffWelcome'), { 'content-type': 'text/html; charset=utf-8' }, 'MANIFEST_INVALID', /a web page \(text\/html\)/);
  });

  it('bytes that are not JSON: MANIFEST_INVALID, bounded', () => {
    refused(Buffer.from('{"schemaVersion":2,'), { 'content-type': DOCKER }, 'MANIFEST_INVALID', /the manifest served is not JSON/);
  });

  it('JSON nested deeper than any manifest', () => {
    const deep = Buffer.from(`{"schemaVersion":2,"x":${'['.repeat(40)}${']'.repeat(40)}}`);
    refused(deep, { 'content-type': DOCKER }, 'MANIFEST_INVALID', /nests arrays or objects more than 16 deep/);
  });

  it('JSON that is not an object', () => {
    refused(Buffer.from('[1,2]'), { 'content-type': DOCKER }, 'MANIFEST_INVALID', /not an object \(an array\)/);
  });

  it('a Content-Type that disagrees with the body\'s "mediaType": MANIFEST_MISMATCH naming both', () => {
    const body = bytes(index(OCI_INDEX));
    refused(body, served(body, DOCKER), 'MANIFEST_MISMATCH', /the Content-Type header says "application\/vnd\.docker\.distribution\.manifest\.v2\+json" but the manifest's "mediaType" is "application\/vnd\.oci\.image\.index\.v1\+json"/);
  });

  it('a Content-Length that disagrees with the bytes received: MANIFEST_MISMATCH', () => {
    const body = bytes(manifest());
    refused(body, served(body, DOCKER, { 'content-length': String(body.length + 1) }), 'MANIFEST_MISMATCH', new RegExp(`Content-Length announces "${body.length + 1}" bytes, but ${body.length} bytes arrived`));
  });

  it('a Docker-Content-Digest of other bytes: DIGEST_MISMATCH naming both digests', () => {
    const body = bytes(manifest());
    const other = sha256(Buffer.from('other'));
    refused(body, served(body, DOCKER, { 'docker-content-digest': other }), 'DIGEST_MISMATCH', new RegExp(`announced ${other} but served bytes hashing to ${sha256(body)}`));
  });

  it('a Docker-Content-Digest that cannot be checked (md5, uppercase, garbage): MANIFEST_MISMATCH, the value bounded and quoted', () => {
    const body = bytes(manifest());
    refused(body, served(body, DOCKER, { 'docker-content-digest': 'md5:0123456789abcdef0123456789abcdef' }), 'MANIFEST_MISMATCH', /Docker-Content-Digest "md5:0123456789abcdef0123456789abcdef" is not a sha256 or sha512 digest/);
    refused(body, served(body, DOCKER, { 'docker-content-digest': sha256(body).toUpperCase() }), 'MANIFEST_MISMATCH', /is not a sha256 or sha512 digest/);
    const message = refused(body, served(body, DOCKER, { 'docker-content-digest': `x\u001b[31m${'a'.repeat(500)}` }), 'MANIFEST_MISMATCH', /"x\?\[31maaa+\.\.\."/);
    assert.ok(message.length < 400, 'the header is not echoed whole');
  });

  it('a schema 1 manifest: MANIFEST_UNSUPPORTED (a registry error: push the image again)', () => {
    const body = bytes({ schemaVersion: 1, name: 'org/app', tag: 'v1', architecture: 'amd64', fsLayers: [], history: [], signatures: [] });
    refused(body, served(body, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 'MANIFEST_UNSUPPORTED', /schema 1 manifest .*push the image again with a current docker or buildx/);
    refused(body, served(body, 'application/json'), 'MANIFEST_UNSUPPORTED', /schema 1 manifest \(application\/json\)/);
  });

  it('an unknown media type, named in a bounded excerpt', () => {
    const body = bytes({ ...manifest(), mediaType: 'application/vnd.example.thing+json' });
    refused(body, served(body, 'application/vnd.example.thing+json'), 'MANIFEST_INVALID', /the media type "application\/vnd\.example\.thing\+json" is none of those asked for/);
    const plain = bytes(manifest(null));
    refused(plain, served(plain, 'application/json'), 'MANIFEST_INVALID', /the media type "application\/json" is none of those asked for/);
  });

  it('no media type anywhere', () => {
    const body = bytes(manifest(null));
    refused(body, {}, 'MANIFEST_INVALID', /neither the Content-Type header nor the manifest names a media type/);
  });

  it('a schemaVersion other than 2', () => {
    for (const [v, shown] of [
      [3, '3'],
      ['2', 'a string'],
      [undefined, 'missing'],
    ] as const) {
      const body = bytes({ ...manifest(), schemaVersion: v });
      refused(body, served(body, DOCKER), 'MANIFEST_INVALID', new RegExp(`"schemaVersion" is ${shown}, not 2`));
    }
  });

  it('a "mediaType" that is not a string', () => {
    const body = bytes({ ...manifest(), mediaType: 7 });
    refused(body, served(body, DOCKER), 'MANIFEST_INVALID', /"mediaType" is not a string/);
  });

  it('the wrong shape: a manifest without config or layers, an index without manifests, bad descriptors', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ ...manifest(), config: undefined }, DOCKER, /"config" is not a descriptor object/],
      [{ ...manifest(), layers: undefined }, DOCKER, /the manifest has no "layers" array/],
      [{ ...manifest(), layers: { 0: descriptor(DOCKER, 1) } }, DOCKER, /the manifest has no "layers" array/],
      [{ ...manifest(), layers: [descriptor(DOCKER, 1), 'sha256:abc'] }, DOCKER, /"layers"\[1\] is not a descriptor object/],
      [{ ...manifest(), config: { ...descriptor(DOCKER, 1), digest: 'not a digest' } }, DOCKER, /"config" has no valid "digest"/],
      [{ ...manifest(), config: { ...descriptor(DOCKER, 1), size: -1 } }, DOCKER, /"config" has no valid "size"/],
      [{ ...manifest(), config: { ...descriptor(DOCKER, 1), size: '12' } }, DOCKER, /"config" has no valid "size"/],
      [{ ...manifest(), config: { ...descriptor(DOCKER, 1), mediaType: undefined } }, DOCKER, /"config" has no "mediaType"/],
      [{ ...index(), manifests: undefined }, OCI_INDEX, /the index has no "manifests" array/],
      [{ ...index(), manifests: [{ digest: descriptor(OCI, 1).digest, size: 1 }] }, OCI_INDEX, /"manifests"\[0\] has no "mediaType"/],
      // An index served as a manifest, both saying so: the shape decides.
      [{ ...index(), mediaType: DOCKER }, DOCKER, /"config" is not a descriptor object/],
    ];
    for (const [doc, type, message] of cases) {
      const body = bytes(doc);
      refused(body, served(body, type), 'MANIFEST_INVALID', message);
    }
  });

  it('a body over the cap before decoding it', () => {
    const body = bytes({ ...manifest(), pad: 'x'.repeat(200) });
    assert.throws(
      () => checkManifest(IMAGE, body, served(body, DOCKER), 100),
      (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID' && /is \d+ bytes, more than the 100 allowed/.test(e.message),
    );
  });

  it('keys such as __proto__ and constructor are plain data, not a way around the shape check', () => {
    const body = Buffer.from(`{"schemaVersion":2,"mediaType":"${DOCKER}","__proto__":{"layers":[]},"config":${JSON.stringify(descriptor(DOCKER, 1))}}`);
    refused(body, served(body, DOCKER), 'MANIFEST_INVALID', /no "layers" array/);
  });
});

describe('mediaTypeOf and excerpt', () => {
  it('drops parameters, trims, lowercases; an absent header is empty', () => {
    assert.equal(mediaTypeOf(' Application/Vnd.OCI.Image.Manifest.v1+json ; charset=utf-8'), OCI);
    assert.equal(mediaTypeOf(undefined), '');
    assert.equal(mediaTypeOf([DOCKER, OCI]), DOCKER);
  });

  it('keeps printable ASCII, cuts at 80 characters, quotes', () => {
    assert.equal(excerpt('a\nb\u2028c'), '"a?b?c"');
    assert.equal(JSON.parse(excerpt('y'.repeat(1000))).length, 80);
    assert.equal(excerpt('say "hi"'), '"say \\"hi\\""');
  });
});
