// Loaded before every test file (scripts/test.mjs passes it with --import).
// The product loads its ECDSA signer (@noble/curves, a chunk of its own in
// dist/) on demand: src/operations.ts perform() awaits loadSigner() before any
// mode that may sign. Tests that call the planners, toSigningKey or signP256
// directly, without perform(), get the signer loaded here instead.
import { loadSigner } from '../src/tuf/ecdsa.ts';

await loadSigner();
