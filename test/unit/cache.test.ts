/** The Actions cache wiring for remembered trust: keys and availability (the service itself is GitHub's). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { cacheKeys, cacheServiceAvailable } from '../../src/action/cache.ts';

it('keys are per set of repositories (order and duplicates do not matter) plus the run; the prefix restores older runs', () => {
  const a = cacheKeys(['h/a', 'h/b', 'h/a'], { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2' });
  const b = cacheKeys(['h/b', 'h/a'], { GITHUB_RUN_ID: '43' });
  assert.equal(a.prefix, b.prefix);
  assert.equal(a.key, `${a.prefix}42-2`);
  assert.equal(b.key, `${b.prefix}43-1`);
  assert.notEqual(cacheKeys(['h/a'], {}).prefix, a.prefix);
});

it('the service counts as available only with a runtime token and a cache or results URL', () => {
  assert.equal(cacheServiceAvailable({}), false);
  assert.equal(cacheServiceAvailable({ ACTIONS_RUNTIME_TOKEN: 't' }), false);
  assert.equal(cacheServiceAvailable({ ACTIONS_RESULTS_URL: 'https://r/' }), false);
  assert.equal(cacheServiceAvailable({ ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'https://r/' }), true);
  assert.equal(cacheServiceAvailable({ ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_CACHE_URL: 'https://c/' }), true);
});
