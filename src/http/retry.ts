/**
 * When to try an HTTP exchange again, and after how long.
 *
 * Retried: connection faults and timeouts, and the statuses 408, 429, 500,
 * 502, 503 and 504, at most `retries` times. Not retried: TLS failures,
 * oversized answers and a proxy that refuses (403, 407: trying again changes
 * nothing), nor any other status.
 *
 * The wait is the backoff (backoffMs doubling per attempt, with jitter),
 * except for 429 and 503 with a Retry-After the server chose: that wait,
 * when it is at most retryAfterMaxMs; a longer one ends the retries at once
 * (the answer stands), since trying earlier than the server asked only
 * spends the attempts.
 *
 * POST too, as before undici: the only POSTs are the Notary publish (one
 * multipart update the server applies whole or not at all), the server key
 * rotation and the token refresh grant. No status proves a POST was not
 * applied: a 429 or 503 from notary-server itself means it was not, but a
 * proxy or load balancer may answer 503 after the server applied it. What
 * keeps a publish from being applied twice is its content: its files carry
 * version numbers the server then already holds, so the same files sent
 * again are refused as a VERSION conflict (test/integration/retry-after.itg.test.ts
 * shows it with the answer of an applied publish replaced by a 503).
 */
import type { Config } from '../config.ts';

const RETRY_STATUS: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);
/** Statuses whose Retry-After is honoured (RFC 9110 §10.2.3, RFC 6585 §4). */
const RETRY_AFTER_STATUS: ReadonlySet<number> = new Set([429, 503]);

/** IMF-fixdate, RFC 850 and asctime, the three HTTP-date forms (RFC 9110 §5.6.7). */
const HTTP_DATE = [
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/,
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/,
];

/**
 * A Retry-After value in milliseconds from `now`: delay-seconds or an
 * HTTP-date (a past date is 0). Undefined when absent or malformed: the
 * backoff applies then.
 */
export function parseRetryAfter(header: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value || value.length > 64) return undefined;
  if (/^\d+$/.test(value)) {
    const seconds = Number(value);
    return Number.isSafeInteger(seconds) ? seconds * 1000 : undefined;
  }
  if (!HTTP_DATE.some((re) => re.test(value))) return undefined;
  const at = Date.parse(/GMT$/.test(value) ? value : `${value} GMT`);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

type RetryDecision = { retry: true; delayMs: number; why: 'backoff' | 'retry-after' } | { retry: false; why: 'not retryable' | 'attempts spent' | 'retry-after too long'; retryAfterMs?: number };

interface Attempt {
  /** 0 for the first try. */
  attempt: number;
  /** The answer's status; undefined after a network error. */
  status?: number;
  /** The answer's Retry-After header. */
  retryAfter?: string | string[] | undefined;
  /** For a network error: whether another try could change anything. */
  retryableError?: boolean;
}

/** Whether (and when) to try again after `a`. `random` is in [0, 1), for the jitter. */
export function retryDecision(a: Attempt, config: Pick<Config, 'retries' | 'backoffMs' | 'retryAfterMaxMs'>, now: number = Date.now(), random: number = Math.random()): RetryDecision {
  const retryable = a.status === undefined ? a.retryableError === true : RETRY_STATUS.has(a.status);
  if (!retryable) return { retry: false, why: 'not retryable' };
  if (a.attempt >= config.retries) return { retry: false, why: 'attempts spent' };
  if (a.status !== undefined && RETRY_AFTER_STATUS.has(a.status)) {
    const asked = parseRetryAfter(a.retryAfter, now);
    if (asked !== undefined) {
      if (asked > config.retryAfterMaxMs) return { retry: false, why: 'retry-after too long', retryAfterMs: asked };
      return { retry: true, delayMs: asked, why: 'retry-after' };
    }
  }
  return { retry: true, delayMs: config.backoffMs * 2 ** a.attempt * (0.75 + random / 2), why: 'backoff' };
}
