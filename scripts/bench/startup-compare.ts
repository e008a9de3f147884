// Start-up of two builds side by side: `node scripts/bench/startup-compare.ts
// DIST_A DIST_B [runs]` times spawn → first TCP connection (as
// scripts/bench/startup.ts does) for verify and sign, the two builds
// interleaved run by run, and prints medians of wall time and of CPU time
// (user + system, from /proc of the still-running child at that moment).
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median } from './measure.ts';
import { startupEnv } from './startup.ts';

const [a, b, n = '21'] = process.argv.slice(2);
if (!a || !b) throw new Error('usage: startup-compare.ts DIST_A DIST_B [runs]');
const runs = Number(n);
const work = mkdtempSync(join(tmpdir(), 'cta-startup-'));
writeFileSync(join(work, 'out'), '');
const PASS = 'startup-pass';
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: PASS }) as string;
const TICK = 100; // USER_HZ

async function once(dist: string, mode: string): Promise<{ ms: number; cpuMs: number }> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    return await new Promise((res, rej) => {
      const env = startupEnv(work, mode, port, key, PASS);
      const start = process.hrtime.bigint();
      const child = spawn(process.execPath, [join(resolve(dist), 'index.js')], { env, stdio: 'ignore' });
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        rej(new Error('no connection within 10 s'));
      }, 10_000);
      server.once('connection', (socket) => {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
        const cpuMs = ((Number(stat[11]) + Number(stat[12])) * 1000) / TICK;
        clearTimeout(timer);
        socket.destroy();
        child.kill('SIGKILL');
        res({ ms, cpuMs });
      });
      child.on('error', rej);
    });
  } finally {
    server.close();
  }
}

const fig: Record<string, { ms: number[]; cpu: number[] }> = {};
for (let i = 0; i <= runs; i++) {
  for (const mode of ['verify', 'sign']) {
    for (const [name, dist] of i % 2
      ? [
          ['A', a],
          ['B', b],
        ]
      : [
          ['B', b],
          ['A', a],
        ]) {
      const r = await once(dist!, mode);
      if (i === 0) continue;
      const f = (fig[`${mode} ${name}`] ??= { ms: [], cpu: [] });
      f.ms.push(r.ms);
      f.cpu.push(r.cpuMs);
    }
  }
}
for (const [k, f] of Object.entries(fig)) console.log(`${k}: wall ${median(f.ms).toFixed(0)} ms, cpu ${median(f.cpu).toFixed(0)} ms (median of ${f.ms.length})`);
