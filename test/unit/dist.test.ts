import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';
import { bundle } from '../../scripts/build.mjs';

const DIST = fileURLToPath(new URL('../../dist', import.meta.url));

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

it('dist/ is what `npm run build` makes from src/ (the bundle and licenses.txt)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cta-dist-'));
  try {
    await bundle(dir);
    const [fresh, committed] = await Promise.all([files(dir), files(DIST)]);
    assert.ok(fresh.includes('index.js') && fresh.includes('licenses.txt'), 'the build wrote no index.js or no licenses.txt');
    assert.deepEqual(committed, fresh, 'dist/ has other files than a fresh build: run npm run build');
    for (const f of fresh) {
      const [a, b] = await Promise.all([readFile(join(dir, f)), readFile(join(DIST, f))]);
      if (!a.equals(b)) assert.fail(`dist/ is stale: run npm run build (fresh ${f} ${a.length} bytes, committed ${b.length} bytes)`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it('start-up loads neither the Actions cache client nor the OIDC client (they are chunks imported on use)', async () => {
  const index = await readFile(join(DIST, 'index.js'), 'utf8');
  const staticImports = [...index.matchAll(/(?:^|[;}\n])import\s*(?:[\w*{}\s,$]+from\s*)?["']([^"']+)["']/g)].map((m) => m[1]!);
  const local = staticImports.filter((s) => s.startsWith('./'));
  const loaded = (await Promise.all(local.map((s) => readFile(join(DIST, s), 'utf8')))).join('\n') + index;
  assert.doesNotMatch(loaded, /BlockBlobClient/, 'the cache client (with Azure storage) is in the start-up code');
  assert.doesNotMatch(loaded, /ACTIONS_ID_TOKEN_REQUEST_URL/, 'the OIDC client is in the start-up code');
  assert.match(index, /import\("\.\/chunks\/cache-[\w-]+\.js"\)/, 'the cache client is no longer a lazily imported chunk');
});
