import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestCa } from './ca.ts';
import { httpsRequest } from './https.ts';
import { freePort } from './ports.ts';

export interface RunningService {
  name: string;
  port: number;
  /** https://127.0.0.1:PORT */
  url: string;
  logPath: string;
  pid: number;
  stop: () => Promise<void>;
}

export interface ServiceSpec {
  /** Short name, used for the log file and in errors. */
  name: string;
  /** Where config and log files go. */
  dir: string;
  ca: TestCa;
  /** Writes whatever config the program needs for `port` and returns its command line. */
  prepare(port: number): Promise<{ command: string; args: string[] }>;
  /** Path polled until it answers 200; defaults to /v2/. */
  readyPath?: string;
  /** Readiness deadline per attempt; defaults to 10 s. */
  timeoutMs?: number;
}

/** notary-server and docker-registry: where their files go, and config sections over their defaults. */
export interface ConfiguredServiceOptions {
  /** The service gets a subdirectory of this one. */
  dir: string;
  ca: TestCa;
  /** Top-level config sections replacing the defaults' (auth, storage, trust_service…). */
  extraConfig?: Record<string, unknown>;
  readyPath?: string;
  timeoutMs?: number;
}

export interface Live {
  child: ChildProcess;
  watchdog: ChildProcess | undefined;
}

/** Whether the process has exited (and been reaped): its pid may then belong to another process. */
function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

const live = new Set<Live>();
let exitHookInstalled = false;

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const entry of live) {
      killGroup(entry.watchdog?.pid, 'SIGKILL');
      // A pid reaped minutes ago may be another test file's service by now (pid_max is often 32768).
      if (!hasExited(entry.child)) killGroup(entry.child.pid, 'SIGKILL');
    }
    live.clear();
  });
}

/**
 * Spawns `command` in its own process group, output appended to `logPath`.
 * A companion `sh` watchdog reads a pipe from this process and kills the
 * group when the pipe closes, so the service dies even if this process is
 * killed with SIGKILL; a process 'exit' hook covers normal exits.
 */
export function spawnSupervised(command: string, args: string[], logPath: string, env: NodeJS.ProcessEnv = process.env): { live: Live; exited: Promise<void> } {
  installExitHook();
  const logFd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, { detached: true, stdio: ['ignore', logFd, logFd], env });
  } finally {
    closeSync(logFd);
  }
  const pid = child.pid;
  child.unref();
  if (pid === undefined) {
    const failed = new Promise<void>((resolve) => child.once('error', () => resolve()));
    return { live: { child, watchdog: undefined }, exited: failed };
  }
  const watchdog = spawn('/bin/sh', ['-c', `read _ignored; kill -KILL -${pid} 2>/dev/null`], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => {});
  watchdog.stdin?.on('error', () => {});
  (watchdog.stdin as Socket | null)?.unref();
  watchdog.unref();
  const entry: Live = { child, watchdog };
  live.add(entry);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      // Right away, while the pid cannot have been reused yet: end what the service left in its group,
      // and its watchdog, whose later kill would otherwise hit whatever process gets this pid next.
      killGroup(pid, 'SIGKILL');
      killGroup(watchdog.pid, 'SIGKILL');
      resolve();
    });
    child.once('error', () => resolve());
  });
  return { live: entry, exited };
}

export async function stopSupervised(entry: Live, exited: Promise<void>): Promise<void> {
  if (!live.delete(entry)) return;
  // Kill the watchdog first so its delayed kill cannot hit a reused pid.
  killGroup(entry.watchdog?.pid, 'SIGKILL');
  if (entry.child.exitCode === null && entry.child.signalCode === null) {
    killGroup(entry.child.pid, 'SIGTERM');
    const cancel = new AbortController();
    const timer = sleep(5_000, 'timeout' as const, { signal: cancel.signal }).catch(() => 'cancelled' as const);
    const outcome = await Promise.race([exited.then(() => 'exited' as const), timer]);
    cancel.abort();
    if (outcome === 'timeout') {
      killGroup(entry.child.pid, 'SIGKILL');
      await exited;
    }
  }
}

/** The line a Go program's runtime starts its crash report with (then every goroutine's stack follows). */
const GO_CRASH = /^(?:panic: |fatal error: |SIG[A-Z]+: )/m;

/**
 * The log's last lines; when the log holds a Go crash report, its start too (the reason and the
 * crashing goroutine), which a long goroutine dump would otherwise push out of the tail.
 */
export async function logTail(logPath: string, lines = 30): Promise<string> {
  let text: string;
  try {
    text = await readFile(logPath, 'utf8');
  } catch {
    return '(no log)';
  }
  const all = text.split('\n');
  const tail = all.slice(-lines).join('\n');
  const crash = GO_CRASH.exec(text);
  if (!crash) return tail;
  const head = text.slice(crash.index).split('\n').slice(0, 40);
  if (all.length - text.slice(0, crash.index).split('\n').length + 1 <= lines) return tail;
  return `${head.join('\n')}\n[…]\n${tail}`;
}

const BIND_RACE = /address already in use/i;

/**
 * Stops a service that was ready; fails, with its log's tail, when it had already ended by itself,
 * so a crash shows up as its cause rather than only as the next request's ECONNREFUSED.
 */
async function stopRunning(name: string, entry: Live, stop: () => Promise<void>, logPath: string): Promise<void> {
  const ended = hasExited(entry.child) && live.has(entry) ? `exit code ${entry.child.exitCode}, signal ${entry.child.signalCode}` : undefined;
  await stop();
  if (ended) throw new Error(`${name} ended while its tests ran (${ended})\n--- ${logPath} (tail) ---\n${await logTail(logPath)}`);
}

/**
 * Starts an HTTPS service on a free loopback port and waits until
 * `GET <readyPath>` answers 200 with the test CA. Retries with another port
 * when the port was taken in the meantime; otherwise throws with the log tail.
 */
export async function startHttpsService(spec: ServiceSpec): Promise<RunningService> {
  const readyPath = spec.readyPath ?? '/v2/';
  const timeoutMs = spec.timeoutMs ?? 10_000;
  const logPath = join(spec.dir, `${spec.name}.log`);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const url = `https://127.0.0.1:${port}`;
    const { command, args } = await spec.prepare(port);
    const logStart = (await readFile(logPath, 'utf8').catch(() => '')).length;
    const { live: entry, exited } = spawnSupervised(command, args, logPath);
    const stop = () => stopSupervised(entry, exited);
    let spawnError: Error | undefined;
    entry.child.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'no attempt';
    while (Date.now() < deadline) {
      if (spawnError) break;
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) break;
      try {
        const res = await httpsRequest(url + readyPath, { ca: spec.ca.caPem, timeoutMs: 1_000 });
        if (res.status === 200) return { name: spec.name, port, url, logPath, pid: entry.child.pid ?? -1, stop: () => stopRunning(spec.name, entry, stop, logPath) };
        lastProblem = `HTTP ${res.status}`;
      } catch (err) {
        lastProblem = (err as Error).message;
      }
      await sleep(100);
    }
    const exitedEarly = entry.child.exitCode !== null || entry.child.signalCode !== null;
    const why = spawnError ? `could not be started: ${spawnError.message}` : exitedEarly ? `exited early (code ${entry.child.exitCode}, signal ${entry.child.signalCode})` : `not ready after ${timeoutMs} ms (last: ${lastProblem})`;
    await stop();
    const attemptLog = (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart);
    if (exitedEarly && attempt < 3 && BIND_RACE.test(attemptLog)) continue;
    const tail = await logTail(logPath);
    throw new Error(`${spec.name} (${command} ${args.join(' ')}) ${why}\n--- ${logPath} (tail) ---\n${tail}`);
  }
}
