/**
 * Metadata encoded exactly as notary's Go code encodes it: times as
 * time.Time marshals them, targets files with only the fields notary's Go
 * types keep, and the envelope as json.Marshal writes it. Beside canonical
 * JSON (canonical.ts), which is what the signatures cover.
 */
import { canonicalize } from './canonical.ts';
import type { Signature, FileMeta, TargetsSigned } from './metadata.ts';
import type { TufKeyJson } from './keys.ts';
import type { SigningKey } from './private-key.ts';
import { emptyMap } from '../util/maps.ts';

/** What the envelope needs of a private key: its signature over the canonical bytes. */
export type Signer = Pick<SigningKey, 'sign'>;

/**
 * RFC 3339 as Go's time.Time marshals it (RFC3339Nano: no trailing zeros in
 * the fraction, none at all for whole seconds). notary-server makes the
 * snapshot from its own re-encoding of each uploaded delegation and hashes
 * that, so `…:05.150Z` (toISOString) left the snapshot naming bytes (`.15Z`)
 * the server does not have, and every later read of the repository failed.
 */
export function goTime(d: Date): string {
  return d.toISOString().replace(/\.?0+Z$/, 'Z');
}

/**
 * The envelope exactly as a Go client marshals it. notary-server stores the
 * uploaded bytes but hashes, for the snapshot it makes, its own re-encoding
 * of each file: Go's typed structs (fields they lack are dropped) and
 * json.Marshal's HTML escaping of `<>&` and U+2028/U+2029. Any other bytes
 * leave the snapshot naming a checksum the server does not have, and the
 * repository unreadable for everyone (seen with notary-server 0.7.0).
 */
export function envelope(signed: object, key: Signer, keyIds: readonly string[], ...others: readonly { key: Signer; keyIds: readonly string[] }[]): Buffer {
  const canonical = canonicalize((signed as { _type?: unknown })._type === 'Targets' ? goTargets(signed as TargetsSigned) : signed);
  // `others`: more keys over the same bytes (a rotated root carries the old root key's signature and the new one's).
  const signatures: Signature[] = [{ key, keyIds }, ...others].flatMap((s) => {
    const { method, sig } = s.key.sign(canonical);
    return s.keyIds.map((keyid) => ({ keyid, method, sig: sig.toString('base64') }));
  });
  const escaped = canonical.toString('utf8').replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return Buffer.concat([Buffer.from('{"signed":'), Buffer.from(escaped, 'utf8'), Buffer.from(`,"signatures":${JSON.stringify(signatures)}}`)]);
}

/**
 * Only what notary's Go types keep (tuf/data/targets.go, roles.go, keys.go,
 * types.go): omitempty `paths` and `custom` dropped when empty. The maps
 * keyed by outside names (key IDs, tags) are built without prototypes, so
 * a tag `__proto__` is an entry like any other.
 */
function goTargets(s: TargetsSigned): TargetsSigned {
  const d = s.delegations;
  const keys = emptyMap<TufKeyJson>();
  for (const [id, k] of Object.entries(d.keys)) keys[id] = { keytype: k.keytype, keyval: { private: k.keyval.private ?? null, public: k.keyval.public } };
  const targets = emptyMap<FileMeta>();
  for (const [name, m] of Object.entries(s.targets)) targets[name] = { hashes: m.hashes, length: m.length, ...(m.custom != null ? { custom: m.custom } : {}) };
  return {
    _type: 'Targets',
    delegations: {
      keys,
      roles: d.roles.map((r) => ({ keyids: r.keyids, name: r.name, threshold: r.threshold, ...(r.paths && r.paths.length > 0 ? { paths: r.paths } : {}) })),
    },
    expires: s.expires,
    targets,
    version: s.version,
  };
}
