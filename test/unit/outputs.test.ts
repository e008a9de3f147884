import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setOutputs, SUMMARY_BUDGET, writeResults, writeSummary } from '../../src/action/outputs.ts';
import { ANNOTATIONS_PER_KIND, resetReportCounts, warning } from '../../src/action/report.ts';
import type { ImageResult } from '../../src/notary/env.ts';
import { runnerCommands } from './helpers/runner-commands.ts';
import { assertCode } from './helpers/errors.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const result = (i: number, extra: Partial<ImageResult> = {}): ImageResult => ({
  image: `example.com/app:v${i}`,
  repository: 'example.com/app',
  tag: `v${i}`,
  digest: DIGEST,
  size: 1,
  signers: ['ci'],
  roles: ['targets/ci'],
  expires: '2100-01-01T00:00:00Z',
  ...extra,
});

describe('outputs and summary', () => {
  let dir: string;
  const saved = { out: process.env.GITHUB_OUTPUT, summary: process.env.GITHUB_STEP_SUMMARY };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'outputs-'));
    process.env.GITHUB_OUTPUT = join(dir, 'output');
    process.env.GITHUB_STEP_SUMMARY = join(dir, 'summary');
    writeFileSync(process.env.GITHUB_OUTPUT, '');
    writeFileSync(process.env.GITHUB_STEP_SUMMARY, '');
  });
  afterEach(() => {
    process.env.GITHUB_OUTPUT = saved.out;
    process.env.GITHUB_STEP_SUMMARY = saved.summary;
  });

  it('line outputs take only repository:tag@sha256 references; anything else is a bug (INTERNAL), nothing written', () => {
    setOutputs([result(1)]);
    assert.match(readFileSync(process.env.GITHUB_OUTPUT!, 'utf8'), new RegExp(`example\\.com/app:v1@${DIGEST}`));
    writeFileSync(process.env.GITHUB_OUTPUT!, '');
    for (const bad of [{ tag: 'v1\nevil.example/x:y' }, { digest: 'sha256:zz' }, { repository: 'a b' }]) {
      assertCode(() => setOutputs([result(1, bad)]), 'INTERNAL');
    }
    assert.equal(readFileSync(process.env.GITHUB_OUTPUT!, 'utf8'), '');
  });

  it('5,000 results with huge hostile policy names: a summary under the budget that says how many rows it left out', async () => {
    await writeSummary(
      'verify',
      Array.from({ length: 5000 }, (_, i) => result(i, { policy: `<img src=x>[a](b)\n`.repeat(200) })),
      [],
    );
    const summary = readFileSync(process.env.GITHUB_STEP_SUMMARY!, 'utf8');
    assert.ok(Buffer.byteLength(summary) <= SUMMARY_BUDGET + 4096, `${Buffer.byteLength(summary)} bytes`);
    assert.match(summary, /Verified 5000 image\(s\)\. \d+ of them are not in this table: the result output lists every one\./);
    assert.doesNotMatch(summary, /<img|\]\(/);
  });

  it("the key IDs init gives and root or repository rotation makes go to root-key-id and repository-key-id, with every outcome in result; other modes' outcomes set neither", async () => {
    const ID = (c: string) => c.repeat(64);
    const outcome = { repository: 'example.com/app', changed: true, roles: ['root'], summary: 'done' };
    const outputs = () => readFileSync(process.env.GITHUB_OUTPUT!, 'utf8');
    await writeResults('init', [{ ...outcome, rootKeyId: ID('1'), repositoryKeyId: ID('2') }]);
    assert.match(outputs(), new RegExp(`root-key-id<<[^\\n]+\\n${ID('1')}\\n[\\s\\S]*repository-key-id<<[^\\n]+\\n${ID('2')}\\n[\\s\\S]*result<<`));
    writeFileSync(process.env.GITHUB_OUTPUT!, '');
    await writeResults('rotate', [{ ...outcome, repositoryKeyId: ID('3') }]);
    assert.match(outputs(), new RegExp(`repository-key-id<<[^\\n]+\\n${ID('3')}\\n`));
    assert.doesNotMatch(outputs(), /root-key-id/);
    writeFileSync(process.env.GITHUB_OUTPUT!, '');
    await writeResults('refresh', [outcome]);
    assert.doesNotMatch(outputs(), /key-id/);
    assert.match(outputs(), /result<</);
  });
});

describe('warning annotations', () => {
  it("GitHub's 10 per step: 9 warnings, one saying the rest are in the log, then log lines", () => {
    resetReportCounts();
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = (chunk: string) => lines.push(String(chunk)) > 0;
    try {
      for (let i = 0; i < 50; i++) warning(`tag v${i}: ::error::pwned`);
    } finally {
      process.stdout.write = write;
      resetReportCounts();
    }
    const commands = runnerCommands(lines.join(''));
    assert.equal(commands.length, ANNOTATIONS_PER_KIND);
    assert.ok(commands.every((c) => c.name === 'warning'));
    assert.match(commands.at(-1)!.line, /more warnings follow in the log only/);
    assert.equal(lines.filter((l) => l.startsWith('Warning: tag v')).length, 50 - (ANNOTATIONS_PER_KIND - 1));
  });
});
