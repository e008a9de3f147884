/** What the sign and verify workflows need from their surroundings. */
import type { AuthClient, Credentials } from '../http/auth.ts';
import type { Config } from '../config.ts';
import type { TrustStore } from './trust-store.ts';

export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
}

export interface TrustEnv {
  client: AuthClient;
  config: Config;
  log: Logger;
  /** Registry credentials for a registry domain; also used for its Notary server. */
  credentialsFor(domain: string): Credentials | undefined;
  /** Notary server URL for a registry domain. */
  serverFor(domain: string): string;
  now?: () => Date;
  /** Remembered trust data (docker's trust directory); none: trust on first use every run. */
  trustStore?: TrustStore;
  /** Root key IDs that must sign every repository's root (the `root-keys` input). */
  rootKeys?: readonly string[];
}

export interface ImageResult {
  image: string;
  repository: string;
  tag: string;
  digest: string;
  size: number;
  signers: string[];
  roles: string[];
  /** Earliest expiry among the metadata the result rests on. */
  expires: string;
  /** The policy entry that applied (verify with a `policy` file). */
  policy?: string;
  /** Where deployment files name the image, `file:line` (verify with manifests; set by the front end). */
  sources?: string[];
}
