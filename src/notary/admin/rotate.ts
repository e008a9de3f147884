/**
 * Key rotation. A signer's key: the new key goes into `targets/<name>` and
 * `targets/releases` and the old one out, in one publish of `targets`; with
 * the new private key the signer's own files are re-signed in the same
 * publish, so nothing it signed stops verifying. A server-held key
 * (snapshot or timestamp): POST <role>.key makes a new key on the server,
 * then a root naming it, signed by the root key, activates it
 * (notary client.go RotateKey).
 */
import { parsePublicKey } from '../../tuf/keys.ts';
import type { SigningKey } from '../../tuf/private-key.ts';
import { cloneSigned } from '../../tuf/metadata.ts';
import type { TrustedRepo } from '../model.ts';
import type { NotaryRepoClient } from '../server.ts';
import { bump, startFrom } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import { RELEASES } from '../resolve.ts';
import { InputError } from '../../errors.ts';
import { TARGETS_DAYS, allowsEveryTag, baseRoleKeyIds, checkPathConflicts, dropUnusedKeys, signerRole, type SignerKey } from './common.ts';
import type { AdminPlan } from './signers.ts';

export function planRotateSigner(repo: TrustedRepo, targetsKey: SigningKey, name: string, newKeys: readonly SignerKey[], newPrivate: SigningKey | undefined, now: Date): AdminPlan {
  const targetIds = baseRoleKeyIds(repo, 'targets', targetsKey, 'repository key');
  const role = signerRole(name);
  const targets = startFrom(repo, 'targets');
  const d = targets.delegations;
  const entry = d?.roles.find((r) => r.name === role);
  if (!entry) {
    const known = (d?.roles ?? []).filter((r) => r.name !== RELEASES).map((r) => r.name.slice('targets/'.length));
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
  const old = root.roles[role].keyids;
  root.keys[key.id] = fresh;
  root.roles[role] = { keyids: [key.id], threshold: 1 };
  const used = new Set(Object.values(root.roles).flatMap((r) => r.keyids));
  for (const id of old) if (!used.has(id)) delete root.keys[id];
  root.version += 1; // the expiry stays: rotating a key does not extend trust in the root
  return { files: new Map([['root', envelope(root, rootKey, rootIds)]]), summary: `${repo.gun}: the server's ${role} key is now ${key.id} (was ${old.join(', ')})` };
}
