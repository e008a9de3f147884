/**
 * Signature thresholds, hashes and lengths, expiry and root certificates:
 * the checks of notary's tuf/signed/verify.go and trustpinning/certs.go.
 */
import { createHash } from 'node:crypto';
import { verifySignature, type PublicKey } from './keys.ts';
import { ExpiredError, TrustError } from '../errors.ts';
import type { FileMeta, Metadata, RoleKeys, RootSigned } from './metadata.ts';

/**
 * Counts distinct listed keys with a valid signature over the canonical
 * bytes; signatures by unlisted keys are ignored.
 */
export function verifyThreshold(meta: Metadata<unknown>, keys: ReadonlyMap<string, PublicKey>, role: RoleKeys, gun: string): void {
  const shortfall = thresholdShortfall(meta, keys, role);
  if (shortfall) throw new TrustError('THRESHOLD_NOT_MET', `${gun}: ${shortfall}`);
}

/**
 * Why `meta` falls short of the role's threshold (without the GUN), or
 * undefined when it meets it.
 *
 * A threshold counts keys, not key IDs. TUF specification (1.0.33, client
 * workflow 5.3.4, 5.4.3, 5.5.3, 5.6.3): "When computing the THRESHOLD each
 * KEY MUST only contribute one SIGNATURE"; and a role's THRESHOLD is "the
 * number of keys of that role whose signatures are required". notary's
 * VerifySignatures (tuf/signed/verify.go) counts distinct key IDs
 * (`valid[sig.KeyID]`), so there one key listed under two IDs counts twice:
 * its `ecdsa` and `ecdsa-x509` forms, or its SPKI with the point compressed
 * and not. Here two listed IDs count once when they carry the same public key
 * (the same key material, whatever encoding or certificate wraps it).
 */
function thresholdShortfall(meta: Metadata<unknown>, keys: ReadonlyMap<string, PublicKey>, role: RoleKeys): string | undefined {
  const listed = new Set(role.keyids);
  const verified = new Set<string>();
  /** Key material → the first key ID whose signature counted for it. */
  const counted = new Map<string, string>();
  const twins: string[] = [];
  let bad = 0;
  for (const s of meta.signatures) {
    if (!listed.has(s.keyid) || verified.has(s.keyid)) continue;
    const key = keys.get(s.keyid);
    if (!key || !verifySignature(key, s.method, meta.canonical, Buffer.from(s.sig, 'base64'))) {
      bad++;
      continue;
    }
    verified.add(s.keyid);
    const material = keyMaterial(key);
    const first = counted.get(material);
    if (first === undefined) counted.set(material, s.keyid);
    else twins.push(`${short(s.keyid)} is the key ${short(first)} again`);
  }
  if (counted.size >= role.threshold) return undefined;
  const why = [
    meta.signatures.length === 0 ? 'it has no signatures' : undefined,
    bad > 0 ? `${bad} signature(s) by listed keys do not verify` : undefined,
    twins.length > 0 ? `${twins.length} more signature(s) are by a key already counted under another ID (${twins.join('; ')}), and one key counts once` : undefined,
  ].filter((w) => w !== undefined);
  if (why.length === 0) why.push(counted.size === 0 ? 'no signature is by a key the role lists' : `${role.threshold - counted.size} more listed key(s) must sign`);
  return `${meta.role}.json has ${counted.size} valid signature(s), needs ${role.threshold}: ${why.join('; ')}`;
}

/** The public key itself, whatever ID, encoding or certificate carries it: its JWK members (kty, crv, x, y / n, e). */
function keyMaterial(key: PublicKey): string {
  // Only keys with a key object verify a signature, so `keyObject` is set here.
  const jwk = key.keyObject!.export({ format: 'jwk' });
  return JSON.stringify([jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e]);
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

/** Whether the bytes match the announced length and every hash (no throw). */
export function matchesFileMeta(raw: Buffer, expected: FileMeta): boolean {
  try {
    checkFileMeta(raw, expected, '');
    return true;
  } catch {
    return false;
  }
}

/** `fix` says who re-signs the file and how (the notary layer knows; this pure check does not). */
export function checkNotExpired(meta: Metadata<unknown>, now: Date, gun: string, fix = 'the repository owner must re-sign it'): void {
  if (meta.expires.getTime() <= now.getTime()) {
    throw new ExpiredError(`${gun}: ${meta.role}.json expired at ${meta.expires.toISOString()}; ${fix}`);
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
 * a `*`-terminated prefix of it), a non-CA leaf, with a validity window that
 * is not inverted, and within it (notBefore may be a day ahead); without
 * `now`, expiry is not checked (a previously trusted root's certificates
 * during a rotation), as in notary's utils.ValidateCertificate.
 */
export function validRootCertificate(key: PublicKey, gun: string, now: Date | undefined): boolean {
  const cert = key.certificate;
  if (!cert || cert.ca) return false;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  if (cn === undefined || !(cn === gun || (cn.endsWith('*') && gun.startsWith(cn.slice(0, -1))))) return false;
  const from = new Date(cert.validFrom).getTime();
  const to = new Date(cert.validTo).getTime();
  if (from > to) return false;
  const day = 24 * 3600 * 1000;
  return now === undefined || (now.getTime() >= from - day && now.getTime() <= to);
}

/** Root-role keys that are valid certificates for this GUN (expiry checked only with `now`). */
export function rootCertificateKeys(root: Metadata<RootSigned>, keys: ReadonlyMap<string, PublicKey>, gun: string, now: Date | undefined): Map<string, PublicKey> {
  const listed = new Set(root.signed.roles.root.keyids);
  return new Map([...keys].filter(([id, k]) => listed.has(id) && validRootCertificate(k, gun, now)));
}

/**
 * A root replacing a trusted one must carry a threshold of signatures from
 * the trusted root's certificate keys, by the trusted root's threshold
 * (notary trustpinning/certs.go ValidateRoot; the old certificates' expiry is
 * not checked). Its own threshold is checked separately.
 */
export function verifyRootRotation(trusted: Metadata<RootSigned>, trustedKeys: ReadonlyMap<string, PublicKey>, next: Metadata<RootSigned>, gun: string): void {
  const previous = rootCertificateKeys(trusted, trustedKeys, gun, undefined);
  const shortfall = thresholdShortfall(next, previous, trusted.signed.roles.root);
  if (shortfall) {
    throw new TrustError(
      'ROOT_ROTATION_INVALID',
      `${gun}: root.json version ${next.signed.version} is not signed by ${trusted.signed.roles.root.threshold} of the root key(s) trusted before (root version ${trusted.signed.version}, keys ${[...previous.keys()].map(short).join(', ') || 'none'}): ${shortfall}. A root signed only by new keys is refused; if the repository owner really replaced the root key without signing with the old one, remove the remembered trust data for ${gun} once, after checking the new root key out of band`,
    );
  }
}

/**
 * Pinned root keys (the `root-keys` input): the root must meet its root
 * threshold with signatures by pinned keys alone (notary's "certs" trust
 * pinning). A pin is a TUF key ID or a canonical key ID, 64 hex digits.
 */
export function verifyRootPinned(root: Metadata<RootSigned>, certKeys: ReadonlyMap<string, PublicKey>, pins: readonly string[], gun: string): void {
  const wanted = new Set(pins.map((p) => p.toLowerCase()));
  const pinned = new Map([...certKeys].filter(([id, k]) => wanted.has(id) || wanted.has(k.canonicalId)));
  if (thresholdShortfall(root, pinned, root.signed.roles.root)) {
    const present = [...certKeys.values()].map((k) => (k.canonicalId === k.id ? k.id : `${k.id} (canonical ${k.canonicalId})`));
    throw new TrustError(
      'ROOT_NOT_PINNED',
      `${gun}: root.json (version ${root.signed.version}) is not signed by ${root.signed.roles.root.threshold} of the pinned root keys in the root-keys input; its root keys are ${present.join(', ') || 'none'}. This is not the root you pinned: do not trust this repository until you know why. If the owner rotated the root key, add the new root key ID (as \`docker trust inspect\` prints it) to root-keys`,
    );
  }
}

function short(id: string): string {
  return id.slice(0, 12);
}
