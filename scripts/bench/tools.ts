// The two contestants, as whole processes: the action as the runner runs it
// (`node dist/index.js` with INPUT_* variables and GITHUB_OUTPUT), and the
// notary CLI doing the same work (addhash per tag + one publish per
// repository to sign; `notary list` per repository to verify).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPOSITORY_PASSPHRASE, type Stack } from '../../test/stack/index.ts';
import { timeJob, timeProcess, type JobRun, type ProcessRun } from './measure.ts';
import type { SeededRepo } from '../../test/stack/many-tags.ts';
import { MANIFEST_ACCEPT } from '../../src/registry/manifest-body.ts';

const DIST = join(import.meta.dirname, '..', '..', 'dist', 'index.js');
/** Roles `docker trust signer add ci` gives the key; the action signs every one, so the CLI is asked to as well. */
const SIGNER_ROLES = ['targets/releases', 'targets/ci'];

export interface ActionOutcome extends JobRun {
  /** `digests` output lines. */
  digests: string[];
}

export class Contestants {
  private readonly stack: Stack;
  private readonly keyPem: string;
  private readonly work = mkdtempSync(join(tmpdir(), 'cta-bench-'));
  private count = 0;

  constructor(stack: Stack, keyPem: string) {
    this.stack = stack;
    this.keyPem = keyPem;
  }

  /**
   * One action process over every tag of the repositories; images go in a
   * file past 2,000 tags (the 128 KiB env cap). `dist`: another build's
   * index.js (scripts/bench/verify-compare.ts), default this checkout's.
   */
  async action(mode: 'sign' | 'verify', repos: readonly SeededRepo[], dist = DIST): Promise<ActionOutcome> {
    const n = this.count++;
    const refs = repos.flatMap((r) => r.tags.map((t) => t.ref));
    const output = join(this.work, `out-${n}`);
    const summary = join(this.work, `summary-${n}.md`);
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const images: Record<string, string> = {};
    if (refs.length > 2000) {
      const file = join(this.work, `images-${n}.txt`);
      writeFileSync(file, refs.join('\n'));
      images['INPUT_IMAGES-FILE'] = file;
    } else {
      images.INPUT_IMAGES = refs.join('\n');
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: this.work,
      RUNNER_TEMP: this.work,
      GITHUB_OUTPUT: output,
      GITHUB_STEP_SUMMARY: summary,
      INPUT_MODE: mode,
      'INPUT_TRUST-SERVER': this.stack.notary.url,
      'INPUT_CA-CERT': this.stack.ca.caCertPath,
      ...images,
      ...(mode === 'sign' ? { 'INPUT_DELEGATION-KEY': this.keyPem, 'INPUT_DELEGATION-PASSPHRASE': REPOSITORY_PASSPHRASE } : {}),
    };
    const job = await timeJob([() => timeProcess(process.execPath, [dist], env)]);
    const text = readFileSync(output, 'utf8');
    const digests = /^digests<<(\S+)\n([\s\S]*?)\n\1$/m.exec(text)?.[2]?.split('\n') ?? [];
    return { ...job, digests };
  }

  private notary(args: string[]): () => Promise<ProcessRun> {
    const cli = this.stack.notaryCli;
    return () => timeProcess('notary', cli.argv(args), cli.env());
  }

  /** `notary addhash` per tag (the digests given), then one `notary publish` per repository. */
  notarySign(repos: readonly SeededRepo[]): Promise<JobRun> {
    const roles = SIGNER_ROLES.flatMap((r) => ['-r', r]);
    return timeJob(repos.flatMap((repo) => [...repo.tags.map((t) => this.notary(['addhash', repo.gun, t.tag, String(t.size), '--sha256', t.digest.slice('sha256:'.length), ...roles])), this.notary(['publish', repo.gun])]));
  }

  /** `notary list` per repository. */
  notaryVerify(repos: readonly SeededRepo[]): Promise<JobRun> {
    return timeJob(repos.map((repo) => this.notary(['list', repo.gun])));
  }

  /**
   * The floor for verifying a repository's tags: the registry answering a
   * HEAD of every tag's manifest, as the action asks it (the same Accept
   * header, the stack's CA), 8 at a time as the action's pool, HTTP/2 where
   * the registry offers it (docker-registry does): one curl process. Every
   * answer must be a 200.
   */
  curlHeads(repos: readonly SeededRepo[]): Promise<JobRun> {
    const n = this.count++;
    const config = join(this.work, `curl-${n}.txt`);
    const lines: string[] = [];
    for (const repo of repos) {
      for (const t of repo.tags) lines.push(`url = "${this.stack.registry.url}/v2/${repo.repository}/manifests/${t.tag}"`, 'output = "/dev/null"');
    }
    writeFileSync(config, `${lines.join('\n')}\n`);
    const want = repos.reduce((k, r) => k + r.tags.length, 0);
    const args = [
      '--silent',
      '--show-error',
      '--head',
      '--http2',
      '--parallel',
      '--parallel-max',
      '8',
      '--cacert',
      this.stack.ca.caCertPath,
      '--header',
      `Accept: ${MANIFEST_ACCEPT}`,
      '--write-out',
      '%{http_code} %{http_version}\n',
      '--config',
      config,
    ];
    return timeJob([
      async () => {
        const run = await timeProcess('curl', args, { PATH: process.env.PATH });
        const codes = run.stdout.trim().split('\n');
        const ok = codes.filter((c) => c.startsWith('200 ')).length;
        if (ok !== want) throw new Error(`curl: ${ok} of ${want} manifest HEADs answered 200 (${[...new Set(codes)].slice(0, 5).join(', ')})`);
        this.curlHttpVersion = codes[0]!.split(' ')[1]!;
        return run;
      },
    ]);
  }

  /** The HTTP version the last curl floor run spoke ("2" when the registry took h2). */
  curlHttpVersion = '';

  async notaryRows(gun: string): Promise<number> {
    return (await this.stack.notaryCli.list(gun)).length;
  }
}
