/**
 * `docker trust revoke`: removes tags from every role the key may sign
 * (targets with the repository key; each direct child of targets that lists
 * a delegation key), publishing only the roles that change.
 */
import type { SigningKey } from '../../tuf/private-key.ts';
import type { TrustedRepo } from '../model.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { InputError, TrustError } from '../../errors.ts';
import { TARGETS_DAYS, signableBy } from './common.ts';
import type { AdminPlan } from './signers.ts';

/** `tags` undefined revokes every tag in those roles. */
export function planRevoke(repo: TrustedRepo, keys: readonly SigningKey[], tags: readonly string[] | undefined, now: Date): AdminPlan {
  const roles = signableBy(repo, keys);
  if (roles.length === 0) {
    throw new InputError('KEY_NOT_DELEGATE', `${repo.gun}: the key ${keys.map((k) => k.id).join(', ')} is neither the repository key nor a signer's key here, so it cannot revoke anything`);
  }
  const files = new Map<string, Buffer>();
  const removed = new Set<string>();
  for (const { role, key, keyIds } of roles) {
    const signed = startFrom(repo, role);
    const present = Object.keys(signed.targets).filter((t) => tags === undefined || tags.includes(t));
    if (present.length === 0) continue;
    for (const t of present) {
      delete signed.targets[t];
      removed.add(t);
    }
    files.set(role, envelope(bump(signed, now, TARGETS_DAYS), key, keyIds));
  }
  if (files.size === 0) {
    const what = tags === undefined ? 'no signed tags' : `no signature for ${tags.join(', ')}`;
    throw new TrustError('NOT_SIGNED', `${repo.gun}: ${what} in the roles this key signs (${roles.map((r) => r.role).join(', ')}); nothing to revoke`);
  }
  const missing = (tags ?? []).filter((t) => !removed.has(t));
  if (missing.length > 0) {
    throw new TrustError('NOT_SIGNED', `${repo.gun}: no signature for ${missing.join(', ')} in the roles this key signs (${roles.map((r) => r.role).join(', ')}); nothing was revoked`);
  }
  return { files, summary: `${repo.gun}: revoked ${[...removed].join(', ')} from ${[...files.keys()].join(', ')}` };
}
