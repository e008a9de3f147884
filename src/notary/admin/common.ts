/**
 * What every administrative operation shares: which roles a key may sign,
 * reading a signer's public keys and tag patterns, naming signers as docker
 * does, and the rules a signer's keys and paths keep. The owner's root and
 * repository keys are owner-keys.ts's; starting a role's next version is
 * sign-plan's (startFrom, bump).
 */
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { keyId, parsePublicKey, type TufKeyJson } from '../../tuf/keys.ts';
import { ownerKeyType, parsePemBlocks, type SigningKey } from '../../tuf/private-key.ts';
import { pem } from '../../tuf/der.ts';
import type { Delegations } from '../../tuf/metadata.ts';
import { allowsEveryTag, narrowPaths, pathsText, signerName, type TrustedRepo } from '../model.ts';
import { InputError, messageOf } from '../../errors.ts';
import { delegationsOf, keyIdsOf } from '../sign-plan.ts';

export const ROOT_DAYS = 3650;
export const TARGETS_DAYS = 1095;
const SIGNER_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/** `targets/<name>` for a docker signer name; `releases` is reserved. */
export function signerRole(name: string): string {
  if (!SIGNER_NAME.test(name) || name.length > 64) {
    throw new InputError('INPUT_INVALID', `signer name "${name}" is not valid: lowercase letters, digits, _ and -, starting with a letter or digit`);
  }
  if (name === 'releases') throw new InputError('INPUT_INVALID', 'signer name "releases" is reserved: targets/releases holds every signer\'s key');
  return `targets/${name}`;
}

interface Signable {
  role: string;
  key: SigningKey;
  keyIds: string[];
}

/** Every role these keys may sign: targets for the repository key, direct children of targets for delegation keys. */
export function signableBy(repo: TrustedRepo, keys: readonly SigningKey[]): Signable[] {
  const out: Signable[] = [];
  for (const key of keys) {
    const targetIds = keyIdsOf(repo.root.signed.roles.targets.keyids, repo.rootKeys, key);
    if (targetIds.length > 0) out.push({ role: 'targets', key, keyIds: targetIds });
    for (const { role, keyIds } of delegationsOf(repo, key)) {
      if (!out.some((s) => s.role === role.name)) out.push({ role: role.name, key, keyIds });
    }
  }
  return out;
}

/** Drops keys no delegation role lists any more (notary tuf.go RemoveUnusedKeys). */
export function dropUnusedKeys(d: Delegations): void {
  const used = new Set(d.roles.flatMap((r) => r.keyids));
  for (const id of Object.keys(d.keys)) if (!used.has(id)) delete d.keys[id];
}

export interface SignerKey {
  id: string;
  json: TufKeyJson;
}

/**
 * A signer's public keys as `docker trust signer add --key` takes them: PEM
 * `PUBLIC KEY` blocks become `ecdsa` (or `rsa`) keys, `CERTIFICATE` blocks
 * `ecdsa-x509`/`rsa-x509` keys with the certificate PEM as the value. Errors
 * name the signer and `label` (the caller's input or flag).
 */
export function parseSignerKeys(text: string, signer: string, label = 'the signer key'): SignerKey[] {
  const name = `signer "${signer}": ${label}`;
  const all = parsePemBlocks(text);
  const blocks = all.filter((b) => b.label === 'PUBLIC KEY' || b.label === 'CERTIFICATE');
  if (blocks.length === 0) {
    // Never echo what was given: a private key pasted here is a secret.
    const why = all.some((b) => b.label.endsWith('PRIVATE KEY')) ? 'is a private key; give its public half instead (keep the private key secret)' : 'is not a PEM public key or certificate';
    throw new InputError('KEY_INVALID', `${name} ${why}: expected "-----BEGIN PUBLIC KEY-----", e.g. the <name>.pub that \`docker trust key generate\` writes`);
  }
  return blocks.map((b, i) => {
    const which = blocks.length > 1 ? `${name} (block ${i + 1}, ${b.label})` : name;
    let keyObject: KeyObject;
    let certificate: X509Certificate | undefined;
    try {
      if (b.label === 'CERTIFICATE') certificate = new X509Certificate(b.der);
      keyObject = certificate ? certificate.publicKey : createPublicKey({ key: b.der, format: 'der', type: 'spki' });
    } catch (e) {
      throw new InputError('KEY_INVALID', `${which}: the ${b.label} cannot be read (${messageOf(e)}): give the PEM file as \`docker trust key generate\` wrote it`, { cause: e });
    }
    const base = ownerKeyType(keyObject, which);
    if (certificate) {
      const type = `${base}-x509`;
      const pub = Buffer.from(pem('CERTIFICATE', b.der)).toString('base64');
      return { id: keyId(type, pub), json: { keytype: type, keyval: { private: null, public: pub } } };
    }
    const pub = b.der.toString('base64');
    return { id: keyId(base, pub), json: { keytype: base, keyval: { private: null, public: pub } } };
  });
}

/** A tag's first character and the rest (docker/distribution reference: [\w][\w.-]{0,127}). */
const TAG_PREFIX = /^(?:[A-Za-z0-9_][A-Za-z0-9_.-]{0,126})?$/;
const GLOB = /[*?[\]{}!]/;

/**
 * A signer's tag patterns as notary's delegation `paths`. Notary and docker
 * match paths as prefixes of the target name (tuf/data/roles.go), so the
 * only pattern that means what it says is a prefix followed by `*`
 * ("v1.*", "release-*"; "*" alone is every tag, notary's ""). A pattern
 * without the trailing `*` would silently match more than the tag written,
 * and any other glob character would not be matched at all: both are
 * refused, naming the pattern. `label` names the input or flag.
 */
export function parseSignerPaths(patterns: readonly string[], signer: string, label: string): string[] {
  const out: string[] = [];
  for (const raw of patterns) {
    const p = raw.trim();
    const where = `signer "${signer}": ${label} pattern ${JSON.stringify(p)}`;
    if (!p.endsWith('*')) {
      throw new InputError(
        'INPUT_INVALID',
        `${where} does not end in *: notary and docker match a signer's paths as tag prefixes, so write each pattern as a prefix followed by * (e.g. "v1.*", "release-*", or "*" for every tag); a pattern cannot name one exact tag`,
      );
    }
    const prefix = p.slice(0, -1);
    const glob = GLOB.exec(prefix);
    if (glob) {
      throw new InputError('INPUT_INVALID', `${where} holds the glob character "${glob[0]}" before its end: notary matches paths as plain prefixes, so only a trailing * is supported (e.g. "v1.*")`);
    }
    if (!TAG_PREFIX.test(prefix)) {
      throw new InputError('INPUT_INVALID', `${where} is not the start of a tag: tags are letters, digits, _, . and -, start with a letter, digit or _, and are at most 128 characters`);
    }
    if (!out.includes(prefix)) out.push(prefix);
  }
  if (out.length === 0) throw new InputError('INPUT_INVALID', `signer "${signer}": ${label} is empty: give tag patterns such as "v1.*", or leave it unset for every tag`);
  return out.includes('') ? [''] : out;
}

/** The same paths, in any order. */
export function samePaths(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = new Set(a ?? []);
  const y = new Set(b ?? []);
  return x.size === y.size && [...x].every((p) => y.has(p));
}

/** Each listed key's canonical ID (a certificate counts as its key), read once; a key that cannot be read keeps its listed ID. */
function canonicalIds(d: Delegations): Map<string, string> {
  const out = new Map<string, string>();
  for (const [id, json] of Object.entries(d.keys)) {
    try {
      out.set(id, parsePublicKey(json).canonicalId);
    } catch {
      out.set(id, id);
    }
  }
  return out;
}

/**
 * A path restriction holds only if no role allowed wider tags lists one of
 * the restricted signer's keys: notary and docker accept an entry from any
 * role whose key signed it, so a key of `targets/ci` (tags "v*") also listed
 * by `targets/releases` ("" , every tag) could sign any tag into releases,
 * which is what a DCT pull reads. Throws SIGNER_PATHS_CONFLICT for the first
 * such key shared with a role in `involving`.
 */
export function checkPathConflicts(d: Delegations, involving: readonly string[], gun: string): void {
  const direct = d.roles.filter((r) => r.name.split('/').length === 2);
  const ids = canonicalIds(d);
  const canonicalOf = (id: string) => ids.get(id) ?? id;
  for (const a of direct) {
    if (allowsEveryTag(a.paths)) continue;
    const aKeys = new Map(a.keyids.map((id) => [canonicalOf(id), id]));
    for (const b of direct) {
      if (b === a || !(involving.includes(a.name) || involving.includes(b.name))) continue;
      const bPaths = b.paths ?? [];
      if (narrowPaths(a.paths ?? [], bPaths).length === bPaths.length) continue; // b allows nothing a does not
      const shared = b.keyids.map((id) => aKeys.get(canonicalOf(id))).find((id) => id !== undefined);
      if (shared === undefined) continue;
      throw new InputError(
        'SIGNER_PATHS_CONFLICT',
        `${gun}: key ${shared} would be listed by ${b.name} (${pathsText(b.paths)}) as well as by ${a.name}, which may sign only ${pathsText(a.paths)}: with it, ${signerName(a.name)} could sign any tag ${b.name} allows, and its restriction would mean nothing. A signer restricted to tag patterns needs keys no other role lists: generate one for it`,
      );
    }
  }
}

/** The canonical IDs of a signer's public keys (a certificate counts as its key): how remove-signer names the keys to remove. */
export function signerKeyIds(keys: readonly SignerKey[]): string[] {
  return keys.map((k) => parsePublicKey(k.json).canonicalId);
}
