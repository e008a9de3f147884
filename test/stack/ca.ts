import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './exec.ts';

export interface TestCa {
  /** Directory holding every file below. */
  dir: string;
  caCertPath: string;
  caKeyPath: string;
  caPem: string;
  /**
   * A directory holding only ca.crt, the layout that skopeo's --cert-dir and
   * docker's certs.d/tls directories expect (no stray *.key files).
   */
  certDir: string;
  /** Server certificate for CN=127.0.0.1, SAN IP:127.0.0.1 and DNS:localhost. */
  serverCertPath: string;
  serverKeyPath: string;
}

export interface MakeCaOptions {
  /** Subject CN of the CA; defaults to "test CA". */
  name?: string;
  /** Validity of both certificates in days; defaults to 2. */
  days?: number;
}

const P256 = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/**
 * Makes a throwaway CA and one TLS server certificate signed by it for
 * 127.0.0.1/localhost, all in `dir` (created if missing). Call it again with
 * another directory to get a second, unrelated CA whose server certificate
 * clients trusting the first CA must reject.
 */
export async function makeCa(dir: string, options: MakeCaOptions = {}): Promise<TestCa> {
  const name = options.name ?? 'test CA';
  const days = String(options.days ?? 2);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const caKeyPath = join(dir, 'ca.key');
  const caCertPath = join(dir, 'ca.crt');
  const serverKeyPath = join(dir, 'server.key');
  const serverCsrPath = join(dir, 'server.csr');
  const serverCertPath = join(dir, 'server.crt');
  const extPath = join(dir, 'server.ext');

  await run('openssl', ['req', '-x509', ...P256, '-keyout', caKeyPath, '-out', caCertPath, '-days', days, '-subj', `/CN=${name}`]);
  await run('openssl', ['req', ...P256, '-keyout', serverKeyPath, '-out', serverCsrPath, '-subj', '/CN=127.0.0.1']);
  await writeFile(extPath, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    serverCsrPath,
    '-CA',
    caCertPath,
    '-CAkey',
    caKeyPath,
    '-set_serial',
    `0x${randomBytes(16)
      .toString('hex')
      .replace(/^[89a-f]/, '1')}`,
    '-days',
    days,
    '-extfile',
    extPath,
    '-out',
    serverCertPath,
  ]);
  const caPem = await readFile(caCertPath, 'utf8');
  const certDir = join(dir, 'trust');
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'ca.crt'), caPem);
  return { dir, caCertPath, caKeyPath, caPem, certDir, serverCertPath, serverKeyPath };
}

/** A second CA (named "untrusted CA") in `dir`, for TLS-failure tests. */
export function makeUntrustedCa(dir: string): Promise<TestCa> {
  return makeCa(dir, { name: 'untrusted CA' });
}
