/**
 * One repository as every workflow reaches it: its Notary client for an
 * image reference, the trust update with what the environment gives
 * (remembered trust, root-key pins), and what a run reports for an image
 * that verified.
 */
import type { ImageRef } from '../registry/reference.ts';
import { NotaryRepoClient } from './server.ts';
import { updateRepo } from './updater.ts';
import { rolesListing } from './resolve.ts';
import { printedRootKeyIds, signerNames, type TrustedRepo } from './model.ts';
import type { ImageResult, TrustEnv } from './env.ts';

export function repoClient(env: TrustEnv, ref: ImageRef, push: boolean): NotaryRepoClient {
  return new NotaryRepoClient(env.client, env.serverFor(ref.domain), ref.gun, env.credentialsFor(ref.domain), push);
}

/** The trust update with what the environment gives every workflow: remembered trust and root-key pins; `allowExpired` only for refresh's plan and status (updater.ts). */
export function updateRepoFor(env: TrustEnv, client: NotaryRepoClient, now: Date = env.now?.() ?? new Date(), options: { allowExpired?: boolean } = {}): Promise<TrustedRepo> {
  return updateRepo(client, { config: env.config, now, store: env.trustStore, rootKeys: env.rootKeys, allowExpired: options.allowExpired });
}

export function toResult(repo: TrustedRepo, ref: ImageRef, digest: string, size: number): ImageResult {
  const roles = rolesListing(repo, ref.tag, digest);
  // The timestamp is left out: the server re-signs it whenever it is stale.
  const expiries = [repo.root, repo.snapshot, ...roles.map((r) => repo.roles.get(r)!.meta)].map((m) => m.expires.getTime());
  return { image: ref.input, repository: ref.gun, tag: ref.tag, digest, size, signers: signerNames(roles), roles, expires: new Date(Math.min(...expiries)).toISOString() };
}

/**
 * Trust on first use: nothing remembered for the repository and no root key
 * pinned, so the root the server sent was trusted as it is (TUF client
 * workflow 5.2 starts from a trusted root that this run did not have). Names
 * the root key IDs as `docker trust inspect` prints them ("Root Key": the
 * TUF key IDs root.json lists for the root role) and how to pin them;
 * undefined when trust was remembered or root keys are pinned.
 */
export function firstUseNotice(repo: TrustedRepo, pins: readonly string[] | undefined): string | undefined {
  if (repo.trustedBefore || (pins && pins.length > 0)) return undefined;
  const ids = printedRootKeyIds(repo.root.signed);
  return `${repo.gun}: trusted on first use: no trust data is remembered for it and root-keys pins no root key, so this run trusts the root key the Notary server sent (${ids.join(', ')}) unchecked. Check it is the repository's Root Key (as \`docker trust inspect ${repo.gun}\` prints it on a machine that trusts the repository), then pin it: root-keys: ${ids.join(',')}`;
}
