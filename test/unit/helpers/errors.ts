/**
 * The one assertion for a failure's code (and, optionally, its message):
 *
 *   assertCode(() => parse(text), 'INPUT_INVALID', /line 3/);
 *   await assertCode(load(gun), 'REPO_NOT_INITIALISED');       // a promise
 *   await assertCode(async () => load(gun), 'EXPIRED', 'timestamp.json');
 *
 * A RegExp must match the message, a string be part of it. Returns the error
 * (typed by the code) for any further check.
 */
import assert from 'node:assert/strict';
import { ContentTrustError, type ErrorCode } from '../../../src/errors.ts';

type Message = RegExp | string;

export function assertCode<C extends ErrorCode>(run: () => never, code: C, message?: Message): ContentTrustError<C>;
export function assertCode<C extends ErrorCode>(run: Promise<unknown> | (() => Promise<unknown>), code: C, message?: Message): Promise<ContentTrustError<C>>;
export function assertCode<C extends ErrorCode>(run: () => unknown, code: C, message?: Message): ContentTrustError<C>;
export function assertCode<C extends ErrorCode>(run: Promise<unknown> | (() => unknown), code: C, message?: Message): ContentTrustError<C> | Promise<ContentTrustError<C>> {
  let settled: unknown;
  try {
    settled = typeof run === 'function' ? run() : run;
  } catch (e) {
    return check(e, code, message);
  }
  if (settled instanceof Promise) {
    return settled.then(
      () => assert.fail(`expected a rejection with ${code}, but the promise was fulfilled`),
      (e: unknown) => check(e, code, message),
    );
  }
  return assert.fail(`expected ${code} to be thrown, but nothing was`);
}

function check<C extends ErrorCode>(e: unknown, code: C, message: Message | undefined): ContentTrustError<C> {
  if (!(e instanceof ContentTrustError)) assert.fail(`expected a ContentTrustError with code ${code}, got ${e instanceof Error ? e.stack : String(e)}`);
  assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
  if (typeof message === 'string') assert.ok(e.message.includes(message), `expected the message to include ${JSON.stringify(message)}: ${e.message}`);
  else if (message) assert.match(e.message, message);
  return e as ContentTrustError<C>;
}
