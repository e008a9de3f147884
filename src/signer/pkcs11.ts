/**
 * A private key on a PKCS#11 token (a YubiKey, a network HSM, SoftHSM),
 * driven through OpenSC's `pkcs11-tool` (Debian/Ubuntu package `opensc`):
 * no native module, no compiler on the runner. The token is chosen here,
 * not by pkcs11-tool, from its `--list-token-slots` listing (pkcs11-tool
 * matches `--token-label` as a prefix), and the key by its CKA_ID from the
 * `--list-objects` listing: pkcs11-tool 0.23 signs with the first private
 * key when the one named by `--label` is missing, and finds keys to sign
 * with by ID only (test/upstream/pkcs11-tool.upstream.test.ts).
 *
 * The PIN never appears on a command line (any process can read
 * /proc/<pid>/cmdline) nor on disk: pkcs11-tool reads it from an
 * environment variable of its own process with `--pin env:NAME`
 * (OpenSC tools/util.c util_get_pin). A wrong PIN is never retried: tokens
 * lock after a few.
 */
import { createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { InputError, type InputErrorCode } from '../errors.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import { childEnv, externalSigningKey, runBounded, runErrorCode, stderrTail } from './external-key.ts';
import { signatureCandidates } from './signature.ts';
import type { Pkcs11Uri } from './pkcs11-uri.ts';
import * as der from '../tuf/der.ts';

/** The program this drives. */
const PKCS11_TOOL = 'pkcs11-tool';

/** Deadline for each pkcs11-tool run: far above a token's answer (tens of milliseconds), below a hung one. */
export const PKCS11_TIMEOUT_MS = 60_000;

/** The variable of pkcs11-tool's own environment that carries the PIN. */
const PIN_VARIABLE = 'CONTENT_TRUST_PKCS11_PIN';

interface Pkcs11Names {
  /** The key's input or flag, e.g. "the delegation-key input". */
  key: string;
  /** Where the PIN comes from, e.g. "the delegation-passphrase input". */
  pin: string;
  /** Where the module path comes from, e.g. "the pkcs11-module input". */
  module: string;
}

interface Pkcs11Options {
  uri: Pkcs11Uri;
  /** The provider library from the module input or flag (the URI's module-path wins). */
  module: string | undefined;
  pin: string | undefined;
  names: Pkcs11Names;
  env: NodeJS.ProcessEnv;
  /** Deadline for each pkcs11-tool run. */
  timeoutMs: number;
}

interface Slot {
  /** As pkcs11-tool prints it (0x…), and takes it back with --slot. */
  id: string;
  label: string;
  manufacturer: string;
  model: string;
  serial: string;
}

interface PrivateKeyObject {
  label: string | undefined;
  /** CKA_ID in lower-case hex; undefined when the key has none. */
  id: string | undefined;
  /** "EC", "RSA"… as pkcs11-tool names the key type. */
  type: string;
}

/** Opens the key: token, object, PIN and public key checked, and one signature verified, before any request. */
export function pkcs11Key(options: Pkcs11Options): SigningKey {
  const { uri, names } = options;
  const module = uri.modulePath ?? options.module;
  if (!module)
    throw new InputError(
      'PKCS11_MODULE_INVALID',
      `${names.key} names a key on a PKCS#11 token but no module: set ${names.module} (or ?module-path= in the URI) to the token's provider library, e.g. /usr/lib/softhsm/libsofthsm2.so or the YubiKey's libykcs11.so`,
    );
  checkModule(module, names);
  if (!options.pin) throw new InputError('PASSPHRASE_MISSING', `${names.key} names a key on a PKCS#11 token: set ${names.pin} to the token's user PIN`);
  const tool = new Pkcs11Tool(module, options.pin, options.env, options.timeoutMs, names);
  const slot = chooseSlot(tool.listSlots(), uri, names);
  const key = chooseKey(tool.listPrivateKeys(slot), uri, slot, names);
  const where = `${names.key} (token "${slot.label}", key ${describeKey(key)})`;
  const publicKey = tool.readPublicKey(slot, key, where);
  return externalSigningKey({
    publicKey,
    name: where,
    holder: `token "${slot.label}", key ${describeKey(key)}`,
    signDigest: (digest) => signatureCandidates(tool.sign(slot, key.id!, digest, where)),
    mismatch: (keyId) =>
      `${where}: the token's signature does not verify against the public key stored with it (key ${keyId}); nothing was published. The token holds a public key object or certificate with ID ${key.id} that is not this private key's: delete it and write the right one (pkcs11-tool --read-object cannot tell them apart)`,
  });
}

function checkModule(module: string, names: Pkcs11Names): void {
  let isFile = false;
  try {
    isFile = statSync(module).isFile();
  } catch {
    // missing: said below
  }
  if (!isFile) throw new InputError('PKCS11_MODULE_INVALID', `the PKCS#11 module ${JSON.stringify(module)} (${names.module} or ?module-path=) is not a file: give the path of the token's provider library (.so), installed on the runner`);
}

function describeKey(key: PrivateKeyObject): string {
  return [key.label !== undefined ? `"${key.label}"` : undefined, key.id !== undefined ? `id ${key.id}` : undefined].filter(Boolean).join(', ');
}

/** pkcs11-tool bound to one module and PIN; each run is bounded and its failures named. */
class Pkcs11Tool {
  readonly #module: string;
  readonly #pin: string;
  readonly #env: NodeJS.ProcessEnv;
  readonly #timeoutMs: number;
  readonly #names: Pkcs11Names;

  constructor(module: string, pin: string, env: NodeJS.ProcessEnv, timeoutMs: number, names: Pkcs11Names) {
    this.#module = module;
    this.#pin = pin;
    this.#env = env;
    this.#timeoutMs = timeoutMs;
    this.#names = names;
  }

  /** Runs pkcs11-tool; `login` hands it the PIN in its own environment (never on the command line). */
  #run(args: string[], what: string, options: { login?: boolean; input?: Buffer; allowFailure?: boolean } = {}): { ok: boolean; stdout: Buffer; stderr: string } {
    const loginArgs = options.login ? ['--login', '--pin', `env:${PIN_VARIABLE}`] : [];
    const r = runBounded(PKCS11_TOOL, ['--module', this.#module, ...loginArgs, ...args], {
      input: options.input ?? Buffer.alloc(0),
      env: childEnv(this.#env, options.login ? { [PIN_VARIABLE]: this.#pin } : {}),
      timeoutMs: this.#timeoutMs,
    });
    const code = runErrorCode(r);
    const stderr = stderrTail(r.stderr);
    if (code === 'ENOENT')
      throw new InputError('PKCS11_TOOL_MISSING', `${this.#names.key} names a key on a PKCS#11 token, which is driven through OpenSC's pkcs11-tool, not found on PATH: install it first (apt-get install opensc; brew install opensc)`);
    if (code === 'ETIMEDOUT') throw new InputError('PKCS11_FAILED', `pkcs11-tool did not ${what} within ${this.#timeoutMs / 1000} s and was stopped (is the token waiting for a touch, or unreachable?)`);
    if (r.error) throw new InputError('PKCS11_FAILED', `pkcs11-tool could not ${what} (${code ?? r.error.message})`);
    const failed = r.status !== 0 || /^error: /m.test(r.stderr.toString('utf8'));
    if (failed) this.#classify(stderr, what);
    if (failed && !options.allowFailure) throw new InputError('PKCS11_FAILED', `pkcs11-tool could not ${what} (module ${this.#module}): ${stderr || `exit status ${r.status}`}`);
    return { ok: !failed, stdout: r.stdout, stderr };
  }

  /** Throws the named error for the failures that have one. */
  #classify(stderr: string, what: string): void {
    const names = this.#names;
    const fail = (code: InputErrorCode, message: string) => {
      throw new InputError(code, message);
    };
    if (/Failed to load pkcs11 module/i.test(stderr))
      fail(
        'PKCS11_MODULE_INVALID',
        `the PKCS#11 module ${JSON.stringify(this.#module)} (${names.module} or ?module-path=) does not load as a PKCS#11 provider (${stderr}): give the path of the token's provider library for this runner's architecture`,
      );
    if (/CKR_PIN_INCORRECT|CKR_PIN_LEN_RANGE/.test(stderr))
      fail('PKCS11_PIN_INCORRECT', `the token refused the PIN in ${names.pin} (CKR_PIN_INCORRECT) while trying to ${what}: set it to the token's user PIN. It was tried once, not again: tokens lock after a few wrong PINs`);
    if (/CKR_PIN_LOCKED|CKR_PIN_EXPIRED/.test(stderr))
      fail('PKCS11_PIN_LOCKED', `the token's user PIN is locked or expired (${/CKR_PIN_\w+/.exec(stderr)![0]}): unlock it with the SO PIN (pkcs11-tool --unlock-pin, or the token's own tool), then run again`);
    if (/CKR_TOKEN_NOT_PRESENT|CKR_DEVICE_REMOVED|CKR_SLOT_ID_INVALID/.test(stderr)) fail('PKCS11_TOKEN_NOT_FOUND', `the token went away while trying to ${what} (${stderr}): check it is connected to the runner`);
    if (/CKR_KEY_TYPE_INCONSISTENT|CKR_MECHANISM_INVALID/.test(stderr)) fail('KEY_UNSUPPORTED', `${names.key}: the token cannot sign with ECDSA using this key (${stderr}): use an EC prime256v1 (P-256) key`);
  }

  listSlots(): Slot[] {
    const { stdout } = this.#run(['--list-token-slots'], 'list the tokens');
    return parseSlots(stdout.toString('utf8'));
  }

  listPrivateKeys(slot: Slot): PrivateKeyObject[] {
    const { stdout } = this.#run(['--slot', slot.id, '--list-objects', '--type', 'privkey'], `list the private keys of token "${slot.label}"`, { login: true });
    return parsePrivateKeys(stdout.toString('utf8'));
  }

  /**
   * The key's public half: its public key object (as DER, else, for curves
   * pkcs11-tool 0.23 cannot export, from its EC_POINT and EC_PARAMS in the
   * object listing), else a certificate with the same ID.
   */
  readPublicKey(slot: Slot, key: PrivateKeyObject, where: string): KeyObject {
    const id = key.id!;
    const read = (type: 'pubkey' | 'cert', parse: (der: Buffer) => KeyObject): KeyObject | undefined => {
      const what = type === 'cert' ? 'certificate' : 'public key';
      const r = this.#run(['--slot', slot.id, '--read-object', '--type', type, '--id', id], `read the ${what} with id ${id}`, { login: true, allowFailure: true });
      if (!r.ok || r.stdout.length === 0) return undefined;
      try {
        return parse(r.stdout);
      } catch (e) {
        throw new InputError('PKCS11_FAILED', `${where}: the token's ${what} object with id ${id} cannot be read (${(e as Error).message})`, { cause: e });
      }
    };
    const listed = () => {
      const { stdout } = this.#run(['--slot', slot.id, '--list-objects', '--type', 'pubkey'], `list the public keys of token "${slot.label}"`, { login: true });
      const found = parsePublicKeys(stdout.toString('utf8')).find((k) => k.id === id);
      return found ? ecPublicKey(found) : undefined;
    };
    const found = read('pubkey', (b) => createPublicKey({ key: b, format: 'der', type: 'spki' })) ?? listed() ?? read('cert', (b) => new X509Certificate(b).publicKey);
    if (found) return found;
    throw new InputError(
      'PKCS11_OBJECT_NOT_FOUND',
      `${where}: the token has the private key but no public key object or certificate with id ${key.id}, and the key ID is computed from the public key: write it to the token (pkcs11-tool --write-object key.pub.der --type pubkey --id ${key.id})`,
    );
  }

  sign(slot: Slot, id: string, digest: Buffer, where: string): Buffer {
    // The raw ECDSA mechanism over the digest made here: the token never sees the metadata, only its hash.
    const r = this.#run(['--slot', slot.id, '--sign', '--mechanism', 'ECDSA', '--id', id, '--signature-format', 'rs'], `sign with ${where}`, { login: true, input: digest });
    return r.stdout;
  }
}

/** `--list-token-slots`: "Slot N (0xID): description" and indented "name : value" lines; slots without a token are skipped. */
export function parseSlots(text: string): Slot[] {
  const slots: Slot[] = [];
  let current: Partial<Slot> | undefined;
  const field = (line: string, name: string) => {
    const m = new RegExp(`^\\s+${name}\\s*: ?(.*)$`).exec(line);
    return m ? m[1]! : undefined;
  };
  for (const line of text.split('\n')) {
    const head = /^Slot \d+ \((0x[0-9a-fA-F]+)\)/.exec(line);
    if (head) {
      current = { id: head[1]! };
      slots.push(current as Slot);
      continue;
    }
    if (!current) continue;
    current.label ??= field(line, 'token label');
    current.manufacturer ??= field(line, 'token manufacturer');
    current.model ??= field(line, 'token model');
    current.serial ??= field(line, 'serial num');
  }
  return slots.filter((s) => s.label !== undefined).map((s) => ({ ...s, manufacturer: s.manufacturer ?? '', model: s.model ?? '', serial: s.serial ?? '' }));
}

interface ListedPublicKey {
  id: string | undefined;
  /** CKA_EC_POINT and CKA_EC_PARAMS, hex, as pkcs11-tool prints them. */
  ecPoint: string | undefined;
  ecParams: string | undefined;
}

/** `--list-objects --type pubkey`: blocks "Public Key Object; EC …" with "  EC_POINT:", "  EC_PARAMS:" and "  ID:" lines. */
export function parsePublicKeys(text: string): ListedPublicKey[] {
  const keys: ListedPublicKey[] = [];
  let current: ListedPublicKey | undefined;
  for (const line of text.split('\n')) {
    if (/^Public Key Object; /.test(line)) {
      current = { id: undefined, ecPoint: undefined, ecParams: undefined };
      keys.push(current);
      continue;
    }
    if (/^\S/.test(line)) current = undefined;
    if (!current) continue;
    const m = /^ {2}(EC_POINT|EC_PARAMS|ID): +([0-9a-fA-F]*)\s*$/.exec(line);
    if (!m) continue;
    const value = m[2]!.toLowerCase();
    if (m[1] === 'ID') current.id = value || undefined;
    else if (m[1] === 'EC_POINT') current.ecPoint = value;
    else current.ecParams = value;
  }
  return keys;
}

/**
 * The SubjectPublicKeyInfo of an EC public key object: id-ecPublicKey with
 * its parameters as the token holds them, and the point, which PKCS#11
 * keeps DER-wrapped in an OCTET STRING (some tokens keep it bare).
 */
function ecPublicKey(k: ListedPublicKey): KeyObject | undefined {
  if (!k.ecPoint || !k.ecParams) return undefined;
  let point = Buffer.from(k.ecPoint, 'hex');
  if (point[0] === 0x04 && point.length >= 2 && (point[1]! < 0x80 ? point[1]! === point.length - 2 : point[1] === 0x81 && point[2] === point.length - 3)) point = point.subarray(point[1]! < 0x80 ? 2 : 3);
  try {
    return createPublicKey({ key: der.sequence(der.sequence(der.oid(EC_PUBLIC_KEY_OID), Buffer.from(k.ecParams, 'hex')), der.bitString(point)), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

const EC_PUBLIC_KEY_OID = '1.2.840.10045.2.1';

/** `--list-objects --type privkey`: blocks "Private Key Object; TYPE" with "  label:" and "  ID:" lines. */
export function parsePrivateKeys(text: string): PrivateKeyObject[] {
  const keys: PrivateKeyObject[] = [];
  let current: PrivateKeyObject | undefined;
  for (const line of text.split('\n')) {
    const head = /^Private Key Object; (\S+)/.exec(line);
    if (head) {
      current = { label: undefined, id: undefined, type: head[1]! };
      keys.push(current);
      continue;
    }
    if (/^\S/.test(line)) current = undefined; // another kind of object
    if (!current) continue;
    // pkcs11-tool prints the label after a fixed indent: read it exactly (it may hold spaces).
    if (line.startsWith('  label:      ')) current.label = line.slice('  label:      '.length);
    const id = /^ {2}ID: +([0-9a-fA-F]*)\s*$/.exec(line);
    if (id) current.id = id[1]!.toLowerCase() || undefined;
  }
  return keys;
}

function chooseSlot(slots: Slot[], uri: Pkcs11Uri, names: Pkcs11Names): Slot {
  const matches = slots.filter(
    (s) =>
      (uri.token === undefined || s.label === uri.token) &&
      (uri.serial === undefined || s.serial === uri.serial) &&
      (uri.manufacturer === undefined || s.manufacturer === uri.manufacturer) &&
      (uri.model === undefined || s.model === uri.model) &&
      (uri.slotId === undefined || BigInt(s.id) === BigInt(uri.slotId)),
  );
  const present = slots.map((s) => `"${s.label}" (serial ${s.serial || 'none'})`).join(', ') || 'none';
  const asked = [
    uri.token !== undefined ? `token "${uri.token}"` : '',
    uri.serial !== undefined ? `serial ${uri.serial}` : '',
    uri.manufacturer !== undefined ? `manufacturer "${uri.manufacturer}"` : '',
    uri.model !== undefined ? `model "${uri.model}"` : '',
    uri.slotId !== undefined ? `slot-id ${uri.slotId}` : '',
  ]
    .filter(Boolean)
    .join(', ');
  if (matches.length === 0)
    throw new InputError('PKCS11_TOKEN_NOT_FOUND', `${names.key} names ${asked || 'a token'}, which the module does not show; tokens present: ${present}. Check the URI's token= (the token's label, matched exactly) and that the token is connected`);
  if (matches.length > 1) throw new InputError('PKCS11_AMBIGUOUS', `${names.key} names ${asked || 'no token'}, which matches ${matches.length} tokens (${present}): add token= or serial= to choose one`);
  return matches[0]!;
}

function chooseKey(keys: PrivateKeyObject[], uri: Pkcs11Uri, slot: Slot, names: Pkcs11Names): PrivateKeyObject {
  const matches = keys.filter((k) => (uri.object === undefined || k.label === uri.object) && (uri.id === undefined || k.id === uri.id));
  const asked = [uri.object !== undefined ? `object "${uri.object}"` : '', uri.id !== undefined ? `id ${uri.id}` : ''].filter(Boolean).join(', ');
  const present = keys.map(describeKey).join('; ') || 'none';
  if (matches.length === 0)
    throw new InputError('PKCS11_OBJECT_NOT_FOUND', `${names.key} names ${asked}, but token "${slot.label}" has no such private key (its private keys: ${present}). Check object= (the key's label) and id= (percent-encoded bytes, e.g. id=%01)`);
  if (matches.length > 1) throw new InputError('PKCS11_AMBIGUOUS', `${names.key} names ${asked}, which matches ${matches.length} private keys on token "${slot.label}" (${present}): add id= to choose one`);
  const key = matches[0]!;
  if (key.type !== 'EC')
    throw new InputError('KEY_UNSUPPORTED', `${names.key}: the key ${describeKey(key)} on token "${slot.label}" is a ${key.type} key; keys on a token sign with ECDSA P-256 only: make one with pkcs11-tool --keypairgen --key-type EC:prime256v1`);
  if (key.id === undefined)
    throw new InputError('PKCS11_OBJECT_NOT_FOUND', `${names.key}: the key ${describeKey(key)} on token "${slot.label}" has no ID (CKA_ID), and pkcs11-tool finds keys to sign with by ID: set one (pkcs11-tool --set-id 01 --type privkey --label …)`);
  return key;
}
