/**
 * A key in a cloud key service (Azure Key Vault, AWS KMS, Google Cloud KMS)
 * reached through the service's own command-line tool: the user's command
 * runs once per signature through the shell, gets the SHA-256 digest in
 * hex on standard input (and in CONTENT_TRUST_DIGEST, hex, and
 * CONTENT_TRUST_DIGEST_BASE64), and prints the signature on standard
 * output: raw r‖s or DER, as binary, hex or base64. What it prints is
 * used only when it verifies against the public key named for it.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { InputError, messageOf } from '../errors.ts';
import { parsePemBlocks } from '../tuf/private-key.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import { childEnv, externalSigningKey, MAX_OUTPUT_BYTES, runBounded, runErrorCode, stderrTail } from './external-key.ts';
import { signatureCandidates } from './signature.ts';
import { bounded } from '../util/untrusted-text.ts';

/** Default deadline for one signature: a cloud call with its tool's start-up (az and gcloud take seconds to start). */
const SIGN_COMMAND_TIMEOUT_SECONDS = 60;

/** How a front end names sign-command's settings in its messages: the action's inputs or the CLI's flags. */
export interface SignCommandNames {
  /** The key given instead of a command (delegation-key, --key). */
  key: string;
  command: string;
  publicKey: string;
  timeout: string;
  /** Where the public key was given before (the command that added the signer). */
  addSigner: string;
}

/**
 * sign-command's settings as either front end takes them, checked before
 * anything runs: a command only with the public key it signs with and never
 * beside a key, a deadline of whole seconds from 1 to 3600 (`timeout`
 * undefined: the default). The command and public key are as given (the
 * public key: PEM text or a file's path, the front end's business).
 */
export function signCommandSettings(
  given: { key: boolean; command: string | undefined; publicKey: string | undefined; timeout: string | undefined },
  names: SignCommandNames,
): { command: string | undefined; publicKey: string | undefined; timeoutSeconds: number } {
  const { command, publicKey, timeout } = given;
  if (command !== undefined && given.key) throw new InputError('INPUT_INVALID', `give ${names.key} or ${names.command}, not both: ${names.command} signs for the key whose public half is ${names.publicKey}`);
  if (command !== undefined && publicKey === undefined) throw new InputError('INPUT_INVALID', `${names.command} needs ${names.publicKey}: the PEM public key (or certificate) of the key the command signs with, as given to ${names.addSigner}`);
  if (publicKey !== undefined && command === undefined) throw new InputError('INPUT_INVALID', `${names.publicKey} names the key ${names.command} signs with: give ${names.command} too, or leave it out`);
  const timeoutSeconds = Number(timeout ?? String(SIGN_COMMAND_TIMEOUT_SECONDS));
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 3600) throw new InputError('INPUT_INVALID', `${names.timeout} is "${timeout}": a whole number of seconds from 1 to 3600`);
  return { command, publicKey, timeoutSeconds };
}

interface SignCommandOptions {
  command: string;
  /** The public key the command signs with (from the public-key input or flag). */
  publicKey: KeyObject;
  /** How errors name each setting: the action's inputs or the CLI's flags (the same names signCommandSettings was given). */
  names: SignCommandNames;
  timeoutMs: number;
  /** The step's environment (the command inherits it, less the action's own secrets). */
  env: NodeJS.ProcessEnv;
  /** Where a successful command's standard error is shown (outside text). */
  onStderr?: ((text: string) => void) | undefined;
}

/** The command as messages quote it: its start, on one line. */
function shown(command: string): string {
  return `\`${bounded(command.trim().replace(/\s+/g, ' '), 80)}\``;
}

function signCommandKey(options: SignCommandOptions): SigningKey {
  const { command, names } = options;
  if (!command.trim()) throw new InputError('INPUT_INVALID', `${names.command} is empty`);
  const what = `${names.command} (${shown(command)})`;
  const signDigest = (digest: Buffer): Buffer[] => {
    const hex = digest.toString('hex');
    const r = runBounded(command, [], {
      shell: true,
      input: `${hex}\n`,
      env: childEnv(options.env, { CONTENT_TRUST_DIGEST: hex, CONTENT_TRUST_DIGEST_BASE64: digest.toString('base64') }),
      timeoutMs: options.timeoutMs,
    });
    const err = stderrTail(r.stderr);
    const said = err ? `; its standard error: ${err}` : '';
    const code = runErrorCode(r);
    if (code === 'ETIMEDOUT')
      throw new InputError('SIGN_COMMAND_TIMEOUT', `${what} did not finish within ${options.timeoutMs / 1000} s and was stopped${said}: check that it runs without prompting (logged in, no confirmation), or raise ${names.timeout}`);
    if (code === 'ENOBUFS') throw new InputError('SIGN_COMMAND_FAILED', `${what} printed more than ${MAX_OUTPUT_BYTES} bytes on standard output or error and was stopped: it must print only the signature`);
    if (r.error) throw new InputError('SIGN_COMMAND_FAILED', `${what} could not be run (${code ?? r.error.message})${said}`);
    if (r.status !== 0)
      throw new InputError(
        'SIGN_COMMAND_FAILED',
        `${what} failed (${r.status === null ? `killed by ${r.signal}` : `exit status ${r.status}`})${said}: run it by hand with a digest on standard input to see why (a login, a permission on the key, the key's name)`,
      );
    if (err) options.onStderr?.(`${names.command}: ${err}`);
    return signatureCandidates(r.stdout);
  };
  return externalSigningKey({
    publicKey: options.publicKey,
    name: what,
    holder: `the key service behind ${names.command}`,
    signDigest,
    mismatch: (keyId, candidates) =>
      candidates === 0
        ? `${what} printed something that is not an ECDSA P-256 signature (raw r‖s or DER; binary, hex or base64); nothing was published. It must print only the signature of the SHA-256 digest it is given, made by the key whose public half ${names.publicKey} holds (key ${keyId})`
        : `${what} printed a signature that does not verify against the public key in ${names.publicKey} (key ${keyId}); nothing was published. Check that the command signs the digest it is given as a digest (ES256 / ECDSA_SHA_256 over a precomputed digest, not the message) with the key whose public half ${names.publicKey} holds`,
  });
}

/** The public key named for the command: a PEM PUBLIC KEY or CERTIFICATE (the first such block). */
export function readCommandPublicKey(text: string | undefined, names: Pick<SignCommandNames, 'publicKey' | 'addSigner'>): KeyObject {
  const name = names.publicKey;
  const fix = `give the PEM public key ("-----BEGIN PUBLIC KEY-----") or certificate of the key the command signs with, as given to ${names.addSigner}`;
  const blocks = parsePemBlocks(text ?? '');
  // Never echo what was given: a private key pasted here is a secret.
  if (blocks.some((b) => b.label.endsWith('PRIVATE KEY'))) throw new InputError('KEY_INVALID', `${name} holds a private key; the command's key stays in the key service: ${fix}`);
  const block = blocks.find((b) => b.label === 'PUBLIC KEY' || b.label === 'CERTIFICATE');
  if (!block) throw new InputError('KEY_INVALID', `${name} is not a PEM public key or certificate: ${fix}`);
  try {
    return block.label === 'CERTIFICATE' ? new X509Certificate(block.der).publicKey : createPublicKey({ key: block.der, format: 'der', type: 'spki' });
  } catch (e) {
    throw new InputError('KEY_INVALID', `${name}: the ${block.label} cannot be read (${messageOf(e)}): ${fix}`, { cause: e });
  }
}

/** signCommandKey with the public key given as PEM text. */
export function readSignCommandKey(options: Omit<SignCommandOptions, 'publicKey'> & { publicKeyPem: string | undefined }): SigningKey {
  const { publicKeyPem, ...rest } = options;
  return signCommandKey({ ...rest, publicKey: readCommandPublicKey(publicKeyPem, options.names) });
}
