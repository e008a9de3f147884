/**
 * Helpers for the administrative modes: run the action with any inputs, read
 * every trust file of a repository (to prove a refused change left the
 * server as it was), and place keys where docker and notary look for them.
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpsRequest } from '../stack/https.ts';
import { REPOSITORY_PASSPHRASE, ROOT_PASSPHRASE, type Stack } from '../stack/index.ts';
import { DockerCli } from '../stack/docker-cli.ts';
import { NotaryCli } from '../stack/notary-cli.ts';
import { libraryEnv, publishCount, runAction, type ActionRun } from './helpers.ts';
import { parsePrivateKey, readPrivateKey, toSigningKey } from '../../src/tuf/private-key.ts';
import { parsePublicKey, type TufKeyJson } from '../../src/tuf/keys.ts';
import { rootCertificate } from '../../src/tuf/x509.ts';
import { administer } from '../../src/notary/admin/workflow.ts';
import { signableBy } from '../../src/notary/admin/common.ts';
import { baseRoleKeyIds, replaceBaseKey } from '../../src/notary/admin/owner-keys.ts';
import { startFrom } from '../../src/notary/sign-plan.ts';
import { cloneSigned } from '../../src/tuf/metadata.ts';
import { envelope, goTime } from '../../src/tuf/go-encoding.ts';
import { parseReference } from '../../src/registry/reference.ts';

export type AdminModeName = 'init' | 'add-signer' | 'remove-signer' | 'revoke' | 'refresh' | 'rotate' | 'status';

/** `node dist/index.js` with mode and inputs (kebab-case names, as in a workflow's `with:`). */
export function runAdminAction(stack: Stack, mode: AdminModeName, images: string[], inputs: Record<string, string> = {}): Promise<ActionRun> {
  const env: Record<string, string> = { INPUT_MODE: mode };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  return runAction(stack, { mode: 'verify', images }, env);
}

/** Every current trust file's bytes (root, targets, snapshot, timestamp and the given delegations) and the POST count. */
export async function serverState(stack: Stack, gun: string, delegations: string[] = ['targets/releases', 'targets/ci']): Promise<Record<string, string | number>> {
  const out: Record<string, string | number> = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp', ...delegations]) {
    const res = await httpsRequest(`${stack.notary.url}/v2/${gun}/_trust/tuf/${role}.json`, { ca: stack.ca.caPem });
    out[role] = res.status === 200 ? res.body.toString('utf8') : `HTTP ${res.status}`;
  }
  out.posts = await publishCount(stack, gun);
  return out;
}

/** Writes a key file as docker does: <trust dir>/private/<canonical id>.key, 0600. */
export async function placeKey(trustDir: string, pem: string, passphrase: string): Promise<string> {
  const id = parsePrivateKey(pem, passphrase).id;
  const dir = join(trustDir, 'private');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${id}.key`);
  await writeFile(path, pem, { mode: 0o600 });
  await chmod(path, 0o600);
  return id;
}

/** The key file docker keeps for a role (root, or targets for this GUN), as PEM text. */
export async function dockerKeyPem(stack: Stack, role: 'root' | 'targets', gun?: string): Promise<string> {
  const dir = join(stack.docker.trustDir, 'private');
  for (const f of await readdir(dir)) {
    const pem = await readFile(join(dir, f), 'utf8');
    if (new RegExp(`^role: ${role}$`, 'm').test(pem) && (!gun || pem.includes(`gun: ${gun}\n`))) return pem;
  }
  throw new Error(`no ${role} key in ${dir}`);
}

/**
 * Publishes the next version (same content) of each of `roles` of `gun`,
 * signed with `keyPem`, expiring `seconds` after now. The product's edit
 * pipeline signs and publishes them (a convenient signer, not the subject);
 * its strict read-back runs before the expiry.
 */
export async function publishExpiringIn(stack: Stack, gun: string, roles: readonly string[], keyPem: string, passphrase: string, seconds: number): Promise<Date> {
  const env = libraryEnv(stack);
  const key = parsePrivateKey(keyPem, passphrase);
  let expires = new Date();
  try {
    await administer(env, [parseReference(`${gun}:x`)], (repo, _client, now) => {
      expires = new Date(now.getTime() + seconds * 1000);
      const files = new Map<string, Buffer>();
      for (const role of roles) {
        const ids = role === 'root' ? baseRoleKeyIds(repo, 'root', key, 'root key') : signableBy(repo, [key]).find((s) => s.role === role)?.keyIds;
        if (!ids) throw new Error(`${key.id} cannot sign ${role} of ${gun}`);
        const signed: { version: number; expires: string } = role === 'root' ? cloneSigned(repo.root.signed) : startFrom(repo, role);
        signed.version += 1;
        signed.expires = goTime(expires);
        files.set(role, envelope(signed, key, ids));
      }
      return { files, summary: `${roles.join(', ')} expire at ${expires.toISOString()}` };
    });
  } finally {
    env.close();
  }
  return expires;
}

/**
 * Makes `roles` of `gun` really expire on the real server: published to
 * expire a few seconds later (publishExpiringIn), then waited out.
 * Everyone (the server, docker, the notary CLI, the action) then meets an
 * expired file at the real time: nothing runs at another date.
 */
export async function publishExpiring(stack: Stack, gun: string, roles: string | readonly string[], keyPem: string, passphrase: string, seconds = 4): Promise<Date> {
  const expires = await publishExpiringIn(stack, gun, typeof roles === 'string' ? [roles] : roles, keyPem, passphrase, seconds);
  const wait = expires.getTime() - Date.now() + 300;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  return expires;
}

/**
 * Publishes root version N+1 of `gun` whose only root key is the current
 * root key (`rootPem`) under a new certificate (the product's builder,
 * CN=<gun>) that ends `seconds` after now, signed under the old key ID and
 * the new one, as a rotation is; then (`wait`) waits the certificate out. root.json
 * itself keeps its expiry (years away): only the certificate ends.
 * Returns the new root key ID and when the certificate ended.
 */
export async function publishEndingCertificate(stack: Stack, gun: string, rootPem: string, passphrase: string, seconds = 5, wait = true): Promise<{ keyId: string; ends: Date }> {
  const env = libraryEnv(stack);
  const { keyObject } = readPrivateKey(rootPem, passphrase);
  const signing = toSigningKey(keyObject, 'root', undefined);
  let keyId = '';
  let ends = new Date();
  try {
    await administer(env, [parseReference(`${gun}:x`)], (repo, _client, now) => {
      const json: TufKeyJson = { keytype: 'ecdsa-x509', keyval: { private: null, public: Buffer.from(rootCertificate({ gun, key: keyObject, now, days: seconds / 86_400 })).toString('base64') } };
      const cert = parsePublicKey(json);
      keyId = cert.id;
      ends = new Date(cert.certificate!.validTo);
      const oldIds = baseRoleKeyIds(repo, 'root', signing, 'root key');
      const root = cloneSigned(repo.root.signed);
      replaceBaseKey(root, 'root', { id: cert.id, json });
      root.version += 1;
      return { files: new Map([['root', envelope(root, signing, [cert.id], { key: signing, keyIds: oldIds })]]), summary: `root certificate ends at ${ends.toISOString()}` };
    });
  } finally {
    env.close();
  }
  const left = ends.getTime() - Date.now() + 1500;
  if (wait && left > 0) await new Promise((r) => setTimeout(r, left));
  return { keyId, ends };
}

/** A docker CLI with a trust directory of its own: it trusts each repository on first use. */
export async function freshDocker(stack: Stack): Promise<DockerCli> {
  const docker = new DockerCli({ configDir: await mkdtemp(join(stack.dir, 'docker-fresh-')), notaryUrl: stack.notary.url, ca: stack.ca, rootPassphrase: ROOT_PASSPHRASE, repositoryPassphrase: REPOSITORY_PASSPHRASE });
  await docker.init();
  return docker;
}

/** A notary CLI with a trust directory of its own. */
export async function freshNotary(stack: Stack): Promise<NotaryCli> {
  const dir = await mkdtemp(join(stack.dir, 'notary-fresh-'));
  const notary = new NotaryCli({ ...stack.notaryCli.options, trustDir: join(dir, 'trust'), configPath: join(dir, 'config.json') });
  await notary.init();
  return notary;
}

/** The IDs `docker trust inspect` prints for the repository's Root or Repository key. */
export function administrativeKeyIds(info: Awaited<ReturnType<DockerCli['inspect']>>[number], name: 'Root' | 'Repository'): string[] {
  return info.AdministrativeKeys.find((k) => k.Name === name)!.Keys.map((k) => k.ID);
}
