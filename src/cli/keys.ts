/** Picks the local key files an operation needs, as docker picks them (by canonical key ID). */
import type { SigningKey } from '../tuf/private-key.ts';
import type { TrustedRepo } from '../notary/model.ts';
import { InputError } from '../errors.ts';
import { listKeys, loadKey, type LocalKey } from './trust-dir.ts';

function canonicalIds(repo: TrustedRepo, role: 'root' | 'targets'): string[] {
  return repo.root.signed.roles[role].keyids.map((id) => repo.rootKeys.get(id)?.canonicalId ?? id);
}

/** The local key of a base role (root or targets), or undefined when the trust directory has none. */
export function findBaseKey(dir: string, repo: TrustedRepo, role: 'root' | 'targets', env: NodeJS.ProcessEnv): SigningKey | undefined {
  const ids = canonicalIds(repo, role);
  const local = listKeys(dir).find((k) => ids.includes(k.id));
  return local ? loadKey(local, env).signing : undefined;
}

export function baseKey(dir: string, repo: TrustedRepo, role: 'root' | 'targets', env: NodeJS.ProcessEnv): SigningKey {
  const key = findBaseKey(dir, repo, role, env);
  if (!key) {
    throw new InputError('KEY_WRONG_ROLE', `${repo.gun}: no ${role === 'root' ? 'root' : 'repository (targets)'} key in ${dir}/private: it needs ${canonicalIds(repo, role).map((i) => `${i}.key`).join(' or ')}`);
  }
  return key;
}

/** Local keys of direct delegations of targets; the repository key too when `withTargets`. */
export function signingKeys(dir: string, repo: TrustedRepo, withTargets: boolean, env: NodeJS.ProcessEnv): SigningKey[] {
  const wanted = new Set<string>(withTargets ? canonicalIds(repo, 'targets') : []);
  const { meta, delegationKeys } = repo.roles.get('targets')!;
  for (const r of meta.signed.delegations.roles) for (const id of r.keyids) wanted.add(delegationKeys.get(id)?.canonicalId ?? id);
  const local: LocalKey[] = listKeys(dir).filter((k) => wanted.has(k.id));
  if (local.length === 0) throw new InputError('KEY_NOT_DELEGATE', `${repo.gun}: none of this repository's signing keys is in ${dir}/private; load a signer key with \`content-trust key load\``);
  return local.map((k) => loadKey(k, env).signing);
}
