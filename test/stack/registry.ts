import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHttpsService, type ConfiguredServiceOptions, type RunningService } from './service.ts';

export interface Registry extends RunningService {
  /** "127.0.0.1:PORT", the registry part of image references and GUNs. */
  host: string;
  configPath: string;
}

/**
 * Starts docker-registry (distribution 2.x) on a free port with filesystem
 * storage under `<dir>/registry`; `extraConfig` (e.g. `auth: {token: …}`)
 * replaces whole top-level sections of the default config.
 */
export async function startRegistry(options: ConfiguredServiceOptions): Promise<Registry> {
  const { ca } = options;
  const dir = join(options.dir, 'registry');
  const storageDir = join(dir, 'storage');
  await mkdir(storageDir, { recursive: true });
  const configPath = join(dir, 'config.yml');
  const service = await startHttpsService({
    name: 'registry',
    dir,
    ca,
    readyPath: options.readyPath,
    timeoutMs: options.timeoutMs,
    async prepare(port) {
      const config = {
        version: 0.1,
        log: { level: 'warn' },
        storage: { filesystem: { rootdirectory: storageDir }, delete: { enabled: true } },
        http: { addr: `127.0.0.1:${port}`, tls: { certificate: ca.serverCertPath, key: ca.serverKeyPath } },
        ...options.extraConfig,
      };
      // JSON is valid YAML, so the config needs no YAML writer.
      await writeFile(configPath, JSON.stringify(config, null, 2));
      return { command: 'docker-registry', args: ['serve', configPath] };
    },
  });
  return { ...service, host: `127.0.0.1:${service.port}`, configPath };
}
