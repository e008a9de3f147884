/**
 * Key rotation. A signer's key: the new key goes into `targets/<name>` and
 * `targets/releases` and the old one out, in one publish of `targets`; with
 * the new private key the signer's own files are re-signed in the same
 * publish, so nothing it signed stops verifying. A server-held key
 * (snapshot or timestamp): POST <role>.key makes a new key on the server,
 * then a root naming it, signed by the root key, activates it
 * (notary client.go RotateKey). The root key: a root naming a new
 * certificate, signed by the old root key and the new one (notary tuf.go
 * SignRoot signs with the previous root role's keys when the root role
 * changed), so clients that trust the old root follow it, and the old key
 * no longer counts for the next root. The repository key: a root naming
 * the new targets key, signed by the root key, and targets re-signed with
 * the new key (delegations as they were), in one publish.
 */
import { parsePublicKey } from '../../tuf/keys.ts';
import type { SigningKey } from '../../tuf/private-key.ts';
import { cloneSigned } from '../../tuf/metadata.ts';
import { RELEASES, allowsEveryTag, signerNames, type TrustedRepo } from '../model.ts';
import type { NotaryRepoClient } from '../server.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { InputError } from '../../errors.ts';
import { expiresAfter } from '../sign-plan.ts';
import { ROOT_DAYS, TARGETS_DAYS, checkPathConflicts, dropUnusedKeys, signerRole, type SignerKey } from './common.ts';
import { baseRoleKeyIds, keyPlace, replaceBaseKey, repositoryKeyJson, requireP256, rootCertKey } from './owner-keys.ts';
import type { AdminPlan } from './signers.ts';

export function planRotateSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, newKeys: readonly SignerKey[], newPrivate: SigningKey | undefined, now: Date): AdminPlan {
  const targetIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const role = signerRole(name);
  const targets = startFrom(repo, 'targets');
  const d = targets.delegations;
  const entry = d?.roles.find((r) => r.name === role);
  if (!entry) {
    const known = signerNames((d?.roles ?? []).map((r) => r.name));
    throw new InputError('SIGNER_NOT_FOUND', `${repo.gun}: there is no signer "${name}" to rotate (signers: ${known.join(', ') || 'none'}); add it with mode add-signer`);
  }
  // The IDs the new private key signs as (a certificate counts as its key).
  const newIds = newPrivate ? newKeys.filter((k) => parsePublicKey(k.json).canonicalId === newPrivate.id).map((k) => k.id) : [];
  if (newPrivate && newIds.length === 0) {
    throw new InputError('KEY_WRONG_ROLE', `${repo.gun}: the new private key ${newPrivate.id} is not one of the new public keys given for signer "${name}"`);
  }
  const old = entry.keyids.filter((id) => !newKeys.some((k) => k.id === id));
  if (old.length === 0) throw new InputError('INPUT_INVALID', `${repo.gun}: signer "${name}" already has exactly these keys; nothing to rotate`);
  const otherSignersKeys = new Set(d.roles.filter((r) => r.name !== role && r.name !== RELEASES).flatMap((r) => r.keyids));
  for (const k of newKeys) d.keys[k.id] = k.json;
  entry.keyids = newKeys.map((k) => k.id);
  // A signer restricted to tag patterns stays out of targets/releases (signers.ts): its new key too.
  const inReleases = allowsEveryTag(entry.paths);
  if (inReleases) {
    let releases = d.roles.find((r) => r.name === RELEASES);
    if (!releases) d.roles.push((releases = { keyids: [], name: RELEASES, paths: [''], threshold: 1 }));
    releases.keyids = [...releases.keyids.filter((id) => !old.includes(id) || otherSignersKeys.has(id)), ...newKeys.map((k) => k.id).filter((id) => !releases.keyids.includes(id))];
  }
  checkPathConflicts(d, [role, RELEASES], repo.gun);
  dropUnusedKeys(d);
  const files = new Map<string, Buffer>([['targets', envelope(bump(targets, now, TARGETS_DAYS), targetsKey, targetIds)]]);
  if (newPrivate) {
    for (const r of inReleases ? [role, RELEASES] : [role]) {
      if (!repo.roles.has(r) && !repo.skipped.has(r)) continue; // nothing published yet
      files.set(r, envelope(bump(startFrom(repo, r), now, TARGETS_DAYS), newPrivate, newIds));
    }
  }
  const resigned = [...files.keys()].filter((r) => r !== 'targets');
  return {
    files,
    summary: `${repo.gun}: signer "${name}" now has key ${newKeys.map((k) => k.id).join(', ')} instead of ${old.join(', ')}${resigned.length ? `; re-signed ${resigned.join(', ')} with it` : '; files it signed with the old key stop verifying until it signs again'}`,
  };
}

/** Makes the new server key first (no metadata changes until the root naming it is published). */
export async function planRotateServerKey(client: NotaryRepoClient, repo: TrustedRepo, rootKey: SigningKey, role: 'snapshot' | 'timestamp'): Promise<AdminPlan> {
  const rootIds = baseRoleKeyIds(repo, 'root', rootKey, 'root key');
  const fresh = await client.rotateKey(role);
  const key = parsePublicKey(fresh);
  const root = cloneSigned(repo.root.signed);
  const old = replaceBaseKey(root, role, { id: key.id, json: fresh });
  root.version += 1; // the expiry stays: rotating a key does not extend trust in the root
  return { files: new Map([['root', envelope(root, rootKey, rootIds)]]), summary: `${repo.gun}: the server's ${role} key is now ${key.id} (was ${old.join(', ')})` };
}

/** Where a root or repository rotation gets its new key (a key file's or one held on a token): asked once the current root key is known to be right, and the same on every re-plan. */
type NewKey = () => SigningKey;

/**
 * The root key: root.json names a new certificate (`CN=<gun>`, made as init
 * makes it) as its only root key and is signed by the old root key and the
 * new one. A client that trusts the old root accepts it (the old root's
 * threshold signed it); after it, the old key alone signs no root anyone
 * accepts. The root's expiry restarts with the new certificate (ten years),
 * as notary re-signs a changed root.
 */
export function planRotateRoot(repo: TrustedRepo, rootKey: SigningKey, newKey: NewKey, now: Date): AdminPlan {
  const oldIds = baseRoleKeyIds(repo, 'root', rootKey, 'root key');
  const { threshold } = repo.root.signed.roles.root;
  if (threshold > 1) {
    throw new InputError('INPUT_INVALID', `${repo.gun}: its root role needs ${threshold} root keys to sign a new root, and a rotation here signs with one; rotate it with the notary CLI, which holds several root keys`);
  }
  const signing = newKey();
  requireP256(signing, 'the new root key');
  if (signing.id === rootKey.id) throw new InputError('INPUT_INVALID', `${repo.gun}: the new root key is the current root key (${rootKey.id}); a rotation needs a different key`);
  const cert = rootCertKey(repo.gun, signing, now);
  const root = cloneSigned(repo.root.signed);
  const old = replaceBaseKey(root, 'root', cert);
  root.version += 1;
  root.expires = expiresAfter(now, ROOT_DAYS);
  return {
    files: new Map([['root', envelope(root, signing, [cert.id], { key: rootKey, keyIds: oldIds })]]),
    summary: `${repo.gun}: the root key is now ${cert.id} (${keyPlace(signing)}) instead of ${old.join(', ')}; root version ${root.version} is signed by both, so clients that trust the old root follow it, and the old key no longer signs a root`,
    rootKeyId: cert.id,
    rootCanonicalKeyId: signing.id,
  };
}

/**
 * The repository (targets) key: root.json names the new key for targets,
 * signed by the root key, and targets.json is re-signed with the new key,
 * its delegations and targets as they were: one publish, so no reader sees
 * a root whose targets key did not sign the targets it serves.
 */
export function planRotateRepository(repo: TrustedRepo, rootKey: SigningKey, newKey: NewKey, now: Date): AdminPlan {
  const rootIds = baseRoleKeyIds(repo, 'root', rootKey, 'root key');
  const signing = newKey();
  requireP256(signing, 'the new repository key');
  const pub = repositoryKeyJson(signing);
  if (repo.root.signed.roles.targets.keyids.some((id) => repo.rootKeys.get(id)?.canonicalId === signing.id)) {
    throw new InputError('INPUT_INVALID', `${repo.gun}: the new repository key is the current repository key (${signing.id}); a rotation needs a different key`);
  }
  const root = cloneSigned(repo.root.signed);
  const old = replaceBaseKey(root, 'targets', pub);
  root.version += 1; // the expiry stays, as for a server key
  const targets = bump(startFrom(repo, 'targets'), now, TARGETS_DAYS);
  return {
    files: new Map([
      ['root', envelope(root, rootKey, rootIds)],
      ['targets', envelope(targets, signing, [pub.id])],
    ]),
    summary: `${repo.gun}: the repository key is now ${pub.id} (${keyPlace(signing)}) instead of ${old.join(', ')}; targets.json is re-signed with it, its signers and their delegations as they were`,
    repositoryKeyId: pub.id,
  };
}
