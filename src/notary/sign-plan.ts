/**
 * Turns a verified repository, a delegation key and the targets to add into
 * the signed files to publish (notary client: AddToAllSignableRoles, then
 * SignTargets per role). Pure: no I/O.
 */
import type { PublicKey } from '../tuf/keys.ts';
import { cloneSigned, type DelegationRole, type FileMeta, type TargetsSigned } from '../tuf/metadata.ts';
import { envelope, goTime } from '../tuf/go-encoding.ts';
import type { TufKeyJson } from '../tuf/keys.ts';
import { emptyMap, own } from '../util/maps.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import { RELEASES, allowsEveryTag, pathAllowed, pathsText, signerName, type TrustedRepo } from './model.ts';
import { ExpiredError, InputError, TrustError } from '../errors.ts';

export interface NewTarget {
  tag: string;
  /** sha256:<hex> */
  digest: string;
  size: number;
}

export interface SignPlan {
  /** Role name → envelope bytes, ready to publish. */
  files: Map<string, Buffer>;
  /** Role name → key IDs that signed it. */
  roles: string[];
}

interface SignableRole {
  role: DelegationRole;
  keyIds: string[];
}

/** The IDs among `listed` that stand for this private key (matched by canonical ID, so a certificate counts as its key). */
export function keyIdsOf(listed: readonly string[], keys: ReadonlyMap<string, PublicKey>, key: SigningKey): string[] {
  return listed.filter((id) => keys.get(id)?.canonicalId === key.id);
}

/** Direct children of targets that list the key, with the IDs it signs them as. */
export function delegationsOf(repo: TrustedRepo, key: SigningKey): SignableRole[] {
  const { meta, delegationKeys } = repo.roles.get('targets')!;
  return meta.signed.delegations.roles
    .filter((role) => role.name.split('/').length === 2)
    .map((role) => ({ role, keyIds: keyIdsOf(role.keyids, delegationKeys, key) }))
    .filter((r) => r.keyIds.length > 0);
}

/** Direct children of targets that list the key and allow the tag's path. */
export function signableRoles(repo: TrustedRepo, key: SigningKey, tags: readonly string[]): SignableRole[] {
  const { meta, delegationKeys: keys } = repo.roles.get('targets')!;
  const delegations = meta.signed.delegations.roles;
  if (delegations.length === 0) {
    throw new InputError('KEY_NOT_DELEGATE', `${repo.gun} has no delegations: only the repository (targets) key can sign it. Add this signer first: \`docker trust signer add --key <signer>.pub <signer> ${repo.gun}\``);
  }
  const mine = delegationsOf(repo, key);
  // A signer's own role that does not allow a tag refuses the whole sign (targets/releases, shared by
  // every signer, is only left out, as notary's AddToAllSignableRoles leaves out roles whose paths do not allow the tag).
  for (const { role } of mine) {
    if (role.name === RELEASES) continue;
    const outside = tags.filter((t) => !pathAllowed(role.paths ?? [], t));
    if (outside.length === 0) continue;
    throw new InputError(
      'TAG_OUTSIDE_PATHS',
      `${repo.gun}: signer "${signerName(role.name)}" (${role.name}) may sign only ${pathsText(role.paths)} (its delegation's paths), and ${outside.map((t) => JSON.stringify(t)).join(', ')} ${outside.length === 1 ? 'is' : 'are'} outside them; nothing was published for ${repo.gun}. Sign only tags matching those patterns, or have the repository owner remove the signer and add it again with wider paths`,
    );
  }
  const out = mine.filter(({ role }) => tags.every((t) => pathAllowed(role.paths ?? [], t)));
  if (out.length === 0) {
    const listing = delegations.map(
      (d) =>
        `${d.name} (keys ${
          d.keyids
            .map((k) => keys.get(k)?.canonicalId ?? k)
            .map((k) => k.slice(0, 12))
            .join(', ') || 'none'
        }${allowsEveryTag(d.paths) ? '' : `; ${pathsText(d.paths)}`})`,
    );
    throw new InputError(
      'KEY_NOT_DELEGATE',
      `${repo.gun}: the delegation key ${key.id} (role "${key.role ?? 'unknown'}") is not a signer of this repository, or may not sign these tags. Its delegations are: ${listing.join('; ')}. Add the key with \`docker trust signer add --key <signer>.pub <signer> ${repo.gun}\``,
    );
  }
  return out;
}

export function planSign(repo: TrustedRepo, key: SigningKey, targets: readonly NewTarget[], now: Date, expiryDays: number): SignPlan {
  const files = new Map<string, Buffer>();
  for (const { role, keyIds } of signableRoles(
    repo,
    key,
    targets.map((t) => t.tag),
  )) {
    const signed = bump(startFrom(repo, role.name), now, expiryDays);
    for (const t of targets) {
      signed.targets[t.tag] = { hashes: { sha256: Buffer.from(t.digest.slice('sha256:'.length), 'hex').toString('base64') }, length: t.size };
    }
    files.set(role.name, envelope(signed, key, keyIds));
  }
  return { files, roles: [...files.keys()] };
}

/**
 * A copy of a role's current content to change and re-sign (with bump), or
 * an empty role (version 0) when none is published yet. Its maps have no
 * prototype: tags are written into them by name, `__proto__` included.
 */
export function startFrom(repo: TrustedRepo, name: string): TargetsSigned {
  const trusted = repo.roles.get(name)?.meta.signed;
  if (trusted) return cloneSigned(trusted);
  const skipped = repo.skipped.get(name);
  if (skipped) {
    // Expired but validly signed: re-signing refreshes it. Anything else may be forged: keep nothing of it.
    if (!(skipped.error instanceof ExpiredError)) {
      throw new TrustError(skipped.error.code, `${repo.gun}: cannot sign ${name}, its published file does not verify (${skipped.error.message})`);
    }
    return cloneSigned(skipped.meta.signed);
  }
  if (own(repo.snapshot.signed.meta, name)) {
    throw new TrustError('METADATA_INVALID', `${repo.gun}: ${name} is listed in the snapshot but could not be read`);
  }
  return emptyTargets('', 0);
}

/** A targets file with no delegations and no targets, its maps without prototypes. */
export function emptyTargets(expires: string, version: number): TargetsSigned {
  return { _type: 'Targets', delegations: { keys: emptyMap<TufKeyJson>(), roles: [] }, expires, targets: emptyMap<FileMeta>(), version };
}

/** The next version, expiring `days` after now. */
export function bump<T extends { version: number; expires: string }>(signed: T, now: Date, days: number): T {
  signed.version += 1;
  signed.expires = expiresAfter(now, days);
  return signed;
}

/** Expiry as Go writes it (see goTime). */
export function expiresAfter(now: Date, days: number): string {
  return goTime(new Date(now.getTime() + days * 86_400_000));
}
