/**
 * Runs an administrative change over one or more repositories: read and
 * verify each repository, plan every change, and publish only when every
 * plan succeeded; each repository's files go in one atomic POST. A VERSION
 * conflict (someone published first) re-reads and re-plans; afterwards the
 * repository is read back and verified.
 */
import type { ImageRef } from '../../registry/reference.ts';
import { NotaryRepoClient } from '../server.ts';
import { updateRepo, type TrustedRepo } from '../updater.ts';
import { PublishError, TrustError, valuesOrThrow } from '../../errors.ts';
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
  return new NotaryRepoClient(env.client, env.serverFor(ref.domain), ref.gun, env.credentialsFor(ref.domain), true);
}

/** updateRepo, with an uninitialised repository explained for administrators. */
export async function readRepo(env: TrustEnv, client: NotaryRepoClient, now: Date): Promise<TrustedRepo> {
  try {
    const repo = await updateRepo(client, { config: env.config, now, ...(env.trustStore ? { store: env.trustStore } : {}), ...(env.rootKeys ? { rootKeys: env.rootKeys } : {}) });
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
    let current = first;
    for (let attempt = 1; current.files.size > 0; attempt++) {
      try {
        await client.publish(current.files);
        break;
      } catch (e) {
        if (!(e instanceof PublishError && e.code === 'VERSION_CONFLICT') || attempt >= env.config.publishAttempts) throw e;
        env.log.info(`${client.gun}: ${e.message}; re-reading and retrying`);
        const now = env.now?.() ?? new Date();
        current = await plan(await readRepo(env, client, now), client, now);
      }
    }
    if (current.files.size > 0) await updateRepo(client, { config: env.config, now: env.now?.() ?? new Date() });
    env.log.info(current.summary);
    return { repository: client.gun, changed: current.files.size > 0, roles: [...current.files.keys()], summary: current.summary };
  });
  return valuesOrThrow(done, (i) => plans[i]!.client.gun);
}
