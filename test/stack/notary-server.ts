import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { startHttpsService } from './service.ts';

export interface NotaryServer {
  /** https://127.0.0.1:PORT */
  url: string;
  port: number;
  logPath: string;
  configPath: string;
  stop(): Promise<void>;
}

export interface NotaryServerOptions {
  dir: string;
  ca: TestCa;
  /** Extra top-level config sections merged over the defaults (e.g. `auth` later). */
  extraConfig?: Record<string, unknown>;
}

/**
 * notary-server config: TLS with the test CA's server certificate, memory
 * storage, and the built-in ("local") signer so no notary-signer is needed.
 */
export function notaryServerConfig(port: number, ca: TestCa, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { http_addr: `127.0.0.1:${port}`, tls_key_file: ca.serverKeyPath, tls_cert_file: ca.serverCertPath },
    trust_service: { type: 'local', hostname: '', port: '', key_algorithm: 'ecdsa' },
    logging: { level: 'info' },
    storage: { backend: 'memory' },
    ...extra,
  };
}

/** Starts notary-server on a free port; resolves once GET /v2/ answers. */
export async function startNotaryServer(options: NotaryServerOptions): Promise<NotaryServer> {
  const dir = join(options.dir, 'notary-server');
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'config.json');
  const service = await startHttpsService({
    name: 'notary-server',
    dir,
    ca: options.ca,
    async prepare(port) {
      await writeFile(configPath, JSON.stringify(notaryServerConfig(port, options.ca, options.extraConfig), null, 2));
      return { command: 'notary-server', args: ['-config', configPath] };
    },
  });
  return { url: service.url, port: service.port, logPath: service.logPath, configPath, stop: service.stop };
}
