/**
 * Public keys as notary writes them, their IDs, and signature verification.
 * Key types and methods: notary tuf/data/keys.go, tuf/signed/verifiers.go.
 */
import { createHash, createPublicKey, verify, constants, X509Certificate, type KeyObject } from 'node:crypto';
import { canonicalize } from './canonical.ts';
import { TrustError } from '../errors.ts';

export interface TufKeyJson {
  keytype: string;
  keyval: { public: string; private?: string | null };
}

export interface PublicKey {
  /** TUF key ID: sha256 of the canonical key JSON. */
  readonly id: string;
  readonly keytype: string;
  /** keyval.public exactly as published (base64). */
  readonly public: string;
  /**
   * Canonical ID (notary tuf/utils/x509.go): for *-x509 keys, the ID of the
   * leaf certificate's public key as a plain key; else the TUF ID. Private
   * key files are named by it and a signer's key is matched by it.
   */
  readonly canonicalId: string;
  readonly keyObject: KeyObject | undefined;
  readonly certificate: X509Certificate | undefined;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function keyId(keytype: string, publicB64: string): string {
  const json = { keytype, keyval: { private: null, public: publicB64 } };
  return createHash('sha256').update(canonicalize(json)).digest('hex');
}

/** Parses one entry of a `keys` map. Unknown key types parse but verify nothing. */
export function parsePublicKey(json: TufKeyJson): PublicKey {
  // Shapes come from untrusted files: check them before touching them.
  const shape = json as unknown as { keytype?: unknown; keyval?: { public?: unknown } | null } | null;
  if (typeof shape !== 'object' || shape === null || typeof shape.keytype !== 'string' || typeof shape.keyval !== 'object' || shape.keyval === null || typeof shape.keyval.public !== 'string') {
    throw new TrustError('METADATA_INVALID', 'a key entry is not {"keytype": string, "keyval": {"public": base64}}');
  }
  const { keytype } = json;
  const pub = json.keyval.public;
  const id = keyId(keytype, pub);
  const raw = Buffer.from(pub, 'base64');
  try {
    switch (keytype) {
      case 'ecdsa':
      case 'rsa': {
        const keyObject = createPublicKey({ key: raw, format: 'der', type: 'spki' });
        return { id, keytype, public: pub, canonicalId: id, keyObject, certificate: undefined };
      }
      case 'ed25519': {
        if (raw.length !== 32) throw new Error('an ed25519 key has 32 bytes');
        const keyObject = createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
        return { id, keytype, public: pub, canonicalId: id, keyObject, certificate: undefined };
      }
      case 'ecdsa-x509':
      case 'rsa-x509': {
        const certificate = new X509Certificate(raw);
        const keyObject = certificate.publicKey;
        const spki = keyObject.export({ type: 'spki', format: 'der' }).toString('base64');
        const canonicalId = keyId(keytype === 'ecdsa-x509' ? 'ecdsa' : 'rsa', spki);
        return { id, keytype, public: pub, canonicalId, keyObject, certificate };
      }
      default:
        return { id, keytype, public: pub, canonicalId: id, keyObject: undefined, certificate: undefined };
    }
  } catch (e) {
    throw new TrustError('METADATA_INVALID', `key ${id} (${keytype}) cannot be parsed: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Parses a `keys` map and checks each ID against its content
 * (notary tuf/signed/verify.go: a mismatch is a hard error).
 */
export function parseKeyMap(keys: Record<string, TufKeyJson>, where: string): Map<string, PublicKey> {
  const out = new Map<string, PublicKey>();
  for (const [declared, json] of Object.entries(keys)) {
    const key = parsePublicKey(json);
    if (key.id !== declared) {
      throw new TrustError('KEY_ID_MISMATCH', `${where}: key listed as ${declared} hashes to ${key.id}; the metadata is corrupt or forged`);
    }
    out.set(declared, key);
  }
  return out;
}

/** One signature check. Notary's ecdsa is raw r||s over SHA-256, high-S allowed. */
export function verifySignature(key: PublicKey, method: string, message: Buffer, sig: Buffer): boolean {
  const k = key.keyObject;
  if (!k) return false;
  try {
    switch (method) {
      case 'ecdsa':
        if (k.asymmetricKeyType !== 'ec' || sig.length !== 64) return false;
        return verify('sha256', message, { key: k, dsaEncoding: 'ieee-p1363' }, sig);
      case 'eddsa':
        return k.asymmetricKeyType === 'ed25519' && verify(null, message, k, sig);
      case 'rsapss':
        return k.asymmetricKeyType === 'rsa' && verify('sha256', message, { key: k, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, sig);
      case 'rsapkcs1v15':
        return k.asymmetricKeyType === 'rsa' && verify('sha256', message, { key: k, padding: constants.RSA_PKCS1_PADDING }, sig);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
