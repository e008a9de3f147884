/** src/http/retry.ts: Retry-After parsing and the retry decision, pure. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRetryAfter, retryDecision } from '../../src/http/retry.ts';
import { defaultConfig } from '../../src/config.ts';

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);
const config = { retries: 3, backoffMs: 250, retryAfterMaxMs: 30_000 };

describe('parseRetryAfter', () => {
  it('delay-seconds', () => {
    assert.equal(parseRetryAfter('0', NOW), 0);
    assert.equal(parseRetryAfter('7', NOW), 7000);
    assert.equal(parseRetryAfter(' 12 ', NOW), 12_000);
    assert.equal(parseRetryAfter(['3', '9'], NOW), 3000, 'the first of repeated values');
  });

  it('the three HTTP-date forms, measured from now; a past date is 0', () => {
    assert.equal(parseRetryAfter('Sun, 29 Nov 2026 12:00:20 GMT', NOW), 20_000);
    assert.equal(parseRetryAfter('Sunday, 29-Nov-26 12:00:05 GMT', NOW), 5000);
    assert.equal(parseRetryAfter('Sun Nov 29 12:01:00 2026', NOW), 60_000);
    assert.equal(parseRetryAfter('Sun Nov  1 12:00:00 2026', NOW), 0);
    assert.equal(parseRetryAfter('Sat, 28 Nov 2026 12:00:00 GMT', NOW), 0);
  });

  it('anything else is no Retry-After (the backoff applies)', () => {
    for (const v of [undefined, '', '-1', '1.5', '1e3', 'soon', '5 seconds', '0x10', 'Sun, 29 Nov 2026 12:00:20 PST', '2026-11-29T12:00:20Z', 'Sun, 32 Nov 2026 12:00:20 GMT', '9'.repeat(80), '99999999999999999999']) {
      assert.equal(parseRetryAfter(v, NOW), undefined, String(v));
    }
  });
});

describe('retryDecision', () => {
  it('429 and 503 wait what Retry-After asks, up to retryAfterMaxMs', () => {
    for (const status of [429, 503]) {
      assert.deepEqual(retryDecision({ attempt: 0, status, retryAfter: '2' }, config, NOW, 0.5), { retry: true, delayMs: 2000, why: 'retry-after' });
      assert.deepEqual(retryDecision({ attempt: 2, status, retryAfter: '30' }, config, NOW, 0.5), { retry: true, delayMs: 30_000, why: 'retry-after' });
      assert.deepEqual(retryDecision({ attempt: 0, status, retryAfter: 'Sun, 29 Nov 2026 12:00:03 GMT' }, config, NOW, 0.5), { retry: true, delayMs: 3000, why: 'retry-after' });
    }
  });

  it('a Retry-After longer than retryAfterMaxMs ends the retries at once: the answer stands', () => {
    assert.deepEqual(retryDecision({ attempt: 0, status: 503, retryAfter: '31' }, config, NOW), { retry: false, why: 'retry-after too long', retryAfterMs: 31_000 });
    assert.deepEqual(retryDecision({ attempt: 0, status: 429, retryAfter: '3600' }, config, NOW), { retry: false, why: 'retry-after too long', retryAfterMs: 3_600_000 });
    assert.equal(defaultConfig.retryAfterMaxMs, 30_000);
  });

  it('Retry-After on other statuses is ignored: the backoff, doubling per attempt, with jitter in [0.75, 1.25)', () => {
    for (const status of [408, 500, 502, 504]) {
      assert.deepEqual(retryDecision({ attempt: 0, status, retryAfter: '20' }, config, NOW, 0.5), { retry: true, delayMs: 250, why: 'backoff' });
    }
    assert.deepEqual(retryDecision({ attempt: 2, status: 502 }, config, NOW, 0), { retry: true, delayMs: 750, why: 'backoff' });
    assert.deepEqual(retryDecision({ attempt: 1, status: 503 }, config, NOW, 0.999), { retry: true, delayMs: 500 * 1.2495, why: 'backoff' });
    assert.deepEqual(retryDecision({ attempt: 0, status: 429, retryAfter: 'whenever' }, config, NOW, 0.5), { retry: true, delayMs: 250, why: 'backoff' });
  });

  it('never more than `retries` retries, whatever the server asks', () => {
    assert.deepEqual(retryDecision({ attempt: 3, status: 503, retryAfter: '1' }, config, NOW), { retry: false, why: 'attempts spent' });
    assert.deepEqual(retryDecision({ attempt: 3, retryableError: true }, config, NOW), { retry: false, why: 'attempts spent' });
    assert.deepEqual(retryDecision({ attempt: 0, status: 503 }, { ...config, retries: 0 }, NOW), { retry: false, why: 'attempts spent' });
  });

  it('other statuses are answers, not faults; final network errors are not retried', () => {
    for (const status of [200, 201, 301, 302, 400, 401, 403, 404, 409, 413, 501, 505]) {
      assert.deepEqual(retryDecision({ attempt: 0, status, retryAfter: '1' }, config, NOW), { retry: false, why: 'not retryable' }, String(status));
    }
    assert.deepEqual(retryDecision({ attempt: 0, retryableError: false }, config, NOW), { retry: false, why: 'not retryable' });
    assert.equal(retryDecision({ attempt: 0, retryableError: true }, config, NOW, 0.5).retry, true);
  });
});
