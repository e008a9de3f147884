/**
 * Runs an administrative change over one or more repositories through the
 * edit pipeline (edit.ts): read and verify each repository, plan every
 * change, publish only when every plan succeeded, re-plan on a VERSION
 * conflict, then read the repository back and verify it, as sign does.
 */
import type { ImageRef } from '../../registry/reference.ts';
import type { NotaryRepoClient } from '../server.ts';
import type { TrustedRepo } from '../model.ts';
import { editRepositories, type RepoEdit } from '../edit.ts';
import { repoClient, updateRepoFor } from '../repository.ts';
import { NotInitialisedError } from '../../errors.ts';
import type { TrustEnv } from '../env.ts';
import type { AdminPlan } from './signers.ts';

export interface AdminOutcome {
  repository: string;
  changed: boolean;
  /** Roles published. */
  roles: string[];
  summary: string;
  /** Root and repository rotation: the new key's ID as `docker trust inspect` prints it (the TUF key ID in root.json). */
  rootKeyId?: string;
  repositoryKeyId?: string;
}

export type Planner = (repo: TrustedRepo, client: NotaryRepoClient, now: Date) => AdminPlan | Promise<AdminPlan>;

export function adminClient(env: TrustEnv, ref: ImageRef): NotaryRepoClient {
  return repoClient(env, ref, true);
}

export interface ReadOptions {
  /** Read metadata past its expiry (updater.ts): refresh's plan and status only. */
  allowExpired?: boolean;
}

/** updateRepo, with an uninitialised repository explained for administrators. */
export async function readRepo(env: TrustEnv, client: NotaryRepoClient, now: Date, options: ReadOptions = {}): Promise<TrustedRepo> {
  try {
    const repo = await updateRepoFor(env, client, now, options);
    for (const w of repo.warnings) env.log.warning(w);
    return repo;
  } catch (e) {
    if (e instanceof NotInitialisedError) {
      throw new NotInitialisedError(`${client.gun} has no trust data on the Notary server: initialise it first (mode: init, or \`content-trust init ${client.gun}\`)`, { cause: e });
    }
    throw e;
  }
}

/** `read` is how each plan reads the repository; the read-back after a publish is always the strict one. */
export async function administer(env: TrustEnv, refs: readonly ImageRef[], plan: Planner, read: ReadOptions = {}): Promise<AdminOutcome[]> {
  const unique = [...new Map(refs.map((r) => [r.gun, r])).values()];
  const edits = unique.map((ref): RepoEdit<AdminPlan, AdminOutcome> => {
    const client = adminClient(env, ref);
    return {
      publisher: client,
      async plan() {
        const now = env.now?.() ?? new Date();
        return plan(await readRepo(env, client, now, read), client, now);
      },
      async readBack(done) {
        const { rootKeyId, repositoryKeyId } = done;
        // A rotated root names only its new key: pins of the old one would refuse it, though the
        // remembered old root still checks the chain to it. The read-back pins the new key instead,
        // unless the pins already name it (by either ID, as verifyRootPinned matches them).
        const pins = new Set(env.rootKeys?.map((p) => p.toLowerCase()));
        const rotatedFromPin = rootKeyId !== undefined && pins.size > 0 && !pins.has(rootKeyId) && !(done.rootCanonicalKeyId !== undefined && pins.has(done.rootCanonicalKeyId));
        if (done.files.size > 0) await updateRepoFor(rotatedFromPin ? { ...env, rootKeys: [rootKeyId] } : env, client);
        env.log.info(done.summary);
        if (rotatedFromPin) env.log.warning(`${client.gun}: root-keys pins the root key this rotation replaced: set root-keys to ${rootKeyId} for the runs that follow, or they refuse the repository (ROOT_NOT_PINNED)`);
        return { repository: client.gun, changed: done.files.size > 0, roles: [...done.files.keys()], summary: done.summary, ...(rootKeyId ? { rootKeyId } : {}), ...(repositoryKeyId ? { repositoryKeyId } : {}) };
      },
    };
  });
  return editRepositories(edits, { publishAttempts: env.config.publishAttempts, concurrency: env.config.concurrency, log: env.log });
}
