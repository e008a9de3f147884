import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { WASM_TIER_UP_FLAG } from '../../src/http/undici.ts';

describe('undici as loaded by the client', () => {
  it("the V8 flag that keeps llhttp's WebAssembly at baseline exists in this Node's V8, which the guard covers", () => {
    // The guard in src/http/undici.ts names the V8 majors known to have the flag; a Node on another one must be checked and added.
    assert.match(process.versions.v8, /^1[23]\./, `V8 ${process.versions.v8}: check ${WASM_TIER_UP_FLAG} exists in it, then widen the guard`);
    const run = spawnSync(process.execPath, [WASM_TIER_UP_FLAG, '-e', '0'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const unknown = spawnSync(process.execPath, ['--wasm-tier-up-filter-that-does-not-exist=1', '-e', '0'], { encoding: 'utf8' });
    assert.match(unknown.stderr, /bad option|unrecognized/i, 'an unknown flag is refused, so the check above can fail');
  });

  it('loading it prints nothing', () => {
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(new URL('../../src/http/undici.ts', import.meta.url).href)})`], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, '');
  });
});
