/**
 * Signers as docker manages them (docker/cli signer_add.go, signer_remove.go):
 * a signer `<name>` is the delegation `targets/<name>` with its keys, and the
 * same keys are added to `targets/releases`, the role a DCT pull reads.
 * Adding a key to an existing signer adds it to both, as `docker trust
 * signer add` does; one key can be removed without the signer.
 *
 * A signer restricted to tag patterns (notary's delegation `paths`) is not
 * added to `targets/releases`: releases allows every tag, and a key it lists
 * may sign any tag there, so the restriction would hold for nobody. What a
 * restricted signer signs lives in `targets/<name>` alone, which verify
 * accepts when `signers` names it and a DCT pull (docker) does not accept.
 * Changing any of this re-signs `targets`, so it needs the repository key.
 */
import { cloneSigned, type DelegationRole, type Delegations, type TargetsSigned } from '../../tuf/metadata.ts';
import type { SigningKey } from '../../tuf/private-key.ts';
import { RELEASES, allowsEveryTag, pathsText, signerNames, type TrustedRepo } from '../model.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { InputError } from '../../errors.ts';
import { baseRoleKeyIds } from './owner-keys.ts';
import { TARGETS_DAYS, checkPathConflicts, dropUnusedKeys, samePaths, signerRole, type SignerKey } from './common.ts';

/**
 * Adds the keys to `targets/<name>` (made with `paths`, every tag when
 * undefined) and, for a signer allowed every tag, to `targets/releases`,
 * creating either role when missing. An existing signer keeps its paths:
 * other `paths` for it are refused (SIGNER_PATHS_CONFLICT), as is a key a
 * restricted signer would share with a role allowed wider tags.
 */
export function withSigner(targets: TargetsSigned, name: string, keys: readonly SignerKey[], paths: readonly string[] | undefined, gun: string): TargetsSigned {
  const role = signerRole(name);
  const out = cloneSigned(targets);
  const d = out.delegations;
  let entry = d.roles.find((r) => r.name === role);
  if (entry && paths && !samePaths(entry.paths, paths)) {
    throw new InputError(
      'SIGNER_PATHS_CONFLICT',
      `${gun}: signer "${name}" exists and may sign ${pathsText(entry.paths)}, not ${pathsText(paths)}: a signer's paths are not changed in place (what its keys signed before may lie outside the new ones). Remove the signer and add it again with the new paths, or give no paths to add a key to it as it is`,
    );
  }
  if (!entry) d.roles.push((entry = { keyids: [], name: role, paths: paths ? [...paths] : [''], threshold: 1 }));
  const roles = allowsEveryTag(entry.paths) ? [entry.name, RELEASES] : [entry.name];
  for (const k of keys) d.keys[k.id] = k.json;
  for (const roleName of roles) {
    let r = d.roles.find((x) => x.name === roleName);
    if (!r) d.roles.push((r = { keyids: [], name: roleName, paths: [''], threshold: 1 }));
    for (const k of keys) if (!r.keyids.includes(k.id)) r.keyids.push(k.id);
  }
  checkPathConflicts(d, [role, RELEASES], gun);
  return out;
}

/** Removes `targets/<name>` and its keys from `targets/releases`; keys nobody lists go too. */
function withoutSigner(targets: TargetsSigned, name: string, gun: string): TargetsSigned {
  const out = cloneSigned(targets);
  const d = out.delegations;
  const entry = signerEntry(d, name, gun);
  d.roles = d.roles.filter((r) => r.name !== entry.name);
  dropFromReleases(d, new Set(entry.keyids));
  return out;
}

/** Signer `name`'s role in `d`; SIGNER_NOT_FOUND, naming the signers there are, when it has none. */
function signerEntry(d: Delegations, name: string, gun: string): DelegationRole {
  const role = signerRole(name);
  const entry = d.roles.find((r) => r.name === role);
  if (entry) return entry;
  const known = signerNames(d.roles.map((r) => r.name));
  throw new InputError('SIGNER_NOT_FOUND', `${gun}: there is no signer "${name}" (signers: ${known.join(', ') || 'none'})`);
}

/**
 * Takes `removed` keys out of `targets/releases`, except those another
 * signer still lists, then drops keys no role lists; returns releases.
 */
function dropFromReleases(d: Delegations, removed: ReadonlySet<string>): DelegationRole | undefined {
  const releases = d.roles.find((r) => r.name === RELEASES);
  if (releases) {
    const stillUsed = new Set(d.roles.filter((r) => r.name !== RELEASES).flatMap((r) => r.keyids));
    releases.keyids = releases.keyids.filter((id) => !removed.has(id) || stillUsed.has(id));
  }
  dropUnusedKeys(d);
  return releases;
}

export interface AdminPlan {
  files: Map<string, Buffer>;
  /** What happens, in a sentence, for logs and outputs. */
  summary: string;
  /** Root and repository rotation: the new key's ID as `docker trust inspect` prints it. */
  rootKeyId?: string;
  /** Root rotation: the new key's canonical ID (its public key's), which root-keys accepts too. */
  rootCanonicalKeyId?: string;
  repositoryKeyId?: string;
}

/**
 * Adds signer `name` with `keys`, or adds the keys to it when it exists (its
 * threshold stays 1: any one of its keys signs for it). `paths` restricts a
 * new signer to tag prefixes (parseSignerPaths).
 */
export function planAddSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, keys: readonly SignerKey[], now: Date, paths?: readonly string[]): AdminPlan {
  const keyIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const current = startFrom(repo, 'targets');
  const role = current.delegations.roles.find((r) => r.name === signerRole(name));
  const next = withSigner(current, name, keys, paths, repo.gun);
  if (role && JSON.stringify(next.delegations) === JSON.stringify(current.delegations)) {
    return { files: new Map(), summary: `${repo.gun}: signer "${name}" already has ${keys.map((k) => k.id).join(', ')}; nothing to change` };
  }
  const entry = next.delegations.roles.find((r) => r.name === signerRole(name))!;
  const where = allowsEveryTag(entry.paths) ? `targets/${name} and ${RELEASES}` : `targets/${name}, for ${pathsText(entry.paths)} (not to ${RELEASES}, which allows every tag: a DCT pull does not accept what it signs; verify with signers naming it)`;
  const what = role ? `added key(s) ${keys.map((k) => k.id).join(', ')} to signer "${name}" (now ${entry.keyids.join(', ')}) in` : `added signer "${name}" (keys ${keys.map((k) => k.id).join(', ')}) to`;
  return { files: new Map([['targets', envelope(bump(next, now, TARGETS_DAYS), targetsKey, keyIds)]]), summary: `${repo.gun}: ${what} ${where}` };
}

export function planRemoveSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, now: Date): AdminPlan {
  const keyIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const next = bump(withoutSigner(startFrom(repo, 'targets'), name, repo.gun), now, TARGETS_DAYS);
  const releases = next.delegations.roles.find((r) => r.name === RELEASES);
  const warning = !releases || releases.keyids.length === 0 ? '; no signer is left in targets/releases, so nobody can sign new releases until one is added' : '';
  return { files: new Map([['targets', envelope(next, targetsKey, keyIds)]]), summary: `${repo.gun}: removed signer "${name}" (targets/${name} and its keys in ${RELEASES})${warning}` };
}

/**
 * Removes some of signer `name`'s keys, given by TUF or canonical ID (as
 * `docker trust inspect` prints a signer's keys), from `targets/<name>` and
 * from `targets/releases` unless another signer still holds them. The
 * signer keeps its other keys; removing its last key is refused
 * (SIGNER_LAST_KEY: remove the signer instead).
 */
export function planRemoveSignerKeys(repo: TrustedRepo, targetsKey: SigningKey, name: string, ids: readonly string[], now: Date): AdminPlan {
  const keyIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const out = startFrom(repo, 'targets');
  const d = out.delegations;
  const entry = signerEntry(d, name, repo.gun);
  const keys = repo.roles.get('targets')!.delegationKeys;
  const canonical = (id: string) => keys.get(id)?.canonicalId ?? id;
  const removed = new Set<string>();
  for (const id of ids) {
    const match = entry.keyids.filter((k) => k === id || canonical(k) === id);
    if (match.length === 0) {
      throw new InputError('SIGNER_KEY_NOT_FOUND', `${repo.gun}: signer "${name}" has no key ${id}; its keys are ${entry.keyids.map(canonical).join(', ')} (as \`docker trust inspect\` prints them)`);
    }
    for (const k of match) removed.add(k);
  }
  const left = entry.keyids.filter((k) => !removed.has(k));
  if (left.length < Math.max(1, entry.threshold)) {
    throw new InputError(
      'SIGNER_LAST_KEY',
      `${repo.gun}: removing ${[...removed].join(', ')} would leave signer "${name}" ${left.length} key(s), fewer than its threshold of ${entry.threshold}: to remove the signer itself, remove it without naming keys`,
    );
  }
  entry.keyids = left;
  const releases = dropFromReleases(d, removed);
  // A file whose only signatures are by removed keys stops verifying until a remaining key signs it.
  const orphaned = [entry, releases]
    .filter((r) => {
      const sigs = r ? (repo.roles.get(r.name)?.meta.signatures ?? []) : [];
      return sigs.some((sig) => removed.has(sig.keyid)) && !sigs.some((sig) => r!.keyids.includes(sig.keyid));
    })
    .map((r) => r!.name);
  const warning = orphaned.length ? `; ${orphaned.join(' and ')} were last signed by the removed key, so what they list stops verifying until a remaining key signs them again (sign, or refresh with that key)` : '';
  return {
    files: new Map([['targets', envelope(bump(out, now, TARGETS_DAYS), targetsKey, keyIds)]]),
    summary: `${repo.gun}: removed key(s) ${[...removed].join(', ')} from signer "${name}" (keys left: ${left.map(canonical).join(', ')})${warning}`,
  };
}
