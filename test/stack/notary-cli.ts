import { writeFile } from 'node:fs/promises';
import type { TestCa } from './ca.ts';
import { run, type RunResult } from './exec.ts';

export interface NotaryCliOptions {
  /** Notary server, https://127.0.0.1:PORT. */
  url: string;
  ca: TestCa;
  /** Key and metadata directory; use a DockerCli's trustDir to share its keys. */
  trustDir: string;
  /** Where the CLI's own config file is written. */
  configPath: string;
  rootPassphrase: string;
  /** Used for targets, snapshot and delegation keys, as docker does. */
  repositoryPassphrase: string;
  timeoutMs?: number;
  /** Registry credentials for a token-auth server, passed as NOTARY_AUTH (base64 "user:password"). */
  auth?: { username: string; password: string };
}

export interface TargetRow {
  name: string;
  /** Hex sha256 (no "sha256:" prefix), as `notary list` prints it. */
  digest: string;
  size: number;
  role: string;
}

export interface DelegationRow {
  role: string;
  /** As the CLI prints them; [""] for "<all paths>". */
  paths: string[];
  keyIds: string[];
  threshold: number;
}

/** The real `notary` CLI against the stack's notary server. */
export class NotaryCli {
  readonly options: NotaryCliOptions;

  constructor(options: NotaryCliOptions) {
    this.options = options;
  }

  /** Writes a config file so the CLI never reads ~/.notary/config.json. */
  async init(): Promise<void> {
    const { url, ca, trustDir, configPath } = this.options;
    await writeFile(configPath, JSON.stringify({ trust_dir: trustDir, remote_server: { url, root_ca: ca.caCertPath } }, null, 2));
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!key.startsWith('NOTARY_')) env[key] = value;
    }
    const { rootPassphrase, repositoryPassphrase } = this.options;
    return {
      ...env,
      NOTARY_ROOT_PASSPHRASE: rootPassphrase,
      NOTARY_TARGETS_PASSPHRASE: repositoryPassphrase,
      NOTARY_SNAPSHOT_PASSPHRASE: repositoryPassphrase,
      NOTARY_DELEGATION_PASSPHRASE: repositoryPassphrase,
      ...(this.options.auth ? { NOTARY_AUTH: Buffer.from(`${this.options.auth.username}:${this.options.auth.password}`).toString('base64') } : {}),
    };
  }

  /** The arguments of `notary <args>` against this server, with this config, trust dir and CA. */
  argv(args: string[]): string[] {
    const { configPath, url, ca, trustDir } = this.options;
    return ['-c', configPath, '-s', url, '-d', trustDir, '--tlscacert', ca.caCertPath, ...args];
  }

  /** Runs `notary <argv(args)>` (`input` on stdin); throws with stderr on failure. */
  run(args: string[], input?: string): Promise<RunResult> {
    return run('notary', this.argv(args), {
      env: this.env(),
      timeoutMs: this.options.timeoutMs ?? 60_000,
      input,
    });
  }

  /** `notary list <gun> [-r role]`, parsed. An empty repository gives []. */
  async list(gun: string, options: { role?: string } = {}): Promise<TargetRow[]> {
    const { stdout } = await this.run(['list', gun, ...(options.role ? ['-r', options.role] : [])]);
    return parseList(stdout);
  }

  /** `notary delegation list <gun>`, parsed: each role with its paths ("" for all paths), key IDs and threshold. */
  async delegationList(gun: string): Promise<DelegationRow[]> {
    const { stdout } = await this.run(['delegation', 'list', gun]);
    // Columns, as the header places them; a role's further paths and keys are on the lines below it.
    const lines = stdout.split('\n');
    const header = lines.find((l) => l.startsWith('ROLE'));
    if (!header) return [];
    const [pathsAt, keysAt, thresholdAt] = ['PATHS', 'KEY IDS', 'THRESHOLD'].map((h) => header.indexOf(h)) as [number, number, number];
    const rows: DelegationRow[] = [];
    for (const line of lines) {
      if (line.startsWith('ROLE') || line.startsWith('----') || !line.trim()) continue;
      const role = line.slice(0, pathsAt).trim();
      const path = line.slice(pathsAt, keysAt).trim();
      const key = line.slice(keysAt, thresholdAt).trim();
      const threshold = line.slice(thresholdAt).trim();
      if (role) rows.push({ role, paths: [], keyIds: [], threshold: Number(threshold) });
      const row = rows[rows.length - 1];
      if (!row) continue;
      if (path) row.paths.push(path === '"" <all paths>' ? '' : path);
      if (key) row.keyIds.push(key);
    }
    return rows;
  }

  /** `notary addhash <gun> <tag> <size> --sha256 <hex> [-r role] [--publish]`. */
  async addhash(gun: string, tag: string, size: number, sha256hex: string, options: { role?: string; publish?: boolean } = {}): Promise<void> {
    await this.run(['addhash', gun, tag, String(size), '--sha256', sha256hex.replace(/^sha256:/, ''), ...(options.role ? ['-r', options.role] : []), ...(options.publish ? ['--publish'] : [])]);
  }

  async publish(gun: string): Promise<void> {
    await this.run(['publish', gun]);
  }

  /** `notary init <gun>` (creates root/targets/snapshot keys locally); publish separately. */
  async initRepo(gun: string, options: { publish?: boolean } = {}): Promise<void> {
    await this.run(['init', gun, ...(options.publish ? ['--publish'] : [])]);
  }

  /** `notary key rotate <gun> <role> [-r]`, confirming a root rotation; `serverManaged` hands the key to the server. */
  async keyRotate(gun: string, role: string, options: { serverManaged?: boolean } = {}): Promise<void> {
    await this.run(['key', 'rotate', gun, role, ...(options.serverManaged ? ['-r'] : [])], role === 'root' ? 'yes\n' : undefined);
  }
}

/** Parses `notary list` output: two header lines, then NAME DIGEST SIZE ROLE columns. */
function parseList(stdout: string): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const line of stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== 4 || !/^[0-9a-f]{64}$/.test(fields[1]!) || !/^\d+$/.test(fields[2]!)) continue;
    rows.push({ name: fields[0]!, digest: fields[1]!, size: Number(fields[2]), role: fields[3]! });
  }
  return rows;
}
