// Bundles src/index.ts into dist/index.js (ESM, node24), reproducibly.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
  outfile: new URL('../dist/index.js', import.meta.url).pathname,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  // Some CommonJS dependencies call require() for Node built-ins.
  banner: { js: "import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);" },
});
