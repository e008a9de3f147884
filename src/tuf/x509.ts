/**
 * The self-signed root certificate notary makes for a new repository
 * (notary client.go rootCertKey, tuf/utils/x509.go NewCertificate): X.509 v3,
 * random serial below 2^128, ecdsa-with-SHA256, subject = issuer = CN=<GUN>,
 * valid from now for 10 years, and exactly three extensions: KeyUsage
 * (critical) digitalSignature+keyEncipherment, ExtKeyUsage codeSigning,
 * BasicConstraints (critical) CA:FALSE.
 */
import { createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
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

export interface CertificateOptions {
  gun: string;
  /** A P-256 private key; the certificate carries its public half and is signed by it. */
  key: KeyObject;
  now?: Date;
  days?: number;
}

/** PEM text of the certificate, with the final newline notary keeps in `keyval.public`. */
export function rootCertificate(options: CertificateOptions): string {
  const { gun, key } = options;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new RangeError('a notary root certificate needs an ECDSA P-256 key');
  }
  const notBefore = new Date(Math.floor((options.now ?? new Date()).getTime() / 1000) * 1000);
  const notAfter = new Date(notBefore.getTime() + (options.days ?? ROOT_CERT_DAYS) * 86_400_000);
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // below 2^127, so positive and below 2^128
  const algorithm = der.sequence(der.oid(OID.ecdsaWithSha256));
  const name = der.sequence(der.set(der.sequence(der.oid(OID.commonName), directoryString(gun))));
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const extensions = der.sequence(
    // digitalSignature (bit 0) and keyEncipherment (bit 2): 1010 0000, five unused bits.
    der.sequence(der.oid(OID.keyUsage), der.boolean(true), der.octetString(der.bitString(Buffer.from([0xa0]), 5))),
    der.sequence(der.oid(OID.extKeyUsage), der.octetString(der.sequence(der.oid(OID.codeSigning)))),
    der.sequence(der.oid(OID.basicConstraints), der.boolean(true), der.octetString(der.sequence())),
  );
  const tbs = der.sequence(der.explicit(0, der.integer(2)), der.integer(serial), algorithm, name, der.sequence(der.time(notBefore), der.time(notAfter)), name, spki, der.explicit(3, extensions));
  const signature = sign('sha256', tbs, { key, dsaEncoding: 'der' });
  return der.pem('CERTIFICATE', der.sequence(tbs, algorithm, der.bitString(signature)));
}

/** PrintableString when every character allows it (as Go's asn1 chooses), else UTF8String. */
function directoryString(s: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(s) ? der.printableString(s) : der.utf8String(s);
}
