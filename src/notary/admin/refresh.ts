/**
 * Re-signs metadata before its expiry freezes verification for everyone:
 * each role these keys may sign (targets with the repository key, the
 * delegations that list a delegation key, root with the root key) that
 * expires within the window, or already expired, gets a new version with
 * unchanged content and a fresh expiry.
 *
 * The repository is read allowing expired files (updater.ts allowExpired:
 * every other check holds), so a repository whose targets.json or root.json
 * expired comes back to life here; notary 0.7 cannot, it refuses to update
 * (test/upstream/expiry.upstream.test.ts). Snapshot and timestamp are the
 * server's: it makes new ones on every publish. A plan that would leave
 * root.json or targets.json expired is refused before anything is published,
 * since the read-back (strict) and every reader would still fail.
 *
 * The root's x509 certificate cannot be re-signed: a new certificate is a
 * new root key ID, i.e. a root key rotation, which changes what users pin
 * (root-keys, docker's printed Root key) and so is never a side effect of a
 * routine refresh. When it ends within the window the refresh goes ahead
 * and its summary says to rotate the root key before then. Once it has
 * ended, notary-server refuses every update (test/upstream/expiry.upstream.test.ts),
 * so the refresh is refused before anything is sent, saying so.
 */
import type { SigningKey } from '../../tuf/private-key.ts';
import { cloneSigned } from '../../tuf/metadata.ts';
import type { TrustedRepo } from '../model.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { ExpiredError, InputError } from '../../errors.ts';
import { certificateFix, expiryFix, rootCertificatesEnd } from '../expiry.ts';
import { ROOT_DAYS, TARGETS_DAYS, signableBy } from './common.ts';
import { baseRoleKeyIds } from './owner-keys.ts';
import type { AdminPlan } from './signers.ts';

interface RefreshKeys {
  root?: SigningKey | undefined;
  /** Repository and/or delegation keys. */
  signing: readonly SigningKey[];
}

export function planRefresh(repo: TrustedRepo, keys: RefreshKeys, withinDays: number, now: Date): AdminPlan {
  const limit = now.getTime() + withinDays * 86_400_000;
  const certificates = rootCertificatesEnd(repo.root, repo.rootKeys, repo.gun);
  if (certificates && certificates.getTime() <= now.getTime()) {
    throw new ExpiredError(`${repo.gun}: the root certificate expired at ${certificates.toISOString()}, so no client trusts root.json, and a refresh cannot renew a certificate: ${certificateFix(repo.gun, 'root', true)}. Nothing was published`);
  }
  const files = new Map<string, Buffer>();
  const notes: string[] = [];
  if (keys.root) {
    const ids = baseRoleKeyIds(repo, 'root', keys.root, 'root key');
    if (repo.root.expires.getTime() <= limit) {
      files.set('root', envelope(bump(cloneSigned(repo.root.signed), now, ROOT_DAYS), keys.root, ids));
      notes.push(`root (was ${repo.root.expires.toISOString()})`);
    }
  }
  const roles = signableBy(repo, keys.signing);
  if (roles.length === 0 && !keys.root) {
    throw new InputError('KEY_NOT_DELEGATE', `${repo.gun}: the key ${keys.signing.map((k) => k.id).join(', ')} is neither the repository key nor a signer's key here, so it can refresh nothing`);
  }
  for (const { role, key, keyIds } of roles) {
    const published = repo.roles.get(role)?.meta ?? repo.skipped.get(role)?.meta;
    if (!published || published.expires.getTime() > limit) continue;
    files.set(role, envelope(bump(startFrom(repo, role), now, TARGETS_DAYS), key, keyIds));
    notes.push(`${role} (was ${published.expires.toISOString()})`);
  }
  for (const role of ['root', 'targets']) {
    const meta = role === 'root' ? repo.root : repo.roles.get('targets')!.meta;
    if (meta.expires.getTime() > now.getTime() || files.has(role)) continue;
    throw new ExpiredError(`${repo.gun}: ${role}.json expired at ${meta.expires.toISOString()}, and no key given here signs it, so nobody can read the repository until it is re-signed: ${expiryFix(repo.gun, role)}. Nothing was published`);
  }
  const done = files.size === 0 ? `${repo.gun}: nothing these keys sign expires within ${withinDays} days (${[...(keys.root ? ['root'] : []), ...roles.map((r) => r.role)].join(', ')})` : `${repo.gun}: re-signed ${notes.join(', ')}`;
  const ending = certificates && certificates.getTime() <= limit ? `; the root certificate ends at ${certificates.toISOString()}, and a refresh cannot renew it: ${certificateFix(repo.gun, 'root')}` : '';
  const summary = `${done}${ending}`;
  return { files, summary };
}
