/**
 * A private PostgreSQL cluster for the production stack: initdb in a fresh
 * temporary directory, `postgres` on a loopback port with password (SCRAM)
 * authentication, and notary's server and signer databases with their
 * tables, since neither notary program creates its schema.
 *
 * PostgreSQL refuses to run as root, so as root the cluster runs as the
 * `postgres` user that Debian's package creates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { randomBytes } from 'node:crypto';
import { run } from './exec.ts';
import { freePort } from './ports.ts';
import { logTail, spawnSupervised, stopSupervised } from './service.ts';
import { NOTARY_SERVER_SCHEMA, NOTARY_SIGNER_SCHEMA } from './notary-schema.ts';

export interface Postgres {
  port: number;
  /** Cluster directory (data, socket, log); removed by stop(). */
  dir: string;
  logPath: string;
  /** postgres://server:…@127.0.0.1:PORT/notaryserver?sslmode=disable */
  serverDbUrl: string;
  /** postgres://signer:…@127.0.0.1:PORT/notarysigner?sslmode=disable */
  signerDbUrl: string;
  /** Runs SQL as the superuser in `database`; resolves with psql's unaligned output. */
  query(database: string, sql: string): Promise<string>;
  stop: () => Promise<void>;
}

/** Directory holding initdb/postgres: PATH first, else Debian's newest /usr/lib/postgresql/N/bin. */
function postgresBinDir(): string {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    // Follow links (a /usr/local/bin/initdb pointing into Debian's tree) to the directory with all the tools.
    if (dir && existsSync(join(dir, 'initdb'))) return dirname(realpathSync(join(dir, 'initdb')));
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => /^\d+$/.test(v))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const v of versions) if (existsSync(join(base, v, 'bin', 'initdb'))) return join(base, v, 'bin');
  throw new Error('PostgreSQL is not installed (no initdb on PATH or under /usr/lib/postgresql): apt-get install postgresql');
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Prefix that runs a PostgreSQL server program as the postgres user when we are root. */
function asOwner(command: string, args: string[]): { command: string; args: string[] } {
  return isRoot() ? { command: 'runuser', args: ['-u', 'postgres', '--', command, ...args] } : { command, args };
}

export async function startPostgres(): Promise<Postgres> {
  const bin = postgresBinDir();
  // Its own directory: the stack's is 0700 root, which the postgres user cannot enter.
  const dir = await mkdtemp(join(tmpdir(), 'content-trust-pg-'));
  const dataDir = join(dir, 'data');
  const logPath = join(dir, 'postgres.log');
  const superPassword = randomBytes(16).toString('hex');
  const pwFile = join(dir, 'pw');
  await writeFile(pwFile, `${superPassword}\n`, { mode: 0o600 });
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    await chown(dir, uid, gid);
    await chown(pwFile, uid, gid);
  }
  // Also when the test process exits without stop() (the exit hook in service.ts kills postgres).
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', onExit);
  const cleanup = async () => {
    process.off('exit', onExit);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const init = asOwner(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--pwfile', pwFile, '--auth-local=scram-sha-256', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync']);
    await run(init.command, init.args, { timeoutMs: 120_000 });
    await rm(pwFile);
  } catch (err) {
    await cleanup();
    throw err;
  }

  const pgEnv = { ...process.env, PGPASSWORD: superPassword, PGCONNECT_TIMEOUT: '5' };
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const start = asOwner(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=60']);
    const { live, exited } = spawnSupervised(start.command, start.args, logPath);
    let ready = false;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && live.child.exitCode === null && live.child.signalCode === null) {
      try {
        await run(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { timeoutMs: 5_000 });
        ready = true;
        break;
      } catch {
        await sleep(100);
      }
    }
    if (!ready) {
      await stopSupervised(live, exited);
      const tail = await logTail(logPath);
      if (attempt < 3 && /could not bind|Address already in use/i.test(tail)) continue;
      await cleanup();
      throw new Error(`postgres on 127.0.0.1:${port} did not become ready\n--- ${logPath} (tail) ---\n${tail}`);
    }
    const query = async (database: string, sql: string): Promise<string> => {
      const { stdout } = await run('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-c', sql], { env: pgEnv, timeoutMs: 30_000 });
      return stdout;
    };
    const stop = async () => {
      await stopSupervised(live, exited);
      await cleanup();
    };
    try {
      const serverPassword = randomBytes(16).toString('hex');
      const signerPassword = randomBytes(16).toString('hex');
      await query('postgres', `CREATE ROLE server LOGIN PASSWORD '${serverPassword}'`);
      await query('postgres', `CREATE ROLE signer LOGIN PASSWORD '${signerPassword}'`);
      await query('postgres', 'CREATE DATABASE notaryserver OWNER server');
      await query('postgres', 'CREATE DATABASE notarysigner OWNER signer');
      // The tables belong to the roles the programs log in as.
      await query('notaryserver', `SET ROLE server; ${NOTARY_SERVER_SCHEMA}`);
      await query('notarysigner', `SET ROLE signer; ${NOTARY_SIGNER_SCHEMA}`);
      const url = (user: string, password: string, db: string) => `postgres://${user}:${password}@127.0.0.1:${port}/${db}?sslmode=disable`;
      return {
        port,
        dir,
        logPath,
        serverDbUrl: url('server', serverPassword, 'notaryserver'),
        signerDbUrl: url('signer', signerPassword, 'notarysigner'),
        query,
        stop,
      };
    } catch (err) {
      await stop();
      throw err;
    }
  }
}
