/**
 * An in-memory Notary server and registry behind the AuthClient interface
 * (send(url, init) → {status, headers, body}), for the sign, verify, policy
 * and administration workflows: tuf-js's repo-mock, for Notary v1.
 *
 * The Notary half keeps each GUN's current files, every file by checksum and
 * every root by version, and holds the snapshot and timestamp keys, as
 * notary-server does: a publish stores the files it carries, then the server
 * signs a new snapshot (unless the publish carried one) and a new timestamp.
 * It can be seeded with the files captured from the real server
 * (test/fixtures/notary/, served read-only: their server keys are not here)
 * or start empty and be initialised by the product (initRepository). The
 * registry half serves manifests by tag, for GET and HEAD.
 *
 * Faults are injected per request with `intercept`, which may answer instead
 * of the fake.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthClient, AuthedInit } from '../../../src/http/auth.ts';
import type { HttpResponse } from '../../../src/http/client.ts';
import { defaultConfig, type Config } from '../../../src/config.ts';
import { generateKey, spkiBase64 } from '../../../src/tuf/key-file.ts';
import { parsePublicKey, type TufKeyJson } from '../../../src/tuf/keys.ts';
import { toSigningKey } from '../../../src/tuf/private-key.ts';
import { envelope, goTime } from '../../../src/tuf/go-encoding.ts';
import { parseMetadata, type FileMeta } from '../../../src/tuf/metadata.ts';
import type { Logger, TrustEnv } from '../../../src/notary/env.ts';
import { NotaryRepoClient } from '../../../src/notary/server.ts';
import { initRepository, type InitResult } from '../../../src/notary/admin/init.ts';
import { parseSignerKeys } from '../../../src/notary/admin/common.ts';
import { NOW, PUBLIC_PEM } from './fixtures.ts';

export const NOTARY = 'https://notary.test';
const DAY = 86_400_000;

interface ServerKey {
  key: KeyObject;
  json: TufKeyJson;
  id: string;
}

function serverKey(): ServerKey {
  const key = generateKey();
  const json: TufKeyJson = { keytype: 'ecdsa', keyval: { private: null, public: spkiBase64(key) } };
  return { key, json, id: parsePublicKey(json).id };
}

interface RepoState {
  current: Map<string, Buffer>;
  byChecksum: Map<string, Buffer>;
  roots: Map<number, Buffer>;
  /** The server's keys; none for a captured repository (the real server kept them). */
  keys?: { snapshot: ServerKey; timestamp: ServerKey };
}

export interface Request {
  method: string;
  url: string;
  init: AuthedInit;
}

export type Intercept = (req: Request) => Partial<HttpResponse> | undefined | Promise<Partial<HttpResponse> | undefined>;

const sha = (alg: string, b: Buffer) => createHash(alg).update(b).digest();

export function fileMeta(body: Buffer): FileMeta {
  return { hashes: { sha256: sha('sha256', body).toString('base64'), sha512: sha('sha512', body).toString('base64') }, length: body.length };
}

export class FakeNotary {
  readonly repos = new Map<string, RepoState>();
  readonly images = new Map<string, { body: Buffer; mediaType: string }>();
  readonly requests: Request[] = [];
  readonly published: { gun: string; roles: string[] }[] = [];
  /** Answers a request instead of the fake when it returns something. */
  intercept: Intercept = () => undefined;
  /** The server's clock, for the snapshot and timestamp it signs. */
  now: () => Date;
  readonly http: { config: Config };

  constructor(options: { now?: () => Date; config?: Config } = {}) {
    this.now = options.now ?? (() => new Date());
    this.http = { config: options.config ?? defaultConfig };
  }

  /** This fake as the AuthClient the workflows take. */
  get client(): AuthClient {
    return this as unknown as AuthClient;
  }

  /** Serves `files` (role → bytes) as `gun`'s current trust data, read-only. */
  seed(gun: string, files: ReadonlyMap<string, Buffer>): void {
    const state: RepoState = { current: new Map(), byChecksum: new Map(), roots: new Map() };
    for (const [role, body] of files) this.store(state, role, body);
    this.repos.set(gun, state);
  }

  /** A manifest for `<host>/<path>:<tag>`; returns its digest and size. */
  pushImage(image: string, seed = image): { digest: string; size: number } {
    const config = sha('sha256', Buffer.from(`config ${seed}`)).toString('hex');
    const layer = sha('sha256', Buffer.from(`layer ${seed}`)).toString('hex');
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${config}`, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${layer}`, size: 32 }],
      }),
    );
    this.images.set(image, { body, mediaType: 'application/vnd.oci.image.manifest.v1+json' });
    return { digest: `sha256:${sha('sha256', body).toString('hex')}`, size: body.length };
  }

  async send(url: string, init: AuthedInit = {}): Promise<HttpResponse> {
    const method = init.method ?? 'GET';
    const req = { method, url, init };
    this.requests.push(req);
    const injected = await this.intercept(req);
    if (injected) return { status: 200, headers: {}, body: Buffer.alloc(0), url, ...injected };
    const u = new URL(url);
    const trust = /^\/v2\/(.+)\/_trust\/tuf\/(.*)$/.exec(u.pathname);
    if (u.origin === NOTARY && trust) return this.notary(trust[1]!, trust[2]!, method, init, url);
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(u.pathname);
    if (manifest) return this.registry(`${u.host}/${manifest[1]}:${decodeURIComponent(manifest[2]!)}`, method, url);
    return answer(url, 404);
  }

  /** Requests whose URL matches. */
  sent(pattern: RegExp): Request[] {
    return this.requests.filter((r) => pattern.test(`${r.method} ${r.url}`));
  }

  private registry(image: string, method: string, url: string): HttpResponse {
    const found = this.images.get(image);
    if (!found) return answer(url, 404);
    const headers = { 'content-type': found.mediaType, 'content-length': String(found.body.length), 'docker-content-digest': `sha256:${sha('sha256', found.body).toString('hex')}` };
    return answer(url, 200, method === 'HEAD' ? Buffer.alloc(0) : found.body, headers);
  }

  private notary(gun: string, path: string, method: string, init: AuthedInit, url: string): HttpResponse {
    let state = this.repos.get(gun);
    if (path === '' && method === 'POST') {
      if (!state) this.repos.set(gun, (state = { current: new Map(), byChecksum: new Map(), roots: new Map() }));
      return this.publish(gun, state, init, url);
    }
    const key = /^(snapshot|timestamp)\.key$/.exec(path);
    if (key) {
      // No root yet: every GET makes a new key (notary-server); after, the key the root names.
      if (!state) this.repos.set(gun, (state = { current: new Map(), byChecksum: new Map(), roots: new Map() }));
      const role = key[1] as 'snapshot' | 'timestamp';
      if (!state.keys || !state.current.has('root') || method === 'POST') {
        const made = { ...state.keys, [role]: serverKey() } as RepoState['keys'] & object;
        made.snapshot ??= serverKey();
        made.timestamp ??= serverKey();
        state.keys = made;
      }
      return answer(url, 200, Buffer.from(JSON.stringify(state.keys[role].json)));
    }
    if (!state || method !== 'GET') return answer(url, 404);
    const versioned = /^(\d+)\.root\.json$/.exec(path);
    const byChecksum = /^(.+)\.([0-9a-f]{64})\.json$/.exec(path);
    const body = versioned ? state.roots.get(Number(versioned[1])) : byChecksum ? state.byChecksum.get(`${byChecksum[1]}.${byChecksum[2]}`) : state.current.get(path.replace(/\.json$/, ''));
    return body ? answer(url, 200, body) : answer(url, 404);
  }

  private store(state: RepoState, role: string, body: Buffer): void {
    state.current.set(role, body);
    state.byChecksum.set(`${role}.${sha('sha256', body).toString('hex')}`, body);
    if (role === 'root') state.roots.set(parseMetadata(body, 'root', 'Root').signed.version, body);
  }

  private publish(gun: string, state: RepoState, init: AuthedInit, url: string): HttpResponse {
    const files = parseMultipart(init);
    for (const [role, body] of files) {
      const kind = role === 'root' ? 'Root' : role === 'snapshot' ? 'Snapshot' : 'Targets';
      const next = parseMetadata(body, role, kind).signed.version;
      const prev = state.current.get(role);
      const was = prev ? parseMetadata(prev, role, kind).signed.version : 0;
      if (next <= was) return answer(url, 400, Buffer.from(JSON.stringify({ errors: [{ code: 'VERSION', message: `${role} version ${next} is not above ${was}` }] })));
    }
    if (!state.keys) {
      return answer(url, 400, Buffer.from(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: 'no snapshot key', detail: { Name: 'ErrBadHierarchy' } }] })));
    }
    for (const [role, body] of files) this.store(state, role, body);
    this.published.push({ gun, roles: [...files.keys()] });
    const now = this.now();
    const version = (role: string) => {
      const b = state.current.get(role);
      return b ? parseMetadata(b, role, role === 'snapshot' ? 'Snapshot' : 'Timestamp').signed.version : 0;
    };
    if (!files.has('snapshot')) {
      const meta: Record<string, FileMeta> = {};
      for (const [role, body] of state.current) if (role !== 'snapshot' && role !== 'timestamp') meta[role] = fileMeta(body);
      const signed = { _type: 'Snapshot', expires: goTime(new Date(now.getTime() + 3 * 365 * DAY)), meta, version: version('snapshot') + 1 };
      this.store(state, 'snapshot', envelope(signed, toSigningKey(state.keys.snapshot.key, 'snapshot', gun), [state.keys.snapshot.id]));
    }
    const signed = { _type: 'Timestamp', expires: goTime(new Date(now.getTime() + 14 * DAY)), meta: { snapshot: fileMeta(state.current.get('snapshot')!) }, version: version('timestamp') + 1 };
    this.store(state, 'timestamp', envelope(signed, toSigningKey(state.keys.timestamp.key, 'timestamp', gun), [state.keys.timestamp.id]));
    return answer(url, 200);
  }
}

function answer(url: string, status: number, body: Buffer = Buffer.alloc(0), headers: IncomingHttpHeaders = {}): HttpResponse {
  return { status, headers, body, url };
}

/** The parts of NotaryRepoClient.publish's multipart body: filename → bytes. */
function parseMultipart(init: AuthedInit): Map<string, Buffer> {
  const boundary = /boundary=(\S+)/.exec(init.headers?.['content-type'] ?? '')?.[1];
  const body = init.body ?? Buffer.alloc(0);
  const files = new Map<string, Buffer>();
  if (!boundary) return files;
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    const part = body.subarray(start + 2, next - 2); // after CRLF, before CRLF
    const split = part.indexOf('\r\n\r\n');
    const name = /filename="([^"]+)"/.exec(part.subarray(0, split).toString())![1]!;
    files.set(name, Buffer.from(part.subarray(split + 4)));
    at = next;
  }
  return files;
}

/** A logger that keeps every line, by level. */
export function recordingLog(): Logger & { lines: { level: string; message: string }[]; at(level: string): string[] } {
  const lines: { level: string; message: string }[] = [];
  return {
    lines,
    info: (message) => void lines.push({ level: 'info', message }),
    warning: (message) => void lines.push({ level: 'warning', message }),
    debug: (message) => void lines.push({ level: 'debug', message }),
    at: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
}

/** A TrustEnv over the fake: every domain's trust server is the fake's, no credentials. */
export function fakeEnv(fake: FakeNotary, now: Date, extra: Partial<TrustEnv> = {}): TrustEnv & { log: ReturnType<typeof recordingLog> } {
  return { client: fake.client, config: { ...defaultConfig, concurrency: 2 }, log: recordingLog(), credentialsFor: () => undefined, serverFor: () => NOTARY, now: () => now, ...extra } as TrustEnv & { log: ReturnType<typeof recordingLog> };
}

/**
 * A fake with each of `guns` initialised by the product (initRepository, as
 * `docker trust signer add` does), signer "ci" holding the captured
 * delegation key (fixtures.ts delegationKey()); the keys init generated, by GUN.
 */
export async function initialised(...guns: string[]): Promise<FakeNotary & { inits: Map<string, InitResult> }> {
  const fake = Object.assign(new FakeNotary({ now: () => NOW }), { inits: new Map<string, InitResult>() });
  for (const gun of guns) {
    fake.inits.set(gun, await initRepository(new NotaryRepoClient(fake.client, NOTARY, gun, undefined, true), { signer: { name: 'ci', keys: parseSignerKeys(PUBLIC_PEM, 'ci') }, now: NOW }));
  }
  fake.requests.length = 0;
  fake.published.length = 0;
  return fake;
}
