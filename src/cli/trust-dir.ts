/**
 * Docker's trust directory (`$DOCKER_CONFIG/trust`, else `~/.docker/trust`):
 * private keys as `private/<canonical id>.key` (0600, directories 0700),
 * decrypted with docker's passphrase variables, never prompted for.
 */
import { chmodSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { readPrivateKey, toSigningKey, parsePemBlocks, type SigningKey } from '../tuf/private-key.ts';
import { keyFilePem, publicKeyId, type KeyFileHeaders } from '../tuf/key-file.ts';
import { InputError } from '../errors.ts';
import { defaultTrustDir } from '../notary/trust-store.ts';
import { readUserFile } from '../util/file.ts';
import { PASSPHRASE_VARIABLES } from '../passphrase-variables.ts';

/** The trust directory, as the action's default: `$DOCKER_CONFIG/trust`, else `~/.docker/trust`. */
export function trustDir(env: NodeJS.ProcessEnv = process.env): string {
  return defaultTrustDir(env, homedir());
}

/** Docker's rule: `root` uses the root passphrase; every other alias the repository one. */
export function passphraseFor(role: string | undefined, env: NodeJS.ProcessEnv = process.env): { value: string | undefined; variable: string } {
  const variable = role === 'root' ? PASSPHRASE_VARIABLES.root : PASSPHRASE_VARIABLES.repository;
  return { value: env[variable] || undefined, variable };
}

export interface LocalKey {
  id: string;
  role: string | undefined;
  gun: string | undefined;
  path: string;
}

/** Private and public key files are a few hundred bytes (a certificate chain a few KiB); this bound only stops a huge or endless file. */
export const KEY_FILE_MAX_BYTES = 64 * 1024;

/** Reads a private key file of the trust directory; a bad one is named with what to do. */
function readKeyFile(path: string): string {
  return readUserFile(path, { name: 'the key file', fix: 'docker keeps each private key as trust/private/<key ID>.key: move anything else out of that directory' }, { maxBytes: KEY_FILE_MAX_BYTES });
}

/** Every `private/*.key` file with its `role:`/`gun:` headers (nothing decrypted). */
export function listKeys(dir: string): LocalKey[] {
  const privateDir = join(dir, 'private');
  let names: string[];
  try {
    if (!statSync(privateDir).isDirectory()) {
      throw new InputError('FILE_NOT_DIRECTORY', `the trust directory's ${JSON.stringify(privateDir)} is a file, not a directory: move it away (docker keeps private keys in that directory), or set DOCKER_CONFIG to another configuration directory`);
    }
    names = readdirSync(privateDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    if (e instanceof InputError) throw e;
    throw new InputError('FILE_UNREADABLE', `the trust directory's ${JSON.stringify(privateDir)} cannot be listed (${(e as NodeJS.ErrnoException).code ?? 'error'}): check its permissions, or set DOCKER_CONFIG to another configuration directory`, {
      cause: e,
    });
  }
  return names
    .filter((f) => f.endsWith('.key'))
    .sort()
    .map((f) => {
      const path = join(privateDir, f);
      const block = parsePemBlocks(readKeyFile(path))[0];
      return { id: f.slice(0, -'.key'.length), role: block?.headers.get('role'), gun: block?.headers.get('gun'), path };
    });
}

export function loadKey(key: LocalKey, env: NodeJS.ProcessEnv = process.env): { keyObject: KeyObject; signing: SigningKey } {
  const { value, variable } = passphraseFor(key.role, env);
  const label = { name: `${key.path} (role "${key.role ?? 'unknown'}")`, passphrase: `${variable} (content-trust never prompts)` };
  const { keyObject, role, gun } = readPrivateKey(readKeyFile(key.path), value, label);
  return { keyObject, signing: toSigningKey(keyObject, role, gun, label) };
}

/** Writes `private/<id>.key` as docker does; returns the ID. */
export function saveKey(dir: string, key: KeyObject, headers: KeyFileHeaders, env: NodeJS.ProcessEnv = process.env): string {
  const { value, variable } = passphraseFor(headers.role, env);
  if (!value) throw new InputError('PASSPHRASE_MISSING', `set ${variable} to encrypt the new ${headers.role} key (content-trust never prompts)`);
  const privateDir = join(dir, 'private');
  mkdirSync(privateDir, { recursive: true, mode: 0o700 });
  const id = publicKeyId(key);
  const path = join(privateDir, `${id}.key`);
  writeFileSync(path, keyFilePem(key, value, headers), { mode: 0o600 });
  chmodSync(path, 0o600);
  return id;
}
