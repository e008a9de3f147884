/**
 * Private keys as docker and notary store them: encrypted PKCS#8 PEM with
 * `role:`/`gun:` headers (PBES2, PBKDF2-HMAC-SHA1, AES-256-CBC), unencrypted
 * PKCS#8, SEC1 `EC PRIVATE KEY`, and legacy `Proc-Type: 4,ENCRYPTED` blocks.
 * The key never leaves memory. Key types are those a docker repository can
 * list for a key held by its owner: ECDSA P-256 (what docker generates) and
 * RSA of at least 2048 bits (notary refuses smaller RSA certificates).
 * Ed25519 is only ever a server-held key: docker adds no ed25519 signer and
 * no root certificate carries one.
 */
import { createPrivateKey, createPublicKey, sign as signWith, constants, type KeyObject } from 'node:crypto';
import { keyId } from './keys.ts';
import { P256_BYTES, signP256 } from './ecdsa.ts';

export { loadSigner } from './ecdsa.ts';
import { InputError } from '../errors.ts';

export interface SigningKey {
  /** Canonical key ID (the ID of the plain public key). */
  readonly id: string;
  readonly keytype: 'ecdsa' | 'rsa';
  readonly public: string;
  /** The `role:` header, when the PEM has one (docker: the signer name). */
  readonly role: string | undefined;
  readonly gun: string | undefined;
  /** Where the private half is held when not in this process (e.g. `token "ci", key "dct-root", id 10`), for messages; undefined for a key file. */
  readonly holder?: string | undefined;
  sign(message: Buffer): { method: string; sig: Buffer };
}

interface PemBlock {
  label: string;
  headers: Map<string, string>;
  der: Buffer;
  text: string;
}

const PRIVATE_LABELS = ['ENCRYPTED PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'RSA PRIVATE KEY'];

export function parsePemBlocks(input: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
  for (const m of input.matchAll(re)) {
    const headers = new Map<string, string>();
    const body: string[] = [];
    for (const line of m[2]!.split(/\r?\n/)) {
      const h = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
      if (h && body.length === 0) headers.set(h[1]!.toLowerCase(), h[2]!.trim());
      else if (line.trim()) body.push(line.trim());
    }
    blocks.push({ label: m[1]!, headers, der: Buffer.from(body.join(''), 'base64'), text: m[0] });
  }
  return blocks;
}

/** Accepts the PEM text, or the PEM base64-encoded once (a common way to store secrets). */
function pemText(input: string, label: KeyLabel): string {
  const trimmed = input.trim();
  if (trimmed.includes('-----BEGIN')) return trimmed;
  if (/^[A-Za-z0-9+/=\s]+$/.test(trimmed)) {
    const decoded = Buffer.from(trimmed, 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN')) return decoded;
  }
  throw new InputError('KEY_INVALID', `${label.name} is not a PEM private key (expected "-----BEGIN ENCRYPTED PRIVATE KEY-----" as written by \`docker trust key generate\`, or PKCS#8 / EC PRIVATE KEY PEM)`);
}

/**
 * How errors name the key and where its passphrase comes from; the caller
 * knows (an action input, a CLI flag, an environment variable).
 */
interface KeyLabel {
  /** e.g. "the delegation key" */
  name: string;
  /** e.g. "the `delegation-passphrase` input" */
  passphrase: string;
}

const DEFAULT_LABEL: KeyLabel = { name: 'the private key', passphrase: 'its passphrase' };

export function parsePrivateKey(input: string, passphrase: string | undefined, label: KeyLabel = DEFAULT_LABEL): SigningKey {
  const { keyObject, role, gun } = readPrivateKey(input, passphrase, label);
  return toSigningKey(keyObject, role, gun, label);
}

/** The decrypted key object and its `role:`/`gun:` headers (for re-encrypting or certifying it). */
export function readPrivateKey(input: string, passphrase: string | undefined, label: KeyLabel = DEFAULT_LABEL): { keyObject: KeyObject; role: string | undefined; gun: string | undefined } {
  const blocks = parsePemBlocks(pemText(input, label));
  const block = blocks.find((b) => PRIVATE_LABELS.includes(b.label));
  if (!block)
    throw noPrivateKey(
      blocks.map((b) => b.label),
      label,
    );
  return { keyObject: decode(block, passphrase, label), role: block.headers.get('role'), gun: block.headers.get('gun') };
}

/** Why PEM without a private key block is refused, by what it holds instead. */
function noPrivateKey(labels: readonly string[], label: KeyLabel): InputError {
  const use = 'pass the private key file docker keeps in ~/.docker/trust/private/ (or one `docker trust key generate` made)';
  if (labels.some((l) => /^(ED25519|OPENSSH|DSA) PRIVATE KEY$/.test(l))) {
    const found = labels.find((l) => l.endsWith('PRIVATE KEY'))!;
    return new InputError('KEY_UNSUPPORTED', `${label.name} is a ${found} block; docker signs with ECDSA P-256 (or RSA) keys: ${use}`);
  }
  if (labels.includes('CERTIFICATE')) return new InputError('KEY_INVALID', `${label.name} is a certificate, the public half of a key: ${use}`);
  if (labels.some((l) => l.endsWith('PUBLIC KEY'))) return new InputError('KEY_INVALID', `${label.name} is a public key (a .pub file), not a private key: ${use}`);
  const found = labels.length ? ` (found ${labels.join(', ')})` : '';
  return new InputError('KEY_INVALID', `${label.name} holds no private key block${found}: expected ENCRYPTED PRIVATE KEY, PRIVATE KEY or EC PRIVATE KEY; ${use}`);
}

function decode(block: PemBlock, passphrase: string | undefined, label: KeyLabel): KeyObject {
  const legacy = block.headers.get('proc-type')?.includes('ENCRYPTED') ?? false;
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || legacy;
  if (encrypted && !passphrase) {
    throw new InputError('PASSPHRASE_MISSING', `${label.name} is encrypted but no passphrase was given: set ${label.passphrase}`);
  }
  if (block.label === 'ENCRYPTED PRIVATE KEY' && !isEncryptedKeyInfo(block.der)) {
    throw new InputError('KEY_INVALID', `${label.name} is damaged: its ENCRYPTED PRIVATE KEY block is not a whole encrypted PKCS#8 structure (a truncated or altered secret?); pass the entire key file as \`docker trust key generate\` wrote it`);
  }
  try {
    if (legacy) return createPrivateKey({ key: block.text, format: 'pem', passphrase });
    switch (block.label) {
      case 'ENCRYPTED PRIVATE KEY':
        // Node refuses PEM with notary's `role:` headers; DER does not care.
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8', passphrase });
      case 'PRIVATE KEY':
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs8' });
      case 'EC PRIVATE KEY':
        return createPrivateKey({ key: block.der, format: 'der', type: 'sec1' });
      default:
        return createPrivateKey({ key: block.der, format: 'der', type: 'pkcs1' });
    }
  } catch (e) {
    if (encrypted && isDecryptFailure(e)) {
      throw new InputError('PASSPHRASE_WRONG', `the passphrase does not decrypt ${label.name}: check that ${label.passphrase} holds the passphrase the key was encrypted with (the one given to \`docker trust key generate\`)`, { cause: e });
    }
    throw new InputError('KEY_INVALID', `${label.name} cannot be read (${block.label}): ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Whether the DER is one whole EncryptedPrivateKeyInfo, SEQUENCE { SEQUENCE,
 * OCTET STRING }. That much is readable without the passphrase, so a
 * truncated or altered key is KEY_INVALID rather than taken for a wrong
 * passphrase (OpenSSL reports both as ASN.1 errors).
 */
function isEncryptedKeyInfo(der: Buffer): boolean {
  const outer = readTlv(der, 0);
  if (!outer || outer.tag !== 0x30 || outer.end !== der.length) return false;
  const algorithm = readTlv(der, outer.start);
  if (!algorithm || algorithm.tag !== 0x30) return false;
  const data = readTlv(der, algorithm.end);
  return data !== undefined && data.tag === 0x04 && data.end === outer.end && data.end > data.start;
}

function readTlv(b: Buffer, at: number): { tag: number; start: number; end: number } | undefined {
  if (at + 2 > b.length) return undefined;
  let length = b[at + 1]!;
  let start = at + 2;
  if (length & 0x80) {
    const n = length & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) return undefined;
    length = 0;
    for (let i = 0; i < n; i++) length = length * 256 + b[start + i]!;
    start += n;
  }
  return start + length <= b.length ? { tag: b[at]!, start, end: start + length } : undefined;
}

function isDecryptFailure(e: unknown): boolean {
  const text = `${(e as { code?: string }).code ?? ''} ${(e as Error).message ?? ''}`;
  // A wrong passphrase can also leave valid padding (about 1 in 256 tries) and
  // garbage that then fails as ASN.1: that is a wrong passphrase too.
  return /decrypt|bad password|ERR_OSSL_BAD_DECRYPT|EVP_|unsupported|wrong tag|ERR_OSSL_DECODER|asn1/i.test(text);
}

/** Notary (tuf/utils ValidateCertificate) refuses smaller RSA keys. */
const MIN_RSA_BITS = 2048;
const USE_P256 = 'use an ECDSA P-256 key as `docker trust key generate` makes';

/**
 * The TUF key type of a key its owner holds (a signer, a repository or root
 * key), or KEY_UNSUPPORTED naming it (`name`: "the delegation key", "the
 * signer-key input") and why. Private and public halves alike.
 */
export function ownerKeyType(keyObject: KeyObject, name: string): 'ecdsa' | 'rsa' {
  const type = keyObject.asymmetricKeyType;
  if (type === 'ec') {
    const curve = keyObject.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa';
    throw new InputError('KEY_UNSUPPORTED', `${name} is an ECDSA key on curve ${curve}; notary signs with P-256 (prime256v1) only: ${USE_P256}`);
  }
  if (type === 'rsa') {
    const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits >= MIN_RSA_BITS) return 'rsa';
    throw new InputError('KEY_UNSUPPORTED', `${name} is an RSA key of ${bits} bits; notary takes RSA keys of ${MIN_RSA_BITS} bits or more: ${USE_P256}`);
  }
  throw new InputError('KEY_UNSUPPORTED', `${name} is ${type === 'ed25519' ? 'an ed25519' : `a ${type ?? 'symmetric'}`} key; docker repositories list their owners' keys as ECDSA P-256 (or RSA), so this key could sign for no role: ${USE_P256}`);
}

/**
 * The signer for a key its owner holds. ECDSA P-256 signs deterministically
 * (RFC 6979, src/tuf/ecdsa.ts): the same metadata gives the same bytes.
 * RSA signs with node:crypto as RSASSA-PSS, which is randomised by design
 * (a fresh salt per signature), so RSA-signed files differ run to run.
 */
export function toSigningKey(keyObject: KeyObject, role: string | undefined, gun: string | undefined, label: KeyLabel = DEFAULT_LABEL): SigningKey {
  const keytype = ownerKeyType(keyObject, label.name);
  const spki = createPublicKey(keyObject).export({ type: 'spki', format: 'der' }).toString('base64');
  let sign: SigningKey['sign'];
  if (keytype === 'ecdsa') {
    // Read once, kept only in this closure: never written or logged.
    const d = privateScalar(keyObject, label);
    sign = (m) => ({ method: 'ecdsa', sig: signP256(d, m) });
  } else {
    sign = (m) => ({ method: 'rsapss', sig: signWith('sha256', m, { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }) });
  }
  return { id: keyId(keytype, spki), keytype, public: spki, role, gun, sign };
}

/** The private scalar of a P-256 key, 32 bytes big-endian (the JWK's `d`, left-padded should it be shorter). */
function privateScalar(keyObject: KeyObject, label: KeyLabel): Uint8Array {
  const d = Buffer.from(keyObject.export({ format: 'jwk' }).d ?? '', 'base64url');
  if (d.length === 0 || d.length > P256_BYTES) throw new InputError('KEY_INVALID', `${label.name} cannot be read: its P-256 private scalar is ${d.length} bytes`);
  const out = new Uint8Array(P256_BYTES);
  out.set(d, P256_BYTES - d.length);
  d.fill(0);
  return out;
}
