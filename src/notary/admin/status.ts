/**
 * The expiry watch (`mode: status`, `content-trust status`): for each
 * repository, every role's version, expiry, signers and key IDs, read
 * without any key, and which of them expire within the window. The read
 * allows expired files (updater.ts allowExpired: signatures, thresholds,
 * hashes and versions still checked) so an expired repository is reported,
 * not just refused; nothing read so is remembered, and nothing is written.
 *
 * Snapshot and timestamp are listed but only fail the watch when they are
 * served already expired: notary-server signs them itself, makes new ones
 * on every publish and re-signs an expired one when it is read, so a
 * timestamp (14 days) is always "within the window" and never a problem.
 */
import type { ImageRef } from '../../registry/reference.ts';
import type { TrustEnv } from '../env.ts';
import type { TrustedRepo } from '../model.ts';
import type { Metadata } from '../../tuf/metadata.ts';
import { repoClient } from '../repository.ts';
import { RELEASES } from '../resolve.ts';
import { SERVER_ROLES, expiryFix } from '../expiry.ts';
import { inspectRepo, type InspectSigner } from './inspect.ts';
import { readRepo } from './workflow.ts';
import { ExpiredError, MultiError, TrustError, valuesOrThrow, type Failure } from '../../errors.ts';
import { settleLimit } from '../../util/pool.ts';

export type ExpiryState = 'ok' | 'expiring' | 'expired';

export interface RoleStatus {
  role: string;
  version: number;
  /** RFC 3339, UTC. */
  expires: string;
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
  /** The worst state of any role. */
  state: ExpiryState;
  /** Root key IDs as `docker trust inspect` prints them (AdministrativeKeys "Root"): what root-keys pins. */
  rootKeyIds: string[];
  /** Repository (targets) key IDs as `docker trust inspect` prints them. */
  repositoryKeyIds: string[];
  /** Signers as `docker trust inspect` lists them. */
  signers: InspectSigner[];
  roles: RoleStatus[];
}

const DAY = 86_400_000;
const SERVER = 'Notary server';

/** Reads every repository named (once each) allowing expired files, and reports each role's expiry. */
export async function repositoryStatuses(env: TrustEnv, refs: readonly ImageRef[], withinDays: number): Promise<RepositoryStatus[]> {
  const unique = [...new Map(refs.map((r) => [r.gun, r])).values()];
  const now = env.now?.() ?? new Date();
  const outcomes = await settleLimit(unique, env.config.concurrency, async (ref) => statusOf(await readRepo(env, repoClient(env, ref, false), now, { allowExpired: true }), withinDays, now));
  return valuesOrThrow(outcomes, (i) => unique[i]!.gun);
}

/** One repository's roles, root first, then targets and its delegations, then the server's. */
export function statusOf(repo: TrustedRepo, withinDays: number, now: Date): RepositoryStatus {
  const inspected = inspectRepo(repo.gun, repo);
  const keysOf = (name: 'Root' | 'Repository') => inspected.AdministrativeKeys.find((k) => k.Name === name)!.Keys.map((k) => k.ID);
  const roles: RoleStatus[] = [];
  const add = (meta: Metadata<{ version: number }>, signers: string[], keyIds: string[]) => roles.push(roleStatus(repo.gun, meta, signers, keyIds, withinDays, now));
  add(repo.root, ['Root'], keysOf('Root'));
  add(repo.roles.get('targets')!.meta, ['Repository'], keysOf('Repository'));
  const delegations = [...repo.roles.values(), ...[...repo.skipped].map(([name, s]) => ({ name, meta: s.meta }))].filter((r) => r.name !== 'targets').sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const { name, meta } of delegations) {
    const keyIds = delegationKeyIds(repo, name);
    add(meta, delegationSigners(name, keyIds, inspected.Signers), keyIds);
  }
  add(repo.snapshot, [SERVER], repo.root.signed.roles.snapshot.keyids);
  add(repo.timestamp, [SERVER], repo.root.signed.roles.timestamp.keyids);
  const state: ExpiryState = roles.some((r) => r.state === 'expired') ? 'expired' : roles.some((r) => r.state === 'expiring') ? 'expiring' : 'ok';
  return { repository: repo.gun, withinDays, state, rootKeyIds: keysOf('Root'), repositoryKeyIds: keysOf('Repository'), signers: inspected.Signers, roles };
}

function roleStatus(gun: string, meta: Metadata<{ version: number }>, signers: string[], keyIds: string[], withinDays: number, now: Date): RoleStatus {
  const left = meta.expires.getTime() - now.getTime();
  const serverSigned = SERVER_ROLES.includes(meta.role);
  const state: ExpiryState = left <= 0 ? 'expired' : !serverSigned && left <= withinDays * DAY ? 'expiring' : 'ok';
  const status: RoleStatus = { role: meta.role, version: meta.signed.version, expires: meta.expires.toISOString(), daysLeft: Math.floor(left / DAY), state, signers, keyIds };
  if (state !== 'ok') status.fix = expiryFix(gun, meta.role);
  return status;
}

/** A delegation's key IDs as its parent lists them, canonical (as docker prints signer keys). */
function delegationKeyIds(repo: TrustedRepo, name: string): string[] {
  const parent = repo.roles.get(name.slice(0, name.lastIndexOf('/')));
  const entry = parent?.meta.signed.delegations.roles.find((r) => r.name === name);
  return entry ? entry.keyids.map((id) => parent!.delegationKeys.get(id)?.canonicalId ?? id) : [];
}

/** targets/<name> is signer <name>; targets/releases is signed by every signer whose key it lists. */
function delegationSigners(name: string, keyIds: readonly string[], signers: readonly InspectSigner[]): string[] {
  if (name !== RELEASES) return [name.slice('targets/'.length)];
  return signers.filter((s) => s.Keys.some((k) => keyIds.includes(k.ID))).map((s) => s.Name);
}

/**
 * The watch's verdict: one failure per role that expired (EXPIRED) or
 * expires within the window (EXPIRING), each naming the repository, the
 * role, the date and the fix; expired ones first. Undefined when all is well.
 */
export function expiryFailure(statuses: readonly RepositoryStatus[]): MultiError | undefined {
  const failures: Failure[] = [];
  for (const state of ['expired', 'expiring'] as const) {
    for (const s of statuses) {
      for (const r of s.roles) {
        if (r.state !== state) continue;
        const error =
          state === 'expired'
            ? new ExpiredError(`${s.repository}: ${r.role}.json expired at ${r.expires} (${-r.daysLeft} days ago); ${r.fix!}`)
            : new TrustError('EXPIRING', `${s.repository}: ${r.role}.json expires at ${r.expires} (in ${r.daysLeft} days, within the ${s.withinDays}-day window); ${r.fix!}`);
        failures.push({ subject: s.repository, error });
      }
    }
  }
  return failures.length > 0 ? new MultiError(failures) : undefined;
}
