/**
 * Signature thresholds, hashes and lengths, expiry and root certificates:
 * the checks of notary's tuf/signed/verify.go and trustpinning/certs.go.
 */
import { createHash } from 'node:crypto';
import { verifySignature, type PublicKey } from './keys.ts';
import { TrustError } from '../errors.ts';
import type { FileMeta, Metadata, RoleKeys } from './metadata.ts';

/**
 * Counts distinct listed keys with a valid signature over the canonical
 * bytes; signatures by unlisted keys are ignored.
 */
export function verifyThreshold(meta: Metadata<unknown>, keys: ReadonlyMap<string, PublicKey>, role: RoleKeys, gun: string): void {
  const listed = new Set(role.keyids);
  const valid = new Set<string>();
  let bad = 0;
  for (const s of meta.signatures) {
    if (!listed.has(s.keyid) || valid.has(s.keyid)) continue;
    const key = keys.get(s.keyid);
    if (key && verifySignature(key, s.method, meta.canonical, Buffer.from(s.sig, 'base64'))) valid.add(s.keyid);
    else bad++;
  }
  if (valid.size < role.threshold) {
    const why = meta.signatures.length === 0 ? 'it has no signatures' : bad > 0 ? `${bad} signature(s) by listed keys do not verify` : 'no signature is by a key the role lists';
    throw new TrustError('THRESHOLD_NOT_MET', `${gun}: ${meta.role}.json has ${valid.size} valid signature(s), needs ${role.threshold}: ${why}`);
  }
}

/** The body must match the length and every hash its parent announced (at least one known). */
export function checkFileMeta(raw: Buffer, expected: FileMeta, what: string): void {
  if (raw.length !== expected.length) {
    throw new TrustError('HASH_MISMATCH', `${what} is ${raw.length} bytes, its parent announced ${expected.length}`);
  }
  let known = 0;
  for (const alg of ['sha256', 'sha512'] as const) {
    const want = expected.hashes[alg];
    if (want === undefined) continue;
    known++;
    if (createHash(alg).update(raw).digest('base64') !== want) {
      throw new TrustError('HASH_MISMATCH', `${what} does not match the ${alg} hash its parent announced`);
    }
  }
  if (known === 0) throw new TrustError('HASH_MISMATCH', `${what}: its parent announces no sha256 or sha512 hash`);
}

export function checkNotExpired(meta: Metadata<unknown>, now: Date, gun: string): void {
  if (meta.expires.getTime() <= now.getTime()) {
    throw new TrustError('EXPIRED', `${gun}: ${meta.role}.json expired at ${meta.expires.toISOString()}; the repository owner must re-sign it`);
  }
}

/** The version must not go back from what was trusted before (equal is allowed). */
export function checkNoRollback(meta: Metadata<{ version: number }>, trustedVersion: number | undefined, gun: string): void {
  if (trustedVersion !== undefined && meta.signed.version < trustedVersion) {
    throw new TrustError('ROLLBACK', `${gun}: ${meta.role}.json is version ${meta.signed.version}, older than the version ${trustedVersion} trusted before: a rollback attack or a server restored from backup`);
  }
}

/**
 * Root keys count only as valid certificates for this GUN: CN is the GUN (or
 * a `*`-terminated prefix of it), a non-CA leaf, within its validity
 * (notBefore may be a day ahead); without `now`, validity is not checked
 * (a previously trusted root's certificates during a rotation).
 */
export function validRootCertificate(key: PublicKey, gun: string, now: Date | undefined): boolean {
  const cert = key.certificate;
  if (!cert || cert.ca) return false;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (cn === undefined) return false;
  const cnOk = cn === gun || (cn.endsWith('*') && gun.startsWith(cn.slice(0, -1)));
  if (!cnOk || now === undefined) return cnOk;
  const day = 24 * 3600 * 1000;
  const from = new Date(cert.validFrom).getTime() - day;
  const to = new Date(cert.validTo).getTime();
  return now.getTime() >= from && now.getTime() <= to;
}
