/**
 * Who renews each role's file before (or after) it expires, and how: the
 * fix every expiry message ends with, in verify's errors, refresh's refusals
 * and the expiry watch (status) alike. The front ends word the refresh
 * advice as their own (src/advice.ts).
 */
import { RELEASES } from './resolve.ts';

/** Roles notary-server signs itself (with the keys it holds), re-signing one that has expired when it is read. */
export const SERVER_ROLES: readonly string[] = ['snapshot', 'timestamp'];

/** The key that re-signs `role`, as the fix names it. */
export function renewingKey(role: string): string {
  if (role === 'root') return 'the root key';
  if (role === 'targets') return 'the repository key';
  if (role === RELEASES) return "a signer's key (any key targets/releases lists)";
  const name = role.slice('targets/'.length);
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
