/** Every action input, read and checked in one place; secrets masked first. */
import { statSync } from 'node:fs';
import { X509Certificate, type KeyObject } from 'node:crypto';
import * as core from '@actions/core';
import { InputError, messageOf } from '../errors.ts';
import { parsePemBlocks, readPrivateKey, toSigningKey, type SigningKey } from '../tuf/private-key.ts';
import { parseTrustServer } from '../registry/reference.ts';
import { readUserFile } from '../util/file.ts';
import { readDockerfile } from './dockerfile.ts';
import { homedir } from 'node:os';
import { defaultTrustDir } from '../notary/trust-store.ts';
import { parseSignerKeys, signerRole } from '../notary/admin/common.ts';
import { hasTag, isMode, MODES, type Mode, type OptionsOf, type RotateOptions, type Signer } from '../operations.ts';
import * as report from './report.ts';

export type { Mode };

export type KeyName = 'root' | 'repository' | 'delegation';

/** A private key input as given (PEM text) and its passphrase, both masked. */
export interface KeyText {
  pem: string | undefined;
  passphrase: string | undefined;
}

/**
 * The `<name>-key` inputs: how errors name each, and the variables its
 * passphrase comes from when the `<name>-passphrase` input is empty.
 */
const KEY_INPUTS: Record<KeyName, { label: string; variables: readonly string[] }> = {
  root: { label: 'the root-key input', variables: ['DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE'] },
  repository: { label: 'the repository-key input', variables: ['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE'] },
  delegation: { label: 'the delegation-key input', variables: ['DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE', 'NOTARY_DELEGATION_PASSPHRASE'] },
};

/** The inputs every mode reads. */
export interface CommonInputs {
  images: string[];
  /** The images of `images` and `images-file`, the ones the user named (not those only a Dockerfile names). */
  listedImages: string[];
  trustServer: string | undefined;
  /** The root-key, repository-key and delegation-key inputs with their passphrases. */
  keys: Record<KeyName, KeyText>;
  signers: string[];
  username: string | undefined;
  password: string | undefined;
  /** The registry the username/password inputs belong to, as given. */
  registry: string | undefined;
  caCert: string | undefined;
  /** Root key IDs that must sign every repository's root (empty: trust on first use, remembered). */
  rootKeys: string[];
  /** Docker's trust directory, where trusted metadata is remembered. */
  trustDir: string;
  /** Save and restore the remembered metadata with the Actions cache. */
  cache: boolean;
  /** verify: path of the policy file (YAML or JSON), relative to the workspace. */
  policy: string | undefined;
  /** verify: Dockerfiles whose FROM images were added to `images`. */
  dockerfiles: string[];
  /** verify: paths and globs of deployment files (Kubernetes, Compose, workflows) whose images are verified too; read by src/action/manifests.ts. */
  manifests: string[];
  /** verify: rewrite each verified reference in the manifests files to name:tag@sha256:<digest>. */
  pin: boolean;
}

/** The mode and its options (operations.ts), read from the inputs only that mode reads. */
export type ModeInputs = { [M in Mode]: { mode: M; options: OptionsOf[M] } }[Mode];

export type Inputs = CommonInputs & ModeInputs;

/** Splits on new lines and commas; drops blanks and `#` comment lines (commas in them included). */
export function getList(value: string): string[] {
  return value
    .split('\n')
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(','))
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
}

export function maskSecret(value: string | undefined): void {
  if (!value) return;
  core.setSecret(value);
  // A multi-line secret (a PEM key) is masked line by line as well, bar its armour and headers.
  for (const line of value.split(/\r?\n/).map((l) => l.trim())) {
    if (line.length >= 8 && !line.startsWith('-----') && !/^[A-Za-z-]+: /.test(line)) core.setSecret(line);
  }
}

function readKeyText(name: KeyName, env: NodeJS.ProcessEnv): KeyText {
  const pem = core.getInput(`${name}-key`) || undefined;
  const passphrase = core.getInput(`${name}-passphrase`) || KEY_INPUTS[name].variables.map((v) => env[v]).find(Boolean) || undefined;
  maskSecret(pem);
  maskSecret(passphrase);
  return { pem, passphrase };
}

/** Decodes one key input (undefined when empty); errors name the input and where its passphrase comes from. */
export function keyInput(keys: Inputs['keys'], name: KeyName): { keyObject: KeyObject; signing: SigningKey } | undefined {
  const { pem, passphrase } = keys[name];
  if (!pem) return undefined;
  const { label, variables } = KEY_INPUTS[name];
  const keyLabel = { name: label, passphrase: `the \`${name}-passphrase\` input (or ${variables.join(', ')})` };
  const { keyObject, role, gun } = readPrivateKey(pem, passphrase, keyLabel);
  return { keyObject, signing: toSigningKey(keyObject, role, gun, keyLabel) };
}

export function getInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const keys = { root: readKeyText('root', env), repository: readKeyText('repository', env), delegation: readKeyText('delegation', env) };
  const password = core.getInput('password') || undefined;
  maskSecret(password);

  const mode = (core.getInput('mode') || 'verify').trim().toLowerCase();
  if (!isMode(mode)) {
    throw new InputError('INPUT_INVALID', `input mode is "${mode}": use sign, verify, or one of ${MODES.slice(2).join(', ')}`);
  }
  const dockerfiles = getList(core.getInput('dockerfile'));
  if (dockerfiles.length > 0 && mode !== 'verify') throw new InputError('INPUT_INVALID', `input dockerfile is for mode verify (checking base images), not ${mode}`);
  const manifests = getList(core.getInput('manifests'));
  if (manifests.length > 0 && mode !== 'verify') throw new InputError('INPUT_INVALID', `input manifests is for mode verify (checking the images deployment files name), not ${mode}`);
  const pin = readBoolean('pin', false);
  if (pin && manifests.length === 0) throw new InputError('INPUT_INVALID', 'input pin rewrites the images of the files input manifests names: give manifests too, or leave pin false');
  const listedImages = [...getList(core.getInput('images')), ...readImagesFile(core.getInput('images-file'))];
  const images = [...listedImages, ...dockerfileImages(dockerfiles, env)];
  // With manifests, the images are known once the files are read (src/action/manifests.ts checks there are some).
  if (images.length === 0 && manifests.length === 0)
    throw new InputError('INPUT_INVALID', 'input images is empty: list the image tags to ' + mode + ', one per line (e.g. the tags output of docker/metadata-action), or give images-file' + (mode === 'verify' ? ', dockerfile or manifests' : ''));
  if (mode === 'sign' && !keys.delegation.pem) {
    throw new InputError('INPUT_INVALID', "mode sign needs the delegation-key input: the signer's private key (from a secret), as written by `docker trust key generate`");
  }
  const signers = getList(core.getInput('signers'));
  for (const s of signers) signerRole(s);
  const username = core.getInput('username') || undefined;
  if (Boolean(username) !== Boolean(password)) throw new InputError('INPUT_INVALID', 'give both username and password, or neither (then the Docker config from docker/login-action is used)');
  const registry = core.getInput('registry').trim() || undefined;
  if (registry && !username) throw new InputError('INPUT_INVALID', 'input registry names the registry the username/password inputs are for: give them too, or leave registry empty (credentials from the Docker config need no registry input)');
  const common: CommonInputs = {
    images,
    listedImages,
    trustServer: readTrustServer(core.getInput('trust-server'), env),
    keys,
    signers,
    username,
    password,
    registry,
    caCert: readCa(core.getInput('ca-cert')),
    rootKeys: readRootKeys(core.getInput('root-keys')),
    trustDir: readTrustDir(core.getInput('trust-dir')) ?? defaultTrustDir(env, homedir()),
    cache: readBoolean('cache', true),
    policy: core.getInput('policy').trim() || undefined,
    dockerfiles,
    manifests,
    pin,
  };
  return { ...common, ...modeInputs(mode, images, signers) };
}

/** The inputs of one mode: signer-name, signer-key, expires-within, rotate-role; checked here, before any request. */
function modeInputs(mode: Mode, images: readonly string[], signers: string[]): ModeInputs {
  switch (mode) {
    case 'sign':
    case 'revoke':
      if (mode === 'revoke') {
        const untagged = images.filter((i) => !hasTag(i));
        if (untagged.length > 0) throw new InputError('INPUT_INVALID', `mode revoke needs a tag for each image (it never assumes latest): ${untagged.join(', ')}`);
      }
      return { mode, options: {} };
    case 'verify':
      return { mode, options: { signers, checkRegistry: true } };
    case 'init': {
      const name = core.getInput('signer-name').trim() && signerName(mode);
      return { mode, options: { signer: name ? { name, keys: need(signerKeyInput(name), mode, 'the signer-key input with signer-name') } : undefined } };
    }
    case 'add-signer':
      return { mode, options: { signer: requiredSigner(mode, "the signer-key input: the signer's public key or certificate PEM (e.g. ci.pub from `docker trust key generate ci`)") } };
    case 'remove-signer':
      return { mode, options: { name: signerName(mode) } };
    case 'refresh': {
      const text = core.getInput('expires-within');
      const days = Number(text || '182');
      if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', `input expires-within is "${text}": a whole number of days`);
      return { mode, options: { withinDays: days } };
    }
    case 'rotate':
      return { mode, options: rotateInputs() };
  }
}

function rotateInputs(): RotateOptions {
  const role = core.getInput('rotate-role').trim().toLowerCase();
  if (role === 'snapshot' || role === 'timestamp') return { role };
  if (role && role !== 'signer') throw new InputError('INPUT_INVALID', `input rotate-role is "${role}": use signer, snapshot or timestamp`);
  return { role: 'signer', signer: requiredSigner('rotate', "the signer-key input: the signer's new public key") };
}

function need<T>(value: T | undefined, mode: Mode, what: string): T {
  if (value === undefined) throw new InputError('INPUT_INVALID', `mode ${mode} needs ${what}`);
  return value;
}

function signerName(mode: Mode): string {
  const name = core.getInput('signer-name').trim();
  if (!name) throw new InputError('INPUT_INVALID', `mode ${mode} needs the signer-name input (the name docker shows for the signer, e.g. ci)`);
  signerRole(name);
  return name;
}

/** The signer-key input, parsed for signer `name` (undefined when empty). */
function signerKeyInput(name: string): Signer['keys'] | undefined {
  const text = core.getInput('signer-key');
  return text ? parseSignerKeys(text, name, 'the signer-key input') : undefined;
}

function requiredSigner(mode: Mode, what: string): Signer {
  const name = signerName(mode);
  return { name, keys: need(signerKeyInput(name), mode, what) };
}

/** The FROM images of each Dockerfile (paths relative to the workspace), in order, once each. */
function dockerfileImages(paths: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const out = new Set<string>();
  for (const path of paths) {
    const found = readDockerfile(path, env.GITHUB_WORKSPACE || process.cwd());
    // Dockerfile text is outside text: these lines go through the neutralising sink.
    for (const d of found.digestOnly) report.info(`${path} line ${d.line}: ${d.image} is pinned by digest only; content trust has no tag to check there`);
    for (const i of found.images) out.add(i.image);
    report.info(`${path}: base images ${found.images.map((i) => i.image).join(', ') || '(none to check)'}`);
  }
  return [...out];
}

/** Bounds on the files inputs name: far above any real one, far below what would exhaust the runner. */
const IMAGES_FILE_MAX_BYTES = 8 * 1024 * 1024;
const CA_MAX_BYTES = 1024 * 1024;

/**
 * A file of image references, one per line (same syntax as `images`). Inputs
 * reach the action as environment variables, and Linux caps one at 128 KiB:
 * a few thousand tags only fit in a file.
 */
function readImagesFile(value: string): string[] {
  const path = value.trim();
  if (!path) return [];
  const label = { name: 'input images-file', fix: 'give the path of a text file with one image reference per line' };
  return getList(readUserFile(path, label, { maxBytes: IMAGES_FILE_MAX_BYTES }));
}

/**
 * The trust-server input, checked before anything reaches the network;
 * when empty, $DOCKER_CONTENT_TRUST_SERVER (the fallback) is checked too.
 */
function readTrustServer(value: string, env: NodeJS.ProcessEnv): string | undefined {
  const v = value.trim();
  if (v) return parseTrustServer(v, 'input trust-server');
  if (env.DOCKER_CONTENT_TRUST_SERVER) parseTrustServer(env.DOCKER_CONTENT_TRUST_SERVER, 'DOCKER_CONTENT_TRUST_SERVER (the default for input trust-server)');
  return undefined;
}

/** The trust-dir input: created when missing, but never a file (writes would fail half-way). */
function readTrustDir(value: string): string | undefined {
  const path = value.trim();
  if (!path) return undefined;
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return path; // missing: made on first save
  }
  if (!isDirectory)
    throw new InputError('FILE_NOT_DIRECTORY', `input trust-dir ${JSON.stringify(path)} is a file, not a directory: give the directory where trust data is remembered (default $DOCKER_CONFIG/trust, else ~/.docker/trust), or leave it empty`);
  return path;
}

const KEY_ID = /^[0-9a-f]{64}$/;

/**
 * Root key IDs, 64 hex digits each: the Root key `docker trust inspect`
 * prints (the TUF ID in root.json) or its canonical ID. Prefixes are
 * refused: a short one could be matched by a key made to match it.
 */
function readRootKeys(value: string): string[] {
  const ids = getList(value).map((s) => s.toLowerCase());
  for (const id of ids) {
    if (!KEY_ID.test(id)) throw new InputError('INPUT_INVALID', `root-keys: "${id}" is not a root key ID; give the full 64-hex-digit Root key ID as \`docker trust inspect <repository>\` prints it (prefixes are not accepted)`);
  }
  return ids;
}

function readBoolean(name: string, fallback: boolean): boolean {
  const v = core.getInput(name).trim().toLowerCase();
  if (v === '') return fallback;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new InputError('INPUT_INVALID', `input ${name} is "${v}": use true or false`);
}

/** PEM text, or a path to a PEM file; every certificate in it must parse. */
function readCa(value: string): string | undefined {
  const v = value.trim();
  if (!v) return undefined;
  const fix = 'give PEM certificates ("-----BEGIN CERTIFICATE-----" …) or the path of a PEM file';
  const inline = v.includes('-----BEGIN');
  const text = inline ? v : readUserFile(v, { name: 'input ca-cert', fix }, { maxBytes: CA_MAX_BYTES });
  const where = inline ? 'input ca-cert' : `input ca-cert (file ${JSON.stringify(v)})`;
  const certificates = parsePemBlocks(text).filter((b) => b.label === 'CERTIFICATE');
  if (certificates.length === 0) throw new InputError('INPUT_INVALID', `${where} holds no PEM certificate: ${fix}`);
  certificates.forEach((b, i) => {
    try {
      new X509Certificate(b.der);
    } catch (e) {
      throw new InputError('INPUT_INVALID', `${where}: certificate ${i + 1} of ${certificates.length} cannot be parsed (${messageOf(e)}): ${fix}`, { cause: e });
    }
  });
  return text;
}
