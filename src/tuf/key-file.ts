/**
 * Writes private keys as docker and notary store them (notary
 * tuf/utils/x509.go ConvertPrivateKeyToPKCS8, tuf/utils/pkcs8.go,
 * trustmanager/keystore.go): an `ENCRYPTED PRIVATE KEY` PEM block with sorted
 * `gun:`/`role:` headers, holding PBES2 with PBKDF2-HMAC-SHA1 (2048
 * iterations, 8-byte salt, no PRF field) and AES-256-CBC. An empty
 * passphrase gives an unencrypted `PRIVATE KEY` block, as notary does.
 * The DER is built here, so the bytes match docker's layout exactly.
 */
import { createCipheriv, createPublicKey, generateKeyPairSync, pbkdf2Sync, randomBytes, type KeyObject } from 'node:crypto';
import * as der from './der.ts';
import { keyId } from './keys.ts';

const OID = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
  ecPublicKey: '1.2.840.10045.2.1',
  prime256v1: '1.2.840.10045.3.1.7',
};
const PBKDF2_ITERATIONS = 2048;

export interface KeyFileHeaders {
  /** Docker's alias: root, targets, snapshot, or the signer name. */
  role: string;
  /** Only for targets and snapshot keys. */
  gun?: string | undefined;
}

/** A fresh ECDSA P-256 key, as `docker trust key generate` and notary make. */
export function generateKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;
}

/** The canonical key ID (docker's private file name): the TUF ID of the plain public key. */
export function publicKeyId(key: KeyObject): string {
  return keyId('ecdsa', spkiBase64(key));
}

export function spkiBase64(key: KeyObject): string {
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * Notary's PKCS#8 for a P-256 key: version 1 (sic), {id-ecPublicKey,
 * prime256v1}, and the SEC1 key with its curve and public key.
 */
export function pkcs8(key: KeyObject): Buffer {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('only ECDSA P-256 keys are written (the kind docker and notary generate)');
  }
  const sec1 = key.export({ type: 'sec1', format: 'der' });
  return der.sequence(der.integer(1), der.sequence(der.oid(OID.ecPublicKey), der.oid(OID.prime256v1)), der.octetString(sec1));
}

/** EncryptedPrivateKeyInfo (RFC 5958 / PKCS#5 PBES2) around a PKCS#8 plaintext. */
function encryptPkcs8(plain: Buffer, passphrase: string): Buffer {
  const salt = randomBytes(8);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, PBKDF2_ITERATIONS, 32, 'sha1');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  key.fill(0);
  const params = der.sequence(der.sequence(der.oid(OID.pbkdf2), der.sequence(der.octetString(salt), der.integer(PBKDF2_ITERATIONS))), der.sequence(der.oid(OID.aes256Cbc), der.octetString(iv)));
  return der.sequence(der.sequence(der.oid(OID.pbes2), params), der.octetString(encrypted));
}

/** The key file text docker writes to `private/<id>.key`. */
export function keyFilePem(key: KeyObject, passphrase: string, headers: KeyFileHeaders): string {
  const plain = pkcs8(key);
  const pemHeaders: Record<string, string> = { role: headers.role };
  if (headers.gun) pemHeaders.gun = headers.gun;
  const text = passphrase ? der.pem('ENCRYPTED PRIVATE KEY', encryptPkcs8(plain, passphrase), pemHeaders) : der.pem('PRIVATE KEY', plain, pemHeaders);
  plain.fill(0);
  return text;
}

/** The public half as `docker trust key generate` writes `<name>.pub`. */
export function publicKeyPem(key: KeyObject, role: string): string {
  return der.pem('PUBLIC KEY', Buffer.from(spkiBase64(key), 'base64'), { role });
}
