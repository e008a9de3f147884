/**
 * Runs an administrative change over one or more repositories: read and
 * verify each repository, plan every change, and publish only when every
 * plan succeeded; each repository's files go in one atomic POST. A VERSION
 * conflict (someone published first) re-reads and re-plans; afterwards the
 * repository is read back and verified, as sign does.
 */
import type { ImageRef } from '../../registry/reference.ts';
import type { NotaryRepoClient } from '../server.ts';
import type { TrustedRepo } from '../model.ts';
import { publishWithRetry } from '../sign.ts';
import { repoClient, updateRepoFor } from '../repository.ts';
import { TrustError, valuesOrThrow } from '../../errors.ts';
import { settleLimit } from '../../util/pool.ts';
import type { TrustEnv } from '../env.ts';
import type { AdminPlan } from './signers.ts';

export interface AdminOutcome {
  repository: string;
  changed: boolean;
  /** Roles published. */
  roles: string[];
  summary: string;
}

export type Planner = (repo: TrustedRepo, client: NotaryRepoClient, now: Date) => AdminPlan | Promise<AdminPlan>;

export function adminClient(env: TrustEnv, ref: ImageRef): NotaryRepoClient {
  return repoClient(env, ref, true);
}

/** updateRepo, with an uninitialised repository explained for administrators. */
export async function readRepo(env: TrustEnv, client: NotaryRepoClient, now: Date): Promise<TrustedRepo> {
  try {
    const repo = await updateRepoFor(env, client, now);
    for (const w of repo.warnings) env.log.warning(w);
    return repo;
  } catch (e) {
    if (e instanceof TrustError && e.code === 'REPO_NOT_INITIALISED') {
      throw new TrustError('REPO_NOT_INITIALISED', `${client.gun} has no trust data on the Notary server: initialise it first (mode: init, or \`content-trust init ${client.gun}\`)`, { cause: e });
    }
    throw e;
  }
}

export async function administer(env: TrustEnv, refs: readonly ImageRef[], plan: Planner): Promise<AdminOutcome[]> {
  const unique = [...new Map(refs.map((r) => [r.gun, r])).values()];
  const planned = await settleLimit(unique, env.config.concurrency, async (ref) => {
    const client = adminClient(env, ref);
    const now = env.now?.() ?? new Date();
    return { client, plan: await plan(await readRepo(env, client, now), client, now) };
  });
  const plans = valuesOrThrow(planned, (i) => unique[i]!.gun);

  const done = await settleLimit(plans, env.config.concurrency, async ({ client, plan: first }) => {
    const current = await publishWithRetry(env, client, first, async () => {
      const now = env.now?.() ?? new Date();
      return plan(await readRepo(env, client, now), client, now);
    });
    if (current.files.size > 0) await updateRepoFor(env, client);
    env.log.info(current.summary);
    return { repository: client.gun, changed: current.files.size > 0, roles: [...current.files.keys()], summary: current.summary };
  });
  return valuesOrThrow(done, (i) => plans[i]!.client.gun);
}
