/**
 * The expiry watch (`mode: status`, `content-trust status`): for each
 * repository, every role's version, expiry, signers and key IDs, read
 * without any key, and which of them expire within the window. The read
 * allows expired files (updater.ts allowExpired: signatures, thresholds,
 * hashes and versions still checked) so an expired repository is reported,
 * not just refused; nothing read so is remembered, and nothing is written.
 *
 * A role ends when its file expires or when its keys' certificates do (the
 * root's x509 certificate, or a signer's when its delegation lists
 * certificates), whichever comes first: each role says which.
 *
 * A repository that cannot be read (no trust data, a server that does not
 * answer or answers nonsense, a bad signature) is reported too, with its
 * error, and the others still are: a watch over many repositories reports
 * every one it can.
 *
 * Snapshot and timestamp are listed but only fail the watch when they are
 * served already expired: notary-server signs them itself, makes new ones
 * on every publish and re-signs an expired one when it is read, so a
 * timestamp (14 days) is always "within the window" and never a problem.
 */
import type { ImageRef } from '../../registry/reference.ts';
import type { TrustEnv } from '../env.ts';
import { RELEASES, signerName, type TrustedRepo } from '../model.ts';
import type { Metadata } from '../../tuf/metadata.ts';
import type { PublicKey } from '../../tuf/keys.ts';
import { repoClient } from '../repository.ts';
import { SERVER_ROLES, certificateFix, certificatesExpire, expiryFix, rootCertificatesEnd } from '../expiry.ts';
import { inspectRepo, type InspectSigner } from './inspect.ts';
import { readRepo } from './workflow.ts';
import { ExpiredError, MultiError, NotInitialisedError, TrustError, asContentTrustError, type ContentTrustError, type ErrorCode, type Failure } from '../../errors.ts';
import { settleLimit } from '../../util/pool.ts';

type ExpiryState = 'ok' | 'expiring' | 'expired';

/** A repository's state: its worst role's, or why it could not be read (no trust data; anything else). */
type RepositoryState = ExpiryState | 'uninitialised' | 'unreadable';

interface RoleStatus {
  role: string;
  version: number;
  /** When the role stops being trusted, RFC 3339, UTC: the earlier of its file's expiry and its keys' certificates' end. */
  expires: string;
  /** Which of the two `expires` is. */
  expiresBy: 'file' | 'certificate';
  /** The file's own expiry (its `expires`). */
  fileExpires: string;
  /** When too few of its keys' certificates remain valid to meet its threshold; absent when its keys are plain keys. */
  certificateExpires?: string;
  /** Whole days until it expires (negative: days since). */
  daysLeft: number;
  state: ExpiryState;
  /** Who signs it: Root, Repository, signer names, or the Notary server. */
  signers: string[];
  /** The key IDs that may sign it, as `docker trust inspect` prints them. */
  keyIds: string[];
  /** How to renew it; present when it is expiring or expired. */
  fix?: string;
}

export interface RepositoryStatus {
  repository: string;
  /** The window, in days: a role expiring within it is `expiring`. */
  withinDays: number;
  /** The worst state of any role, or `uninitialised`/`unreadable` (then `error` says why, and the lists are empty). */
  state: RepositoryState;
  /** Root key IDs as `docker trust inspect` prints them (AdministrativeKeys "Root"): what root-keys pins. */
  rootKeyIds: string[];
  /** Repository (targets) key IDs as `docker trust inspect` prints them. */
  repositoryKeyIds: string[];
  /** Signers as `docker trust inspect` lists them. */
  signers: InspectSigner[];
  roles: RoleStatus[];
  /** Why the repository could not be read (state `uninitialised` or `unreadable`). */
  error?: ContentTrustError;
}

/** A status as the front ends write it (the `status` output, `content-trust status --json`): the error as its code and message. */
type RepositoryStatusJson = Omit<RepositoryStatus, 'error'> & { error?: { code: ErrorCode; message: string } };

const DAY = 86_400_000;
const SERVER = 'Notary server';

/**
 * Reads every repository named (once each) allowing expired files, and
 * reports each role's expiry; a repository that cannot be read gets an
 * entry with its error instead, in its place, and the others are still read.
 */
export async function repositoryStatuses(env: TrustEnv, refs: readonly ImageRef[], withinDays: number): Promise<RepositoryStatus[]> {
  const unique = [...new Map(refs.map((r) => [r.gun, r])).values()];
  const now = env.now?.() ?? new Date();
  const outcomes = await settleLimit(unique, env.config.concurrency, async (ref) => statusOf(await readRepo(env, repoClient(env, ref, false), now, { allowExpired: true }), withinDays, now));
  return outcomes.map((o, i) => (o.ok ? o.value : unreadableStatus(unique[i]!.gun, withinDays, asContentTrustError(o.error))));
}

/** A repository that could not be read: its state and error, nothing else. */
function unreadableStatus(gun: string, withinDays: number, error: ContentTrustError): RepositoryStatus {
  const state = error instanceof NotInitialisedError ? 'uninitialised' : 'unreadable';
  return { repository: gun, withinDays, state, rootKeyIds: [], repositoryKeyIds: [], signers: [], roles: [], error };
}

/** One repository's roles, root first, then targets and its delegations, then the server's. */
function statusOf(repo: TrustedRepo, withinDays: number, now: Date): RepositoryStatus {
  const inspected = inspectRepo(repo.gun, repo);
  const keysOf = (name: 'Root' | 'Repository') => inspected.AdministrativeKeys.find((k) => k.Name === name)!.Keys.map((k) => k.ID);
  const roles: RoleStatus[] = [];
  const add = (meta: Metadata<{ version: number }>, signers: string[], keyIds: string[], certificates?: Date) => roles.push(roleStatus(repo.gun, meta, signers, keyIds, certificates, withinDays, now));
  const root = repo.root.signed.roles;
  add(repo.root, ['Root'], keysOf('Root'), rootCertificatesEnd(repo.root, repo.rootKeys, repo.gun));
  add(repo.roles.get('targets')!.meta, ['Repository'], keysOf('Repository'), certificatesExpire(listedKeys(repo.rootKeys, root.targets.keyids), root.targets.threshold));
  const delegations = [...repo.roles.values(), ...[...repo.skipped].map(([name, s]) => ({ name, meta: s.meta }))].filter((r) => r.name !== 'targets').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, meta } of delegations) {
    const { keyIds, certificates } = delegationKeys(repo, name);
    add(meta, delegationSigners(name, keyIds, inspected.Signers), keyIds, certificates);
  }
  add(repo.snapshot, [SERVER], root.snapshot.keyids);
  add(repo.timestamp, [SERVER], root.timestamp.keyids);
  const state: ExpiryState = roles.some((r) => r.state === 'expired') ? 'expired' : roles.some((r) => r.state === 'expiring') ? 'expiring' : 'ok';
  return { repository: repo.gun, withinDays, state, rootKeyIds: keysOf('Root'), repositoryKeyIds: keysOf('Repository'), signers: inspected.Signers, roles };
}

function roleStatus(gun: string, meta: Metadata<{ version: number }>, signers: string[], keyIds: string[], certificates: Date | undefined, withinDays: number, now: Date): RoleStatus {
  // Go writes sub-second expiries and certificates end on a whole second: a file and certificate made together tie, and the file wins.
  const byCertificate = certificates !== undefined && certificates.getTime() < Math.floor(meta.expires.getTime() / 1000) * 1000;
  const end = byCertificate ? certificates : meta.expires;
  const left = end.getTime() - now.getTime();
  const serverSigned = SERVER_ROLES.includes(meta.role);
  const state: ExpiryState = left <= 0 ? 'expired' : !serverSigned && left <= withinDays * DAY ? 'expiring' : 'ok';
  const status: RoleStatus = {
    role: meta.role,
    version: meta.signed.version,
    expires: end.toISOString(),
    expiresBy: byCertificate ? 'certificate' : 'file',
    fileExpires: meta.expires.toISOString(),
    ...(certificates ? { certificateExpires: certificates.toISOString() } : {}),
    daysLeft: Math.floor(left / DAY),
    state,
    signers,
    keyIds,
  };
  if (state !== 'ok') status.fix = byCertificate ? certificateFix(gun, meta.role, state === 'expired') : expiryFix(gun, meta.role);
  return status;
}

function listedKeys(keys: ReadonlyMap<string, PublicKey>, ids: readonly string[]): PublicKey[] {
  return ids.map((id) => keys.get(id)).filter((k): k is PublicKey => k !== undefined);
}

/** A delegation's key IDs as its parent lists them, canonical (as docker prints signer keys), and when its certificates end, if its keys are certificates. */
function delegationKeys(repo: TrustedRepo, name: string): { keyIds: string[]; certificates: Date | undefined } {
  const parent = repo.roles.get(name.slice(0, name.lastIndexOf('/')));
  const entry = parent?.meta.signed.delegations.roles.find((r) => r.name === name);
  if (!entry) return { keyIds: [], certificates: undefined };
  const keyIds = entry.keyids.map((id) => parent!.delegationKeys.get(id)?.canonicalId ?? id);
  return { keyIds, certificates: certificatesExpire(listedKeys(parent!.delegationKeys, entry.keyids), entry.threshold) };
}

/** targets/<name> is signer <name>; targets/releases is signed by every signer whose key it lists. */
function delegationSigners(name: string, keyIds: readonly string[], signers: readonly InspectSigner[]): string[] {
  if (name !== RELEASES) return [signerName(name)];
  return signers.filter((s) => s.Keys.some((k) => keyIds.includes(k.ID))).map((s) => s.Name);
}

/** The statuses as the front ends write them; `word` puts the core's advice (fixes, error messages) in the front end's words. */
export function statusJson(statuses: readonly RepositoryStatus[], word: (text: string) => string = (t) => t): RepositoryStatusJson[] {
  return statuses.map(({ error, ...s }) => ({
    ...s,
    roles: s.roles.map((r) => (r.fix === undefined ? r : { ...r, fix: word(r.fix) })),
    ...(error ? { error: { code: error.code, message: word(error.message) } } : {}),
  }));
}

/**
 * The watch's verdict: one failure per role that expired (EXPIRED), per
 * repository that could not be read (its own error and code), and per role
 * that expires within the window (EXPIRING), in that order, each naming the
 * repository, the role, the date and the fix. Undefined when all is well.
 */
export function expiryFailure(statuses: readonly RepositoryStatus[]): MultiError | undefined {
  const failures: Failure[] = [];
  const roleFailures = (state: 'expired' | 'expiring') => {
    for (const s of statuses) for (const r of s.roles) if (r.state === state) failures.push({ subject: s.repository, error: roleError(s, r) });
  };
  roleFailures('expired');
  for (const s of statuses) if (s.error) failures.push({ subject: s.repository, error: s.error });
  roleFailures('expiring');
  return failures.length > 0 ? new MultiError(failures) : undefined;
}

function roleError(s: RepositoryStatus, r: RoleStatus): ContentTrustError {
  const what = r.expiresBy === 'certificate' ? `${r.role}.json's key certificate` : `${r.role}.json`;
  const file = r.expiresBy === 'certificate' ? ` (the file itself runs until ${r.fileExpires})` : '';
  return r.state === 'expired'
    ? new ExpiredError(`${s.repository}: ${what} expired at ${r.expires} (${-r.daysLeft} days ago)${file}; ${r.fix!}`)
    : new TrustError('EXPIRING', `${s.repository}: ${what} expires at ${r.expires} (in ${r.daysLeft} days, within the ${s.withinDays}-day window)${file}; ${r.fix!}`);
}
