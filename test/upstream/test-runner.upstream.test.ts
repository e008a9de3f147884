/**
 * The test runner (scripts/test.mjs) runs a file once more only when a service of its stack
 * crashed by itself, says so, and fails the run when the file fails again or fails otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = 'test/fixtures/harness/service-crash.fixture.ts';

function npmTest(env: Record<string, string>): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'content-trust-runner-'));
  try {
    // Without NODE_TEST_CONTEXT the child is a test run of its own, not a subtest of this one.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));
    const res = spawnSync(process.execPath, ['scripts/test.mjs', FIXTURE], { cwd: ROOT, env: { ...base, CRASH_ONCE: join(dir, 'crashed'), ...env }, encoding: 'utf8', timeout: 120_000 });
    return { status: res.status, output: `${res.stdout}\n${res.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const AGAIN = `npm test: ${FIXTURE} failed because a service of its stack crashed by itself`;

describe('the test runner and a stack service that crashed', () => {
  it('runs a file whose notary-server crashed once more, says why, and passes when it passes then', () => {
    const run = npmTest({});
    assert.match(run.output, /notary-server ended while its tests ran \(exit code 2, signal null\)/);
    assert.ok(run.output.includes(AGAIN), run.output);
    assert.equal(run.status, 0, run.output);
  });

  it('fails the run when the file fails again for another reason', () => {
    const run = npmTest({ ALSO_FAIL: '1' });
    assert.ok(run.output.includes(AGAIN), run.output);
    assert.match(run.output, /this file was told to fail/);
    assert.equal(run.status, 1, run.output);
  });

  it('does not run a file again that failed with every service up', () => {
    // A marker that exists: no crash this time.
    const run = npmTest({ ALSO_FAIL: '1', CRASH_ONCE: join(ROOT, FIXTURE) });
    assert.match(run.output, /this file was told to fail/);
    assert.ok(!run.output.includes('once more'), run.output);
    assert.equal(run.status, 1, run.output);
  });
});
