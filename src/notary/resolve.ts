/**
 * Which digest a tag means, as a DCT pull decides it (docker/cli
 * cli/command/image/trust.go; notary client/reader.go GetTargetByName):
 * search the targets/releases subtree, then targets and its other children;
 * the first match wins, and only targets/releases or targets is accepted.
 */
import { RELEASES, pathAllowed, type TrustedRepo } from './model.ts';
import { ExpiredError, TrustError } from '../errors.ts';
import { own } from '../util/maps.ts';

export interface TargetHit {
  role: string;
  /** sha256:<hex> */
  digest: string;
  size: number;
}

const DCT_ROLES = [RELEASES, 'targets'];

/** The role's own entry for the tag (a tag named `constructor` finds only a target of that name). */
export function targetIn(repo: TrustedRepo, role: string, tag: string): TargetHit | undefined {
  const r = repo.roles.get(role);
  const meta = own(r?.meta.signed.targets, tag);
  if (!r || !meta || !pathAllowed(r.paths, tag) || !meta.hashes.sha256) return undefined;
  return { role, digest: `sha256:${Buffer.from(meta.hashes.sha256, 'base64').toString('hex')}`, size: meta.length };
}

/**
 * Breadth-first from `start`, as notary's WalkTargets: the role, then its
 * delegations level by level, each level in listed order.
 */
function walk(repo: TrustedRepo, start: string, tag: string, seen: Set<string>): TargetHit | undefined {
  const queue = [start];
  for (let role = queue.shift(); role !== undefined; role = queue.shift()) {
    if (seen.has(role)) continue;
    seen.add(role);
    const hit = targetIn(repo, role, tag);
    if (hit) return hit;
    for (const child of repo.roles.get(role)?.meta.signed.delegations.roles ?? []) queue.push(child.name);
  }
  return undefined;
}

export function resolveTag(repo: TrustedRepo, tag: string): TargetHit {
  const seen = new Set<string>();
  for (const start of DCT_ROLES) {
    const hit = walk(repo, start, tag, seen);
    if (!hit) continue;
    if (DCT_ROLES.includes(hit.role)) return hit;
    throwIfExpired(repo, tag);
    throw new TrustError(
      'NOT_SIGNED',
      `${repo.gun}:${tag} is signed only in ${hit.role}; a DCT pull accepts only targets/releases or targets. Add the signer with \`docker trust signer add\` (which also adds its key to targets/releases) and sign again`,
    );
  }
  throwIfExpired(repo, tag);
  throw new TrustError('NOT_SIGNED', `${repo.gun}:${tag} has no trust data: no signature for this tag in targets/releases or targets. Sign it (mode: sign) before verifying`);
}

/**
 * EXPIRED when a delegation skipped because its file expired lists the tag
 * (targets/releases first): the tag is not unsigned, its signature expired,
 * and the fix is re-signing that file, not signing the tag again.
 */
function throwIfExpired(repo: TrustedRepo, tag: string): void {
  const roles = [...repo.skipped].sort(([a], [b]) => Number(b === RELEASES) - Number(a === RELEASES));
  for (const [role, { meta, error }] of roles) {
    if (error instanceof ExpiredError && own(meta.signed.targets, tag)) {
      throw new ExpiredError(`${repo.gun}:${tag} is signed in ${role}, whose file has expired, so its signatures are not trusted: ${error.message}`, { cause: error });
    }
  }
}

/** Every trusted role that lists the tag with this digest. */
export function rolesListing(repo: TrustedRepo, tag: string, digest: string): string[] {
  return [...repo.roles.keys()].filter((role) => targetIn(repo, role, tag)?.digest === digest);
}
