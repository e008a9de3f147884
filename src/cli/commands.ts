/** The `content-trust` commands, on the same core as the action. */
import { statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseReference, type ImageRef } from '../registry/reference.ts';
import { readPrivateKey, toSigningKey } from '../tuf/private-key.ts';
import { generateKey, publicKeyPem } from '../tuf/key-file.ts';
import { initRepository } from '../notary/admin/init.ts';
import { parseSignerKeys, signerRole } from '../notary/admin/common.ts';
import { planAddSigner, planRemoveSigner } from '../notary/admin/signers.ts';
import { planRevoke } from '../notary/admin/revoke.ts';
import { planRefresh } from '../notary/admin/refresh.ts';
import { planRotateServerKey, planRotateSigner } from '../notary/admin/rotate.ts';
import { administer, adminClient, readRepo, type Planner } from '../notary/admin/workflow.ts';
import { inspectRepo } from '../notary/admin/inspect.ts';
import { repoClient, signImages } from '../notary/sign.ts';
import { verifyImages } from '../notary/verify.ts';
import { InputError } from '../errors.ts';
import { flag, type Args } from './args.ts';
import { createCliEnv } from './env.ts';
import { baseKey, findBaseKey, signingKeys } from './keys.ts';
import { listKeys, loadKey, passphraseFor, saveKey, trustDir } from './trust-dir.ts';
import { inspectJson, inspectPretty } from './inspect-format.ts';
import { jsonForLog } from '../util/untrusted-text.ts';
import { readUserFile } from '../util/file.ts';

/** Key and public key files are a few KiB; this bound only stops a huge or endless file. */
const KEY_FILE_MAX_BYTES = 64 * 1024;

/** A signer's public key file (--key), read with errors naming the flag. */
function readSignerKeys(file: string, name: string) {
  const text = readUserFile(file, { name: '--key', fix: 'give the signer\'s public key file (NAME.pub from `content-trust key generate` or `docker trust key generate`)' }, { maxBytes: KEY_FILE_MAX_BYTES });
  return parseSignerKeys(text, name, `the --key file ${JSON.stringify(file)}`);
}

export interface Io {
  out(text: string): void;
  env: NodeJS.ProcessEnv;
}

const hasTag = (input: string) => {
  const name = input.split('@')[0]!;
  return name.lastIndexOf(':') > name.lastIndexOf('/');
};

function refsOf(args: readonly string[], what: string): ImageRef[] {
  if (args.length === 0) throw new InputError('INPUT_INVALID', `give at least one ${what}`);
  return args.map((a) => parseReference(a));
}

function envFor(refs: readonly ImageRef[], args: Args, io: Io) {
  return createCliEnv(refs, { server: flag(args, 'server'), tlsCaCert: flag(args, 'tlscacert'), debug: args.flags.has('debug') }, io.env);
}

export async function keyGenerate(args: Args, io: Io): Promise<void> {
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

export async function keyLoad(args: Args, io: Io): Promise<void> {
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

export async function init(args: Args, io: Io, signer?: { name: string; keyFile: string }): Promise<void> {
  const refs = refsOf(args.positionals, 'repository');
  const withSigner = signer && { name: signer.name, keys: readSignerKeys(signer.keyFile, signer.name) };
  const env = envFor(refs, args, io);
  const dir = trustDir(io.env);
  try {
    for (const ref of refs) {
      const client = adminClient(env, ref);
      if (await client.current('root', env.config.maxRootBytes)) {
        if (!withSigner) {
          io.out(`${ref.gun} is already initialised; left as it is\n`);
          continue;
        }
        const [o] = await administer(env, [ref], (repo, _c, now) => planAddSigner(repo, baseKey(dir, repo, 'targets', io.env), withSigner.name, withSigner.keys, now));
        io.out(`${o!.summary}\n`);
        continue;
      }
      // Keys are saved before anything is published: a key is never lost.
      const existingRoot = listKeys(dir).find((k) => k.role === 'root');
      const rootKey = existingRoot ? loadKey(existingRoot, io.env).keyObject : generateKey();
      if (!existingRoot) saveKey(dir, rootKey, { role: 'root' }, io.env);
      const targetsKey = generateKey();
      saveKey(dir, targetsKey, { role: 'targets', gun: ref.gun }, io.env);
      const r = await initRepository(client, { rootKey, targetsKey, signer: withSigner });
      io.out(`Initialised ${ref.gun}: root key ${r.rootKeyId}, repository key ${r.targetsKeyId}${withSigner ? `, signer ${withSigner.name}` : ''}\n`);
    }
  } finally {
    env.close();
  }
}

export async function signerAdd(args: Args, io: Io): Promise<void> {
  const [name, ...repos] = args.positionals;
  const keyFile = flag(args, 'key');
  if (!name || repos.length === 0 || !keyFile) throw new InputError('INPUT_INVALID', 'usage: content-trust signer add --key KEY.pub NAME REPOSITORY...');
  signerRole(name);
  await init({ ...args, positionals: repos }, io, { name, keyFile });
}

async function adminCommand(args: Args, io: Io, repos: readonly string[], plan: (dir: string) => Planner): Promise<void> {
  const refs = refsOf(repos, 'repository');
  const env = envFor(refs, args, io);
  try {
    for (const o of await administer(env, refs, plan(trustDir(io.env)))) io.out(`${o.summary}\n`);
  } finally {
    env.close();
  }
}

export function signerRemove(args: Args, io: Io): Promise<void> {
  const [name, ...repos] = args.positionals;
  if (!name || repos.length === 0) throw new InputError('INPUT_INVALID', 'usage: content-trust signer remove NAME REPOSITORY...');
  return adminCommand(args, io, repos, (dir) => (repo, _c, now) => planRemoveSigner(repo, baseKey(dir, repo, 'targets', io.env), name, now));
}

export function revoke(args: Args, io: Io): Promise<void> {
  const tags = new Map(args.positionals.map((p) => [parseReference(p).gun, hasTag(p) ? parseReference(p).tag : undefined]));
  return adminCommand(args, io, args.positionals, (dir) => (repo, _c, now) => {
    const tag = tags.get(repo.gun);
    return planRevoke(repo, signingKeys(dir, repo, true, io.env), tag === undefined ? undefined : [tag], now);
  });
}

export function refresh(args: Args, io: Io): Promise<void> {
  const days = Number(flag(args, 'within') ?? '182');
  if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', '--within takes a whole number of days');
  return adminCommand(args, io, args.positionals, (dir) => (repo, _c, now) => {
    return planRefresh(repo, { root: findBaseKey(dir, repo, 'root', io.env), signing: signingKeys(dir, repo, true, io.env) }, days, now);
  });
}

export function rotate(args: Args, io: Io): Promise<void> {
  const [repoName, what, name] = args.positionals;
  if (!repoName || !what) throw new InputError('INPUT_INVALID', 'usage: content-trust rotate REPOSITORY snapshot|timestamp, or rotate REPOSITORY signer NAME --key NEW.pub');
  if (what === 'snapshot' || what === 'timestamp') {
    return adminCommand(args, io, [repoName], (dir) => (repo, client) => planRotateServerKey(client, repo, baseKey(dir, repo, 'root', io.env), what));
  }
  const keyFile = flag(args, 'key');
  if (what !== 'signer' || !name || !keyFile) throw new InputError('INPUT_INVALID', 'usage: content-trust rotate REPOSITORY signer NAME --key NEW.pub');
  const keys = readSignerKeys(keyFile, name);
  return adminCommand(args, io, [repoName], (dir) => (repo, _c, now) => {
    const newPrivate = listKeys(dir).find((k) => keys.some((pk) => pk.id === k.id));
    return planRotateSigner(repo, baseKey(dir, repo, 'targets', io.env), name, keys, newPrivate ? loadKey(newPrivate, io.env).signing : undefined, now);
  });
}

export async function sign(args: Args, io: Io): Promise<void> {
  const refs = refsOf(args.positionals, 'IMAGE:TAG');
  const env = envFor(refs, args, io);
  try {
    const repo = await readRepo(env, repoClient(env, refs[0]!, false), new Date());
    if (refs.some((r) => r.gun !== repo.gun)) throw new InputError('INPUT_INVALID', 'sign takes tags of one repository at a time');
    const key = signingKeys(trustDir(io.env), repo, false, io.env)[0]!;
    for (const r of await signImages(env, refs, key)) io.out(`Signed ${r.repository}:${r.tag} ${r.digest} (${r.roles.join(', ')})\n`);
  } finally {
    env.close();
  }
}

export async function verify(args: Args, io: Io): Promise<void> {
  const refs = refsOf(args.positionals, 'IMAGE:TAG');
  const env = envFor(refs, args, io);
  const signers = (flag(args, 'signer') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  try {
    const results = await verifyImages(env, refs, { signers, checkRegistry: !args.flags.has('no-registry') });
    if (args.flags.has('json')) io.out(`${jsonForLog(results, 2)}\n`);
    else for (const r of results) io.out(`${r.repository}:${r.tag} ${r.digest} signed by ${r.signers.join(', ') || r.roles.join(', ')} (trust data expires ${r.expires})\n`);
  } finally {
    env.close();
  }
}

export async function inspect(args: Args, io: Io): Promise<void> {
  const refs = refsOf(args.positionals, 'IMAGE[:TAG]');
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

