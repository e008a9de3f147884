/**
 * The Notary server's HTTP API for one GUN: metadata by name, version or
 * checksum, server-held keys, and the atomic multipart publish.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { AuthClient, Credentials } from '../http/auth.ts';
import type { HttpResponse } from '../http/client.ts';
import { NetworkError, PublishError, TrustError, VersionConflictError } from '../errors.ts';
import type { TufKeyJson } from '../tuf/keys.ts';
import { isMap } from '../util/maps.ts';
import { parseJson } from '../util/json.ts';
import type { MetadataSource } from './updater.ts';

export class NotaryRepoClient implements MetadataSource {
  readonly gun: string;
  private readonly base: string;
  private readonly client: AuthClient;
  private readonly credentials: Credentials | undefined;
  private readonly scope: string;

  constructor(client: AuthClient, server: string, gun: string, credentials: Credentials | undefined, push: boolean) {
    this.client = client;
    this.gun = gun;
    this.base = `${server}/v2/${gun}/_trust/tuf/`;
    this.credentials = credentials;
    this.scope = `repository:${gun}:${push ? 'push,pull' : 'pull'}`;
  }

  /** Current version of a role; undefined when the server has none. */
  async current(role: string, maxBytes: number): Promise<Buffer | undefined> {
    return this.get(`${role}.json`, maxBytes);
  }

  /**
   * A role's file by the sha256 its parent announced; capped at the announced
   * length. `check` is the caller's length and hash check: a fetched body is
   * kept only once it passed. Fetched once per run: a file this run already
   * read (and checked) or published with that checksum is the same bytes.
   */
  async byChecksum(role: string, sha256Hex: string, length: number, check: (body: Buffer) => void): Promise<Buffer> {
    const key = `${this.base}${role}.${sha256Hex}`;
    const known = runFiles(this.client).get(key);
    if (known) return known;
    const body = await this.get(`${role}.${sha256Hex}.json`, length);
    if (!body) throw new TrustError('METADATA_INVALID', `${this.gun}: the server has no ${role}.json with checksum ${sha256Hex} though its parent lists it`);
    check(body);
    runFiles(this.client).set(key, body);
    return body;
  }

  async version(role: string, version: number, maxBytes: number): Promise<Buffer | undefined> {
    return this.get(`${version}.${role}.json`, maxBytes);
  }

  /**
   * The server-held public key of `snapshot` or `timestamp` (GET <role>.key).
   * While the GUN has no root, every call makes a new key: fetch once.
   */
  async getKey(role: 'snapshot' | 'timestamp'): Promise<TufKeyJson> {
    return this.key(role, 'GET');
  }

  /** Makes a new pending server key for `snapshot` or `timestamp` (POST <role>.key); a root naming it activates it. */
  async rotateKey(role: 'snapshot' | 'timestamp'): Promise<TufKeyJson> {
    return this.key(role, 'POST');
  }

  private async key(role: 'snapshot' | 'timestamp', method: 'GET' | 'POST'): Promise<TufKeyJson> {
    const res = await this.client.send(`${this.base}${role}.key`, {
      method,
      maxBytes: KEY_MAX_BYTES,
      credentials: this.credentials,
      scope: `repository:${this.gun}:${method === 'GET' ? 'push,pull' : '*'}`,
    });
    if (res.status !== 200) {
      throw new NetworkError('HTTP_ERROR', `${this.gun}: the Notary server answered HTTP ${res.status} to ${method} ${role}.key${serverMessage(res)}`, { status: res.status });
    }
    const bad = (why: string) => new TrustError('METADATA_INVALID', `${this.gun}: the server's ${role} key (${method} ${role}.key) ${why}`);
    const doc = parseJson(res.body, bad, { maxBytes: KEY_MAX_BYTES });
    if (!isMap(doc) || typeof doc.keytype !== 'string' || !isMap(doc.keyval) || typeof doc.keyval.public !== 'string') {
      throw bad('is not a TUF key {"keytype": string, "keyval": {"public": base64}}');
    }
    // A fresh object: nothing of the server's answer but these two strings is kept.
    return { keytype: doc.keytype, keyval: { private: null, public: doc.keyval.public } };
  }

  /** Publishes every file in one multipart POST: the server applies all or none. */
  async publish(files: ReadonlyMap<string, Buffer>): Promise<void> {
    const boundary = `ct${randomBytes(12).toString('hex')}`;
    const parts: Buffer[] = [];
    for (const [role, body] of files) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="files"; filename="${role}"\r\nContent-Type: application/octet-stream\r\n\r\n`), body, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    const res = await this.client.send(this.base, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body: Buffer.concat(parts),
      maxBytes: 1 << 20,
      credentials: this.credentials,
      scope: `repository:${this.gun}:push,pull`,
    });
    if (res.status === 200 || res.status === 201) {
      for (const [role, body] of files) runFiles(this.client).set(`${this.base}${role}.${sha256(body)}`, body);
      return;
    }
    throw publishError(this.gun, res, [...files.keys()]);
  }

  private async get(path: string, maxBytes: number): Promise<Buffer | undefined> {
    const res = await this.client.send(this.base + path, { maxBytes, credentials: this.credentials, scope: this.scope });
    if (res.status === 404) return undefined;
    if (res.status !== 200) {
      throw new NetworkError('HTTP_ERROR', `${this.gun}: the Notary server answered HTTP ${res.status} for ${path}${serverMessage(res)}`, { status: res.status });
    }
    return res.body;
  }
}

/** A server key answer is a few hundred bytes; a certificate chain a few KiB. */
const KEY_MAX_BYTES = 256 * 1024;
/** An error body is read for its first error only. */
const ERROR_MAX_BYTES = 64 * 1024;

/** Metadata files by URL and sha256, one map per client (that is, per run). */
const filesByClient = new WeakMap<AuthClient, Map<string, Buffer>>();

function runFiles(client: AuthClient): Map<string, Buffer> {
  let files = filesByClient.get(client);
  if (!files) filesByClient.set(client, (files = new Map<string, Buffer>()));
  return files;
}

function sha256(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

/** The first of docker/distribution's `{"errors":[…]}`, strings only; anything else is no message. */
interface ServerError {
  code?: string;
  message?: string;
  name?: string;
  msg?: string;
}

function firstError(res: HttpResponse): ServerError | undefined {
  let doc: unknown;
  try {
    doc = parseJson(res.body, () => new NetworkError('HTTP_ERROR', 'unreadable error body'), { maxBytes: ERROR_MAX_BYTES, maxDepth: 16 });
  } catch {
    return undefined;
  }
  const e: unknown = isMap(doc) && Array.isArray(doc.errors) ? doc.errors[0] : undefined;
  if (!isMap(e)) return undefined;
  const detail = isMap(e.detail) ? e.detail : undefined;
  const inner = detail && isMap(detail.Error) ? detail.Error : undefined;
  return { code: str(e.code), message: str(e.message), name: str(detail?.Name), msg: str(inner?.Msg) };
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function serverMessage(res: HttpResponse): string {
  const e = firstError(res);
  return e ? `: ${e.code ?? ''} ${e.msg ?? e.message ?? ''}`.trimEnd() : '';
}

function publishError(gun: string, res: HttpResponse, roles: string[]): PublishError | NetworkError {
  const e = firstError(res);
  const what = `${gun}: the Notary server refused the update of ${roles.join(', ')}`;
  if (e?.code === 'VERSION') return new VersionConflictError(`${what}: another publish changed the repository first`);
  if (e?.name === 'ErrBadHierarchy') {
    return new PublishError(
      'SNAPSHOT_KEY_NOT_ON_SERVER',
      `${what}: the server does not hold this repository's snapshot key, so a signer holding only a delegation key cannot publish. The repository owner can hand it to the server once: notary key rotate ${gun} snapshot -r`,
    );
  }
  if (res.status >= 500 || res.status === 0) return new NetworkError('HTTP_ERROR', `${what}: HTTP ${res.status}${serverMessage(res)}`, { status: res.status });
  return new PublishError('PUBLISH_REJECTED', `${what}: HTTP ${res.status}${serverMessage(res)}`);
}
