/**
 * Typed errors with stable codes. Every failure the action reports is one of
 * these; `code` is part of the public contract (tests and users match on it).
 *
 * One family per area, each with its own codes: a family takes only its own
 * (a wrong code is a type error), and `ContentTrustError['code']` is all of
 * them. Control flow that depends on one failure uses its class
 * (`instanceof VersionConflictError`), never a code string; those classes fix
 * their code, and no other construction site names it.
 */
import type { Outcome } from './util/pool.ts';

/** Bad input from the user: an input, a flag, a reference, a key, a passphrase, a file. */
export type InputErrorCode =
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
  // a file the user named (an input, a flag, a key file)
  | 'FILE_NOT_FOUND'
  | 'FILE_IS_DIRECTORY'
  | 'FILE_NOT_DIRECTORY'
  | 'FILE_UNREADABLE'
  | 'FILE_NOT_TEXT'
  | 'FILE_TOO_LARGE'
  // a digest the reference pins, not the one served or signed
  | 'PIN_MISMATCH'
  // build-push-action's metadata output (buildx --metadata-file JSON) that is not buildx metadata
  | 'BUILD_METADATA_INVALID'
  // a key or signer the user named that is not what the repository has
  | 'KEY_NOT_DELEGATE'
  | 'KEY_WRONG_ROLE'
  | 'SIGNER_NOT_FOUND'
  // a key on a PKCS#11 token (src/signer/pkcs11.ts) or behind a sign-command (src/signer/sign-command.ts)
  | 'PKCS11_URI_INVALID'
  | 'PKCS11_TOOL_MISSING'
  | 'PKCS11_MODULE_INVALID'
  | 'PKCS11_TOKEN_NOT_FOUND'
  | 'PKCS11_OBJECT_NOT_FOUND'
  | 'PKCS11_AMBIGUOUS'
  | 'PKCS11_PIN_INCORRECT'
  | 'PKCS11_PIN_LOCKED'
  | 'PKCS11_FAILED'
  | 'SIGN_COMMAND_FAILED'
  | 'SIGN_COMMAND_TIMEOUT'
  | 'SIGNATURE_INVALID'
  // a signer's tag paths and keys (admin/signers.ts, sign-plan.ts)
  | 'TAG_OUTSIDE_PATHS'
  | 'SIGNER_PATHS_CONFLICT'
  | 'SIGNER_KEY_NOT_FOUND'
  | 'SIGNER_LAST_KEY'
  // deployment files (the manifests input, --manifests): one that is not what it claims, an image
  // only known at deploy time, an image pin cannot rewrite, a file that changed before pin wrote it
  | 'DEPLOY_FILE_INVALID'
  | 'DEPLOY_IMAGE_UNRESOLVED'
  | 'DEPLOY_PIN_UNSUPPORTED'
  | 'DEPLOY_FILE_CHANGED'
  | 'FILE_OUTSIDE_WORKSPACE'
  | 'FILE_UNWRITABLE';

/** The network, TLS, authentication or an HTTP status got in the way. */
export type NetworkErrorCode = 'SERVER_UNREACHABLE' | 'TLS_FAILED' | 'AUTH_REFUSED' | 'AUTH_REALM_INSECURE' | 'HTTP_ERROR' | 'TIMEOUT' | 'LENGTH_EXCEEDED' | 'PROXY_FAILED';

/** The registry's answer: no such tag, or a manifest that is malformed, unsupported or not the one expected. */
export type RegistryErrorCode = 'TAG_NOT_FOUND' | 'DIGEST_MISMATCH' | 'MANIFEST_INVALID' | 'MANIFEST_MISMATCH' | 'MANIFEST_UNSUPPORTED';

/** Trust data is missing, malformed, fails a TUF/Notary check, or a policy refuses it. */
export type TrustErrorCode =
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
  // the expiry watch (status): a file that expires within the window
  | 'EXPIRING';

/** A publish the Notary server refused, could not take, or that did not take effect. */
export type PublishErrorCode = 'PUBLISH_REJECTED' | 'VERSION_CONFLICT' | 'SNAPSHOT_KEY_NOT_ON_SERVER' | 'POST_VERIFY_FAILED';

/** A bug here, or something thrown that is none of these. */
export type InternalErrorCode = 'INTERNAL';

export type ErrorCode = InputErrorCode | NetworkErrorCode | RegistryErrorCode | TrustErrorCode | PublishErrorCode | InternalErrorCode;

export interface ErrorOptions {
  cause?: unknown;
}

/** The root of every family: `code`, `cause` and `name` (the class's). */
export abstract class ContentTrustError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export class InputError extends ContentTrustError<InputErrorCode> {}

export class NetworkError extends ContentTrustError<NetworkErrorCode> {
  /** The HTTP status, when one was the problem. */
  readonly status: number | undefined;
  constructor(code: NetworkErrorCode, message: string, options?: ErrorOptions & { status?: number }) {
    super(code, message, options);
    this.status = options?.status;
  }
}

export class RegistryError extends ContentTrustError<RegistryErrorCode> {}

export class TrustError extends ContentTrustError<TrustErrorCode> {}

export class PublishError extends ContentTrustError<PublishErrorCode> {}

export class InternalError extends ContentTrustError<InternalErrorCode> {}

// Failures control flow tells apart (tuf-js style): each fixes its code.

/** Another publish changed the repository first (Notary's VERSION error): re-read and retry. */
export class VersionConflictError extends PublishError {
  declare readonly code: 'VERSION_CONFLICT';
  constructor(message: string, options?: ErrorOptions) {
    super('VERSION_CONFLICT', message, options);
  }
}

/** The Notary server has no trust data for the repository. */
export class NotInitialisedError extends TrustError {
  declare readonly code: 'REPO_NOT_INITIALISED';
  constructor(message: string, options?: ErrorOptions) {
    super('REPO_NOT_INITIALISED', message, options);
  }
}

/** Metadata past its expiry date (but otherwise valid: re-signing refreshes it). */
export class ExpiredError extends TrustError {
  declare readonly code: 'EXPIRED';
  constructor(message: string, options?: ErrorOptions) {
    super('EXPIRED', message, options);
  }
}

/** Message of any thrown value, for wrapping foreign errors. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export interface Failure {
  /** What failed: an image reference or a repository (GUN). */
  subject: string;
  error: ContentTrustError;
  /** The policy entry in force when it failed (verify with a policy). */
  policyEntry?: string;
  /** Where the image is named: the deployment files and lines (verify with manifests). */
  places?: readonly Place[];
}

/** A line of a file (relative to the workspace) that names an image. */
export interface Place {
  file: string;
  /** 1-based; undefined when the file as a whole is meant. */
  line: number | undefined;
}

/** A failure's message with its context, as the front ends show it (the error's own message is never rewritten). */
export function failureMessage(f: Failure): string {
  const entry = f.policyEntry === undefined ? '' : ` [policy entry "${f.policyEntry}"]`;
  const places = f.places?.length ? ` [named at ${f.places.map((p) => (p.line === undefined ? p.file : `${p.file}:${p.line}`)).join(', ')}]` : '';
  return `${f.error.message}${entry}${places}`;
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
    const lines = failures.slice(0, MESSAGE_FAILURES).map((f) => (f.error.message.includes(f.subject) ? failureMessage(f) : `${f.subject}: ${failureMessage(f)}`));
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
  if (e instanceof ContentTrustError) return e as ContentTrustError;
  return new InternalError('INTERNAL', `unexpected error: ${messageOf(e)}`, { cause: e });
}
