/**
 * Re-keys a real repository: takes the files notary-server serves for a GUN
 * and signs the same content again with keys this test holds (a root
 * certificate for the GUN made by openssl, ecdsa P-256 keys for targets,
 * snapshot, timestamp and every delegation), rebuilding snapshot and
 * timestamp hashes. Served through the proxy to a client that has not
 * trusted the GUN before (or pins nothing), the re-keyed repository verifies
 * like the real one; an `Edit` then changes exactly one thing (a version, an
 * expiry, a threshold, a signature, a hash) so a test shows that one defect
 * is refused. Server-held keys (timestamp, snapshot) make such forgeries
 * impossible against the real keys: that is what re-keying stands in for.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { canonicalize } from '../../src/tuf/canonical.ts';
import { keyId } from '../../src/tuf/keys.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { run } from './exec.ts';
import { httpsRequest } from './https.ts';
import type { TestCa } from './ca.ts';

export interface ForgeKey {
  id: string;
  keytype: string;
  public: string;
  privateKey: KeyObject;
}

export interface Signature {
  keyid: string;
  method: string;
  sig: string;
}

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface RealRepo {
  gun: string;
  /** Decoded `signed` of root, targets and every delegation the snapshot lists; snapshot and timestamp too. */
  signed: Map<string, Doc>;
  /** The files as served, by role. */
  raw: Map<string, Buffer>;
}

export interface Edit {
  /** Changes the decoded `signed` objects after re-keying, before signing (roles: root, targets, targets/x, snapshot, timestamp). */
  signed?: (docs: Map<string, Doc>, keys: ForgerKeys) => void;
  /** Changes the snapshot's meta after hashing. */
  snapshotMeta?: (meta: Record<string, Doc>) => void;
  /** Changes the timestamp's meta after hashing. */
  timestampMeta?: (meta: Record<string, Doc>) => void;
  /** Replaces the signatures of a role (default: one by its key). */
  signatures?: (role: string, canonical: Buffer, own: () => Signature[]) => Signature[];
  /** Turns every ecdsa signature into its high-S twin (valid for Go, refused by strict low-S verifiers). */
  highS?: boolean;
  /** Also serve these root versions as `N.root.json`. */
  extraRoots?: Map<number, Buffer>;
}

export interface ForgerKeys {
  root: ForgeKey;
  targets: ForgeKey;
  snapshot: ForgeKey;
  timestamp: ForgeKey;
  delegation: ForgeKey;
  /** Makes another key of the same kind (for unlisted-key signatures). */
  extra(): ForgeKey;
}

const N = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

function ecdsaKey(): ForgeKey {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pub = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return { id: keyId('ecdsa', pub), keytype: 'ecdsa', public: pub, privateKey };
}

/** A root certificate for `gun` as notary makes one (CN=GUN, leaf, codeSigning), by openssl. */
async function rootCertKey(dir: string, gun: string): Promise<ForgeKey> {
  await mkdir(dir, { recursive: true });
  const keyPath = join(dir, 'root.key');
  const certPath = join(dir, 'root.crt');
  const conf = join(dir, 'root.cnf');
  await writeFile(
    conf,
    [
      '[req]',
      'prompt = no',
      'distinguished_name = dn',
      'x509_extensions = ext',
      '[dn]',
      `CN = ${gun}`,
      '[ext]',
      'basicConstraints = critical,CA:FALSE',
      'keyUsage = critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage = codeSigning',
      '',
    ].join('\n'),
  );
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '3650', '-sha256', '-config', conf]);
  const pem = await readFile(certPath, 'utf8');
  const pub = Buffer.from(pem).toString('base64');
  return { id: keyId('ecdsa-x509', pub), keytype: 'ecdsa-x509', public: pub, privateKey: createPrivateKey(await readFile(keyPath)) };
}

export async function makeForgerKeys(dir: string, gun: string): Promise<ForgerKeys> {
  return { root: await rootCertKey(dir, gun), targets: ecdsaKey(), snapshot: ecdsaKey(), timestamp: ecdsaKey(), delegation: ecdsaKey(), extra: ecdsaKey };
}

/**
 * The same key in its `ecdsa-x509` form: a certificate for its public key
 * (made by the project's own src/tuf/x509.ts, CN `cn`), so another TUF key
 * ID for one key. Signatures by it carry that ID.
 */
export function x509Twin(key: ForgeKey, cn: string): ForgeKey {
  const pub = Buffer.from(rootCertificate({ gun: cn, key: key.privateKey })).toString('base64');
  return { id: keyId('ecdsa-x509', pub), keytype: 'ecdsa-x509', public: pub, privateKey: key.privateKey };
}

export function keyJson(k: ForgeKey): Doc {
  return { keytype: k.keytype, keyval: { private: null, public: k.public } };
}

export function signWith(key: ForgeKey, canonical: Buffer, highS = false): Signature {
  let sig = sign('sha256', canonical, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  if (highS) {
    const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
    const flipped = s > N / 2n ? s : N - s;
    sig = Buffer.concat([sig.subarray(0, 32), Buffer.from(flipped.toString(16).padStart(64, '0'), 'hex')]);
  }
  return { keyid: key.id, method: 'ecdsa', sig: sig.toString('base64') };
}

/** Is the S half of a raw ecdsa signature above n/2? */
export function isHighS(sigB64: string): boolean {
  const s = BigInt(`0x${Buffer.from(sigB64, 'base64').subarray(32).toString('hex')}`);
  return s > N / 2n;
}

/** Reads every file the real server serves for `gun` (current versions). */
export async function readRealRepo(serverUrl: string, ca: TestCa, gun: string): Promise<RealRepo> {
  const get = async (file: string) => {
    const res = await httpsRequest(`${serverUrl}/v2/${gun}/_trust/tuf/${file}`, { ca: ca.caPem });
    if (res.status !== 200) throw new Error(`GET ${file} for ${gun}: HTTP ${res.status}`);
    return res.body;
  };
  const raw = new Map<string, Buffer>();
  for (const role of ['root', 'timestamp', 'snapshot', 'targets']) raw.set(role, await get(`${role}.json`));
  const snapshot = JSON.parse(raw.get('snapshot')!.toString('utf8')).signed as Doc;
  for (const role of Object.keys(snapshot.meta)) if (role.startsWith('targets/')) raw.set(role, await get(`${role}.json`));
  const signed = new Map<string, Doc>();
  for (const [role, body] of raw) signed.set(role, JSON.parse(body.toString('utf8')).signed as Doc);
  return { gun, signed, raw };
}

const hash = (alg: string, b: Buffer) => createHash(alg).update(b).digest();

function fileMeta(body: Buffer): Doc {
  return { hashes: { sha256: hash('sha256', body).toString('base64'), sha512: hash('sha512', body).toString('base64') }, length: body.length };
}

/**
 * The re-keyed repository as the server would serve it: `root.json`,
 * `<N>.root.json`, `timestamp.json`, and `<role>.json` plus
 * `<role>.<sha256 hex>.json` for snapshot, targets and each delegation.
 */
export function forge(real: RealRepo, keys: ForgerKeys, edit: Edit = {}): Map<string, Buffer> {
  const docs = new Map<string, Doc>();
  for (const [role, doc] of real.signed) docs.set(role, structuredClone(doc));
  const root = docs.get('root')!;
  root.keys = Object.fromEntries([keys.root, keys.targets, keys.snapshot, keys.timestamp].map((k) => [k.id, keyJson(k)]));
  root.roles = {
    root: { keyids: [keys.root.id], threshold: 1 },
    snapshot: { keyids: [keys.snapshot.id], threshold: 1 },
    targets: { keyids: [keys.targets.id], threshold: 1 },
    timestamp: { keyids: [keys.timestamp.id], threshold: 1 },
  };
  for (const [role, doc] of docs) {
    if (role !== 'targets' && !role.startsWith('targets/')) continue;
    const d = doc.delegations;
    if (!d || d.roles.length === 0) continue;
    d.keys = { [keys.delegation.id]: keyJson(keys.delegation) };
    for (const r of d.roles) r.keyids = [keys.delegation.id];
  }
  edit.signed?.(docs, keys);

  const keyOf = (role: string): ForgeKey => (role === 'root' ? keys.root : role === 'targets' ? keys.targets : role === 'snapshot' ? keys.snapshot : role === 'timestamp' ? keys.timestamp : keys.delegation);
  const envelope = (role: string): Buffer => {
    const signed = docs.get(role)!;
    const canonical = canonicalize(signed);
    const own = () => [signWith(keyOf(role), canonical, edit.highS)];
    const signatures = edit.signatures ? edit.signatures(role, canonical, own) : own();
    return Buffer.from(JSON.stringify({ signed, signatures }));
  };

  const files = new Map<string, Buffer>();
  const put = (role: string, body: Buffer) => {
    files.set(`${role}.json`, body);
    files.set(`${role}.${hash('sha256', body).toString('hex')}.json`, body);
  };
  const snapshotMeta: Record<string, Doc> = {};
  const targetRoles = [...docs.keys()].filter((r) => r === 'targets' || r.startsWith('targets/'));
  for (const role of targetRoles) {
    const body = envelope(role);
    put(role, body);
    snapshotMeta[role] = fileMeta(body);
  }
  const rootBody = envelope('root');
  files.set('root.json', rootBody);
  files.set(`${docs.get('root')!.version}.root.json`, rootBody);
  for (const [v, body] of edit.extraRoots ?? []) files.set(`${v}.root.json`, body);
  snapshotMeta.root = fileMeta(rootBody);
  edit.snapshotMeta?.(snapshotMeta);
  docs.get('snapshot')!.meta = snapshotMeta;
  const snapshotBody = envelope('snapshot');
  put('snapshot', snapshotBody);
  const timestampMeta: Record<string, Doc> = { snapshot: fileMeta(snapshotBody) };
  edit.timestampMeta?.(timestampMeta);
  docs.get('timestamp')!.meta = timestampMeta;
  files.set('timestamp.json', envelope('timestamp'));
  return files;
}

/** A date `days` from now, as Go writes expiries. */
export function inDays(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString();
}

/** A real repository's files under the names a client asks for (current and by checksum). */
export function asServed(repo: RealRepo): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const [role, body] of repo.raw) {
    files.set(`${role}.json`, body);
    if (role !== 'root' && role !== 'timestamp') files.set(`${role}.${createHash('sha256').update(body).digest('hex')}.json`, body);
  }
  return files;
}
