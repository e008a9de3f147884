// Bundles src/index.ts into dist/index.js (ESM, node24), reproducibly.
// `options(outfile)` is exported so test/unit/dist.test.ts can build the same
// bundle elsewhere and compare it with the committed dist/index.js.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The esbuild options `npm run build` uses, writing to `outfile`. */
export function options(outfile) {
  return {
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
    // Some CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);" },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
  await build(options(fileURLToPath(new URL('../dist/index.js', import.meta.url))));
}
