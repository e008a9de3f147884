// Bundles src/index.ts into dist/ (ESM, node24), reproducibly: dist/index.js
// and, split off, the chunks only some runs load (the Actions cache client;
// @actions/core's OIDC client, which pulls @actions/http-client and undici),
// so start-up parses only what sign and verify need.
// `options(outdir)` is exported so test/unit/dist.test.ts can build the same
// bundle elsewhere and compare it with the committed dist/.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const CORE_OIDC = fileURLToPath(new URL('../node_modules/@actions/core/lib/oidc-utils.js', import.meta.url));
const LAZY_OIDC = fileURLToPath(new URL('../src/action/lazy-oidc.ts', import.meta.url));

/**
 * @actions/core imports its OIDC client at load time; it is used only by
 * core.getIDToken, which this action never calls. Its import is pointed at
 * src/action/lazy-oidc.ts, which loads the real one on first use.
 */
const lazyOidc = {
  name: 'lazy-oidc',
  setup(b) {
    b.onResolve({ filter: /^\.\/oidc-utils\.js$/ }, (args) => (/@actions[\\/]core[\\/]lib[\\/]core\.js$/.test(args.importer) ? { path: LAZY_OIDC } : undefined));
    b.onResolve({ filter: /^@actions\/core\/lib\/oidc-utils\.js$/ }, () => ({ path: CORE_OIDC }));
  },
};

/**
 * undici's HTTP/1.1 client loads its HTTP/2 client, and with it node:http2,
 * at start; src/http/client.ts never offers h2 (ALLOW_H2, see
 * docs/benchmarks.md, "HTTP/2"), so the bundle gets a stub in its place that
 * fails by name if h2 were ever negotiated. Start-up then does not load
 * node:http2.
 */
const UNDICI_CLIENT = fileURLToPath(new URL('../node_modules/undici/lib/dispatcher/client.js', import.meta.url));
const noHttp2 = {
  name: 'no-http2',
  setup(b) {
    // Only the project's own undici (the Actions toolkit's copy is left as it is).
    b.onResolve({ filter: /^\.\/client-h2\.js$/ }, (args) => (args.importer === UNDICI_CLIENT ? { path: 'undici-client-h2', namespace: 'no-http2' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-http2' }, () => ({
      contents: "module.exports = function connectH2 () { throw new Error('HTTP/2 was negotiated, but this bundle has no HTTP/2 client (src/http/client.ts offers only HTTP/1.1)') }",
      loader: 'js',
    }));
  },
};

/** The esbuild options `npm run build` uses, writing into `outdir`. */
export function options(outdir) {
  return {
    // index: the action; cli: the `content-trust` command (package.json bin), sharing chunks with it.
    entryPoints: { index: fileURLToPath(new URL('../src/index.ts', import.meta.url)), cli: fileURLToPath(new URL('../src/cli/main.ts', import.meta.url)) },
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    platform: 'node',
    target: 'node24',
    format: 'esm',
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
    plugins: [lazyOidc, noHttp2],
    // Chunk names hash module paths: keep them as seen from the project, wherever node_modules really lives.
    preserveSymlinks: true,
    // Some CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);" },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
  await build(options(fileURLToPath(new URL('../dist', import.meta.url))));
}
