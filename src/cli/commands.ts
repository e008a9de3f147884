/** The `content-trust` commands, on the same core as the action. */
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseReference, type ImageRef } from '../registry/reference.ts';
import { readPrivateKey, toSigningKey } from '../tuf/private-key.ts';
import { generateKey, publicKeyPem } from '../tuf/key-file.ts';
import { parseSignerKeys, signerRole } from '../notary/admin/common.ts';
import { readRepo } from '../notary/admin/workflow.ts';
import { inspectRepo } from '../notary/admin/inspect.ts';
import { repoClient } from '../notary/sign.ts';
import { hasTag, perform, type Mode, type OptionsOf, type ResultOf, type Signer } from '../operations.ts';
import { InputError, asContentTrustError } from '../errors.ts';
import { collectImages, locateFailures, planPins, readDeployFiles, withSources, writePins } from '../deploy/manifests.ts';
import { flag, type Args } from './args.ts';
import { createCliEnv } from './env.ts';
import { trustDirKeys } from './keys.ts';
import { passphraseFor, saveKey, trustDir } from './trust-dir.ts';
import { inspectJson, inspectPretty } from './inspect-format.ts';
import { jsonForLog } from '../util/untrusted-text.ts';
import { readUserFile } from '../util/file.ts';

/** Key and public key files are a few KiB; this bound only stops a huge or endless file. */
const KEY_FILE_MAX_BYTES = 64 * 1024;

/** A signer's public key file (--key), read with errors naming the flag. */
function readSignerKeys(file: string, name: string) {
  const text = readUserFile(file, { name: '--key', fix: "give the signer's public key file (NAME.pub from `content-trust key generate` or `docker trust key generate`)" }, { maxBytes: KEY_FILE_MAX_BYTES });
  return parseSignerKeys(text, name, `the --key file ${JSON.stringify(file)}`);
}

export interface Io {
  out: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

/** The references given to `content-trust COMMAND`; `what` is how its help names them. */
function refsOf(args: readonly string[], command: string, what: string): ImageRef[] {
  if (args.length === 0) throw new InputError('INPUT_INVALID', `\`content-trust ${command}\` needs at least one ${what}: see \`content-trust ${command} --help\``);
  return args.map((a) => parseReference(a));
}

function envFor(refs: readonly ImageRef[], args: Args, io: Io) {
  return createCliEnv(refs, { server: flag(args, 'server'), tlsCaCert: flag(args, 'tlscacert'), verbose: args.flags.has('verbose'), debug: args.flags.has('debug') }, io.env);
}

export function keyGenerate(args: Args, io: Io): void {
  const [name] = args.positionals;
  if (!name) throw new InputError('INPUT_INVALID', 'usage: content-trust key generate NAME [--dir DIR]');
  signerRole(name);
  const dir = resolve(flag(args, 'dir') ?? '.');
  makeOutputDir(dir);
  const key = generateKey();
  const id = saveKey(trustDir(io.env), key, { role: name }, io.env);
  const pubPath = join(dir, `${name}.pub`);
  writeFileSync(pubPath, publicKeyPem(key, name), { mode: 0o644 });
  io.out(`Successfully generated and loaded private key for ${name} (key ID ${id}). Corresponding public key available: ${pubPath}\n`);
}

/** The --dir of key generate, made before a key is saved (so a bad one leaves no orphan key). */
function makeOutputDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new InputError('FILE_NOT_DIRECTORY', `--dir ${JSON.stringify(dir)} is a file (or under one), not a directory: give a directory for NAME.pub`, { cause: e });
    throw new InputError('FILE_UNREADABLE', `--dir ${JSON.stringify(dir)} cannot be made (${code ?? 'error'}): give a directory you can write for NAME.pub`, { cause: e });
  }
}

export function keyLoad(args: Args, io: Io): void {
  const [file] = args.positionals;
  if (!file) throw new InputError('INPUT_INVALID', 'usage: content-trust key load FILE [--name NAME]');
  const name = flag(args, 'name') ?? 'signer';
  signerRole(name);
  const text = readUserFile(file, { name: 'the key file', fix: 'give the path of a PEM private key file' }, { maxBytes: KEY_FILE_MAX_BYTES });
  // As docker: a key file others may read or write is refused.
  if ((statSync(file).mode & 0o077) !== 0) throw new InputError('KEY_INVALID', `the key file ${JSON.stringify(file)} is readable or writable by group or others: chmod 600 it first`);
  const { value, variable } = passphraseFor(name, io.env);
  const label = { name: `the key file ${JSON.stringify(file)}`, passphrase: `${variable} (content-trust never prompts)` };
  const { keyObject } = readPrivateKey(text, value, label);
  toSigningKey(keyObject, name, undefined, label); // refuses a key type no role could use before it is saved
  const id = saveKey(trustDir(io.env), keyObject, { role: name }, io.env);
  io.out(`Successfully imported key from ${file} as ${name} (key ID ${id})\n`);
}

/** Runs one mode of the operations table with the trust directory's keys. */
async function run<M extends Mode>(mode: M, refs: readonly ImageRef[], options: OptionsOf[M], args: Args, io: Io): Promise<ResultOf[M]> {
  const env = envFor(refs, args, io);
  try {
    return await perform(mode, env, refs, options, trustDirKeys(trustDir(io.env), io.env, mode === 'sign' ? flag(args, 'signer') : undefined));
  } finally {
    env.close();
  }
}

/** Creates trust data; with `signer`, as `signer add`: an initialised repository gets the signer added instead. */
export async function init(args: Args, io: Io, signer?: Signer): Promise<void> {
  const refs = refsOf(args.positionals, signer ? 'signer add' : 'init', 'REPOSITORY');
  const outcomes = await run('init', refs, { signer }, args, io);
  for (const o of outcomes) {
    if (o.changed) io.out(`Initialised ${o.repository}: root key ${o.rootKeyId}, repository key ${o.repositoryKeyId}${signer ? `, signer ${signer.name}` : ''}\n`);
    else if (!signer) io.out(`${o.repository} is already initialised; left as it is\n`);
  }
  const existing = refs.filter((r) => outcomes.some((o) => !o.changed && o.repository === r.gun));
  if (signer && existing.length > 0) for (const o of await run('add-signer', existing, { signer }, args, io)) io.out(`${o.summary}\n`);
}

export async function signerAdd(args: Args, io: Io): Promise<void> {
  const [name, ...repos] = args.positionals;
  const keyFile = flag(args, 'key');
  if (!name || repos.length === 0 || !keyFile) throw new InputError('INPUT_INVALID', 'usage: content-trust signer add --key KEY.pub NAME REPOSITORY...');
  signerRole(name);
  await init({ ...args, positionals: repos }, io, { name, keys: readSignerKeys(keyFile, name) });
}

async function adminCommand<M extends Exclude<Mode, 'sign' | 'verify' | 'init'>>(mode: M, repos: readonly string[], options: OptionsOf[M], args: Args, io: Io): Promise<void> {
  const command = { 'add-signer': 'signer add', 'remove-signer': 'signer remove', revoke: 'revoke', refresh: 'refresh', rotate: 'rotate' }[mode];
  for (const o of await run(mode, refsOf(repos, command, mode === 'revoke' ? 'IMAGE[:TAG]' : 'REPOSITORY'), options, args, io)) io.out(`${o.summary}\n`);
}

export function signerRemove(args: Args, io: Io): Promise<void> {
  const [name, ...repos] = args.positionals;
  if (!name || repos.length === 0) throw new InputError('INPUT_INVALID', 'usage: content-trust signer remove NAME REPOSITORY...');
  return adminCommand('remove-signer', repos, { name }, args, io);
}

export function revoke(args: Args, io: Io): Promise<void> {
  return adminCommand('revoke', args.positionals, {}, args, io);
}

export function refresh(args: Args, io: Io): Promise<void> {
  const days = Number(flag(args, 'within') ?? '182');
  if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', '--within takes a whole number of days');
  return adminCommand('refresh', args.positionals, { withinDays: days }, args, io);
}

export function rotate(args: Args, io: Io): Promise<void> {
  const [repoName, what, name] = args.positionals;
  if (!repoName || !what) throw new InputError('INPUT_INVALID', 'usage: content-trust rotate REPOSITORY snapshot|timestamp, or rotate REPOSITORY signer NAME --key NEW.pub');
  if (what === 'snapshot' || what === 'timestamp') return adminCommand('rotate', [repoName], { role: what }, args, io);
  const keyFile = flag(args, 'key');
  if (what !== 'signer' || !name || !keyFile) throw new InputError('INPUT_INVALID', 'usage: content-trust rotate REPOSITORY signer NAME --key NEW.pub');
  return adminCommand('rotate', [repoName], { role: 'signer', signer: { name, keys: readSignerKeys(keyFile, name) } }, args, io);
}

export async function sign(args: Args, io: Io): Promise<void> {
  const refs = refsOf(args.positionals, 'sign', 'IMAGE:TAG');
  for (const r of await run('sign', refs, {}, args, io)) io.out(`Signed ${r.repository}:${r.tag} ${r.digest} (${r.roles.join(', ')})\n`);
}

const MANIFESTS_LABEL = { name: '--manifests', fix: 'give paths or globs (k8s/**/*.yaml) of Kubernetes manifests, Compose files or workflow files inside the current directory' };

export async function verify(args: Args, io: Io): Promise<void> {
  const patterns = (flag(args, 'manifests') ?? '')
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
  const pin = args.flags.has('pin');
  if (pin && patterns.length === 0) throw new InputError('INPUT_INVALID', '--pin rewrites the images of the files --manifests names: give --manifests too');
  const files = patterns.length > 0 ? await readDeployFiles(patterns, process.cwd(), MANIFESTS_LABEL) : [];
  for (const f of files) for (const d of f.digestOnly) io.out(`${f.path}:${d.line}: ${d.image} is pinned by digest only; content trust has no tag to check there\n`);
  const { added, places } = collectImages(files, args.positionals);
  const refs = refsOf([...args.positionals, ...added], 'verify', patterns.length > 0 ? 'IMAGE:TAG (the --manifests files name none)' : 'IMAGE:TAG');
  const signers = (flag(args, 'signer') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const verified = await run('verify', refs, { signers, checkRegistry: !args.flags.has('no-registry') }, args, io).catch((e: unknown) => {
    throw locateFailures(asContentTrustError(e), places);
  });
  const results = withSources(verified, places);
  // Pinned before anything is printed: a failure to write is the command's failure.
  const pinned = pin ? planPins(files, verified) : undefined;
  const written = pinned ? writePins(pinned.plans, MANIFESTS_LABEL) : [];
  if (args.flags.has('json')) io.out(`${jsonForLog(results, 2)}\n`);
  else for (const r of results) io.out(`${r.repository}:${r.tag} ${r.digest} signed by ${r.signers.join(', ') || r.roles.join(', ')} (trust data expires ${r.expires})${r.sources ? ` named at ${r.sources.join(', ')}` : ''}\n`);
  if (!pinned) return;
  const err = args.flags.has('json') ? () => {} : io.out;
  for (const u of pinned.unverified) err(`${u.what} (${u.image}): not verified, so not pinned\n`);
  for (const p of pinned.plans) err(`Pinned ${p.file.path}: ${p.pinned.map((x) => `line ${x.found.line} ${x.value}`).join(', ')}\n`);
  if (written.length === 0) err('Every verified image is pinned to its trusted digest already: no file changed\n');
}

export async function inspect(args: Args, io: Io): Promise<void> {
  const refs = refsOf(args.positionals, 'inspect', 'IMAGE[:TAG]');
  const env = envFor(refs, args, io);
  try {
    const entries = [];
    for (const [i, ref] of refs.entries()) {
      const repo = await readRepo(env, repoClient(env, ref, false), new Date());
      entries.push(inspectRepo(args.positionals[i]!, repo, hasTag(args.positionals[i]!) ? ref.tag : undefined));
    }
    io.out(args.flags.has('pretty') ? entries.map(inspectPretty).join('\n\n') : inspectJson(entries));
  } finally {
    env.close();
  }
}
