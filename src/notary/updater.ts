/**
 * The notary client's update workflow (notary client/tufclient.go,
 * tuf/builder.go): root, timestamp, snapshot, targets, then delegations
 * breadth-first, each checked for signatures, threshold, hashes, length,
 * version and expiry before anything below it is read.
 */
import { parseKeyMap, type PublicKey } from '../tuf/keys.ts';
import { parseMetadata, type FileMeta, type Metadata, type RootSigned, type SnapshotSigned } from '../tuf/metadata.ts';
import { checkFileMeta, matchesFileMeta, checkNoRollback, checkNotExpired, rootCertificateKeys, verifyRootPinned, verifyRootRotation, verifyThreshold } from '../tuf/verify.ts';
import { TrustError, messageOf } from '../errors.ts';
import type { NotaryRepoClient } from './server.ts';
import type { Config } from '../config.ts';
import type { TrustStore } from './trust-store.ts';
import { narrowPaths, trustedRole, type SkippedRole, type TrustedRepo, type TrustedRole, type TrustedState } from './model.ts';

export interface UpdateOptions {
  now?: Date;
  config: Config;
  /** Remembered trust: read before the update, written after a successful one. */
  store?: TrustStore;
  /** Root key IDs (TUF or canonical) that must sign every root: the `root-keys` input. */
  rootKeys?: readonly string[];
}

export async function updateRepo(server: NotaryRepoClient, options: UpdateOptions): Promise<TrustedRepo> {
  const gun = server.gun;
  const now = options.now ?? new Date();
  const { config } = options;
  const warnings: string[] = [];
  const skipped = new Map<string, SkippedRole>();
  const trusted = await options.store?.load(gun);
  const floor = (role: string) => trusted?.versions.get(role);

  // Client workflow 1-2: root and timestamp together (the timestamp is checked once the root is).
  const [rootRaw, timestampRaw] = await Promise.all([
    server.current('root', config.maxRootBytes),
    server.current('timestamp', config.maxTimestampBytes).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))),
  ]);
  if (!rootRaw) {
    const remembered = trusted ? ` (though trust data for it is remembered in ${trusted.source}: the server lost or deleted it)` : '';
    throw new TrustError('REPO_NOT_INITIALISED', `${gun} has no trust data on the Notary server${remembered}: the repository owner must initialise it and add this signer first, e.g. \`docker trust signer add --key ci.pub ci ${gun}\``);
  }
  // Usually the server's root is the remembered one, byte for byte: parse it
  // once and verify it once (below), with no chain to walk.
  const unchanged = trusted?.root.raw.equals(rootRaw) ?? false;
  const root = unchanged ? trusted!.root : parseMetadata(rootRaw, 'root', 'Root');
  const rootKeys = parseKeyMap(root.signed.keys, `${gun} root.json`);
  if (trusted && !unchanged) await verifyRootChain(server, trusted, root, gun, config.maxRootBytes, config.maxRootRotations);
  verifyRoot(root, rootKeys, gun, now, options.rootKeys);

  if (timestampRaw instanceof Error) throw timestampRaw;
  if (!timestampRaw) throw new TrustError('METADATA_INVALID', `${gun}: the server has a root but no timestamp`);
  const timestamp = parseMetadata(timestampRaw, 'timestamp', 'Timestamp');
  // Signatures, then version, then expiry (notary tuf/builder.go).
  verifyThreshold(timestamp, rootKeys, root.signed.roles.timestamp, gun);
  checkNoRollback(timestamp, floor('timestamp'), gun);
  checkNotExpired(timestamp, now, gun);

  // Client workflow 3: snapshot by the checksum the timestamp announces.
  const snapMeta = timestamp.signed.meta.snapshot;
  const snapshotRaw = await fetchAnnounced(server, 'snapshot', snapMeta, gun, trusted?.files);
  const snapshot = parseMetadata(snapshotRaw, 'snapshot', 'Snapshot');
  verifyThreshold(snapshot, rootKeys, root.signed.roles.snapshot, gun);
  checkNoRollback(snapshot, floor('snapshot'), gun);
  checkNotExpired(snapshot, now, gun);
  const rootEntry = snapshot.signed.meta.root;
  if (rootEntry) checkFileMeta(root.raw, rootEntry, `${gun} root.json (as listed in snapshot)`);

  // Client workflow 4: top-level targets.
  const targetsEntry = snapshot.signed.meta.targets;
  if (!targetsEntry) throw new TrustError('METADATA_INVALID', `${gun}: snapshot.json does not list targets`);
  const targets = parseMetadata(await fetchAnnounced(server, 'targets', targetsEntry, gun, trusted?.files), 'targets', 'Targets');
  verifyThreshold(targets, rootKeys, root.signed.roles.targets, gun);
  checkNoRollback(targets, floor('targets'), gun);
  checkNotExpired(targets, now, gun);

  const roles = new Map<string, TrustedRole>();
  roles.set('targets', trustedRole(gun, targets, ['']));

  // Client workflow 5: delegations breadth-first, with the keys and threshold the parent assigns.
  let level: TrustedRole[] = [roles.get('targets')!];
  while (level.length > 0) {
    const next = await Promise.all(level.flatMap((parent) => childrenOf(parent, server, snapshot, gun, now, warnings, skipped, floor, trusted?.files)));
    level = next.filter((r): r is TrustedRole => r !== undefined && !roles.has(r.name));
    for (const r of level) roles.set(r.name, r);
  }

  if (trusted) checkSnapshotKeepsRoles(rememberedSnapshot(trusted, gun), snapshot, roles, gun);

  for (const m of [root, snapshot, ...[...roles.values()].map((r) => r.meta)]) {
    const days = (m.expires.getTime() - now.getTime()) / 86_400_000;
    if (days < config.expiryWarningDays) warnings.push(`${gun}: ${m.role}.json expires in ${Math.floor(days)} days (${m.expires.toISOString()}); re-sign it before it freezes verification`);
  }
  const repo: TrustedRepo = { gun, root, rootKeys, timestamp, snapshot, roles, skipped, warnings, trustedBefore: trusted };
  if (options.store) {
    try {
      await options.store.save(repo);
    } catch (e) {
      warnings.push(`${gun}: could not remember the trusted metadata (${messageOf(e)}); the next run trusts the server's data as on first use`);
    }
  }
  return repo;
}

function verifyRoot(root: Metadata<RootSigned>, keys: ReadonlyMap<string, PublicKey>, gun: string, now: Date, pins: readonly string[] | undefined): void {
  // Only certificates valid for this GUN count as root keys (trustpinning/certs.go).
  const certKeys = rootCertificateKeys(root, keys, gun, now);
  if (certKeys.size === 0) {
    throw new TrustError('ROOT_INVALID', `${gun}: root.json lists no root certificate valid for this repository (CN must be ${gun}, not expired, not a CA)`);
  }
  verifyThreshold(root, certKeys, root.signed.roles.root, gun);
  checkNotExpired(root, now, gun);
  if (pins && pins.length > 0) verifyRootPinned(root, certKeys, pins, gun);
}

/**
 * Client workflow 6 (notary client/tufclient.go updateRoot): from the root
 * trusted before to the server's, through every `N.root.json` in between,
 * each signed by the previous root's threshold and by its own. A root older
 * than the trusted one is a rollback.
 */
async function verifyRootChain(server: NotaryRepoClient, trusted: TrustedState, root: Metadata<RootSigned>, gun: string, maxBytes: number, maxRotations: number): Promise<void> {
  let prev = trusted.root;
  let prevKeys = parseKeyMap(prev.signed.keys, `${gun} remembered root.json`);
  try {
    verifyThreshold(prev, rootCertificateKeys(prev, prevKeys, gun, undefined), prev.signed.roles.root, gun);
  } catch (e) {
    throw new TrustError('METADATA_INVALID', `${gun}: the remembered root.json in ${trusted.source} does not verify (${messageOf(e)}); it was damaged or altered on disk. Check it, then delete it to trust the server's root anew`, { cause: e });
  }
  checkNoRollback(root, prev.signed.version, gun);
  const steps = root.signed.version - prev.signed.version;
  if (steps > maxRotations) {
    throw new TrustError('ROOT_ROTATION_INVALID', `${gun}: root.json is version ${root.signed.version}, ${steps} versions after the trusted ${prev.signed.version}; more than ${maxRotations} rotations are not followed`);
  }
  for (let v = prev.signed.version + 1; v < root.signed.version; v++) {
    const raw = await server.version('root', v, maxBytes);
    if (!raw) {
      throw new TrustError('ROOT_ROTATION_INVALID', `${gun}: the server has no ${v}.root.json, so root version ${root.signed.version} cannot be connected to the trusted version ${trusted.root.signed.version}`);
    }
    const step = parseMetadata(raw, 'root', 'Root');
    if (step.signed.version !== v) throw new TrustError('ROOT_ROTATION_INVALID', `${gun}: ${v}.root.json says it is version ${step.signed.version}`);
    const stepKeys = parseKeyMap(step.signed.keys, `${gun} ${v}.root.json`);
    verifyRootRotation(prev, prevKeys, step, gun);
    // An intermediate root may have expired since; its own signatures must still hold.
    verifyThreshold(step, rootCertificateKeys(step, stepKeys, gun, undefined), step.signed.roles.root, gun);
    prev = step;
    prevKeys = stepKeys;
  }
  verifyRootRotation(prev, prevKeys, root, gun);
}

/** The snapshot remembered with the trusted state, if it has one. */
function rememberedSnapshot(trusted: TrustedState, gun: string): Metadata<SnapshotSigned> | undefined {
  const raw = trusted.files.get('snapshot');
  if (!raw) return undefined;
  try {
    return parseMetadata(raw, 'snapshot', 'Snapshot');
  } catch (e) {
    throw new TrustError('METADATA_INVALID', `${gun}: the remembered snapshot.json in ${trusted.source} is unreadable (${messageOf(e)}): check it, then delete it to trust the server's data anew`, { cause: e });
  }
}

/**
 * Client workflow, "update the snapshot role", check for a rollback attack
 * (TUF specification 1.0.33, 5.5.5): "any targets metadata filename that was
 * listed in the trusted snapshot metadata file, if any, MUST continue to be
 * listed in the new snapshot metadata file". Without it, a server holding
 * the snapshot key hides a delegation (and the tags it signed) by leaving it
 * out, and the walk reads it as "delegated, nothing signed yet".
 *
 * Notary's snapshot `meta` carries hashes and lengths but no versions, so
 * the other half of that step (listed versions do not go down) is checked on
 * each file as it is read, against the remembered file's version.
 * notary-server drops a delegation's entry when its parent stops delegating
 * it (`docker trust signer remove`), so only a role the new, verified parent
 * still delegates must stay listed; a role under a parent that is gone or
 * skipped is not read at all.
 */
export function checkSnapshotKeepsRoles(remembered: Metadata<SnapshotSigned> | undefined, snapshot: Metadata<SnapshotSigned>, roles: ReadonlyMap<string, TrustedRole>, gun: string): void {
  if (!remembered || remembered.raw.equals(snapshot.raw)) return;
  for (const name of Object.keys(remembered.signed.meta)) {
    if (!name.startsWith('targets/') || Object.hasOwn(snapshot.signed.meta, name)) continue;
    const parent = roles.get(name.slice(0, name.lastIndexOf('/')));
    if (!parent?.meta.signed.delegations.roles.some((r) => r.name === name)) continue;
    throw new TrustError(
      'ROLLBACK',
      `${gun}: snapshot.json version ${snapshot.signed.version} no longer lists ${name}, which the snapshot trusted before (version ${remembered.signed.version}) listed and ${parent.name} still delegates: a server hiding that role's signatures (a rollback attack). Nothing from this update is trusted; if the repository owner did not remove ${name}, report it to the Notary server's operator`,
    );
  }
}

async function fetchAnnounced(server: NotaryRepoClient, role: string, meta: FileMeta, gun: string, remembered: ReadonlyMap<string, Buffer> | undefined): Promise<Buffer> {
  const sha = meta.hashes.sha256;
  if (!sha) throw new TrustError('METADATA_INVALID', `${gun}: the entry for ${role} has no sha256 hash`);
  // A remembered file that matches the announced length and hashes is those bytes: no fetch.
  const local = remembered?.get(role);
  if (local && matchesFileMeta(local, meta)) return local;
  return server.byChecksum(role, Buffer.from(sha, 'base64').toString('hex'), meta.length, (raw) => checkFileMeta(raw, meta, `${gun} ${role}.json`));
}

function childrenOf(
  parent: TrustedRole,
  server: NotaryRepoClient,
  snapshot: Metadata<SnapshotSigned>,
  gun: string,
  now: Date,
  warnings: string[],
  skipped: Map<string, SkippedRole>,
  floor: (role: string) => number | undefined,
  remembered: ReadonlyMap<string, Buffer> | undefined,
): Promise<TrustedRole | undefined>[] {
  const d = parent.meta.signed.delegations;
  if (!d || d.roles.length === 0) return [];
  const keys = parent.delegationKeys;
  return d.roles.map(async (role) => {
    if (role.name.slice(0, role.name.lastIndexOf('/')) !== parent.name) {
      warnings.push(`${gun}: ${parent.name} delegates to ${role.name}, which is not its direct child; ignored`);
      return undefined;
    }
    const entry = snapshot.signed.meta[role.name];
    if (!entry) return undefined; // delegated, but nothing signed yet
    const meta = parseMetadata(await fetchAnnounced(server, role.name, entry, gun, remembered), role.name, 'Targets');
    // An expired or under-threshold delegation is skipped, not fatal (only targets is);
    // a rollback is fatal (notary client/tufclient.go downloadTargets).
    const skip = (e: unknown) => {
      if (!(e instanceof TrustError)) throw e;
      warnings.push(`${e.message}; ${role.name} is ignored`);
      skipped.set(role.name, { meta, error: e });
      return undefined;
    };
    try {
      verifyThreshold(meta, keys, role, gun);
    } catch (e) {
      return skip(e);
    }
    checkNoRollback(meta, floor(role.name), gun);
    try {
      checkNotExpired(meta, now, gun);
    } catch (e) {
      return skip(e);
    }
    return trustedRole(gun, meta, narrowPaths(parent.paths, role.paths ?? []));
  });
}
