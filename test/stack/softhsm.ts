/**
 * A SoftHSM token made for one test run: its own token directory and
 * SOFTHSM2_CONF under a temporary directory, initialised with
 * softhsm2-util, keys made inside it (or imported) with OpenSC's
 * pkcs11-tool. The PIN reaches pkcs11-tool through `--pin env:…`, as the
 * product passes it.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { run, type RunResult } from './exec.ts';

/** Where Debian's softhsm2 puts its PKCS#11 module (per architecture, or the compatibility path). */
const MODULE_CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];

export function softHsmModule(): string {
  const found = MODULE_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error(`SoftHSM's module is not installed (looked in ${MODULE_CANDIDATES.join(', ')}): apt-get install softhsm2 (scripts/ensure-deps.mjs does)`);
  return found;
}

export interface TokenKey {
  label: string;
  /** CKA_ID, hex. */
  id: string;
  publicKey: KeyObject;
  /** PEM "PUBLIC KEY", as `docker trust signer add --key` takes it. */
  publicKeyPem: string;
}

export interface SoftHsm {
  dir: string;
  module: string;
  label: string;
  pin: string;
  /** The variables a program driving the token needs: SOFTHSM2_CONF (and PATH). */
  env: Record<string, string>;
  /** pkcs11-tool on this token, logged in (the PIN in the environment). */
  tool(args: string[]): Promise<RunResult>;
  /** A key pair made inside the token (never extractable). */
  generate(label: string, id: string, keyType?: string): Promise<TokenKey>;
  /** A private key (PKCS#8 DER) imported with its public key object. */
  importKey(key: KeyObject, label: string, id: string): Promise<TokenKey>;
  /** A PKCS#11 URI of a key on this token: `pkcs11:token=<label>;<attributes>`. */
  uri(attributes: string): string;
  /** What an action step using the token has in its environment: SOFTHSM2_CONF, PATH and the pkcs11-module input, and `extra`. */
  actionEnv(extra?: Record<string, string>): Record<string, string>;
}

export async function makeSoftHsm(parent: string, label = 'ci', pin = 'hsm-user-pin-4821'): Promise<SoftHsm> {
  const dir = join(parent, `softhsm-${label}`);
  const tokens = join(dir, 'tokens');
  await mkdir(tokens, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  const env = { SOFTHSM2_CONF: conf, PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const module = softHsmModule();
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', 'hsm-so-pin-9902', '--pin', pin], { env });
  const tool = (args: string[]) => run('pkcs11-tool', ['--module', module, '--token-label', label, '--login', '--pin', 'env:TEST_TOKEN_PIN', ...args], { env: { ...env, TEST_TOKEN_PIN: pin } });
  const publicOf = async (keyLabel: string, id: string): Promise<TokenKey> => {
    const out = join(dir, `${id}.read.der`);
    await run('pkcs11-tool', ['--module', module, '--token-label', label, '--read-object', '--type', 'pubkey', '--id', id, '-o', out], { env });
    const der = await readFile(out);
    const publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
    return { label: keyLabel, id, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
  };
  return {
    dir,
    module,
    label,
    pin,
    env,
    tool,
    uri: (attributes) => `pkcs11:token=${label};${attributes}`,
    actionEnv: (extra = {}) => ({ ...env, 'INPUT_PKCS11-MODULE': module, ...extra }),
    generate: async (keyLabel, id, keyType = 'EC:prime256v1') => {
      await tool(['--keypairgen', '--key-type', keyType, '--label', keyLabel, '--id', id, '--usage-sign']);
      return publicOf(keyLabel, id);
    },
    importKey: async (key, keyLabel, id) => {
      const privatePath = join(dir, `${id}.der`);
      const publicPath = join(dir, `${id}.pub.der`);
      await writeFile(privatePath, key.export({ type: 'pkcs8', format: 'der' }), { mode: 0o600 });
      await writeFile(publicPath, createPublicKey(key).export({ type: 'spki', format: 'der' }));
      await tool(['--write-object', privatePath, '--type', 'privkey', '--label', keyLabel, '--id', id, '--usage-sign']);
      await tool(['--write-object', publicPath, '--type', 'pubkey', '--label', keyLabel, '--id', id]);
      await writeFile(privatePath, Buffer.alloc((await readFile(privatePath)).length)); // the copy outside the token is wiped
      return publicOf(keyLabel, id);
    },
  };
}
