/**
 * Runs the action as the runner runs it (node dist/index.js with INPUT_*
 * variables, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, a clean env), and
 * reads the stack's trust data back for assertions.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { httpsRequest } from '../stack/https.ts';
import { pushImage, REPOSITORY_PASSPHRASE, startStack, type GeneratedKey, type PushedImage, type Stack, type StackOptions } from '../stack/index.ts';
import { readRealRepo, type RealRepo } from '../stack/forger.ts';
import { HttpClient } from '../../src/http/client.ts';
import { AuthClient } from '../../src/http/auth.ts';
import type { ImageResult, TrustEnv } from '../../src/notary/env.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const NODE = join(ROOT, 'node_modules/.bin/node');
const DIST = join(ROOT, 'dist/index.js');
const CLI = join(ROOT, 'dist/cli.js');

export interface StackUnderTest {
  stack: Stack;
  /** A delegation key docker generated (named ci, under <stack dir>/keys). */
  ci: GeneratedKey;
}

/**
 * Registers the suite's first before hook, which starts a stack and
 * generates the `ci` key, and an after hook that stops the stack. The
 * returned object's fields are set once that hook has run.
 */
export function useStack(options: StackOptions = {}): StackUnderTest {
  const t = {} as StackUnderTest;
  before(async () => {
    t.stack = await startStack(options);
    t.ci = await t.stack.docker.keyGenerate('ci', join(t.stack.dir, 'keys'));
  });
  after(() => t.stack?.stop());
  return t;
}

export interface ActionInputs {
  mode: 'sign' | 'verify';
  /** One per line (joined with \n) or the raw input text. */
  images: string[] | string;
  /** Default: the stack's notary server; null leaves the input unset. */
  trustServer?: string | null;
  /** A path or PEM text; default: the stack CA's path; null leaves the input unset. */
  caCert?: string | null;
  /** PEM text of the delegation key (sign). */
  key?: string;
  /** Default for sign: the stack's repository passphrase; null leaves it unset. */
  passphrase?: string | null;
  signers?: string;
}

export interface ActionRun {
  code: number | null;
  /** The runner's HOME and RUNNER_TEMP (holds the output and summary files). */
  home: string;
  stdout: string;
  stderr: string;
  /** stdout + stderr */
  text: string;
  /** GITHUB_OUTPUT parsed from its name<<delimiter blocks. */
  outputs: Record<string, string>;
  /** Raw GITHUB_OUTPUT file text. */
  outputFile: string;
  /** GITHUB_STEP_SUMMARY file text. */
  summary: string;
  /** The summary with character references decoded: the text a reader sees in each cell (tags stay). */
  summaryText: string;
  /** `::error …::` annotations: title and decoded message. */
  errors: { title: string; message: string }[];
}

/** Decodes a workflow command value (%25, %0D, %0A; properties also %3A, %2C). */
function unescape(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%');
}

export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) {
      if (lines[i]!.trim()) throw new Error(`GITHUB_OUTPUT line ${i + 1} is not a name<<delimiter block: ${lines[i]}`);
      continue;
    }
    const [, name, delimiter] = m;
    const end = lines.indexOf(delimiter!, i + 1);
    if (end < 0) throw new Error(`GITHUB_OUTPUT: block ${name} has no closing ${delimiter}`);
    out[name!] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return out;
}

function parseErrors(stdout: string): { title: string; message: string }[] {
  const out: { title: string; message: string }[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^::error(?: (.*?))?::(.*)$/.exec(line);
    if (!m) continue;
    const title = /(?:^|,)title=([^,]*)/.exec(m[1] ?? '')?.[1];
    out.push({ title: unescape(title ?? ''), message: unescape(m[2]!) });
  }
  return out;
}

/** Spawns `node dist/index.js` as the stack's runner: the inputs, the stack's server, CA and login unless told otherwise. */
export function runAction(stack: Stack, inputs: ActionInputs, extraEnv: Record<string, string> = {}): Promise<ActionRun> {
  const env: Record<string, string> = {
    INPUT_MODE: inputs.mode,
    INPUT_IMAGES: Array.isArray(inputs.images) ? inputs.images.join('\n') : inputs.images,
    // The production stack wants a login, as a real registry does (unless the test brings its own).
    ...(stack.auth && !('DOCKER_CONFIG' in extraEnv) && !('INPUT_USERNAME' in extraEnv) ? { INPUT_USERNAME: stack.auth.username, INPUT_PASSWORD: stack.auth.password } : {}),
    ...extraEnv,
  };
  const trustServer = inputs.trustServer === undefined ? stack.notary.url : inputs.trustServer;
  if (trustServer !== null) env['INPUT_TRUST-SERVER'] = trustServer;
  const caCert = inputs.caCert === undefined ? stack.ca.caCertPath : inputs.caCert;
  if (caCert !== null) env['INPUT_CA-CERT'] = caCert;
  if (inputs.key !== undefined) env['INPUT_DELEGATION-KEY'] = inputs.key;
  const passphrase = inputs.passphrase === undefined ? (inputs.mode === 'sign' ? REPOSITORY_PASSPHRASE : null) : inputs.passphrase;
  if (passphrase !== null) env['INPUT_DELEGATION-PASSPHRASE'] = passphrase;
  if (inputs.signers !== undefined) env.INPUT_SIGNERS = inputs.signers;
  return runDist(stack.dir, env);
}

/**
 * Spawns `node dist/index.js` with only the runner's variables (a fresh HOME
 * and RUNNER_TEMP under `parentDir`, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and
 * `env`; `secrets` not among the inputs (a token in a Docker config…) are
 * checked for leaks along with the secret inputs.
 */
export async function runDist(parentDir: string, env: Record<string, string>, secrets: string[] = []): Promise<ActionRun> {
  const home = await mkdtemp(join(parentDir, 'runner-'));
  const outputPath = join(home, 'github_output');
  const summaryPath = join(home, 'step_summary');
  await writeFile(outputPath, '');
  await writeFile(summaryPath, '');
  const fullEnv = { HOME: home, RUNNER_TEMP: home, GITHUB_OUTPUT: outputPath, GITHUB_STEP_SUMMARY: summaryPath, ...env };
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(NODE, [DIST], { env: fullEnv, cwd: home, timeout: 90_000, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') reject(new Error(`node dist/index.js did not finish: ${error.message}\n${stderr}`));
      else resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
    });
  });
  const outputFile = await readFile(outputPath, 'utf8');
  const summary = await readFile(summaryPath, 'utf8');
  assertNoSecrets(fullEnv, { stdout, stderr, outputFile, summary }, secrets);
  return {
    code,
    home,
    stdout,
    stderr,
    text: `${stdout}\n${stderr}`,
    outputs: parseOutputFile(outputFile),
    outputFile,
    summary,
    summaryText: decodeCharacterReferences(summary),
    errors: parseErrors(stdout),
  };
}

const NAMED_REFERENCES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

/** Numeric and the five XML character references, decoded (the summary writes outside text with them). */
export function decodeCharacterReferences(html: string): string {
  return html.replace(/&(?:#(\d+)|#x([0-9a-f]+)|(lt|gt|quot|apos|amp));/gi, (_m, dec: string | undefined, hex: string | undefined, name: string | undefined) =>
    dec !== undefined ? String.fromCodePoint(Number(dec)) : hex !== undefined ? String.fromCodePoint(parseInt(hex, 16)) : NAMED_REFERENCES[name!.toLowerCase()]!,
  );
}

/**
 * Every action run of the suite passes through here: no secret input (a
 * passphrase, a password, a line of a key's body) may appear in its output,
 * its GITHUB_OUTPUT or its summary, except in the `::add-mask::` commands that
 * hide it, nor any of `extra`. A leak fails whichever test made the run.
 */
function assertNoSecrets(env: Record<string, string>, streams: Record<string, string>, extra: string[]): void {
  const secrets = new Set<string>(extra);
  for (const [name, value] of Object.entries(env)) {
    if (!/^INPUT_.*(PASSPHRASE|PASSWORD|KEY)$/.test(name) || name === 'INPUT_ROOT-KEYS' || name === 'INPUT_SIGNER-KEY') continue;
    if (!/KEY$/.test(name)) {
      if (value.length >= 8) secrets.add(value);
      continue;
    }
    for (const line of value.split(/\r?\n/)) if (/^[A-Za-z0-9+/=]{16,}$/.test(line.trim())) secrets.add(line.trim());
  }
  for (const [stream, text] of Object.entries(streams)) {
    const visible = text
      .split('\n')
      .filter((l) => !l.startsWith('::add-mask::'))
      .join('\n');
    for (const secret of secrets) {
      if (visible.includes(secret)) throw new Error(`secret leak: a secret appears in the action's ${stream} (outside ::add-mask::)`);
    }
  }
}

/** A description of a run for assertion messages. */
export function describeRun(run: ActionRun): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The run failed: its first ::error annotation has `code` and a message matching `message`, and it set no digests. */
export function assertRefused(run: ActionRun, code: string, message: RegExp): void {
  assert.notEqual(run.code, 0, describeRun(run));
  const e = run.errors[0];
  assert.ok(e, `an ::error annotation\n${describeRun(run)}`);
  assert.equal(e.title.split(':')[0], code, describeRun(run));
  assert.match(e.message, message);
  assert.equal(run.outputs.digests, undefined, 'no output on failure');
}

/**
 * A bad input was refused as a bad input must be: exit 1, the failure line and
 * first annotation carry `code`, the message names `named` (the input), and
 * nothing anywhere is INTERNAL or a raw Node error.
 */
export function assertBadInput(run: ActionRun, code: string, named: string): void {
  assert.equal(run.code, 1, describeRun(run));
  assert.match(run.stdout, new RegExp(`^::error::${code}: `, 'm'), `the failure line starts with ${code}\n${describeRun(run)}`);
  assertRefused(run, code, new RegExp(named.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assertNoInternal(run.text);
}

/** No INTERNAL code and no raw Node error text (ENOENT: …) in what a user sees. */
export function assertNoInternal(text: string): void {
  assert.doesNotMatch(text, /INTERNAL|unexpected error|\b(ENOENT|EISDIR|ENOTDIR|EIO|EACCES): /, text);
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js` with `env` only, stdin closed (a prompt would hang or fail). */
export function runCli(env: NodeJS.ProcessEnv, args: string[], cwd?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(NODE, [CLI, ...args], { env, cwd, timeout: 60_000, encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** The CLI refused a bad input: exit 1, `content-trust: CODE: ` naming `named`, nothing INTERNAL. */
export function assertCliBadInput(run: CliRun, code: string, named: string): void {
  const what = `exit ${run.code}\n--- stderr\n${run.stderr}\n--- stdout\n${run.stdout}`;
  assert.equal(run.code, 1, what);
  const line = run.stderr.split('\n').find((l) => l.startsWith(`content-trust: ${code}: `));
  assert.ok(line, `a "content-trust: ${code}: " line\n${what}`);
  assert.ok(line.includes(named), `the message names ${named}\n${what}`);
  assertNoInternal(run.stderr);
}

/** One entry of the `result` output: the workflows' ImageResult as JSON. */
export type ResultEntry = ImageResult;

export function resultOf(run: ActionRun): ResultEntry[] {
  if (run.outputs.result === undefined) throw new Error(`no result output\n${describeRun(run)}`);
  return JSON.parse(run.outputs.result) as ResultEntry[];
}

/** A TrustEnv for calling src/notary directly, wired as src/action/environment.ts wires it (no credentials). */
export function libraryEnv(stack: Stack, options: { trustServer?: string; ca?: string } = {}): TrustEnv & { logs: string[]; close(): void } {
  const http = new HttpClient({ ca: options.ca ?? stack.ca.caPem });
  const logs: string[] = [];
  return {
    client: new AuthClient(http),
    config: http.config,
    log: { info: (m) => logs.push(`info: ${m}`), warning: (m) => logs.push(`warning: ${m}`), debug: (m) => logs.push(`debug: ${m}`) },
    credentialsFor: () => (stack.auth ? { username: stack.auth.username, password: stack.auth.password } : undefined),
    serverFor: () => options.trustServer ?? stack.notary.url,
    logs,
    close: () => http.close(),
  };
}

/** Headers a direct request to the stack's Notary server needs: a pull token on the production stack. */
export function notaryHeaders(stack: Stack, gun: string): Record<string, string> {
  if (!stack.auth) return {};
  return { Authorization: `Bearer ${stack.auth.issuer.mint(stack.auth.username, stack.auth.notaryService, [{ type: 'repository', name: gun, actions: ['pull'] }])}` };
}

/** GET a trust file from the notary server; undefined on 404. */
export async function trustFile(stack: Stack, gun: string, role: string): Promise<{ signed: { version: number; targets?: Record<string, { hashes: Record<string, string>; length: number }> } } | undefined> {
  const res = await httpsRequest(`${stack.notary.url}/v2/${gun}/_trust/tuf/${role}.json`, { ca: stack.ca.caPem, headers: notaryHeaders(stack, gun) });
  if (res.status === 404) return undefined;
  // Server fact (test/upstream/production-stack.upstream.test.ts): on PostgreSQL a delegation that targets lists but nobody published answers 500.
  if (stack.postgres && res.status === 500 && res.body.toString('utf8').includes(`"detail":{"Role":"${role}"}`)) return undefined;
  if (res.status !== 200) throw new Error(`GET ${role}.json for ${gun}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  return JSON.parse(res.body.toString('utf8'));
}

/** POSTs (publishes) notary-server logged for this GUN, by request ID. */
export async function publishCount(stack: Stack, gun: string): Promise<number> {
  const log = await readFile(stack.notary.logPath, 'utf8');
  const ids = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.includes('"http.request.method":"POST"')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (entry['http.request.uri'] === `/v2/${gun}/_trust/tuf/`) ids.add(String(entry['http.request.id']));
  }
  return ids.size;
}

export interface TrustState {
  /** The server's snapshot version (bumped by every accepted publish); 0 when there is none. */
  snapshot: number;
  releases: number;
  /** Versions of each targets/<signer> file asked for. */
  signers: Record<string, number>;
  /** POSTs logged for the GUN, accepted or not. */
  posts: number;
}

export async function trustState(stack: Stack, gun: string, signers: string[] = ['ci']): Promise<TrustState> {
  const [snapshot, releases, ...roles] = await Promise.all([trustFile(stack, gun, 'snapshot'), trustFile(stack, gun, 'targets/releases'), ...signers.map((s) => trustFile(stack, gun, `targets/${s}`))]);
  return {
    snapshot: snapshot?.signed.version ?? 0,
    releases: releases?.signed.version ?? 0,
    signers: Object.fromEntries(signers.map((s, i) => [s, roles[i]?.signed.version ?? 0])),
    posts: await publishCount(stack, gun),
  };
}

/** A repository initialised by docker with `signer` as delegate (targets/<signer> and targets/releases). */
export async function initRepo(stack: Stack, repo: string, key: GeneratedKey): Promise<string> {
  const gun = stack.gun(repo);
  await stack.docker.signerAdd(key.name, key.publicKeyPath, gun);
  return gun;
}

/**
 * A repository the notary CLI signs as Go writes: a target named `a&b<c>`
 * (HTML-escaped on the wire) and `v1`, both in targets/releases, signed with
 * TZ=Asia/Kolkata (expiries in +05:30).
 */
export async function goQuirksRepo(stack: Stack, key: GeneratedKey, repo: string): Promise<{ gun: string; img: PushedImage }> {
  const gun = await initRepo(stack, repo, key);
  const img = await pushImage(stack, `${repo}:v1`, { seed: repo.replace('/', '-') });
  const tz = process.env.TZ;
  process.env.TZ = 'Asia/Kolkata';
  try {
    await stack.notaryCli.addhash(gun, 'a&b<c>', img.size, img.digest, { role: 'targets/releases' });
    await stack.notaryCli.addhash(gun, 'v1', img.size, img.digest, { role: 'targets/releases', publish: true });
  } finally {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  }
  return { gun, img };
}

/** Hex sha256 of a "sha256:<hex>" digest, as notary list and docker trust inspect print it. */
export const hex = (digest: string): string => digest.replace(/^sha256:/, '');

/**
 * A repository initialised by docker, with v1 signed by the notary CLI
 * (captured as `old`), then v2 signed (captured as `real`): the material for
 * replay and rewrite attacks through the proxy.
 */
export async function twoVersionRepo(stack: Stack, repo: string, ci: GeneratedKey): Promise<{ gun: string; v1: PushedImage; old: RealRepo; real: RealRepo }> {
  const gun = await initRepo(stack, repo, ci);
  const v1 = await pushImage(stack, `${repo}:v1`, { seed: `${repo}-v1` });
  await stack.notaryCli.addhash(gun, 'v1', v1.size, v1.digest, { role: 'targets/releases', publish: true });
  const old = await readRealRepo(stack.notary.url, stack.ca, gun);
  const v2 = await pushImage(stack, `${repo}:v2`, { seed: `${repo}-v2` });
  await stack.notaryCli.addhash(gun, 'v2', v2.size, v2.digest, { role: 'targets/releases', publish: true });
  return { gun, v1, old, real: await readRealRepo(stack.notary.url, stack.ca, gun) };
}
