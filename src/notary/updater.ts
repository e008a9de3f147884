/**
 * The TUF client workflow as notary's client runs it (TUF specification
 * 1.0.33, section 5; notary client/tufclient.go, tuf/builder.go): update the
 * root, then the timestamp, the snapshot and targets, then every delegation,
 * each checked for signatures, threshold, hashes, length, version and expiry
 * before anything below it is read. Each step is a function named after the
 * specification's step; a step throws what it refuses, and nothing below it
 * runs.
 */
import { parseKeyMap, type PublicKey } from '../tuf/keys.ts';
import { parseMetadata, type DelegationRole, type SignedKind, type FileMeta, type Metadata, type RootSigned, type SnapshotSigned, type TimestampSigned } from '../tuf/metadata.ts';
import { checkFileMeta, matchesFileMeta, checkNoRollback, checkNotExpired, rootCertificateKeys, verifyRootPinned, verifyRootRotation, verifyThreshold } from '../tuf/verify.ts';
import { ExpiredError, NotInitialisedError, TrustError, messageOf } from '../errors.ts';
import type { Config } from '../config.ts';
import type { TrustStore } from './trust-store.ts';
import { narrowPaths, trustedRole, type SkippedRole, type TrustedRepo, type TrustedRole, type TrustedState } from './model.ts';
import { certificateFix, expiryFix, rootCertificatesEnd } from './expiry.ts';

/**
 * Where the workflow reads metadata from: one repository on a Notary server
 * (NotaryRepoClient), or a test's stand-in.
 */
export interface MetadataSource {
  readonly gun: string;
  /** A role's current file, read up to maxBytes; undefined when there is none. */
  current(role: string, maxBytes: number): Promise<Buffer | undefined>;
  /** `<version>.<role>.json`, read up to maxBytes; undefined when there is none. */
  version(role: string, version: number, maxBytes: number): Promise<Buffer | undefined>;
  /** A role's file by the sha256 its parent announced, read up to `length` bytes; returned only once `check` passed. */
  byChecksum(role: string, sha256Hex: string, length: number, check: (body: Buffer) => void): Promise<Buffer>;
}

interface UpdateOptions {
  now?: Date;
  config: Config;
  /** Remembered trust: read before the update, written after a successful one. */
  store?: TrustStore;
  /** Root key IDs (TUF or canonical) that must sign every root: the `root-keys` input. */
  rootKeys?: readonly string[];
  /**
   * Keep metadata past its expiry instead of refusing it: for refresh's plan
   * (which re-signs it) and status (which reports it) only, never to trust a
   * tag. Signatures, thresholds, hashes, lengths, versions and the root chain
   * are checked as always (root certificates must still name the repository
   * and not be CAs, but may be past their end, which status reports and
   * refresh refuses); an expired delegation is kept, not skipped; and nothing
   * read so is remembered.
   */
  allowExpired?: boolean;
}

/** One update: what every step reads, and the warnings and skipped delegations it collects. */
interface Update {
  readonly source: MetadataSource;
  readonly gun: string;
  /** 5.1: the time the update started; every expiry is checked against it. */
  readonly now: Date;
  readonly config: Config;
  readonly allowExpired: boolean;
  /** 5.2: the trusted state the update starts from (undefined: trust on first use). */
  readonly trusted: TrustedState | undefined;
  readonly warnings: string[];
  readonly skipped: Map<string, SkippedRole>;
}

interface TrustedRoot {
  readonly meta: Metadata<RootSigned>;
  readonly keys: ReadonlyMap<string, PublicKey>;
}

export async function updateRepo(source: MetadataSource, options: UpdateOptions): Promise<TrustedRepo> {
  const gun = source.gun;
  const u: Update = {
    source,
    gun,
    now: options.now ?? new Date(),
    config: options.config,
    allowExpired: options.allowExpired === true,
    trusted: await options.store?.load(gun),
    warnings: [],
    skipped: new Map(),
  };
  // The timestamp is fetched alongside the root and checked (5.4) only once
  // the root is trusted; a failed fetch is reported there, not before.
  const timestampFetch = source.current('timestamp', u.config.maxTimestampBytes);
  timestampFetch.catch(() => {});
  const root = await updateRoot(u, options.rootKeys);
  const timestamp = await updateTimestamp(u, root, timestampFetch);
  const snapshot = await updateSnapshot(u, root, timestamp);
  const targets = await updateTargets(u, root, snapshot);
  const roles = await updateDelegations(u, snapshot, targets);
  if (u.trusted) checkSnapshotKeepsRoles(rememberedSnapshot(u.trusted, gun), snapshot, roles, gun);
  warnExpiringSoon(u, [root.meta, snapshot, ...[...roles.values()].map((r) => r.meta)]);
  const repo: TrustedRepo = { gun, root: root.meta, rootKeys: root.keys, timestamp, snapshot, roles, skipped: u.skipped, warnings: u.warnings, trustedBefore: u.trusted };
  // What was read past its expiry is not trusted state: the next strict read must not start from it.
  if (options.store && !u.allowExpired) await persist(u, options.store, repo);
  return repo;
}

/**
 * 5.3, update the root role. Usually the server's root is the remembered
 * one, byte for byte: it is parsed and verified once, with no chain to walk.
 * Otherwise a remembered root is followed to the server's through every
 * version in between (verifyRootChain), and the server's root is then
 * checked as notary checks a root (verifyRoot).
 */
async function updateRoot(u: Update, pins: readonly string[] | undefined): Promise<TrustedRoot> {
  const raw = await u.source.current('root', u.config.maxRootBytes);
  if (!raw) {
    const remembered = u.trusted ? ` (though trust data for it is remembered in ${u.trusted.source}: the server lost or deleted it)` : '';
    throw new NotInitialisedError(`${u.gun} has no trust data on the Notary server${remembered}: the repository owner must initialise it and add this signer first, e.g. \`docker trust signer add --key ci.pub ci ${u.gun}\``);
  }
  const unchanged = u.trusted?.root.raw.equals(raw) ?? false;
  const meta = unchanged ? u.trusted!.root : parseServed(u.gun, raw, 'root', 'Root');
  const keys = parseKeyMap(meta.signed.keys, `${u.gun} root.json`);
  if (u.trusted && !unchanged) await verifyRootChain(u.source, u.trusted, meta, u.gun, u.config.maxRootBytes, u.config.maxRootRotations);
  verifyRoot(meta, keys, u.gun, u.allowExpired ? undefined : u.now, pins);
  // 5.3.10: the final root must not have expired.
  checkFresh(u, meta);
  return { meta, keys };
}

/** 5.4, update the timestamp role: signatures (5.4.2), then version (5.4.3.1), then expiry (5.4.4), as notary tuf/builder.go orders them. */
async function updateTimestamp(u: Update, root: TrustedRoot, fetch: Promise<Buffer | undefined>): Promise<Metadata<TimestampSigned>> {
  const raw = await fetch;
  if (!raw) throw new TrustError('METADATA_INVALID', `${u.gun}: the server has a root but no timestamp`);
  const timestamp = parseServed(u.gun, raw, 'timestamp', 'Timestamp');
  verifyThreshold(timestamp, root.keys, root.meta.signed.roles.timestamp, u.gun);
  checkNoRollback(timestamp, floor(u, 'timestamp'), u.gun);
  checkFresh(u, timestamp);
  return timestamp;
}

/**
 * 5.5, update the snapshot role: by the checksum the timestamp announces,
 * hashes and length checked (5.5.2), signatures (5.5.3), version not below
 * the one trusted before (what 5.4.3.2 and 5.5.4 secure: notary's timestamp
 * lists no snapshot version), expiry (5.5.6). The root it lists must be the
 * trusted one (notary tuf/builder.go). 5.5.5, every targets role still
 * listed, needs the delegations read: checkSnapshotKeepsRoles, at the end.
 */
async function updateSnapshot(u: Update, root: TrustedRoot, timestamp: Metadata<TimestampSigned>): Promise<Metadata<SnapshotSigned>> {
  const snapshot = parseMetadata(await fetchAnnounced(u, 'snapshot', timestamp.signed.meta.snapshot), 'snapshot', 'Snapshot');
  verifyThreshold(snapshot, root.keys, root.meta.signed.roles.snapshot, u.gun);
  checkNoRollback(snapshot, floor(u, 'snapshot'), u.gun);
  checkFresh(u, snapshot);
  const rootEntry = snapshot.signed.meta.root;
  if (rootEntry) checkFileMeta(root.meta.raw, rootEntry, `${u.gun} root.json (as listed in snapshot)`);
  return snapshot;
}

/**
 * 5.6, update the targets role: hashes and length as the snapshot lists them
 * (5.6.2), signatures (5.6.3), version not below the one trusted before
 * (5.5.5's first rule: notary's snapshot lists no versions, so 5.6.4 has
 * nothing to compare), expiry (5.6.5).
 */
async function updateTargets(u: Update, root: TrustedRoot, snapshot: Metadata<SnapshotSigned>): Promise<TrustedRole> {
  const entry = snapshot.signed.meta.targets;
  if (!entry) throw new TrustError('METADATA_INVALID', `${u.gun}: snapshot.json does not list targets`);
  const targets = parseMetadata(await fetchAnnounced(u, 'targets', entry), 'targets', 'Targets');
  verifyThreshold(targets, root.keys, root.meta.signed.roles.targets, u.gun);
  checkNoRollback(targets, floor(u, 'targets'), u.gun);
  checkFresh(u, targets);
  return trustedRole(u.gun, targets, ['']);
}

/**
 * 5.6.7, the delegations. The specification searches them depth-first for
 * one target; notary's client reads every one, breadth-first
 * (client/tufclient.go downloadTargets), and the search for a tag is
 * resolve.ts's. Each is checked with the keys and threshold its parent
 * assigns it, and keeps only the paths its parent allows.
 */
async function updateDelegations(u: Update, snapshot: Metadata<SnapshotSigned>, targets: TrustedRole): Promise<Map<string, TrustedRole>> {
  const roles = new Map<string, TrustedRole>([['targets', targets]]);
  let level: TrustedRole[] = [targets];
  while (level.length > 0) {
    const next = await Promise.all(level.flatMap((parent) => parent.meta.signed.delegations.roles.map((role) => updateDelegation(u, snapshot, parent, role))));
    level = next.filter((r): r is TrustedRole => r !== undefined && !roles.has(r.name));
    for (const r of level) roles.set(r.name, r);
  }
  return roles;
}

/**
 * One delegation (5.6.7.2: checked as 5.6.1-5.6.5, with its parent's keys
 * and threshold for it). Undefined when there is nothing to trust: not a
 * direct child, nothing signed yet, or skipped. An expired or under-threshold
 * delegation is skipped, not fatal (only targets is); a rollback is fatal
 * (notary client/tufclient.go downloadTargets).
 */
async function updateDelegation(u: Update, snapshot: Metadata<SnapshotSigned>, parent: TrustedRole, role: DelegationRole): Promise<TrustedRole | undefined> {
  if (role.name.slice(0, role.name.lastIndexOf('/')) !== parent.name) {
    u.warnings.push(`${u.gun}: ${parent.name} delegates to ${role.name}, which is not its direct child; ignored`);
    return undefined;
  }
  const entry = snapshot.signed.meta[role.name];
  if (!entry) return undefined; // delegated, but nothing signed yet
  const meta = parseMetadata(await fetchAnnounced(u, role.name, entry), role.name, 'Targets');
  const skip = (e: unknown): undefined => {
    if (!(e instanceof TrustError)) throw e;
    u.warnings.push(`${e.message}; ${role.name} is ignored`);
    u.skipped.set(role.name, { meta, error: e });
    return undefined;
  };
  try {
    verifyThreshold(meta, parent.delegationKeys, role, u.gun);
  } catch (e) {
    return skip(e);
  }
  checkNoRollback(meta, floor(u, role.name), u.gun);
  try {
    checkFresh(u, meta);
  } catch (e) {
    return skip(e);
  }
  return trustedRole(u.gun, meta, narrowPaths(parent.paths, role.paths ?? []));
}

/** Expiry (5.3.10, 5.4.4, 5.5.6, 5.6.5), with the fix for the role; not checked when the update allows expired files. */
function checkFresh(u: Update, meta: Metadata<unknown>): void {
  if (!u.allowExpired) checkNotExpired(meta, u.now, u.gun, expiryFix(u.gun, meta.role));
}

/** The version trusted before for a role: a new file may not go below it. */
function floor(u: Update, role: string): number | undefined {
  return u.trusted?.versions.get(role);
}

/** Root, snapshot and every trusted targets role expiring within the warning window: a warning each. */
function warnExpiringSoon(u: Update, files: readonly Metadata<unknown>[]): void {
  for (const m of files) {
    const days = (m.expires.getTime() - u.now.getTime()) / 86_400_000;
    if (days <= 0) u.warnings.push(`${u.gun}: ${m.role}.json expired at ${m.expires.toISOString()}; ${expiryFix(u.gun, m.role)}`);
    else if (days < u.config.expiryWarningDays) u.warnings.push(`${u.gun}: ${m.role}.json expires in ${Math.floor(days)} days (${m.expires.toISOString()}); re-sign it before it freezes verification`);
  }
}

/**
 * The persist steps (5.3.8, 5.4.5, 5.5.7, 5.6.6), once everything verified:
 * a store that cannot be written costs the next run its remembered state, so
 * it is a warning, not a failure.
 */
async function persist(u: Update, store: TrustStore, repo: TrustedRepo): Promise<void> {
  try {
    await store.save(repo);
  } catch (e) {
    u.warnings.push(`${u.gun}: could not remember the trusted metadata (${messageOf(e)}); the next run trusts the server's data as on first use`);
  }
}

/** `now` undefined: certificates past their end still count (allowExpired). */
function verifyRoot(root: Metadata<RootSigned>, keys: ReadonlyMap<string, PublicKey>, gun: string, now: Date | undefined, pins: readonly string[] | undefined): void {
  // Only certificates valid for this GUN count as root keys (trustpinning/certs.go).
  const certKeys = rootCertificateKeys(root, keys, gun, now);
  if (certKeys.size === 0) {
    const ended = rootCertificateKeys(root, keys, gun, undefined);
    if (ended.size > 0) {
      // Only their time is wrong: say which certificate ended and what replaces it, not just "invalid".
      const end = rootCertificatesEnd(root, keys, gun)!;
      throw new ExpiredError(
        `${gun}: the root certificate (root key ${[...ended.keys()].join(', ')}) expired at ${end.toISOString()}, so no client trusts root.json (version ${root.signed.version}), although the file itself runs until ${root.expires.toISOString()}; ${certificateFix(gun, 'root', true)}`,
      );
    }
    throw new TrustError('ROOT_INVALID', `${gun}: root.json lists no root certificate valid for this repository (CN must be ${gun}, and not a CA)`);
  }
  verifyThreshold(root, certKeys, root.signed.roles.root, gun);
  if (pins && pins.length > 0) verifyRootPinned(root, certKeys, pins, gun);
}

/**
 * 5.3.3-5.3.7 (notary client/tufclient.go updateRoot): from the root
 * trusted before to the server's, through every `N.root.json` in between,
 * each signed by the previous root's threshold and by its own. A root older
 * than the trusted one is a rollback.
 */
async function verifyRootChain(source: MetadataSource, trusted: TrustedState, root: Metadata<RootSigned>, gun: string, maxBytes: number, maxRotations: number): Promise<void> {
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
    const raw = await source.version('root', v, maxBytes);
    if (!raw) {
      throw new TrustError('ROOT_ROTATION_INVALID', `${gun}: the server has no ${v}.root.json, so root version ${root.signed.version} cannot be connected to the trusted version ${trusted.root.signed.version}`);
    }
    const step = parseServed(gun, raw, 'root', 'Root');
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

/**
 * A root or timestamp the Notary server sent, parsed: the files a client asks for by name, not by a
 * signed hash, so one that is not well-formed metadata (an HTML page, another service's JSON) most
 * likely comes from the wrong server; the message names the repository and says so. (A file fetched
 * by the hash signed metadata lists is the repository's own, and its error stays as it is.)
 */
function parseServed<K extends keyof SignedKind>(gun: string, raw: Buffer, role: string, kind: K): Metadata<SignedKind[K]> {
  try {
    return parseMetadata(raw, role, kind);
  } catch (e) {
    if (!(e instanceof TrustError) || e.code !== 'METADATA_INVALID') throw e;
    throw new TrustError('METADATA_INVALID', `${gun}: the Notary server's ${e.message}, so it is not trust data for this repository: check the server with its operator, or that trust-server and the image names point at the right server`, {
      cause: e,
    });
  }
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

/**
 * A file by the checksum its parent announces (5.5.1-5.5.2, 5.6.1-5.6.2):
 * a remembered file that matches the announced length and hashes is those
 * bytes, with no fetch.
 */
async function fetchAnnounced(u: Update, role: string, meta: FileMeta): Promise<Buffer> {
  const sha = meta.hashes.sha256;
  if (!sha) throw new TrustError('METADATA_INVALID', `${u.gun}: the entry for ${role} has no sha256 hash`);
  const local = u.trusted?.files.get(role);
  if (local && matchesFileMeta(local, meta)) return local;
  return u.source.byChecksum(role, Buffer.from(sha, 'base64').toString('hex'), meta.length, (raw) => checkFileMeta(raw, meta, `${u.gun} ${role}.json`));
}
