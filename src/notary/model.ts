/**
 * The trusted-repository model: what one verified update of a repository
 * leaves (every role that verified, the ones that did not and why, the state
 * trusted before), and the path rules a role's targets obey. Knows no I/O:
 * the updater builds it, the trust store remembers it, and sign, verify and
 * administration read it.
 */
import { parseKeyMap, type PublicKey } from '../tuf/keys.ts';
import type { Metadata, RootSigned, SnapshotSigned, TargetsSigned, TimestampSigned } from '../tuf/metadata.ts';
import type { TrustError } from '../errors.ts';

export interface TrustedRole {
  readonly name: string;
  readonly meta: Metadata<TargetsSigned>;
  /** Paths this role may sign, already narrowed by every parent. */
  readonly paths: readonly string[];
  /** The keys its delegations list, parsed and checked against their IDs once (empty when it delegates nothing). */
  readonly delegationKeys: ReadonlyMap<string, PublicKey>;
}

/** A role that verified; its delegation keys are parsed here, for the walk, signing and administration alike. */
export function trustedRole(gun: string, meta: Metadata<TargetsSigned>, paths: readonly string[]): TrustedRole {
  const d = meta.signed.delegations;
  // `keys` may be absent in a file (the parser allows it): no keys, not a crash.
  const delegationKeys = d.roles.length > 0 ? parseKeyMap(d.keys, `${gun} ${meta.role}.json delegations`) : new Map<string, PublicKey>();
  return { name: meta.role, meta, paths, delegationKeys };
}

export interface TrustedRepo {
  readonly gun: string;
  readonly root: Metadata<RootSigned>;
  readonly rootKeys: ReadonlyMap<string, PublicKey>;
  readonly timestamp: Metadata<TimestampSigned>;
  readonly snapshot: Metadata<SnapshotSigned>;
  /** `targets` and every delegation that verified, by role name. */
  readonly roles: ReadonlyMap<string, TrustedRole>;
  /** Delegation files that did not verify, with why: never trusted for reading. */
  readonly skipped: ReadonlyMap<string, SkippedRole>;
  /** Delegations skipped (expired, under threshold) or expiring soon. */
  readonly warnings: string[];
  /** The trust state this update started from (undefined: trust on first use). */
  readonly trustedBefore: TrustedState | undefined;
}

export interface SkippedRole {
  readonly meta: Metadata<TargetsSigned>;
  readonly error: TrustError;
}

/** What was trusted before an update: remembered from the last successful one. */
export interface TrustedState {
  /** The root trusted before: a new root must chain to it. */
  readonly root: Metadata<RootSigned>;
  /** Last trusted version of timestamp, snapshot, targets and each delegation: none may go back. */
  readonly versions: ReadonlyMap<string, number>;
  /** Where it was read from, for messages. */
  readonly source: string;
  /**
   * The remembered files by role, as served. A file whose length and hashes
   * match what its parent now announces is used without fetching it again
   * (notary's client does the same), and is not rewritten.
   */
  readonly files: ReadonlyMap<string, Buffer>;
}

/** A child keeps only the paths that fall under one of its parent's (tuf/data/roles.go). */
export function narrowPaths(parent: readonly string[], child: readonly string[]): string[] {
  return child.filter((p) => parent.some((pp) => p.startsWith(pp)));
}

export function pathAllowed(paths: readonly string[], target: string): boolean {
  return paths.some((p) => target.startsWith(p));
}

/** Whether a role's paths allow every tag (notary's ""). */
export function allowsEveryTag(paths: readonly string[] | undefined): boolean {
  return (paths ?? []).includes('');
}

/** Paths as the patterns users write: `any tag`, or `"v1.*", "release-*"`. */
export function pathsText(paths: readonly string[] | undefined): string {
  if (allowsEveryTag(paths)) return 'any tag';
  const list = paths ?? [];
  return list.length === 0 ? 'no tag (its paths are empty)' : `tags matching ${list.map((p) => JSON.stringify(`${p}*`)).join(', ')}`;
}

/** The role a DCT pull reads (with targets): every signer allowed every tag has its keys here. */
export const RELEASES = 'targets/releases';

/** The signer a delegation role stands for: `targets/<name>` is signer `<name>`. */
export function signerName(role: string): string {
  return role.slice('targets/'.length);
}

/** Signer names as docker shows them: of `roles`, the targets/<name> ones; targets/releases (every signer's, not one) and targets left out. */
export function signerNames(roles: readonly string[]): string[] {
  return roles.filter((r) => r.startsWith('targets/') && r !== RELEASES).map(signerName);
}

/**
 * The root key IDs as `docker trust inspect` prints them ("Root Key"): the
 * TUF key IDs root.json lists for the root role. For notary's root, an
 * `ecdsa-x509` certificate, that is the ID of the certificate key, not the
 * canonical ID of its public key (the name of the private key file). Every
 * root key ID the action and CLI print is this one; `root-keys` takes it or
 * the canonical ID.
 */
export function printedRootKeyIds(root: Pick<RootSigned, 'roles'>): string[] {
  return [...root.roles.root.keyids];
}
