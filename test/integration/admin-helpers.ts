/**
 * Helpers for the administrative modes: run the action with any inputs, read
 * every trust file of a repository (to prove a refused change left the
 * server as it was), and place keys where docker and notary look for them.
 */
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { httpsRequest } from '../stack/https.ts';
import type { Stack } from '../stack/index.ts';
import { publishCount, runAction, type ActionRun } from './helpers.ts';
import { parsePrivateKey } from '../../src/tuf/private-key.ts';

export type AdminModeName = 'init' | 'add-signer' | 'remove-signer' | 'revoke' | 'refresh' | 'rotate';

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

/** The key file docker keeps for a role (root, or targets for this GUN). */
export async function dockerKey(stack: Stack, role: 'root' | 'targets', gun?: string): Promise<string> {
  const dir = join(stack.docker.trustDir, 'private');
  for (const f of await readdir(dir)) {
    const pem = await readFile(join(dir, f), 'utf8');
    if (new RegExp(`^role: ${role}$`, 'm').test(pem) && (!gun || pem.includes(`gun: ${gun}\n`))) return pem;
  }
  throw new Error(`no ${role} key in ${dir}`);
}
