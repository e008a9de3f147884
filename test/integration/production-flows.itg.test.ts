/**
 * The sign and verify suites and the concurrency suite, run again unchanged against the
 * production stack (STACK_PRODUCTION=1: notary-signer over mutual TLS,
 * PostgreSQL, token auth). The action must pass the same tests there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runSuite(file: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // The same preload scripts/test.mjs gives every test file: the ECDSA signer, which the product loads lazily.
      ['--test', '--test-reporter=tap', '--test-timeout=300000', '--import', './test/load-signer.ts', file],
      // Without NODE_TEST_CONTEXT the child is a test run of its own, not a subtest of this one.
      { cwd: ROOT, env: { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), STACK_PRODUCTION: '1' }, timeout: 600_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) || 1 : 0, output: `${stdout}\n${stderr}` }),
    );
  });
}

function count(output: string, what: string): number {
  const m = new RegExp(`^# ${what} (\\d+)$`, 'm').exec(output);
  return m ? Number(m[1]) : -1;
}

describe('the sign, verify and concurrency suites on the production stack', () => {
  for (const file of ['test/integration/sign.itg.test.ts', 'test/integration/verify.itg.test.ts', 'test/integration/concurrency.itg.test.ts']) {
    it(`${file} passes with STACK_PRODUCTION=1`, async () => {
      const { code, output } = await runSuite(file);
      const failed = output
        .split('\n')
        .filter((l) => /^\s*not ok /.test(l))
        .join('\n');
      assert.equal(count(output, 'fail'), 0, `${failed}\n${output.slice(-6000)}`);
      assert.ok(count(output, 'pass') > 0, output.slice(-3000));
      assert.equal(count(output, 'skipped'), 0);
      assert.equal(code, 0, output.slice(-3000));
    });
  }
});
