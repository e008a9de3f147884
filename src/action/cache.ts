/**
 * `cache: true`: the remembered trust metadata of the repositories a run
 * touches is restored from and saved to the Actions cache, so hosted runners
 * (which start empty) keep refusing rollbacks and improper root rotations
 * between runs. Only `tuf/<GUN>/metadata` directories are cached, never the
 * trust directory's `private/` keys. Without the cache service (outside
 * GitHub, or the service is down) this warns and the run goes on.
 * @actions/cache is imported only when the service is there.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { messageOf } from '../errors.ts';
import { metadataDir } from '../notary/trust-store.ts';
import * as report from './report.ts';

export interface TrustCache {
  /** Saves the directories under this run's key; warns on failure. */
  save(): Promise<void>;
}

type CacheModule = typeof import('@actions/cache');

/** Key prefix per set of repositories; the run ID and attempt make each save unique. */
export function cacheKeys(guns: readonly string[], env: NodeJS.ProcessEnv): { key: string; prefix: string } {
  const set = [...new Set(guns)].sort().join('\n');
  const prefix = `content-trust-tuf-${createHash('sha256').update(set).digest('hex').slice(0, 20)}-`;
  return { prefix, key: `${prefix}${env.GITHUB_RUN_ID ?? 'local'}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` };
}

export function cacheServiceAvailable(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.ACTIONS_RUNTIME_TOKEN && (env.ACTIONS_CACHE_URL || env.ACTIONS_RESULTS_URL));
}

export async function restoreTrustCache(trustDir: string, guns: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<TrustCache | undefined> {
  const paths = [...new Set(guns)].map((g) => metadataDir(trustDir, g));
  if (!cacheServiceAvailable(env)) {
    report.warning(`cache: the GitHub Actions cache service is not available (not on a GitHub runner, or no ACTIONS_RUNTIME_TOKEN), so trust data is remembered only in ${trustDir} on this machine; set cache: false to silence this`);
    return undefined;
  }
  const { key, prefix } = cacheKeys(guns, env);
  let cache: CacheModule;
  try {
    cache = await import('@actions/cache');
  } catch (e) {
    report.warning(`cache: cannot load the cache client (${messageOf(e)}); trust data is remembered only in ${trustDir}`);
    return undefined;
  }
  let hit: string | undefined;
  // What is already on disk is at least as new as any cached copy: restore only what is missing.
  if (paths.some((p) => !existsSync(join(p, 'root.json')))) {
    try {
      hit = await cache.restoreCache(paths, key, [prefix]);
      report.info(hit ? `cache: restored remembered trust data (${hit})` : 'cache: no remembered trust data yet for these repositories; trusting on first use');
    } catch (e) {
      report.warning(`cache: restoring remembered trust data failed (${messageOf(e)}); the run goes on, trusting the server's data on first use`);
    }
  }
  return {
    async save() {
      if (hit === key) return;
      const present = paths.filter((p) => existsSync(join(p, 'root.json')));
      if (present.length === 0) return;
      try {
        // The same path list as the restore: the cache version is derived from it.
        await cache.saveCache(paths, key);
        report.info(`cache: saved remembered trust data for ${present.length} repositor${present.length === 1 ? 'y' : 'ies'} (${key})`);
      } catch (e) {
        report.warning(`cache: saving remembered trust data failed (${messageOf(e)}); the next run on a fresh runner trusts on first use`);
      }
    },
  };
}
