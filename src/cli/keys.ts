/**
 * The trust directory's private keys as a KeySource: each operation's keys
 * picked as docker picks them (by canonical key ID), loaded with docker's
 * passphrase variables; init's new keys saved there before anything is
 * published, so no key is ever lost.
 */
import { readPrivateKey, toSigningKey, type SigningKey } from '../tuf/private-key.ts';
import { signerName, type TrustedRepo } from '../notary/model.ts';
import type { KeySource } from '../operations.ts';
import { generateKey } from '../tuf/key-file.ts';
import { InputError } from '../errors.ts';
import { KEY_FILE_MAX_BYTES, listKeys, loadKey, passphraseFor, saveKey, type LocalKey } from './trust-dir.ts';
import { flag, type Args } from './args.ts';
import { isPkcs11Uri, parsePkcs11Uri } from '../signer/pkcs11-uri.ts';
import { pkcs11Key, PKCS11_TIMEOUT_MS } from '../signer/pkcs11.ts';
import { readSignCommandKey, signCommandSettings } from '../signer/sign-command.ts';
import { readUserFile } from '../util/file.ts';
import { forLog } from '../util/untrusted-text.ts';
import { PASSPHRASE_VARIABLES } from '../passphrase-variables.ts';

function canonicalIds(repo: TrustedRepo, role: 'root' | 'targets'): string[] {
  return repo.root.signed.roles[role].keyids.map((id) => repo.rootKeys.get(id)?.canonicalId ?? id);
}

/** The local key of a base role (root or targets), or undefined when the trust directory has none. */
function findBaseKey(dir: string, repo: TrustedRepo, role: 'root' | 'targets', env: NodeJS.ProcessEnv): SigningKey | undefined {
  const ids = canonicalIds(repo, role);
  const local = listKeys(dir).find((k) => ids.includes(k.id));
  return local ? loadKey(local, env).signing : undefined;
}

function baseKey(dir: string, repo: TrustedRepo, role: 'root' | 'targets', env: NodeJS.ProcessEnv): SigningKey {
  const key = findBaseKey(dir, repo, role, env);
  if (!key) {
    throw new InputError(
      'KEY_WRONG_ROLE',
      `${repo.gun}: no ${role === 'root' ? 'root' : 'repository (targets)'} key in ${dir}/private: it needs ${canonicalIds(repo, role)
        .map((i) => `${i}.key`)
        .join(' or ')}`,
    );
  }
  return key;
}

/** Local keys of direct delegations of targets; the repository key too when `withTargets`. */
export function signingKeys(dir: string, repo: TrustedRepo, withTargets: boolean, env: NodeJS.ProcessEnv): SigningKey[] {
  const wanted = new Set<string>(withTargets ? canonicalIds(repo, 'targets') : []);
  const { meta, delegationKeys } = repo.roles.get('targets')!;
  for (const r of meta.signed.delegations.roles) for (const id of r.keyids) wanted.add(delegationKeys.get(id)?.canonicalId ?? id);
  const local: LocalKey[] = listKeys(dir).filter((k) => wanted.has(k.id));
  if (local.length === 0) throw new InputError('KEY_NOT_DELEGATE', `${repo.gun}: none of this repository's signing keys is in ${dir}/private; load a signer key with \`content-trust key load\``);
  return local.map((k) => loadKey(k, env).signing);
}

/**
 * sign's key: the trust directory's key of a signer of the repository (a
 * direct delegation of targets other than targets/releases, which holds
 * every signer's key). Several signers' keys: `signer` (--signer) chooses.
 */
function signerKey(dir: string, repo: TrustedRepo, signer: string | undefined, env: NodeJS.ProcessEnv): SigningKey {
  const { meta, delegationKeys } = repo.roles.get('targets')!;
  const local = new Map(listKeys(dir).map((k) => [k.id, k]));
  const signers = meta.signed.delegations.roles
    .filter((r) => r.name !== 'targets/releases' && r.name.split('/').length === 2)
    .map((r) => ({ name: signerName(r.name), keys: r.keyids.map((id) => local.get(delegationKeys.get(id)?.canonicalId ?? id)).filter((k) => k !== undefined) }));
  const names = signers.map((s) => s.name).sort();
  if (signer !== undefined) {
    const chosen = signers.find((s) => s.name === signer);
    if (!chosen)
      throw new InputError('SIGNER_NOT_FOUND', `${repo.gun} has no signer ${JSON.stringify(signer)} (--signer); its signers: ${names.join(', ') || 'none'}. Add it with \`content-trust signer add --key ${signer}.pub ${signer} ${repo.gun}\``);
    if (chosen.keys.length === 0) throw new InputError('KEY_NOT_DELEGATE', `${repo.gun}: none of signer ${JSON.stringify(signer)}'s keys is in ${dir}/private; load it with \`content-trust key load FILE --name ${signer}\``);
    return loadKey(chosen.keys[0]!, env).signing;
  }
  const held = signers.filter((s) => s.keys.length > 0);
  const ids = new Set(held.flatMap((s) => s.keys.map((k) => k.id)));
  // One signer holding several keys here signs with the first it lists; keys of several signers need --signer.
  if (ids.size > 1 && held.length > 1) {
    throw new InputError(
      'INPUT_INVALID',
      `${dir}/private holds keys of several signers of ${repo.gun} (${held
        .map((s) => s.name)
        .sort()
        .join(', ')}): choose one with \`content-trust sign --signer NAME\``,
    );
  }
  if (ids.size >= 1) return loadKey(held[0]!.keys[0]!, env).signing;
  // No signer's key: any key of a delegation (targets/releases only) is refused by sign with what to do.
  return signingKeys(dir, repo, false, env)[0]!;
}

/**
 * The CLI's KeySource: the keys named by flags (`given`, opened by
 * givenKeys) where there are, else the trust directory `dir`'s; `env` holds
 * the passphrase variables; `signer` is sign's --signer. init uses a given
 * root or repository key (on a token too: the root certificate is signed
 * there) and makes in `dir` only the keys not given.
 */
export function trustDirKeys(dir: string, env: NodeJS.ProcessEnv, given: GivenKeys, signer?: string): KeySource {
  // Keys named on the command line are the ones meant: the trust directory's are not added to them.
  const held = [given.signer, given.repository].filter((k) => k !== undefined);
  return {
    signer: async (refs, readRepo) => {
      if (given.signer) return given.signer;
      if (new Set(refs.map((r) => r.gun)).size > 1) throw new InputError('INPUT_INVALID', '`content-trust sign` takes tags of one repository at a time: run it once per repository');
      return signerKey(dir, await readRepo(), signer, env);
    },
    root: (repo, required) => given.root ?? (required ? baseKey(dir, repo, 'root', env) : findBaseKey(dir, repo, 'root', env)),
    repository: (repo) => given.repository ?? baseKey(dir, repo, 'targets', env),
    signing: (repo) => (held.length > 0 ? held : signingKeys(dir, repo, true, env)),
    newSigner: (keys) => {
      const local = listKeys(dir).find((k) => keys.some((pk) => pk.id === k.id));
      return local ? loadKey(local, env).signing : undefined;
    },
    initKeys: (gun) => ({ root: given.root ?? initRootKey(dir, env), targets: given.repository ?? newKeyInDir(dir, env, 'targets', gun) }),
    generated: () => {}, // initKeys gives every key: init generates none
    // As `notary key rotate GUN root|targets`: the key given by --new-key, else a new key in the trust directory, saved before anything is published.
    rotated: (gun, role) => given.newKey ?? newKeyInDir(dir, env, role, gun),
  };
}

/** init's root key: one for every repository, as docker: the trust directory's, else a new one saved there. */
function initRootKey(dir: string, env: NodeJS.ProcessEnv): SigningKey {
  const existing = listKeys(dir).find((k) => k.role === 'root');
  return existing ? loadKey(existing, env).signing : newKeyInDir(dir, env, 'root', undefined);
}

/** A new root or repository key, saved in the trust directory (encrypted) before it is used. */
function newKeyInDir(dir: string, env: NodeJS.ProcessEnv, role: 'root' | 'targets', gun: string | undefined): SigningKey {
  const key = generateKey();
  saveKey(dir, key, role === 'root' ? { role } : { role, gun: gun! }, env);
  return toSigningKey(key, role, role === 'root' ? undefined : gun);
}

/** Keys named on the command line (--key, --sign-command, --repository-key, --root-key, --new-key), which take precedence over the trust directory's. */
interface GivenKeys {
  signer?: SigningKey | undefined;
  repository?: SigningKey | undefined;
  root?: SigningKey | undefined;
  /** rotate root|repository: the new key (a file, or on a token), instead of one made in the trust directory. */
  newKey?: SigningKey | undefined;
}

/**
 * A key flag's key, opened now (before any request): a PKCS#11 URI (the PIN
 * from the role's passphrase variable, the module from --pkcs11-module or
 * the URI) or a PEM private key file.
 */
function keyFlag(args: Args, name: 'key' | 'repository-key' | 'root-key' | 'new-key', role: 'signer' | 'targets' | 'root', env: NodeJS.ProcessEnv): SigningKey | undefined {
  const value = flag(args, name);
  if (value === undefined) return undefined;
  const { value: secret, variable } = name === 'new-key' ? newKeyPassphrase(role, env) : passphraseFor(role, env);
  if (isPkcs11Uri(value)) {
    const names = { key: `--${name}`, pin: `${variable} (the token's user PIN; content-trust never prompts)`, module: '--pkcs11-module' };
    return pkcs11Key({ uri: parsePkcs11Uri(value, `--${name}`), module: flag(args, 'pkcs11-module'), pin: secret, names, env, timeoutMs: PKCS11_TIMEOUT_MS });
  }
  const text = readUserFile(value, { name: `--${name}`, fix: 'give a PEM private key file, or a PKCS#11 URI (pkcs11:token=…;object=…)' }, { maxBytes: KEY_FILE_MAX_BYTES });
  const label = { name: `the --${name} file ${JSON.stringify(value)}`, passphrase: `${variable} (content-trust never prompts)` };
  const { keyObject, role: header, gun } = readPrivateKey(text, secret, label);
  return toSigningKey(keyObject, header, gun, label);
}

/** A new key's passphrase (or PIN): from its own variable when set, so the current key's may differ; else the role's, as docker's. */
function newKeyPassphrase(role: 'signer' | 'targets' | 'root', env: NodeJS.ProcessEnv): { value: string | undefined; variable: string } {
  const variable = PASSPHRASE_VARIABLES.newKey;
  const own = env[variable];
  if (own) return { value: own, variable };
  const fallback = passphraseFor(role, env);
  return { value: fallback.value, variable: `${variable} (else ${fallback.variable})` };
}

/**
 * The keys given by flags; `signing` says whether the command signs as a
 * signer (sign) or administers; `newKeyRole` is the role whose new key
 * --new-key names (rotate root|repository).
 */
export function givenKeys(args: Args, env: NodeJS.ProcessEnv, signing: boolean, newKeyRole?: 'root' | 'targets'): GivenKeys {
  if (!signing) {
    const newKey = newKeyRole ? keyFlag(args, 'new-key', newKeyRole, env) : undefined;
    if (newKey?.role !== undefined && newKey.role !== newKeyRole)
      throw new InputError('KEY_WRONG_ROLE', `the --new-key file is a key for role "${newKey.role}" (its role: header), not ${newKeyRole}: give the new ${newKeyRole === 'root' ? 'root' : 'repository'} key, or leave --new-key out to have one made`);
    return { repository: keyFlag(args, 'repository-key', 'targets', env), root: keyFlag(args, 'root-key', 'root', env), newKey };
  }
  // --signer chooses among the trust directory's signer keys; a key named by flag is the one meant, so the two together are refused rather than one ignored.
  const chosen = ['key', 'sign-command'].find((f) => flag(args, f) !== undefined);
  if (chosen !== undefined && flag(args, 'signer') !== undefined) {
    throw new InputError('INPUT_INVALID', `--signer chooses among the trust directory's signer keys, and --${chosen} names the key to sign with: give one of --signer and --${chosen}, not both`);
  }
  const timeoutText = flag(args, 'sign-command-timeout');
  // The action's timeout input has a default; a flag given alone is refused rather than ignored.
  if (timeoutText !== undefined && flag(args, 'sign-command') === undefined) throw new InputError('INPUT_INVALID', '--sign-command-timeout goes with --sign-command: give it too, or leave it out');
  const names = { key: '--key', command: '--sign-command', publicKey: '--public-key', timeout: '--sign-command-timeout', addSigner: '`content-trust signer add --key`' };
  const given = { key: flag(args, 'key') !== undefined, command: flag(args, 'sign-command'), publicKey: flag(args, 'public-key'), timeout: timeoutText };
  const { command, publicKey, timeoutSeconds } = signCommandSettings(given, names);
  if (command === undefined || publicKey === undefined) return { signer: keyFlag(args, 'key', 'signer', env) };
  const pem = readUserFile(publicKey, { name: '--public-key', fix: 'give the PEM public key file of the key the command signs with' }, { maxBytes: KEY_FILE_MAX_BYTES });
  return {
    signer: readSignCommandKey({
      command,
      publicKeyPem: pem,
      names: { ...names, publicKey: `--public-key ${JSON.stringify(publicKey)}` },
      timeoutMs: timeoutSeconds * 1000,
      env,
      onStderr: (text) => process.stderr.write(`${forLog(text)}\n`),
    }),
  };
}
