/**
 * ECDSA P-256 signatures as key services and tokens print them, turned into
 * what notary writes for `"method": "ecdsa"`: raw r‖s, 32 bytes each.
 * Services differ: AWS KMS and Google Cloud KMS return DER
 * (ECDSA-Sig-Value), Azure Key Vault and PKCS#11 raw r‖s; command-line
 * tools print them as binary, hex or base64. Every reading is only a
 * candidate: the caller keeps the one that verifies against the public key,
 * so a misread can never be published.
 */

/** Bytes in each of r and s. */
const HALF = 32;

/**
 * DER `SEQUENCE { INTEGER r, INTEGER s }` as r‖s, or undefined when `der`
 * is not exactly one such structure with minimal, positive integers of at
 * most 32 bytes (Go's asn1 is as strict: no trailing bytes, no padding).
 */
export function derToRaw(der: Buffer): Buffer | undefined {
  if (der.length < 8 || der[0] !== 0x30) return undefined;
  const length = der[1]!;
  // Two INTEGERs of at most 33 bytes each fit in a short-form length (< 128).
  if (length & 0x80 || length !== der.length - 2) return undefined;
  const r = readInteger(der, 2);
  if (!r) return undefined;
  const s = readInteger(der, r.end);
  if (!s || s.end !== der.length) return undefined;
  return Buffer.concat([r.value, s.value]);
}

function readInteger(b: Buffer, at: number): { value: Buffer; end: number } | undefined {
  if (at + 2 > b.length || b[at] !== 0x02) return undefined;
  const n = b[at + 1]!;
  const start = at + 2;
  const end = start + n;
  if (n === 0 || n > HALF + 1 || end > b.length) return undefined;
  let bytes = b.subarray(start, end);
  if (bytes[0]! & 0x80) return undefined; // negative
  if (bytes.length > 1 && bytes[0] === 0 && !(bytes[1]! & 0x80)) return undefined; // not minimal
  if (bytes[0] === 0) bytes = bytes.subarray(1);
  if (bytes.length > HALF || bytes.every((x) => x === 0)) return undefined;
  const value = Buffer.alloc(HALF);
  bytes.copy(value, HALF - bytes.length);
  return { value, end };
}

/** r‖s readings of binary signature bytes: 64 raw bytes, or DER. */
function fromBytes(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  if (b.length === 2 * HALF) out.push(b);
  const der = derToRaw(b);
  if (der) out.push(der);
  return out;
}

/**
 * Every r‖s the output could mean, most literal first: the bytes as they
 * are (raw or DER), then as text in hex, then in base64 (standard or URL
 * alphabet, padded or not), surrounding white space and one pair of double
 * quotes (JSON output) ignored. Empty when no reading gives 64 bytes.
 */
export function signatureCandidates(output: Buffer): Buffer[] {
  const out = fromBytes(output);
  let text = output.toString('latin1').trim();
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) text = text.slice(1, -1).trim();
  if (/^(?:[0-9A-Fa-f]{2})+$/.test(text)) out.push(...fromBytes(Buffer.from(text, 'hex')));
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) out.push(...fromBytes(Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64')));
  const unique = new Map(out.map((b) => [b.toString('hex'), b]));
  return [...unique.values()];
}
