/**
 * Signers as docker manages them (docker/cli signer_add.go, signer_remove.go):
 * a signer `<name>` is the delegation `targets/<name>` with its keys, and the
 * same keys are added to `targets/releases`, the role a DCT pull reads.
 * Changing them re-signs `targets`, so it needs the repository key.
 */
import { cloneSigned, type TargetsSigned } from '../../tuf/metadata.ts';
import type { SigningKey } from '../../tuf/private-key.ts';
import type { TrustedRepo } from '../model.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { RELEASES } from '../resolve.ts';
import { InputError } from '../../errors.ts';
import { TARGETS_DAYS, baseRoleKeyIds, dropUnusedKeys, signerRole, type SignerKey } from './common.ts';

/** Adds the keys to `targets/<name>` and `targets/releases`, creating either role when missing. */
export function withSigner(targets: TargetsSigned, name: string, keys: readonly SignerKey[]): TargetsSigned {
  const role = signerRole(name);
  const out = cloneSigned(targets);
  for (const k of keys) out.delegations.keys[k.id] = k.json;
  for (const roleName of [role, RELEASES]) {
    let entry = out.delegations.roles.find((r) => r.name === roleName);
    if (!entry) {
      entry = { keyids: [], name: roleName, paths: [''], threshold: 1 };
      out.delegations.roles.push(entry);
    }
    for (const k of keys) if (!entry.keyids.includes(k.id)) entry.keyids.push(k.id);
  }
  return out;
}

/** Removes `targets/<name>` and its keys from `targets/releases`; keys nobody lists go too. */
export function withoutSigner(targets: TargetsSigned, name: string, gun: string): TargetsSigned {
  const role = signerRole(name);
  const out = cloneSigned(targets);
  const d = out.delegations;
  const entry = d.roles.find((r) => r.name === role);
  if (!entry) {
    const known = d.roles.filter((r) => r.name !== RELEASES).map((r) => r.name.slice('targets/'.length));
    throw new InputError('SIGNER_NOT_FOUND', `${gun}: there is no signer "${name}" (signers: ${known.join(', ') || 'none'})`);
  }
  d.roles = d.roles.filter((r) => r.name !== role);
  const releases = d.roles.find((r) => r.name === RELEASES);
  if (releases) {
    // Keys another signer still holds stay in releases.
    const stillUsed = new Set(d.roles.filter((r) => r.name !== RELEASES).flatMap((r) => r.keyids));
    releases.keyids = releases.keyids.filter((id) => !entry.keyids.includes(id) || stillUsed.has(id));
  }
  dropUnusedKeys(d);
  out.delegations = d;
  return out;
}

export interface AdminPlan {
  files: Map<string, Buffer>;
  /** What happens, in a sentence, for logs and outputs. */
  summary: string;
  /** Root and repository rotation: the new key's ID as `docker trust inspect` prints it. */
  rootKeyId?: string;
  repositoryKeyId?: string;
}

export function planAddSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, keys: readonly SignerKey[], now: Date): AdminPlan {
  const keyIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const current = startFrom(repo, 'targets');
  const role = current.delegations.roles.find((r) => r.name === signerRole(name));
  if (role && keys.every((k) => role.keyids.includes(k.id))) {
    return { files: new Map(), summary: `${repo.gun}: signer "${name}" already has ${keys.map((k) => k.id).join(', ')}; nothing to change` };
  }
  const next = bump(withSigner(current, name, keys), now, TARGETS_DAYS);
  return { files: new Map([['targets', envelope(next, targetsKey, keyIds)]]), summary: `${repo.gun}: added signer "${name}" (keys ${keys.map((k) => k.id).join(', ')}) to targets/${name} and ${RELEASES}` };
}

export function planRemoveSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, now: Date): AdminPlan {
  const keyIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const next = bump(withoutSigner(startFrom(repo, 'targets'), name, repo.gun), now, TARGETS_DAYS);
  const releases = next.delegations.roles.find((r) => r.name === RELEASES);
  const warning = !releases || releases.keyids.length === 0 ? '; no signer is left in targets/releases, so nobody can sign new releases until one is added' : '';
  return { files: new Map([['targets', envelope(next, targetsKey, keyIds)]]), summary: `${repo.gun}: removed signer "${name}" (targets/${name} and its keys in ${RELEASES})${warning}` };
}
