/**
 * ECDSA P-256 signing with @noble/curves, the only module that imports it.
 *
 * The nonce is derived from the key and the message (RFC 6979), so the same
 * metadata signed twice gives the same bytes and signing draws no randomness.
 * The signature is what notary writes and reads for `"method": "ecdsa"`:
 * raw r‖s, 32 bytes each, over SHA-256 of the message (notary
 * tuf/signed/verifiers.go ECDSAVerifier, Go's ecdsa.Verify).
 *
 * S is normalised to the lower half of the group order (low-S). Go's
 * ecdsa.Verify takes either half, so both interoperate; low-S makes each
 * (key, message) pair have one signature only. Verification stays with
 * node:crypto (src/tuf/keys.ts), which, like Go, accepts high-S signatures:
 * others' Go signers do not normalise S.
 */
import type { p256 as P256 } from '@noble/curves/nist.js';

/**
 * noble is loaded on demand (a dynamic import, which the build splits into
 * its own chunk): only signing needs it, and loading it costs ~40 KB and
 * ~20 ms of CPU at start (its curve tables and WebCrypto set-up), which a
 * verify run should not pay. Every path that signs awaits loadSigner() first
 * (src/operations.ts perform, for every mode but verify).
 */
let p256: typeof P256 | undefined;

/** Loads the P-256 signer; signP256 works once this has resolved. Idempotent. */
export async function loadSigner(): Promise<void> {
  p256 ??= (await import('@noble/curves/nist.js')).p256;
}

/** Bytes in a P-256 private scalar, and in each of r and s. */
export const P256_BYTES = 32;

/**
 * Signs `message` (SHA-256 is applied here) with the private scalar `d`
 * (32 bytes, big-endian): 64 bytes r‖s, deterministic (RFC 6979), low-S.
 */
export function signP256(d: Uint8Array, message: Uint8Array): Buffer {
  if (d.length !== P256_BYTES) throw new RangeError(`a P-256 private scalar is ${P256_BYTES} bytes, not ${d.length}`);
  if (!p256) throw new Error('internal error: signing with ECDSA before the signer was loaded (await loadSigner() first)');
  const sig = p256.sign(message, d, { prehash: true, lowS: true, format: 'compact', extraEntropy: false });
  return Buffer.from(sig.buffer, sig.byteOffset, sig.byteLength);
}
