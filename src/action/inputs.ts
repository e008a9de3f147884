/** Every action input, read and checked in one place; secrets masked first. */
import { statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import * as core from '@actions/core';
import { InputError, messageOf } from '../errors.ts';
import { parsePemBlocks, readPrivateKey, toSigningKey, type SigningKey } from '../tuf/private-key.ts';
import { hasTag, parseTrustServer } from '../registry/reference.ts';
import { readUserFile } from '../util/file.ts';
import { readDockerfile } from './dockerfile.ts';
import type { BuiltImages } from '../registry/build-metadata.ts';
import { readBuildRecord } from '../build-record.ts';
import { homedir } from 'node:os';
import { defaultTrustDir } from '../notary/trust-store.ts';
import { parseSignerKeys, parseSignerPaths, signerKeyIds, signerRole } from '../notary/admin/common.ts';
import { isMode, MODES, type Mode, type OptionsOf, type RotateOptions, type Signer } from '../operations.ts';
import * as report from './report.ts';
import { isPkcs11Uri, parsePkcs11Uri } from '../signer/pkcs11-uri.ts';
import { pkcs11Key, PKCS11_TIMEOUT_MS } from '../signer/pkcs11.ts';
import { readSignCommandKey, signCommandSettings, type SignCommandNames } from '../signer/sign-command.ts';
import { PASSPHRASE_VARIABLES } from '../passphrase-variables.ts';

export type { Mode };

export type KeyName = 'root' | 'repository' | 'delegation' | 'new-root' | 'new-repository';

/** A private key input as given (PEM text) and its passphrase, both masked. */
interface KeyText {
  pem: string | undefined;
  passphrase: string | undefined;
  /** The passphrase is the replaced key's (new-root-key, new-repository-key with their own passphrase input empty). */
  inherited?: boolean | undefined;
}

/**
 * The `<name>-key` inputs: how errors name each, and the variables its
 * passphrase comes from when the `<name>-passphrase` input is empty (a new
 * key of a rotation: the passphrase of the key it replaces, `fallback`).
 */
const KEY_INPUTS: Record<KeyName, { label: string; variables: readonly string[]; fallback?: KeyName }> = {
  root: { label: 'the root-key input', variables: [PASSPHRASE_VARIABLES.root] },
  repository: { label: 'the repository-key input', variables: [PASSPHRASE_VARIABLES.repository] },
  delegation: { label: 'the delegation-key input', variables: [PASSPHRASE_VARIABLES.repository, PASSPHRASE_VARIABLES.delegation] },
  'new-root': { label: 'the new-root-key input', variables: [], fallback: 'root' },
  'new-repository': { label: 'the new-repository-key input', variables: [], fallback: 'repository' },
};

/** Where a key input's passphrase comes from, for messages: its own input, then its fallback's, then the variables. */
export function passphraseSources(name: KeyName): string {
  const { fallback } = KEY_INPUTS[name];
  const rest = fallback ? [`the ${fallback}-passphrase input`, ...KEY_INPUTS[fallback].variables] : KEY_INPUTS[name].variables;
  return `the \`${name}-passphrase\` input (or ${rest.join(', ')})`;
}

/** The inputs every mode reads. */
interface CommonInputs {
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
  /** sign: the digest and metadata inputs (build-push-action's outputs): the digest each image must have; the metadata's names are in `images`. */
  built?: BuiltImages | undefined;
  /** Keys held outside the runner: the pkcs11-module, sign-command, delegation-public-key and sign-command-timeout inputs. */
  external: ExternalSignerInputs;
  /** verify: paths and globs of deployment files (Kubernetes, Compose, workflows) whose images are verified too; read by src/action/manifests.ts. */
  manifests: string[];
  /** verify: rewrite each verified reference in the manifests files to name:tag@sha256:<digest>. */
  pin: boolean;
}

interface ExternalSignerInputs {
  /** The PKCS#11 provider library for keys given as pkcs11: URIs. */
  pkcs11Module: string | undefined;
  /** A command that signs for the delegation key (instead of delegation-key). */
  signCommand: string | undefined;
  /** PEM public key or certificate of the key sign-command signs with. */
  publicKey: string | undefined;
  timeoutSeconds: number;
}

/** The mode and its options (operations.ts), read from the inputs only that mode reads. */
type ModeInputs = { [M in Mode]: { mode: M; options: OptionsOf[M] } }[Mode];

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

function readKeyText(name: KeyName, env: NodeJS.ProcessEnv, fallback?: KeyText): KeyText {
  const pem = core.getInput(`${name}-key`) || undefined;
  const own = core.getInput(`${name}-passphrase`) || KEY_INPUTS[name].variables.map((v) => env[v]).find(Boolean) || undefined;
  const passphrase = own ?? (fallback?.passphrase || undefined);
  maskSecret(pem);
  maskSecret(passphrase);
  return { pem, passphrase, inherited: own === undefined && passphrase !== undefined };
}

/**
 * Opens one key input now, before any request (undefined when not given): a
 * PKCS#11 URI in `<name>-key` on its token, sign-command for the delegation
 * key (each with one signature checked), else the PEM key it holds. Errors
 * name the input and where its passphrase comes from.
 */
export function keyInput(inputs: Pick<Inputs, 'keys' | 'external'>, name: KeyName, env: NodeJS.ProcessEnv = process.env): SigningKey | undefined {
  const { pem, passphrase, inherited } = inputs.keys[name];
  const { label, fallback } = KEY_INPUTS[name];
  const { external } = inputs;
  if (pem && isPkcs11Uri(pem)) {
    // A new key's PIN falls back to the replaced key's passphrase only when that key is on a token too: a key file's passphrase tried as a PIN would use up one of the token's few tries.
    const replacedOnToken = fallback !== undefined && isPkcs11Uri(inputs.keys[fallback].pem ?? '');
    const pin = inherited && !replacedOnToken ? undefined : passphrase;
    const sources = fallback ? `the \`${name}-passphrase\` input (or the ${fallback}-passphrase input when ${fallback}-key is on a token too)` : passphraseSources(name);
    const names = { key: label, pin: `${sources}, which holds the token's user PIN`, module: 'the pkcs11-module input' };
    return pkcs11Key({ uri: parsePkcs11Uri(pem, label), module: external.pkcs11Module, pin, names, env, timeoutMs: PKCS11_TIMEOUT_MS });
  }
  if (name === 'delegation' && external.signCommand) {
    return readSignCommandKey({
      command: external.signCommand,
      publicKeyPem: external.publicKey,
      names: SIGN_COMMAND_NAMES,
      timeoutMs: external.timeoutSeconds * 1000,
      env,
      onStderr: (text) => report.info(text),
    });
  }
  if (!pem) return undefined;
  const keyLabel = { name: label, passphrase: passphraseSources(name) };
  const { keyObject, role, gun } = readPrivateKey(pem, passphrase, keyLabel);
  return toSigningKey(keyObject, role, gun, keyLabel);
}

/** How the action's messages name sign-command's inputs. */
const SIGN_COMMAND_NAMES: SignCommandNames = {
  key: 'the delegation-key input',
  command: 'the sign-command input',
  publicKey: 'the delegation-public-key input',
  timeout: 'the sign-command-timeout input',
  addSigner: '`docker trust signer add`',
};

/** The inputs of keys held outside the runner, checked (not yet opened). */
function readExternalSignerInputs(keys: { delegation: KeyText }): ExternalSignerInputs {
  const text = (name: string) => core.getInput(name).trim() || undefined;
  const given = { key: Boolean(keys.delegation.pem), command: text('sign-command'), publicKey: text('delegation-public-key'), timeout: text('sign-command-timeout') };
  const { command: signCommand, ...settings } = signCommandSettings(given, SIGN_COMMAND_NAMES);
  return { pkcs11Module: text('pkcs11-module'), signCommand, ...settings };
}

export function getInputs(env: NodeJS.ProcessEnv = process.env): Inputs {
  const keys = { root: readKeyText('root', env), repository: readKeyText('repository', env), delegation: readKeyText('delegation', env) };
  const rotation = { 'new-root': readKeyText('new-root', env, keys.root), 'new-repository': readKeyText('new-repository', env, keys.repository) };
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
  const given = [...getList(core.getInput('images')), ...readImagesFile(core.getInput('images-file'))];
  const record = readBuilt(mode, given);
  const built = record?.built;
  const listedImages = record?.images ?? given;
  const images = [...listedImages, ...dockerfileImages(dockerfiles, env)];
  if (images.length === 0 && mode === 'sign')
    throw new InputError('INPUT_INVALID', "input images is empty: list the image tags to sign, one per line (e.g. the tags output of docker/metadata-action), give images-file, or give metadata (build-push-action's metadata output)");
  // With manifests, the images are known once the files are read (src/action/manifests.ts checks there are some).
  if (images.length === 0 && manifests.length === 0)
    throw new InputError('INPUT_INVALID', 'input images is empty: list the image tags to ' + mode + ', one per line (e.g. the tags output of docker/metadata-action), or give images-file' + (mode === 'verify' ? ', dockerfile or manifests' : ''));
  if (mode === 'status') {
    const given = (['root', 'repository', 'delegation'] as const).filter((k) => keys[k].pem).map((k) => `${k}-key`);
    // A scheduled watch should hold no signing secret: refused rather than ignored.
    if (given.length > 0) throw new InputError('INPUT_INVALID', `mode status only reads and takes no keys: remove the ${given.join(', ')} input${given.length > 1 ? 's' : ''} (a scheduled watch should hold no signing secrets)`);
  }
  const external = readExternalSignerInputs(keys);
  if (mode === 'sign' && !keys.delegation.pem && !external.signCommand) {
    throw new InputError(
      'INPUT_INVALID',
      "mode sign needs the delegation-key input: the signer's private key (from a secret), as written by `docker trust key generate`, or a PKCS#11 URI of a key on a token; or sign-command for a key in a key service",
    );
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
    keys: { ...keys, ...rotation },
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
    built,
    external,
    manifests,
    pin,
  };
  return { ...common, ...modeInputs(mode, images, signers) };
}

/**
 * The digest and metadata inputs (sign only): build-push-action's outputs.
 * metadata is the JSON itself (the output, as it is) or the path of the
 * file buildx --metadata-file wrote.
 */
function readBuilt(mode: Mode, listed: readonly string[]): ReturnType<typeof readBuildRecord> {
  const digest = core.getInput('digest').trim() || undefined;
  const metadata = core.getInput('metadata').trim() || undefined;
  if (!digest && !metadata) return undefined;
  if (mode !== 'sign') throw new InputError('INPUT_INVALID', `input ${digest ? 'digest' : 'metadata'} is for mode sign (signing what a build pushed), not ${mode}: leave it empty`);
  const names = {
    digest: 'input digest',
    metadata: 'input metadata',
    metadataFile: (path: string) => `input metadata (file ${JSON.stringify(path)})`,
    metadataFix: "give build-push-action's metadata output, or the path of the file `docker buildx build --metadata-file` wrote",
    list: 'the images input',
    listTags: "list the tags to sign in images (e.g. docker/metadata-action's tags output)",
  };
  return readBuildRecord({ listed, digest, metadata, inline: true }, names, (notice) => report.warning(notice));
}

/** The inputs of one mode: signer-name, signer-key, expires-within, rotate-role; checked here, before any request. */
function modeInputs(mode: Mode, images: readonly string[], signers: string[]): ModeInputs {
  if (mode !== 'add-signer' && mode !== 'init') signerPathsInput(mode, undefined);
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
      if (!name) signerPathsInput(mode, undefined);
      return { mode, options: { signer: name ? { name, keys: need(signerKeyInput(name), mode, 'the signer-key input with signer-name'), paths: signerPathsInput(mode, name) } : undefined } };
    }
    case 'add-signer': {
      const signer = requiredSigner(mode, "the signer-key input: the signer's public key or certificate PEM (e.g. ci.pub from `docker trust key generate ci`)");
      return { mode, options: { signer: { ...signer, paths: signerPathsInput(mode, signer.name) } } };
    }
    case 'remove-signer': {
      const name = signerName(mode);
      // With signer-key, only those keys leave the signer (docker has no such command; notary's `delegation remove` with key IDs does it).
      const keys = signerKeyInput(name);
      return { mode, options: { name, keys: keys ? signerKeyIds(keys) : undefined } };
    }
    case 'refresh':
      return { mode, options: { withinDays: expiresWithin(182) } };
    case 'rotate':
      return { mode, options: rotateInputs() };
    case 'status':
      return { mode, options: { withinDays: expiresWithin(30) } };
  }
}

/** The expires-within input: whole days, `fallback` when empty (refresh 182, status 30). */
function expiresWithin(fallback: number): number {
  const text = core.getInput('expires-within');
  const days = text.trim() === '' ? fallback : Number(text);
  if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', `input expires-within is "${text}": a whole number of days`);
  return days;
}

function rotateInputs(): RotateOptions {
  const role = core.getInput('rotate-role').trim().toLowerCase();
  if (role === 'snapshot' || role === 'timestamp' || role === 'root' || role === 'repository') return { role };
  if (role && role !== 'signer') throw new InputError('INPUT_INVALID', `input rotate-role is "${role}": use signer, root, repository, snapshot or timestamp`);
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

/**
 * The signer-paths input (tag patterns such as `v1.*`, as notary's
 * delegation paths: prefixes), for add-signer and init with a signer;
 * undefined when empty. Given to any other mode, or to init without
 * signer-name, it is refused rather than ignored.
 */
function signerPathsInput(mode: Mode, name: string | undefined): string[] | undefined {
  const patterns = getList(core.getInput('signer-paths'));
  if (patterns.length === 0) return undefined;
  if (name === undefined) throw new InputError('INPUT_INVALID', `input signer-paths restricts the signer that mode add-signer (or init with signer-name) adds; mode ${mode} adds none here`);
  return parseSignerPaths(patterns, name, 'the signer-paths input');
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
