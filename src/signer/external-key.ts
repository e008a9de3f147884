/**
 * A signing key whose private half stays outside this process (a PKCS#11
 * token, a cloud key service): a SigningKey like a key file's, whose sign()
 * hands SHA-256 of the message to an outside signer and checks what comes
 * back against the public key before anything uses it. Signing stays
 * synchronous, as every planner expects: outside programs are run with
 * spawnSync, with a deadline and bounded output.
 */
import { createHash, verify, type KeyObject } from 'node:crypto';
import { spawnSync, type SpawnSyncOptionsWithBufferEncoding, type SpawnSyncReturns } from 'node:child_process';
import { InputError } from '../errors.ts';
import { keyId } from '../tuf/keys.ts';
import { ownerKeyType, type SigningKey } from '../tuf/private-key.ts';
import { bounded } from '../util/untrusted-text.ts';
import { PASSPHRASE_VARIABLES } from '../passphrase-variables.ts';

/** What an outside signer returns for a SHA-256 digest: its output, to be read as r‖s (src/signer/signature.ts). */
type DigestSigner = (digest: Buffer) => Buffer[];

interface ExternalKeyOptions {
  publicKey: KeyObject;
  /** How errors name the key, e.g. "the delegation-key input (pkcs11:…, token "ci", key "dct-signer")". */
  name: string;
  /** What went wrong when no candidate verifies, and what to do. */
  mismatch: (keyId: string, candidates: number) => string;
  signDigest: DigestSigner;
  /** Where the private half is, for summaries (SigningKey.holder), e.g. `token "ci", key "dct-root", id 10`; `name` when absent. */
  holder?: string | undefined;
}

/**
 * A fixed message signed once when the key is opened, so a wrong PIN, a
 * missing object, a failing command or a key that is not the public key
 * named fails the step before any request. It is no TUF metadata (not
 * JSON), so its signature can vouch for nothing.
 */
const PROBE = Buffer.from('content-trust: check that the signing key is reachable and matches its public key\n');

export function externalSigningKey(options: ExternalKeyOptions): SigningKey {
  const { publicKey, name } = options;
  if (ownerKeyType(publicKey, name) !== 'ecdsa') {
    throw new InputError('KEY_UNSUPPORTED', `${name} is an RSA key; keys held outside this process sign with ECDSA P-256 (ES256) only: make an EC prime256v1 (P-256) key`);
  }
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const id = keyId('ecdsa', spki);
  const sign = (message: Buffer): { method: string; sig: Buffer } => {
    const digest = createHash('sha256').update(message).digest();
    const candidates = options.signDigest(digest);
    // Only a signature the public key verifies is used: anything else is never published.
    const sig = candidates.find((c) => c.length === 64 && verify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, c));
    if (!sig) throw new InputError('SIGNATURE_INVALID', options.mismatch(id, candidates.length));
    return { method: 'ecdsa', sig };
  };
  sign(PROBE);
  return { id, keytype: 'ecdsa', public: spki, role: undefined, gun: undefined, holder: options.holder ?? name, sign };
}

/** Output kept from an outside program: a signature is under 200 bytes, a listing a few KiB. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

/** Characters of a program's standard error quoted in a message. */
const STDERR_QUOTED = 1500;

/** Variables no outside program gets: every key passphrase the front ends read. */
const WITHHELD: ReadonlySet<string> = new Set(Object.values(PASSPHRASE_VARIABLES));

/**
 * The environment an outside program gets: the step's, less the action's
 * own inputs (INPUT_*: keys, passphrases, the registry password) and the
 * passphrase variables (src/passphrase-variables.ts), which no signer
 * needs. Cloud credentials and tool settings (AWS_*, AZURE_*, GOOGLE_*,
 * SOFTHSM2_CONF, PATH…) pass through.
 */
export function childEnv(env: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined || /^INPUT_/i.test(k) || WITHHELD.has(k)) continue;
    out[k] = v;
  }
  return { ...out, ...extra };
}

export interface RunOptions {
  input?: Buffer | string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  shell?: boolean;
}

/**
 * spawnSync with a deadline and bounded output. spawnSync kills only the
 * process it started, so the program runs in a process group of its own
 * (`detached`: setsid, which Node's spawnSync honours though its types omit
 * it), and when the run did not end on its own (the deadline, the output
 * bound, a signal) the whole group is killed: what a sign-command started
 * in the background does not outlive it. A program that leaves the group
 * itself (setsid, a daemon's double fork) is beyond this reach; see
 * docs/security.md. Without a controlling terminal, a program that would
 * prompt on /dev/tty fails at once instead of waiting for the deadline.
 */
export function runBounded(file: string, args: readonly string[], options: RunOptions): SpawnSyncReturns<Buffer> {
  const r = spawnSync(file, args, {
    input: options.input ?? '',
    env: options.env,
    timeout: options.timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: MAX_OUTPUT_BYTES,
    shell: options.shell ?? false,
    windowsHide: true,
    detached: process.platform !== 'win32',
  } as SpawnSyncOptionsWithBufferEncoding);
  if ((r.error || r.signal !== null) && r.pid > 0 && process.platform !== 'win32') killGroup(r.pid);
  return r;
}

/** SIGKILL to process group `pgid` (the leader's pid); none left is fine. */
function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** The system error code of a run that did not run to its end (ENOENT, ETIMEDOUT, ENOBUFS…), if any. */
export function runErrorCode(r: SpawnSyncReturns<Buffer>): string | undefined {
  const error: (Error & { code?: unknown }) | undefined = r.error;
  return typeof error?.code === 'string' ? error.code : undefined;
}

/** The end of a program's standard error, on one line, for a message (outside text: the front ends show messages through forLog). */
export function stderrTail(stderr: Buffer | null | undefined): string {
  const text = (stderr ?? Buffer.alloc(0)).toString('utf8').trim();
  if (!text) return '';
  const tail = text.length > STDERR_QUOTED ? `…${text.slice(-STDERR_QUOTED)}` : text;
  return bounded(tail.replace(/\s*\n\s*/g, ' | '), STDERR_QUOTED + 1);
}
