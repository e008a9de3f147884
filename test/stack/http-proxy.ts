/**
 * A real forward proxy on loopback: Debian's tinyproxy, run in the
 * foreground with its own config (never the system service), for the
 * proxy tests. It tunnels CONNECT to any port, and may ask for Basic
 * credentials or deny every client. Its log records each CONNECT
 * (`LogLevel Connect`); `connects()` reads the targets back.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './ports.ts';
import { logTail, spawnSupervised, stopSupervised } from './service.ts';

export interface HttpProxyOptions {
  /** The proxy gets a subdirectory of this one (config and log). */
  dir: string;
  /** A name for the subdirectory, so that several proxies can share `dir`. */
  name?: string;
  /** Ask for these Basic credentials (407 without them, 401 for wrong ones). */
  basicAuth?: { user: string; password: string };
  /** Deny every client (403 to every request). */
  denyAll?: boolean;
}

export interface HttpProxy {
  /** http://127.0.0.1:PORT, no credentials. */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  logPath: string;
  /** The CONNECT targets (host:port) logged so far, in order. */
  connects(): Promise<string[]>;
  stop(): Promise<void>;
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startHttpProxy(options: HttpProxyOptions): Promise<HttpProxy> {
  const dir = join(options.dir, options.name ?? 'tinyproxy');
  await mkdir(dir, { recursive: true });
  const configPath = join(dir, 'tinyproxy.conf');
  const logPath = join(dir, 'tinyproxy.log');
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    // No ConnectPort line: CONNECT to any port (the stack's servers are on random ones).
    const lines = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 60',
      'MaxClients 64',
      `LogFile "${logPath}"`,
      'LogLevel Connect',
      ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
      ...(options.denyAll ? ['Deny 127.0.0.1', 'Deny ::1'] : []),
    ];
    await writeFile(configPath, `${lines.join('\n')}\n`);
    const logStart = (await readFile(logPath, 'utf8').catch(() => '')).length;
    // -d: stay in the foreground, so the supervisor owns the process.
    const { live, exited } = spawnSupervised('tinyproxy', ['-d', '-c', configPath], join(dir, 'stdout.log'));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && live.child.exitCode === null && live.child.signalCode === null) {
      if (await tcpOpen(port)) {
        const connects = async () => {
          const log = (await readFile(logPath, 'utf8').catch(() => '')).slice(logStart);
          return [...log.matchAll(/Request \(file descriptor \d+\): CONNECT (\S+) HTTP/g)].map((m) => m[1]!);
        };
        return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, port, logPath, connects, stop: () => stopSupervised(live, exited) };
      }
      await sleep(50);
    }
    await stopSupervised(live, exited);
    const tail = `${await logTail(join(dir, 'stdout.log'))}\n${await logTail(logPath)}`;
    if (attempt < 3 && /address already in use|Could not create listening/i.test(tail)) continue;
    throw new Error(`tinyproxy on 127.0.0.1:${port} did not come up\n--- ${dir} logs (tail) ---\n${tail}`);
  }
}
