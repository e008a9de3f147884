// Bundles src/index.ts into dist/ (ESM, node24), reproducibly: dist/index.js
// and, split off, the chunks only some runs load (the Actions cache client;
// @actions/core's OIDC client, which pulls @actions/http-client and undici),
// so start-up parses only what sign and verify need.
// It also writes dist/licenses.txt: the licence of every third-party package
// whose code ends up in the bundle, from esbuild's metafile.
// `bundle(outdir)` is exported so test/unit/dist.test.ts can build the same
// dist/ elsewhere and compare it with the committed one.
import { build } from 'esbuild';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/**
 * undici loads node:http at start for two values: the default header size
 * limit of its HTTP/1.1 client (node's --max-http-header-size, 16 KiB unless
 * set) and the IncomingMessage class, whose socket its stream destroy helper
 * clears. node:http brings node's HTTP server and client with it: about
 * 40 ms of CPU at every start (docs/benchmarks.md, "fourth pass"). The bundle
 * gives undici a stand-in: the limit as node's default (src/http/client.ts
 * passes its own, MAX_HEADER_BYTES, the same; only the CONNECT client of a
 * proxy takes the default), and an IncomingMessage class nothing is an instance of:
 * the client's request bodies are Buffers, never a node:http message.
 */
const UNDICI_UTIL = fileURLToPath(new URL('../node_modules/undici/lib/core/util.js', import.meta.url));
const noNodeHttp = {
  name: 'no-node-http',
  setup(b) {
    b.onResolve({ filter: /^node:http$/ }, (args) => (args.importer === UNDICI_CLIENT || args.importer === UNDICI_UTIL ? { path: 'undici-node-http', namespace: 'no-node-http' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-node-http' }, () => ({
      contents: 'module.exports = { maxHeaderSize: 16384, IncomingMessage: class IncomingMessageNotLoaded {} }',
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
    plugins: [lazyOidc, noHttp2, noNodeHttp],
    // Chunk names hash module paths: keep them as seen from the project, wherever node_modules really lives.
    preserveSymlinks: true,
    // Some CommonJS dependencies call require() for Node built-ins.
    banner: { js: "import{createRequire as __ctaCreateRequire}from'node:module';const require=__ctaCreateRequire(import.meta.url);" },
  };
}

/** A package's licence files: LICENSE, LICENCE, COPYING or NOTICE, with any extension or suffix. */
const LICENCE_FILE = /^(?:licen[cs]e|copying|notice)(?:[.-].*)?$/i;

/** The package.json `license` field (or the old `licenses` list) as one SPDX-like string. */
function licenceField(pkg) {
  const one = (l) => (typeof l === 'string' ? l : typeof l?.type === 'string' ? l.type : 'UNKNOWN');
  if (pkg.license !== undefined) return one(pkg.license);
  if (Array.isArray(pkg.licenses) && pkg.licenses.length > 0) return pkg.licenses.map(one).join(' OR ');
  return 'UNKNOWN';
}

/**
 * The packages whose code is in the bundle: every metafile output's inputs
 * that contribute bytes and live under node_modules, each taken to the
 * innermost node_modules/<name> (or node_modules/@scope/<name>) directory.
 * `workdir` is the directory the metafile's paths are relative to.
 * Returns name, version, licence field and licence files, sorted by name
 * then version, one entry per name@version.
 */
export function bundledPackages(metafile, workdir = process.cwd()) {
  const dirs = new Set();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path.replaceAll('\\', '/'));
      if (m && input.bytesInOutput > 0) dirs.add(resolve(workdir, m[1]));
    }
  }
  const byId = new Map();
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const files = readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() && LICENCE_FILE.test(e.name))
      .map((e) => e.name)
      .sort();
    const texts = files.map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8').replace(/\r\n?/g, '\n').trimEnd() }));
    byId.set(`${pkg.name}@${pkg.version}`, { name: pkg.name, version: pkg.version, license: licenceField(pkg), files: texts });
  }
  const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  return [...byId.values()].sort((a, b) => cmp(a.name, b.name) || cmp(a.version, b.version));
}

/** dist/licenses.txt's text for `packages` (as bundledPackages returns them). */
export function licensesText(packages) {
  const rule = '-'.repeat(80);
  const parts = [
    'Third-party software bundled into dist/ (dist/index.js, dist/cli.js and dist/chunks/).',
    'content-trust-action itself is under the MIT licence: see LICENSE.',
    'Written by scripts/build.mjs from the packages esbuild put in the bundle; do not edit.',
    '',
    `${packages.length} packages:`,
    ...packages.map((p) => `  ${p.name} ${p.version}: ${p.license}`),
  ];
  for (const p of packages) {
    parts.push('', rule, `Package: ${p.name}`, `Version: ${p.version}`, `License: ${p.license}`);
    if (p.files.length === 0) parts.push('', `(The package ships no licence file; its package.json declares ${p.license}.)`);
    for (const f of p.files) parts.push(`File: ${f.file}`, '', f.text, '');
  }
  return `${parts.join('\n').trimEnd()}\n`;
}

/** Builds dist/ into `outdir` as `npm run build` does: the bundle, then licenses.txt. */
export async function bundle(outdir) {
  const opts = options(outdir);
  const result = await build({ ...opts, metafile: true });
  writeFileSync(join(outdir, 'licenses.txt'), licensesText(bundledPackages(result.metafile, opts.absWorkingDir)));
  return result;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
  await bundle(fileURLToPath(new URL('../dist', import.meta.url)));
}
