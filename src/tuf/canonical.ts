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

const NEEDS_ESCAPE = /[\\"]/;

function encodeString(s: string): string {
  // Most strings (tags, hashes, key IDs) need no escape: skip the replace.
  return NEEDS_ESCAPE.test(s) ? `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"` : `"${s}"`;
}

/** A UTF-16 code unit where JavaScript's order and UTF-8's byte order part: a surrogate, or U+E000..U+FFFF. */
const ORDER_DIFFERS = /[\uD800-\uFFFF]/;

function encodeObject(obj: Record<string, unknown>): string {
  // One pass over the keys: those with a value, and whether any needs the byte order.
  const keys = Object.keys(obj);
  let byBytes = false;
  let n = 0;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (obj[k] === undefined) continue;
    keys[n++] = k;
    if (!byBytes && ORDER_DIFFERS.test(k)) byBytes = true;
  }
  keys.length = n;
  // Go sorts map keys by bytes. Below U+D800, JavaScript's UTF-16 order is
  // UTF-8's byte order, so the default sort does (a delegation file of 5,000
  // tags has 5,000 keys: one pass over them, not a check per comparison).
  // Past it, UTF-16 puts surrogates before U+E000..U+FFFF and UTF-8 after:
  // compare the bytes (a lone surrogate encodes as U+FFFD, as Go writes it).
  if (byBytes) {
    const bytes = new Map(keys.map((k) => [k, Buffer.from(k, 'utf8')]));
    keys.sort((a, b) => Buffer.compare(bytes.get(a)!, bytes.get(b)!));
  } else {
    keys.sort();
  }
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += encodeString(k);
    out += ':';
    out += encode(obj[k]);
  }
  return `${out}}`;
}
