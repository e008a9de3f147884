import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { startHttpsService } from './service.ts';

export interface Registry {
  /** "127.0.0.1:PORT", the registry part of image references and GUNs. */
  host: string;
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  logPath: string;
  configPath: string;
  stop(): Promise<void>;
}

export interface RegistryOptions {
  dir: string;
  ca: TestCa;
  /** Extra top-level sections (e.g. `auth: {token: …}` later), merged over the defaults. */
  extraConfig?: Record<string, unknown>;
}

/** docker-registry (distribution 2.x) config as a plain object. */
export function registryConfig(port: number, ca: TestCa, storageDir: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: 0.1,
    log: { level: 'warn' },
    storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } },
    http: { addr: `127.0.0.1:${port}`, tls: { certificate: ca.serverCertPath, key: ca.serverKeyPath } },
    ...extra,
  };
}

/** Starts docker-registry on a free port with filesystem storage under `dir`. */
export async function startRegistry(options: RegistryOptions): Promise<Registry> {
  const dir = join(options.dir, 'registry');
  const storageDir = join(dir, 'storage');
  await mkdir(storageDir, { recursive: true });
  const configPath = join(dir, 'config.yml');
  const service = await startHttpsService({
    name: 'registry',
    dir,
    ca: options.ca,
    async prepare(port) {
      // JSON is valid YAML, so the config needs no YAML writer.
      await writeFile(configPath, JSON.stringify(registryConfig(port, options.ca, storageDir, options.extraConfig), null, 2));
      return { command: 'docker-registry', args: ['serve', configPath] };
    },
  });
  return { host: `127.0.0.1:${service.port}`, url: service.url, port: service.port, logPath: service.logPath, configPath, stop: service.stop };
}
