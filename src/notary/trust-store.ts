/**
 * Remembered trust: the metadata of the last successful update, kept where
 * docker keeps its own (notary storage/filestore.go, client.go:
 * `<trust dir>/tuf/<GUN>/metadata/<role>.json`, delegations in
 * `metadata/targets/<name>.json`), so the docker CLI and this action read
 * and write the same state. Only public metadata lives there; private keys
 * (`<trust dir>/private`) are never read or written here.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { decodeMetadata, parseMetadata } from '../tuf/metadata.ts';
import { isMap } from '../util/maps.ts';
import { TrustError, messageOf } from '../errors.ts';
import { defaultConfig } from '../config.ts';
import type { TrustedRepo, TrustedState } from './model.ts';

/** No remembered file is read past the largest file a server may send (a root). */
const MAX_REMEMBERED_BYTES = defaultConfig.maxRootBytes;

export interface TrustStore {
  /** The remembered state for a GUN; undefined when there is none (trust on first use). */
  load(gun: string): Promise<TrustedState | undefined>;
  /** Remembers a successful update. */
  save(repo: TrustedRepo): Promise<void>;
}

/** `$DOCKER_CONFIG/trust`, else `~/.docker/trust`: where docker keeps trust data. */
export function defaultTrustDir(env: NodeJS.ProcessEnv, home: string): string {
  return join(env.DOCKER_CONFIG || join(home, '.docker'), 'trust');
}

/** The metadata directory of a GUN; refuses names that would leave the trust directory. */
export function metadataDir(trustDir: string, gun: string): string {
  const parts = gun.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
    throw new TrustError('METADATA_INVALID', `${gun} cannot name a trust data directory`);
  }
  return join(trustDir, 'tuf', ...parts, 'metadata');
}

export class FileTrustStore implements TrustStore {
  readonly trustDir: string;

  constructor(trustDir: string) {
    this.trustDir = trustDir;
  }

  async load(gun: string): Promise<TrustedState | undefined> {
    const dir = metadataDir(this.trustDir, gun);
    const rootRaw = await readIfExists(join(dir, 'root.json'));
    if (!rootRaw) return undefined;
    const root = parseStored(join(dir, 'root.json'), () => parseMetadata(rootRaw, 'root', 'Root'));
    const versions = new Map<string, number>();
    const files = new Map<string, Buffer>([['root', rootRaw]]);
    for (const file of await listJson(dir)) {
      const role = file.slice(0, -'.json'.length).split(sep).join('/');
      if (role === 'root' || !(role === 'timestamp' || role === 'snapshot' || role === 'targets' || role.startsWith('targets/'))) continue;
      const path = join(dir, file);
      const raw = await readCapped(path);
      versions.set(
        role,
        parseStored(path, () => storedVersion(raw)),
      );
      files.set(role, raw);
    }
    return { root, versions, source: dir, files };
  }

  async save(repo: TrustedRepo): Promise<void> {
    const dir = metadataDir(this.trustDir, repo.gun);
    const files = [repo.root, repo.timestamp, repo.snapshot, ...[...repo.roles.values()].map((r) => r.meta)];
    for (const m of files) {
      if (repo.trustedBefore?.files.get(m.role)?.equals(m.raw)) continue;
      const path = join(dir, ...`${m.role}.json`.split('/'));
      await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
      // Write then rename: a reader (docker, a parallel job) never sees half a file.
      const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(tmp, m.raw, { mode: 0o644 });
      await rename(tmp, path);
    }
  }
}

function storedVersion(raw: Buffer): number {
  const doc = decodeMetadata(raw, (why) => new TrustError('METADATA_INVALID', why), { maxBytes: MAX_REMEMBERED_BYTES });
  const version = isMap(doc) && isMap(doc.signed) ? doc.signed.version : undefined;
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw new Error('no valid signed.version');
  return version;
}

function parseStored<T>(path: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new TrustError('METADATA_INVALID', `the remembered trust data ${path} is unreadable (${messageOf(e)}): check it, then delete it to trust the server's data anew`, { cause: e });
  }
}

/** The file, refused unread (by size) when larger than any server would send. */
async function readCapped(path: string): Promise<Buffer> {
  const { size } = await stat(path);
  if (size > MAX_REMEMBERED_BYTES) {
    throw new TrustError('METADATA_INVALID', `the remembered trust data ${path} is ${size} bytes, more than the ${MAX_REMEMBERED_BYTES} allowed: check it, then delete it to trust the server's data anew`);
  }
  return readFile(path);
}

async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readCapped(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Relative paths of every *.json under dir. */
async function listJson(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile() && e.name.endsWith('.json')).map((e) => join(e.parentPath, e.name).slice(dir.length + 1));
}
