/**
 * Who renews each role's file before (or after) it expires, and how: the
 * fix every expiry message ends with, in verify's errors, refresh's refusals
 * and the expiry watch (status) alike. The front ends word the refresh
 * advice as their own (src/advice.ts).
 */
import { RELEASES, signerName } from './model.ts';
import type { Metadata, RootSigned } from '../tuf/metadata.ts';
import type { PublicKey } from '../tuf/keys.ts';
import { rootCertificateKeys } from '../tuf/verify.ts';

/** Roles notary-server signs itself (with the keys it holds), re-signing one that has expired when it is read. */
export const SERVER_ROLES: readonly string[] = ['snapshot', 'timestamp'];

/** The key that re-signs `role`, as the fix names it. */
function renewingKey(role: string): string {
  if (role === 'root') return 'the root key';
  if (role === 'targets') return 'the repository key';
  if (role === RELEASES) return "a signer's key (any key targets/releases lists)";
  const name = signerName(role);
  return name.includes('/') ? `a key of ${role}` : `signer "${name}"'s key`;
}

/** The advice that ends an expiry message for `role` of `gun`. */
export function expiryFix(gun: string, role: string): string {
  if (SERVER_ROLES.includes(role)) {
    return `the Notary server signs ${role}.json itself and re-signs it once it has expired, so one served expired means the server cannot sign: ask its operator`;
  }
  const input = role === 'root' ? 'root-key' : role === 'targets' ? 'repository-key' : 'delegation-key';
  const deep = role.split('/').length > 2 ? ' (refresh re-signs only targets and its direct children: its signer must sign it again)' : '';
  return `re-sign it with ${renewingKey(role)}${deep} (mode: refresh, input ${input}; or \`content-trust refresh ${gun}\`)`;
}

/**
 * The advice for a role whose keys' certificates end: a certificate cannot
 * be re-signed, only replaced, and a new certificate is a new key ID (a TUF
 * key ID hashes the certificate), so the fix is a key rotation, before the
 * end: for root, a new root key and certificate in a root signed by the old
 * one and the new one; for a signer, its key with a new certificate. Once a
 * root certificate has `ended`, notary-server 0.7 refuses every update of
 * the repository, that rotation too, and no client reads it
 * (test/upstream/expiry.upstream.test.ts): only new trust data revives it.
 */
export function certificateFix(gun: string, role: string, ended = false): string {
  if (role === 'root' && ended) {
    return `notary-server accepts no update of a repository whose root certificate has ended, not even a new root key, so its trust data must be made anew: delete it on the Notary server (\`notary delete ${gun} --remote\`), initialise it again and sign its tags again`;
  }
  if (role === 'root') return `give the root a new key and certificate before then (mode: rotate, rotate-role root; or \`content-trust rotate ${gun} root\`)`;
  const name = signerName(role);
  if (role === 'targets' || role === RELEASES || name.includes('/')) return `replace the certificate of ${renewingKey(role)} (rotate that key to one with a new certificate)`;
  return `rotate signer "${name}" to a key with a new certificate (mode: rotate, signer-name ${name}; or \`content-trust rotate ${gun} signer ${name} --key NEW.pub\`)`;
}

/** Until when a key counts: a certificate's notAfter, or forever (undefined) for a plain key. */
interface ExpiringKey {
  certificate?: { validTo: string } | undefined;
}

/**
 * When a role with these keys and this threshold stops being trusted because
 * its keys' certificates expired: the moment fewer than `threshold` of them
 * are still valid (for one key, its certificate's end). Undefined when
 * enough of its keys are plain keys, which never expire.
 */
export function certificatesExpire(keys: readonly ExpiringKey[], threshold: number): Date | undefined {
  const ends = keys.map((k) => (k.certificate ? new Date(k.certificate.validTo).getTime() : Infinity)).sort((a, b) => b - a);
  const end = ends[Math.max(threshold, 1) - 1];
  return end === undefined || end === Infinity || Number.isNaN(end) ? undefined : new Date(end);
}

/**
 * When root.json stops being trusted because its root certificates end (the
 * root listing them, keys as parsed, the GUN they must name): status shows
 * it, refresh refuses after it, verify says it (EXPIRED) when every one of them has ended.
 * Certificates for another GUN never count (tuf/verify.ts
 * rootCertificateKeys). A root listing fewer certificates than its threshold
 * never verifies; it is taken to end with the first of them.
 */
export function rootCertificatesEnd(root: Metadata<RootSigned>, keys: ReadonlyMap<string, PublicKey>, gun: string): Date | undefined {
  const certificates = [...rootCertificateKeys(root, keys, gun, undefined).values()];
  return certificatesExpire(certificates, Math.min(root.signed.roles.root.threshold, certificates.length));
}
