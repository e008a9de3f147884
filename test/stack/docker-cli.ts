import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestCa } from './ca.ts';
import { run, type RunResult } from './exec.ts';

export interface DockerCliOptions {
  /** DOCKER_CONFIG directory (created); trust data lives in <configDir>/trust. */
  configDir: string;
  /** Notary server, https://127.0.0.1:PORT. */
  notaryUrl: string;
  ca: TestCa;
  rootPassphrase: string;
  repositoryPassphrase: string;
  timeoutMs?: number;
}

export interface GeneratedKey {
  name: string;
  /** <dir>/<name>.pub, a PUBLIC KEY PEM with a "role: <name>" header. */
  publicKeyPath: string;
  /** The encrypted key docker stored in <configDir>/trust/private. */
  privateKeyPath: string;
  privateKeyPem: string;
  /** The file name without ".key": the canonical key ID (equal to the TUF ID for plain ecdsa keys). */
  keyId: string;
}

export interface TrustInspectEntry {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: { Name: string; Keys: { ID: string }[] }[];
  AdministrativeKeys: { Name: string; Keys: { ID: string }[] }[];
}

/**
 * The real `docker` CLI, used for its daemonless `docker trust` commands
 * against the stack's notary server, with an isolated DOCKER_CONFIG.
 */
export class DockerCli {
  readonly configDir: string;
  readonly trustDir: string;
  readonly notaryUrl: string;
  readonly ca: TestCa;
  readonly rootPassphrase: string;
  readonly repositoryPassphrase: string;
  readonly timeoutMs: number;

  constructor(options: DockerCliOptions) {
    this.configDir = options.configDir;
    this.trustDir = join(options.configDir, 'trust');
    this.notaryUrl = options.notaryUrl;
    this.ca = options.ca;
    this.rootPassphrase = options.rootPassphrase;
    this.repositoryPassphrase = options.repositoryPassphrase;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Creates DOCKER_CONFIG and puts the CA where docker looks for the notary server's TLS files. */
  async init(): Promise<void> {
    const tlsDir = join(this.configDir, 'tls', new URL(this.notaryUrl).host);
    await mkdir(tlsDir, { recursive: true, mode: 0o700 });
    await copyFile(this.ca.caCertPath, join(tlsDir, 'ca.crt'));
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('DOCKER_')) env[key] = value;
    }
    return {
      ...env,
      DOCKER_CONFIG: this.configDir,
      DOCKER_CONTENT_TRUST_SERVER: this.notaryUrl,
      DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE: this.rootPassphrase,
      DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE: this.repositoryPassphrase,
      DOCKER_CLI_HINTS: 'false',
    };
  }

  /** Runs `docker <args>`; throws with stderr on a non-zero exit or timeout. */
  run(args: string[], cwd?: string): Promise<RunResult> {
    return run('docker', args, { env: this.env(), timeoutMs: this.timeoutMs, ...(cwd ? { cwd } : {}) });
  }

  /** `docker trust key generate <name> --dir <dir>`. */
  async keyGenerate(name: string, dir: string): Promise<GeneratedKey> {
    await mkdir(dir, { recursive: true });
    const privateDir = join(this.trustDir, 'private');
    const before = new Set(await listKeys(privateDir));
    await this.run(['trust', 'key', 'generate', name, '--dir', dir], dir);
    const added = (await listKeys(privateDir)).filter((file) => !before.has(file));
    for (const file of added) {
      const privateKeyPath = join(privateDir, file);
      const privateKeyPem = await readFile(privateKeyPath, 'utf8');
      if (new RegExp(`^role: ${name}$`, 'm').test(privateKeyPem)) {
        return { name, publicKeyPath: join(dir, `${name}.pub`), privateKeyPath, privateKeyPem, keyId: file.replace(/\.key$/, '') };
      }
    }
    throw new Error(`docker trust key generate ${name}: no new key with "role: ${name}" in ${privateDir}`);
  }

  /** `docker trust signer add --key <pub> <name> <gun>`; initialises the repository when needed. */
  async signerAdd(name: string, publicKeyPath: string, gun: string): Promise<void> {
    await this.run(['trust', 'signer', 'add', '--key', publicKeyPath, name, gun]);
  }

  /** `docker trust inspect <gun>` parsed; one entry per argument. */
  async inspect(gun: string): Promise<TrustInspectEntry[]> {
    const { stdout } = await this.run(['trust', 'inspect', gun]);
    return JSON.parse(stdout) as TrustInspectEntry[];
  }
}

async function listKeys(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((file) => file.endsWith('.key'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
