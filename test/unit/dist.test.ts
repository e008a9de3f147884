import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { build } from 'esbuild';
import { options } from '../../scripts/build.mjs';

it('dist/index.js is what `npm run build` makes from src/', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cta-dist-'));
  try {
    const outfile = join(dir, 'index.js');
    await build(options(outfile));
    const [fresh, committed] = await Promise.all([readFile(outfile), readFile(new URL('../../dist/index.js', import.meta.url))]);
    assert.ok(fresh.length > 0, 'the build wrote nothing');
    if (!fresh.equals(committed)) {
      assert.fail(`dist/ is stale: run npm run build (fresh build ${fresh.length} bytes, dist/index.js ${committed.length} bytes)`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
