/**
 * The repository owner's keys (root and repository) as administration uses
 * them: which IDs root.json lists a private key as, the key types a new one
 * must be, the keys root.json lists for them, and where a new key is held,
 * for summaries. init and rotation make them; refresh and every change to
 * targets check them.
 */
import type { SigningKey } from '../../tuf/private-key.ts';
import { parsePublicKey, type TufKeyJson } from '../../tuf/keys.ts';
import { rootCertificate } from '../../tuf/x509.ts';
import type { RootSigned } from '../../tuf/metadata.ts';
import type { TrustedRepo } from '../model.ts';
import { keyIdsOf } from '../sign-plan.ts';
import { InputError } from '../../errors.ts';
import type { SignerKey } from './common.ts';

/** Key IDs of a root role (root or targets) that this private key stands for; none is the wrong key. */
export function baseRoleKeyIds(repo: TrustedRepo, role: 'root' | 'targets', key: SigningKey, what: string): string[] {
  const listed = repo.root.signed.roles[role].keyids;
  const ids = keyIdsOf(listed, repo.rootKeys, key);
  if (ids.length === 0) {
    // Root keys by the ID docker trust inspect prints, with the key file's name where that differs.
    const expected = listed
      .map((id) => {
        const file = repo.rootKeys.get(id)?.canonicalId ?? id;
        return file === id ? id : `${id} (key file ${file}.key)`;
      })
      .join(', ');
    throw new InputError(
      'KEY_WRONG_ROLE',
      `${repo.gun}: the ${what} given (key ${key.id}${key.role ? `, role "${key.role}"` : ''}) is not this repository's ${role} key; it expects ${expected} (docker keeps it as ~/.docker/trust/private/<id>.key with "role: ${role}")`,
    );
  }
  return ids;
}

/** Notary's root certificate and docker's repository key are ECDSA P-256: an RSA key given for either is refused before any request (other curves never become a SigningKey). */
export function requireP256(key: SigningKey | undefined, name: string): void {
  if (key && key.keytype !== 'ecdsa') {
    throw new InputError('KEY_UNSUPPORTED', `${name} is an RSA key; a new repository's root certificate and repository key are ECDSA P-256, as docker makes them: give P-256 keys (\`docker trust key generate\`), or none to have them generated`);
  }
}

/**
 * The root key as root.json lists it (notary client.go rootCertKey): a new
 * self-signed certificate for `gun` (x509.ts), as an `ecdsa-x509` key whose
 * TUF ID, the hash of the certificate, is the Root key `docker trust
 * inspect` prints. init and root rotation both make it here, with the root
 * key wherever it is held (a key file, a PKCS#11 token): it signs the
 * certificate.
 */
export function rootCertKey(gun: string, key: SigningKey, now: Date): SignerKey {
  const json: TufKeyJson = { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from(rootCertificate({ gun, key, now })).toString('base64') } };
  return { id: parsePublicKey(json).id, json };
}

/** Where a new root or repository key is, for a summary: docker's key file name, or the token (or service) that holds it. */
export function keyPlace(key: SigningKey): string {
  return key.holder === undefined ? `key file ${key.id}.key` : `key ${key.id}, held on ${key.holder}`;
}

/** The repository (targets) key as root.json lists it: the plain public key, as docker makes it (its TUF ID is its canonical ID). */
export function repositoryKeyJson(key: SigningKey): SignerKey {
  const json: TufKeyJson = { keytype: key.keytype, keyval: { private: null, public: key.public } };
  return { id: parsePublicKey(json).id, json };
}

/**
 * Makes `key` the only key of a base role in `root` (notary tuf.go
 * ReplaceBaseKeys) and drops the replaced keys no role lists any more (other
 * keys are left as they were); returns the IDs it replaced.
 */
export function replaceBaseKey(root: RootSigned, role: 'root' | 'targets' | 'snapshot' | 'timestamp', key: SignerKey): string[] {
  const old = root.roles[role].keyids;
  root.keys[key.id] = key.json;
  root.roles[role] = { keyids: [key.id], threshold: 1 };
  const used = new Set(Object.values(root.roles).flatMap((r) => r.keyids));
  for (const id of old) if (!used.has(id)) delete root.keys[id];
  return old;
}
