/**
 * The self-signed root certificate notary makes for a new repository
 * (notary client.go rootCertKey, tuf/utils/x509.go NewCertificate): X.509 v3,
 * random serial below 2^128, ecdsa-with-SHA256, subject = issuer = CN=<GUN>,
 * valid from now for 10 years, and exactly three extensions: KeyUsage
 * (critical) digitalSignature+keyEncipherment, ExtKeyUsage codeSigning,
 * BasicConstraints (critical) CA:FALSE.
 *
 * One builder for every root key, wherever its private half is: the
 * to-be-signed bytes are made here and handed to the key's signer, which
 * signs their SHA-256 and returns raw r‖s as TUF signatures are (a key file
 * in this process, a PKCS#11 token, a key service); X.509 carries the
 * signature as DER, converted here. The finished certificate is checked
 * against the public key before it is returned, so a signer that signs
 * anything else never yields a root certificate.
 */
import { createPublicKey, KeyObject, randomBytes, sign, X509Certificate } from 'node:crypto';
import * as der from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  basicConstraints: '2.5.29.19',
  codeSigning: '1.3.6.1.5.5.7.3.3',
};

const ROOT_CERT_DAYS = 3650;

/**
 * A root key as the builder needs it (a SigningKey of src/tuf/private-key.ts
 * is one): its public half as base64 SubjectPublicKeyInfo, and a signer
 * returning ECDSA P-256 r‖s over SHA-256 of the message.
 */
interface CertificateSigner {
  readonly keytype: string;
  readonly public: string;
  sign(message: Buffer): { method: string; sig: Buffer };
}

interface CertificateOptions {
  gun: string;
  /** The root key: a P-256 private key object, or any signer of it (a key on a token); the certificate carries its public half and is signed by it. */
  key: KeyObject | CertificateSigner;
  now?: Date;
  days?: number;
}

/** PEM text of the certificate, with the final newline notary keeps in `keyval.public`. */
export function rootCertificate(options: CertificateOptions): string {
  const { gun } = options;
  const { publicKey, signRaw } = signerOf(options.key);
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('a notary root certificate needs an ECDSA P-256 key');
  }
  const notBefore = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? ROOT_CERT_DAYS) * 86_400_000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // below 2^127, so positive and below 2^128
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const name = der.sequence(der.set(der.sequence(der.oid(OID.commonName), directoryString(gun))));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const extensions = der.sequence(
    // digitalSignature (bit 0) and keyEncipherment (bit 2): 1010 0000, five unused bits.
    der.sequence(der.oid(OID.keyUsage), der.boolean(true), der.octetString(der.bitString(Buffer.from([0xa0]), 5))),
    der.sequence(der.oid(OID.extKeyUsage), der.octetString(der.sequence(der.oid(OID.codeSigning)))),
    der.sequence(der.oid(OID.basicConstraints), der.boolean(true), der.octetString(der.sequence())),
  );
  const tbs = der.sequence(der.explicit(0, der.integer(2)), der.integer(serial), algorithm, name, der.sequence(der.time(notBefore), der.time(notAfter)), name, spki, der.explicit(3, extensions));
  const certificate = der.sequence(tbs, algorithm, der.bitString(der.ecdsaSigValue(signRaw(tbs))));
  if (!new X509Certificate(certificate).verify(publicKey)) throw new RangeError('the root key signed the certificate with a signature its public key does not verify');
  return der.pem('CERTIFICATE', certificate);
}

/** The public key and an r‖s signer of either kind of root key. */
function signerOf(key: KeyObject | CertificateSigner): { publicKey: KeyObject; signRaw: (message: Buffer) => Buffer } {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new RangeError('a notary root certificate is signed by its private key');
    return { publicKey: createPublicKey(key), signRaw: (m) => sign('sha256', m, { key, dsaEncoding: 'ieee-p1363' }) };
  }
  if (key.keytype !== 'ecdsa') throw new RangeError('a notary root certificate needs an ECDSA P-256 key');
  const publicKey = createPublicKey({ key: Buffer.from(key.public, 'base64'), format: 'der', type: 'spki' });
  return {
    publicKey,
    signRaw: (m) => {
      const { method, sig } = key.sign(m);
      if (method !== 'ecdsa' || sig.length !== 64) throw new RangeError(`the root key signed with ${method} (${sig.length} bytes), not ECDSA P-256 r‖s`);
      return sig;
    },
  };
}

/** PrintableString when every character allows it (as Go's asn1 chooses), else UTF8String. */
function directoryString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? der.printableString(s) : der.utf8String(s);
}
