// What the benchmark ran on: CPU, memory, kernel, Node, and the Debian
// versions of the programs in the stack.
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';

export interface Machine {
  cpu: string;
  nproc: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  /** Bytes node loads to start the action: dist/index.js and the chunks it imports statically. */
  distBytes: number;
  /** Every file of dist/ for the action (the cache client and OIDC chunks load only when used). */
  distTotalBytes: number;
}

const DIST = join(import.meta.dirname, '..', '..', 'dist');

/** dist/index.js and every chunk it imports statically (not the import() ones). */
function startupFiles(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const m of text.matchAll(/(?:^|[;}\s])(?:import|export)\s*(?:[^"'()]*?from\s*)?["'](\.\.?\/[^"']+)["']/g)) startupFiles(resolve(dirname(file), m[1]!), seen);
  return seen;
}

const sizeOf = (files: Iterable<string>) => [...files].reduce((n, f) => n + statSync(f).size, 0);

const PACKAGES = ['notary', 'docker-registry', 'skopeo', 'docker-cli', 'docker.io', 'time'];

export function describeMachine(): Machine {
  const packages: Record<string, string> = {};
  for (const p of PACKAGES) {
    const r = spawnSync('dpkg-query', ['-W', '-f', '${Version}', p], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) packages[p] = r.stdout.trim();
  }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    nproc: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    packages,
    distBytes: sizeOf(startupFiles(join(DIST, 'index.js'))),
    distTotalBytes: sizeOf([join(DIST, 'index.js'), ...readdirSync(join(DIST, 'chunks')).map((f) => join(DIST, 'chunks', f))]),
  };
}
