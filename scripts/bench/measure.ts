// Whole-process timing for the benchmark: wall time from spawn to exit, and
// peak resident memory from GNU time (`/usr/bin/time -f %M`), which wraps
// every process the same way whichever tool is measured.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const GNU_TIME = '/usr/bin/time';

export interface ProcessRun {
  ms: number;
  /** Peak resident set size in KiB. */
  maxRssKb: number;
  /** CPU time (user + system), from GNU time at its 10 ms resolution. */
  cpuMs: number;
  /** Of which system (kernel) time. */
  sysMs: number;
  stdout: string;
  stderr: string;
}

const scratch = mkdtempSync(join(tmpdir(), 'cta-bench-time-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** Runs one process to completion; rejects on a non-zero exit with its stderr. */
export function timeProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<ProcessRun> {
  const out = join(scratch, `rss-${counter++}`);
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(GNU_TIME, ['-f', '%M %U %S', '-o', out, file, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => stdout.push(c));
    child.stderr.on('data', (c: Buffer) => stderr.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const [rss, user, sys] = (readFileSync(out, 'utf8').trim().split('\n').at(-1) ?? '').split(' ').map(Number);
      const run = { ms, maxRssKb: rss ?? NaN, cpuMs: ((user ?? NaN) + (sys ?? NaN)) * 1000, sysMs: (sys ?? NaN) * 1000, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') };
      rmSync(out, { force: true });
      if (code !== 0) reject(new Error(`${file} ${args.slice(0, 6).join(' ')}… exited ${code}\n${run.stderr.slice(-4000)}\n${run.stdout.slice(-4000)}`));
      else resolve(run);
    });
  });
}

/** A tool's whole job: one or more processes run one after another, as a script would. */
export interface JobRun {
  ms: number;
  maxRssKb: number;
  /** CPU time of all its processes, and of that the system time. */
  cpuMs: number;
  sysMs: number;
  processes: number;
}

export async function timeJob(steps: readonly (() => Promise<ProcessRun>)[]): Promise<JobRun> {
  const start = process.hrtime.bigint();
  let maxRssKb = 0;
  let cpuMs = 0;
  let sysMs = 0;
  for (const step of steps) {
    const run = await step();
    maxRssKb = Math.max(maxRssKb, run.maxRssKb);
    cpuMs += run.cpuMs;
    sysMs += run.sysMs;
  }
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, maxRssKb, cpuMs, sysMs, processes: steps.length };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}
