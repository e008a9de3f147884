import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startHttpsService, type ConfiguredServiceOptions, type RunningService } from './service.ts';

export interface NotaryServer extends RunningService {
  configPath: string;
}

/**
 * Starts notary-server on a free port under `<dir>/notary-server`; resolves
 * once `readyPath` (default /v2/) answers. The default config: TLS with the
 * test CA's server certificate, memory storage, and the built-in ("local")
 * signer so no notary-signer is needed; `extraConfig` replaces whole sections.
 */
export async function startNotaryServer(options: ConfiguredServiceOptions): Promise<NotaryServer> {
  const { ca } = options;
  const dir = join(options.dir, 'notary-server');
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'config.json');
  const service = await startHttpsService({
    name: 'notary-server',
    dir,
    ca,
    readyPath: options.readyPath,
    timeoutMs: options.timeoutMs,
    async prepare(port) {
      const config = {
        server: { http_addr: `127.0.0.1:${port}`, tls_key_file: ca.serverKeyPath, tls_cert_file: ca.serverCertPath },
        trust_service: { type: 'local', hostname: '', port: '', key_algorithm: 'ecdsa' },
        logging: { level: 'info' },
        storage: { backend: 'memory' },
        ...options.extraConfig,
      };
      await writeFile(configPath, JSON.stringify(config, null, 2));
      return { command: 'notary-server', args: ['-config', configPath] };
    },
  });
  return { ...service, configPath };
}
