// What the benchmark ran on: CPU, memory, kernel, Node, and the Debian
// versions of the programs in the stack.
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';

export interface Machine {
  cpu: string;
  nproc: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  packages: Record<string, string>;
  distBytes: number;
}

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
    distBytes: statSync(join(import.meta.dirname, '..', '..', 'dist', 'index.js')).size,
  };
}
