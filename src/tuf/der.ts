/**
 * A small DER encoder: just the ASN.1 types that a root certificate and an
 * encrypted PKCS#8 key need. Every function returns one complete TLV.
 */

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const long = n < 0x80 ? undefined : bigEndian(n);
  const len = long ? [0x80 | long.length, ...long] : [n];
  return Buffer.concat([Buffer.from([tag, ...len]), content]);
}

/** The minimal big-endian bytes of a non-negative integer (none for 0). */
function bigEndian(n: number): number[] {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return bytes;
}

export const sequence = (...items: Buffer[]): Buffer => tlv(0x30, Buffer.concat(items));
export const set = (...items: Buffer[]): Buffer => tlv(0x31, Buffer.concat(items));
export const octetString = (b: Buffer): Buffer => tlv(0x04, b);
export const boolean = (v: boolean): Buffer => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
export const utf8String = (s: string): Buffer => tlv(0x0c, Buffer.from(s, 'utf8'));
export const printableString = (s: string): Buffer => tlv(0x13, Buffer.from(s, 'ascii'));
/** Context-specific constructed tag [n] (EXPLICIT). */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(0xa0 | n, inner);

/** A BIT STRING of `bytes` whose last `unusedBits` bits are padding (zero). */
export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** A non-negative INTEGER from a number or big-endian bytes (minimal, with a 0 pad when the top bit is set). */
export function integer(value: number | Buffer): Buffer {
  let b: Buffer;
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`DER integer out of range: ${value}`);
    b = Buffer.from(value === 0 ? [0] : bigEndian(value));
  } else {
    let i = 0;
    while (i < value.length - 1 && value[i] === 0) i++;
    b = value.subarray(i);
    if (b.length === 0) b = Buffer.from([0]);
  }
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

/**
 * An ECDSA signature as X.509 carries it (ECDSA-Sig-Value, RFC 3279):
 * DER `SEQUENCE { INTEGER r, INTEGER s }` from raw r‖s, the form TUF
 * signatures and tokens use (`half` bytes each: 32 for P-256).
 */
export function ecdsaSigValue(raw: Buffer, half = 32): Buffer {
  if (raw.length !== 2 * half) throw new RangeError(`an ECDSA signature r‖s of ${half}-byte halves is ${2 * half} bytes, not ${raw.length}`);
  return sequence(integer(raw.subarray(0, half)), integer(raw.subarray(half)));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [parts[0]! * 40 + parts[1]!];
  for (const p of parts.slice(2)) {
    const group: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) group.unshift((v & 0x7f) | 0x80);
    out.push(...group);
  }
  return tlv(0x06, Buffer.from(out));
}

/** X.509 Time: UTCTime before 2050, GeneralizedTime from 2050 (RFC 5280 §4.1.2.5), whole seconds, Z. */
export function time(d: Date): Buffer {
  const iso = d.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-:T]/g, '');
  const year = d.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${digits}Z`, 'ascii'));
}

/** PEM armour: base64 in 64-column lines, optional `key: value` headers (sorted, as Go writes them). */
export function pem(label: string, der: Buffer, headers: Record<string, string> = {}): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  const names = Object.keys(headers).sort();
  const head = names.length ? `${names.map((k) => `${k}: ${headers[k]}`).join('\n')}\n\n` : '';
  return `-----BEGIN ${label}-----\n${head}${lines.join('\n')}\n-----END ${label}-----\n`;
}
