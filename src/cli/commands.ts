/** The `content-trust` commands, on the same core as the action. */
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hasTag, parseReference, type ImageRef } from '../registry/reference.ts';
import { readPrivateKey, toSigningKey } from '../tuf/private-key.ts';
import { generateKey, publicKeyPem } from '../tuf/key-file.ts';
import { parseSignerKeys, parseSignerPaths, signerKeyIds, signerRole } from '../notary/admin/common.ts';
import { readRepo } from '../notary/admin/workflow.ts';
import { inspectRepo } from '../notary/admin/inspect.ts';
import { repoClient } from '../notary/repository.ts';
import { perform, type Mode, type OptionsOf, type ResultOf, type Signer } from '../operations.ts';
import { InputError, asContentTrustError } from '../errors.ts';
import { collectImages, locateFailures, planPins, readDeployFiles, withSources, writePins } from '../deploy/manifests.ts';
import { flag, type Args } from './args.ts';
import { createCliEnv } from './env.ts';
import { givenKeys, trustDirKeys } from './keys.ts';
import { KEY_FILE_MAX_BYTES, passphraseFor, saveKey, trustDir } from './trust-dir.ts';
import { inspectJson, inspectPretty } from './inspect-format.ts';
import { forLog, jsonForLog } from '../util/untrusted-text.ts';
import { pinBuilt } from '../registry/build-metadata.ts';
import { readBuildRecord } from '../build-record.ts';
import { expiryFailure, statusJson, type RepositoryStatus } from '../notary/admin/status.ts';
import { advise } from '../advice.ts';
import { readUserFile } from '../util/file.ts';

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
  // Keys named by flags (a token, a sign command, a file) are opened first, before any request.
  const dir = trustDir(io.env);
  const rotated = mode === 'rotate' ? (options as OptionsOf['rotate']).role : undefined;
  const newKeyRole = rotated === 'root' ? 'root' : rotated === 'repository' ? 'targets' : undefined;
  const keys = trustDirKeys(dir, io.env, givenKeys(args, io.env, mode === 'sign', newKeyRole), mode === 'sign' ? flag(args, 'signer') : undefined);
  const env = envFor(refs, args, io);
  try {
    return await perform(mode, env, refs, options, keys);
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
  if (!name || repos.length === 0 || !keyFile) throw new InputError('INPUT_INVALID', 'usage: content-trust signer add --key KEY.pub NAME REPOSITORY... [--paths PATTERN,...]');
  signerRole(name);
  const patterns = flag(args, 'paths');
  const paths = patterns === undefined ? undefined : parseSignerPaths(patterns.split(','), name, '--paths');
  await init({ ...args, positionals: repos }, io, { name, keys: readSignerKeys(keyFile, name), paths });
}

async function adminCommand<M extends Exclude<Mode, 'sign' | 'verify' | 'init' | 'status'>>(mode: M, repos: readonly string[], options: OptionsOf[M], args: Args, io: Io): Promise<void> {
  const command = { 'add-signer': 'signer add', 'remove-signer': 'signer remove', revoke: 'revoke', refresh: 'refresh', rotate: 'rotate' }[mode];
  for (const o of await run(mode, refsOf(repos, command, mode === 'revoke' ? 'IMAGE[:TAG]' : 'REPOSITORY'), options, args, io)) io.out(`${o.summary}\n`);
}

export function signerRemove(args: Args, io: Io): Promise<void> {
  const [name, ...repos] = args.positionals;
  if (!name || repos.length === 0) throw new InputError('INPUT_INVALID', 'usage: content-trust signer remove NAME REPOSITORY... [--key KEY.pub | --key-id ID,...]');
  signerRole(name);
  const keyFile = flag(args, 'key');
  const idList = flag(args, 'key-id');
  if (keyFile !== undefined && idList !== undefined) throw new InputError('INPUT_INVALID', '`content-trust signer remove` takes --key or --key-id, not both');
  let keys: string[] | undefined;
  if (keyFile !== undefined) keys = signerKeyIds(readSignerKeys(keyFile, name));
  if (idList !== undefined) {
    keys = idList.split(',').map((id) => id.trim().toLowerCase());
    const bad = keys.find((id) => !/^[0-9a-f]{64}$/.test(id));
    if (bad !== undefined) throw new InputError('INPUT_INVALID', `--key-id ${JSON.stringify(bad)} is not a key ID: give the full 64-hex-digit ID \`content-trust inspect\` prints for the signer's key`);
  }
  return adminCommand('remove-signer', repos, { name, keys }, args, io);
}

export function revoke(args: Args, io: Io): Promise<void> {
  return adminCommand('revoke', args.positionals, {}, args, io);
}

/** --within: whole days, `fallback` when absent (refresh 182, status 30). */
function withinDays(args: Args, fallback: number): number {
  const days = Number(flag(args, 'within') ?? String(fallback));
  if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', '--within takes a whole number of days');
  return days;
}

export function refresh(args: Args, io: Io): Promise<void> {
  return adminCommand('refresh', args.positionals, { withinDays: withinDays(args, 182) }, args, io);
}

/** The expiry watch: every role's expiry and keys, then a failing exit when any expires within --within days. */
export async function status(args: Args, io: Io): Promise<void> {
  const days = withinDays(args, 30);
  const statuses = await run('status', refsOf(args.positionals, 'status', 'REPOSITORY'), { withinDays: days }, args, io);
  // Every repository, read or not, is printed before the failure (one per expiring role and unreadable repository).
  io.out(
    args.flags.has('json')
      ? `${jsonForLog(
          statusJson(statuses, (t) => advise(t, 'cli')),
          2,
        )}\n`
      : statuses.map(statusText).join('\n'),
  );
  const due = expiryFailure(statuses);
  if (due) throw due;
}

function statusText(s: RepositoryStatus): string {
  if (s.error) return `${forLog(s.repository)}: ${s.state} (${s.error.code}: ${forLog(advise(s.error.message, 'cli'))})\n`;
  const rows = [
    ['ROLE', 'VERSION', 'EXPIRES', 'DAYS LEFT', 'STATE', 'SIGNED BY', 'KEY IDS'],
    ...s.roles.map((r) => [r.role, String(r.version), r.expiresBy === 'certificate' ? `${r.expires} (certificate)` : r.expires, String(r.daysLeft), r.state, r.signers.join(', '), r.keyIds.join(', ')]),
  ];
  // Cells hold names from trust data: one line each.
  const cells = rows.map((r) => r.map((c) => forLog(c)));
  const widths = cells[0]!.map((_, col) => Math.max(...cells.map((r) => r[col]!.length)) + 2);
  const table = cells.map((r) => r.map((c, col) => (col === r.length - 1 ? c : c.padEnd(widths[col]!))).join('')).join('\n');
  return `${forLog(s.repository)} (root key ${s.rootKeyIds.join(', ')}; window ${s.withinDays} days): ${s.state}\n${table}\n`;
}

const ROTATE_USAGE = 'usage: content-trust rotate REPOSITORY root|repository|snapshot|timestamp|signer NAME (signer: --key NEW.pub)';

export function rotate(args: Args, io: Io): Promise<void> {
  const [repoName, what, name] = args.positionals;
  if (!repoName || !what) throw new InputError('INPUT_INVALID', ROTATE_USAGE);
  if (what === 'snapshot' || what === 'timestamp' || what === 'root' || what === 'repository') {
    if (name !== undefined || args.flags.has('key'))
      throw new InputError(
        'INPUT_INVALID',
        `\`content-trust rotate REPOSITORY ${what}\` takes nothing more and no --key (a new key is made for it${what === 'root' || what === 'repository' ? ', or given with --new-key FILE|URI' : ''}): ${ROTATE_USAGE}`,
      );
    if (args.flags.has('new-key') && what !== 'root' && what !== 'repository') throw new InputError('INPUT_INVALID', `--new-key is for \`content-trust rotate REPOSITORY root|repository\`: the server makes the new ${what} key`);
    return adminCommand('rotate', [repoName], { role: what }, args, io);
  }
  const keyFile = flag(args, 'key');
  if (what !== 'signer' || !name || !keyFile) throw new InputError('INPUT_INVALID', ROTATE_USAGE);
  if (args.flags.has('new-key')) throw new InputError('INPUT_INVALID', "--new-key is for `content-trust rotate REPOSITORY root|repository`: a signer's new public key is --key NEW.pub");
  return adminCommand('rotate', [repoName], { role: 'signer', signer: { name, keys: readSignerKeys(keyFile, name) } }, args, io);
}

export async function sign(args: Args, io: Io): Promise<void> {
  const names = {
    digest: '--digest',
    metadata: '--metadata',
    metadataFile: (path: string) => `--metadata ${JSON.stringify(path)}`,
    metadataFix: 'give the JSON file `docker buildx build --metadata-file` (or `buildx bake --metadata-file`) wrote',
    list: 'IMAGE:TAG arguments',
    listTags: 'give the tags to sign as IMAGE:TAG arguments',
  };
  const given = { listed: args.positionals, digest: flag(args, 'digest'), metadata: flag(args, 'metadata'), inline: false };
  const record = readBuildRecord(given, names, (notice) => process.stderr.write(`warning: ${forLog(notice)}\n`));
  const listed = refsOf(record?.images ?? args.positionals, 'sign', 'IMAGE:TAG (or --metadata FILE)');
  const refs = record ? pinBuilt(listed, record.built) : listed;
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
  // With --json, standard output is the JSON document alone: the notes go to standard error.
  const note = args.flags.has('json') ? (text: string) => process.stderr.write(`${forLog(text.trimEnd())}\n`) : io.out;
  for (const f of files) for (const d of f.digestOnly) note(`${f.path}:${d.line}: ${d.image} is pinned by digest only; content trust has no tag to check there\n`);
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
  for (const u of pinned.unverified) note(`${u.what} (${u.image}): not verified, so not pinned\n`);
  for (const p of pinned.plans) note(`Pinned ${p.file.path}: ${p.pinned.map((x) => `line ${x.found.line} ${x.value}`).join(', ')}\n`);
  if (written.length === 0) note('Every verified image is pinned to its trusted digest already: no file changed\n');
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
