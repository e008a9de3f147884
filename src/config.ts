/** Defaults in one place: size caps, timeouts, retries, concurrency. */
export interface Config {
  /** Idle timeout for one HTTP exchange: the longest silence between bytes. */
  timeoutMs: number;
  /**
   * Deadline for one HTTP exchange, from the request going out on a
   * connection to the last body byte, however steadily bytes arrive (making
   * the connection, through a proxy or not, is bounded by timeoutMs). With
   * the retries below, one request ends within (retries + 1) × (timeoutMs +
   * deadlineMs) plus the waits between tries (the backoff, or a Retry-After
   * of at most retryAfterMaxMs).
   */
  deadlineMs: number;
  /** Extra attempts after a connection fault, timeout, 408, 429 or 5xx (src/http/retry.ts). */
  retries: number;
  /** First backoff delay; doubles per attempt. */
  backoffMs: number;
  /**
   * The longest Retry-After a 429 or 503 may ask for: waited instead of the
   * backoff; a longer one ends the retries (the answer stands).
   */
  retryAfterMaxMs: number;
  /** Parallel registry look-ups and repository updates. */
  concurrency: number;
  /** Read caps (notary const.go): a root or unknown-size file, a timestamp, a manifest. */
  maxRootBytes: number;
  maxTimestampBytes: number;
  maxManifestBytes: number;
  /** How often a publish is re-read and retried after a VERSION conflict. */
  publishAttempts: number;
  /** Delegation expiry on each signing (notary: 3 years of 365 days). */
  delegationExpiryDays: number;
  /** Warn when trust data expires within this many days. */
  expiryWarningDays: number;
  /** Root versions followed from a remembered root to the server's (N.root.json each). */
  maxRootRotations: number;
  userAgent: string;
}

export const defaultConfig: Config = {
  timeoutMs: 30_000,
  deadlineMs: 60_000,
  retries: 3,
  backoffMs: 250,
  retryAfterMaxMs: 30_000,
  concurrency: 8,
  maxRootBytes: 100 * 1024 * 1024,
  maxTimestampBytes: 1024 * 1024,
  maxManifestBytes: 4 * 1024 * 1024,
  publishAttempts: 4,
  delegationExpiryDays: 1095,
  expiryWarningDays: 182,
  maxRootRotations: 256,
  userAgent: 'content-trust-action',
};
