// Start-up latency: from spawning `node dist/index.js` to the first TCP
// connection it opens. A loopback listener plays registry and Notary server
// and timestamps the first accepted connection; the process is then killed.
// `node -e 'connect()'` gives the floor: Node's own start-up.
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'index.js');

/** Milliseconds from spawn to the first connection, for one process. */
async function firstConnection(command: (port: number) => { args: string[]; env: NodeJS.ProcessEnv }): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise<number>((resolve, reject) => {
      const { args, env } = command(port);
      const start = process.hrtime.bigint();
      const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('no connection within 10 s'));
      }, 10_000);
      server.once('connection', (socket) => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        clearTimeout(timer);
        socket.destroy();
        child.kill('SIGKILL');
        resolve(ms);
      });
      child.on('error', reject);
    });
  } finally {
    server.close();
  }
}

export interface StartupFigures {
  nodeFloorMs: number[];
  verifyMs: number[];
  signMs: number[];
}

/** The action's environment for a start-up run against a listener on `port` (sign also gets the key). */
export function startupEnv(work: string, mode: string, port: number, keyPem: string, passphrase: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: work,
    GITHUB_OUTPUT: join(work, 'out'),
    INPUT_MODE: mode,
    INPUT_IMAGES: `127.0.0.1:${port}/bench/startup:v1`,
    'INPUT_TRUST-SERVER': `https://127.0.0.1:${port}`,
    ...(mode === 'sign' ? { 'INPUT_DELEGATION-KEY': keyPem, 'INPUT_DELEGATION-PASSPHRASE': passphrase } : {}),
  };
}

export async function measureStartup(runs: number, keyPem: string, passphrase: string): Promise<StartupFigures> {
  const work = mkdtempSync(join(tmpdir(), 'cta-bench-startup-'));
  writeFileSync(join(work, 'out'), '');
  const env = (mode: string, port: number) => startupEnv(work, mode, port, keyPem, passphrase);
  const figures: StartupFigures = { nodeFloorMs: [], verifyMs: [], signMs: [] };
  for (let i = 0; i <= runs; i++) {
    // The first round warms the page cache and is not recorded.
    const floor = await firstConnection((p) => ({ args: ['-e', `require('node:net').connect(${p}, '127.0.0.1').on('error', () => {})`], env: { PATH: process.env.PATH } }));
    const verify = await firstConnection((p) => ({ args: [DIST], env: env('verify', p) }));
    const sign = await firstConnection((p) => ({ args: [DIST], env: env('sign', p) }));
    if (i === 0) continue;
    figures.nodeFloorMs.push(floor);
    figures.verifyMs.push(verify);
    figures.signMs.push(sign);
  }
  return figures;
}
