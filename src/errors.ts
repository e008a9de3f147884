/**
 * Typed errors with stable codes. Every failure the action reports is one of
 * these; `code` is part of the public contract (tests and users match on it).
 */
import type { Outcome } from './util/pool.ts';

export type ErrorCode =
  // input
  | 'INPUT_INVALID'
  | 'REFERENCE_INVALID'
  | 'KEY_INVALID'
  | 'KEY_UNSUPPORTED'
  | 'PASSPHRASE_WRONG'
  | 'PASSPHRASE_MISSING'
  | 'CREDENTIALS_HELPER_FAILED'
  | 'POLICY_INVALID'
  | 'DOCKERFILE_INVALID'
  | 'TRUST_SERVER_INVALID'
  | 'PROXY_INVALID'
  // input: a file the user named (an input, a flag, a key file)
  | 'FILE_NOT_FOUND'
  | 'FILE_IS_DIRECTORY'
  | 'FILE_NOT_DIRECTORY'
  | 'FILE_UNREADABLE'
  | 'FILE_NOT_TEXT'
  | 'FILE_TOO_LARGE'
  // network
  | 'SERVER_UNREACHABLE'
  | 'TLS_FAILED'
  | 'AUTH_REFUSED'
  | 'AUTH_REALM_INSECURE'
  | 'HTTP_ERROR'
  | 'TIMEOUT'
  | 'LENGTH_EXCEEDED'
  | 'PROXY_FAILED'
  // registry
  | 'TAG_NOT_FOUND'
  | 'PIN_MISMATCH'
  | 'DIGEST_MISMATCH'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_MISMATCH'
  | 'MANIFEST_UNSUPPORTED'
  // trust data
  | 'REPO_NOT_INITIALISED'
  | 'METADATA_INVALID'
  | 'KEY_ID_MISMATCH'
  | 'THRESHOLD_NOT_MET'
  | 'HASH_MISMATCH'
  | 'ROLLBACK'
  | 'EXPIRED'
  | 'ROOT_INVALID'
  | 'ROOT_NOT_PINNED'
  | 'ROOT_ROTATION_INVALID'
  | 'NOT_SIGNED'
  | 'SIGNER_MISSING'
  | 'POLICY_NO_MATCH'
  | 'POLICY_VALIDITY'
  // signing and publishing
  | 'KEY_NOT_DELEGATE'
  | 'PUBLISH_REJECTED'
  | 'VERSION_CONFLICT'
  | 'SNAPSHOT_KEY_NOT_ON_SERVER'
  | 'POST_VERIFY_FAILED'
  // administering repositories
  | 'KEY_WRONG_ROLE'
  | 'SIGNER_NOT_FOUND'
  | 'INTERNAL';

export class ContentTrustError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input from the user: a reference, a key, a passphrase, an option. */
export class InputError extends ContentTrustError {}

/** The network, TLS, authentication or an HTTP status got in the way. */
export class NetworkError extends ContentTrustError {
  readonly status: number | undefined;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(code, message, options);
    this.status = options?.status;
  }
}

/** Trust data is missing, malformed or fails a TUF/Notary check. */
export class TrustError extends ContentTrustError {}

/** The Notary server refused or could not take a publish. */
export class PublishError extends ContentTrustError {}

/** Message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface Failure {
  /** What failed: an image reference or a repository (GUN). */
  subject: string;
  error: ContentTrustError;
}

/** Failures a MultiError's message lists. */
const MESSAGE_FAILURES = 20;

/** Several images or repositories failed; `code` is the first failure's. */
export class MultiError extends ContentTrustError {
  readonly failures: Failure[];
  constructor(failures: Failure[]) {
    const first = failures[0]!.error;
    // The message names the first few; `failures` keeps them all (thousands of
    // bad inputs must not make one message of megabytes).
    const lines = failures.slice(0, MESSAGE_FAILURES).map((f) => (f.error.message.includes(f.subject) ? f.error.message : `${f.subject}: ${f.error.message}`));
    const more = failures.length - lines.length;
    super(first.code, failures.length === 1 ? lines[0]! : `${failures.length} failures:\n- ${lines.join('\n- ')}${more > 0 ? `\n- and ${more} more` : ''}`, { cause: first });
    this.failures = failures;
  }
}

/**
 * The values of settled outcomes in order, or one MultiError naming every
 * failed subject (an image or a repository).
 */
export function valuesOrThrow<R>(outcomes: readonly Outcome<R>[], subjectOf: (index: number) => string): R[] {
  const failures: Failure[] = [];
  const values: R[] = [];
  outcomes.forEach((o, i) => {
    if (o.ok) values.push(o.value);
    else failures.push({ subject: subjectOf(i), error: asContentTrustError(o.error) });
  });
  if (failures.length > 0) throw new MultiError(failures);
  return values;
}

/** Wraps anything thrown into a ContentTrustError (foreign errors become INTERNAL). */
export function asContentTrustError(e: unknown): ContentTrustError {
  if (e instanceof ContentTrustError) return e;
  return new ContentTrustError('INTERNAL', `unexpected error: ${messageOf(e)}`, { cause: e });
}
