/**
 * Canonical JSON as notary signs it (docker/go canonical/json): no whitespace,
 * object keys sorted by their UTF-8 bytes, strings escaping only `"` and `\`,
 * integers only. Verifiers parse the `signed` object and re-encode it with
 * this, never trusting the raw bytes (Go HTML-escapes `<>&` on the wire).
 */
import { TrustError } from '../errors.ts';

export function canonicalize(value: unknown): Buffer {
  return Buffer.from(encode(value), 'utf8');
}

function encode(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new TrustError('METADATA_INVALID', `canonical JSON allows only integers below 2^53, found ${value}`);
      }
      return String(value);
    case 'string':
      return encodeString(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map(encode).join(',')}]`;
      return encodeObject(value as Record<string, unknown>);
    default:
      throw new TrustError('METADATA_INVALID', `canonical JSON cannot encode a ${typeof value}`);
  }
}

function encodeString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function encodeObject(obj: Record<string, unknown>): string {
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  // Go sorts map keys by bytes; JS compares UTF-16 code units, which differ
  // above U+FFFF and between surrogates and U+E000..U+FFFF.
  keys.sort(compareUtf8);
  return `{${keys.map((k) => `${encodeString(k)}:${encode(obj[k])}`).join(',')}}`;
}

function compareUtf8(a: string, b: string): number {
  if (isAscii(a) && isAscii(b)) return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isAscii(s: string): boolean {
  return /^\p{ASCII}*$/u.test(s);
}
