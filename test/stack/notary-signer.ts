/**
 * notary-signer on a loopback port: gRPC over mutual TLS (server certificate
 * from the test CA, clients must present a certificate from the same CA),
 * keys in PostgreSQL encrypted under a passphrase alias given by environment.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:tls';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestCa } from './ca.ts';
import { run } from './exec.ts';
import { freePort } from './ports.ts';
import { logTail, spawnSupervised, stopSupervised } from './service.ts';

export interface ClientCert {
  certPath: string;
  keyPath: string;
}

export interface NotarySigner {
  /** "127.0.0.1" */
  hostname: string;
  port: number;
  logPath: string;
  configPath: string;
  /** The certificate notary-server presents to the signer. */
  clientCert: ClientCert;
  stop: () => Promise<void>;
}

export interface NotarySignerOptions {
  dir: string;
  ca: TestCa;
  /** postgres://… of the signer's database (tables already created). */
  dbUrl: string;
}

/** A TLS client certificate (extendedKeyUsage clientAuth) signed by the test CA. */
async function makeClientCert(ca: TestCa, dir: string, name: string): Promise<ClientCert> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = join(dir, `${name}.key`);
  const csrPath = join(dir, `${name}.csr`);
  const certPath = join(dir, `${name}.crt`);
  const extPath = join(dir, `${name}.ext`);
  await run('openssl', ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', csrPath, '-subj', `/CN=${name}`]);
  await writeFile(extPath, 'extendedKeyUsage=clientAuth\n');
  await run('openssl', ['x509', '-req', '-in', csrPath, '-CA', ca.caCertPath, '-CAkey', ca.caKeyPath, '-set_serial', `0x1${randomBytes(15).toString('hex')}`, '-days', '2', '-extfile', extPath, '-out', certPath]);
  return { certPath, keyPath };
}

/** Resolves when a mutual-TLS handshake with the signer (ALPN h2, as gRPC) succeeds. */
function handshake(port: number, ca: string, cert: Buffer, key: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, cert, key, ALPNProtocols: ['h2'], servername: 'localhost' }, () => {
      socket.end();
      resolve();
    });
    socket.setTimeout(2_000, () => socket.destroy(new Error('handshake timed out')));
    socket.on('error', reject);
  });
}

export async function startNotarySigner(options: NotarySignerOptions): Promise<NotarySigner> {
  const dir = join(options.dir, 'notary-signer');
  await mkdir(dir, { recursive: true });
  const clientCert = await makeClientCert(options.ca, dir, 'notary-server-client');
  const configPath = join(dir, 'config.json');
  const logPath = join(dir, 'notary-signer.log');
  const alias = 'stackalias';
  // The signer reads the passphrase of alias X from NOTARY_SIGNER_X; it stays out of files and argv.
  const env = { ...process.env, NOTARY_SIGNER_DEFAULT_ALIAS: alias, [`NOTARY_SIGNER_${alias.toUpperCase()}`]: randomBytes(18).toString('base64') };
  const [cert, key] = await Promise.all([readFile(clientCert.certPath), readFile(clientCert.keyPath)]);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    await writeFile(
      configPath,
      JSON.stringify(
        {
          server: { grpc_addr: `127.0.0.1:${port}`, tls_cert_file: options.ca.serverCertPath, tls_key_file: options.ca.serverKeyPath, client_ca_file: options.ca.caCertPath },
          logging: { level: 'info' },
          storage: { backend: 'postgres', db_url: options.dbUrl, default_alias: alias },
        },
        null,
        2,
      ),
    );
    const { live, exited } = spawnSupervised('notary-signer', ['-config', configPath], logPath, env);
    const deadline = Date.now() + 15_000;
    let last = 'no attempt';
    while (Date.now() < deadline && live.child.exitCode === null && live.child.signalCode === null) {
      try {
        await handshake(port, options.ca.caPem, cert, key);
        return { hostname: '127.0.0.1', port, logPath, configPath, clientCert, stop: () => stopSupervised(live, exited) };
      } catch (err) {
        last = (err as Error).message;
        await sleep(100);
      }
    }
    await stopSupervised(live, exited);
    const tail = await logTail(logPath);
    if (attempt < 3 && /address already in use/i.test(tail)) continue;
    throw new Error(`notary-signer on 127.0.0.1:${port} did not come up (last: ${last})\n--- ${logPath} (tail) ---\n${tail}`);
  }
}
