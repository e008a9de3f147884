/**
 * The one way a repository changes (sign, add or remove a signer, revoke,
 * refresh, rotate, init): plan every repository first and publish only once
 * all are planned, so one bad repository publishes nothing anywhere; each
 * repository's files go in one atomic POST; a VERSION conflict (someone
 * published first) re-reads and re-plans; then the repository is read back
 * and checked.
 */
import { VersionConflictError, valuesOrThrow } from '../errors.ts';
import { settleLimit } from '../util/pool.ts';
import { loadSigner } from '../tuf/ecdsa.ts';
import type { Logger } from './env.ts';

/** Where an edit is published: one repository's atomic publish (NotaryRepoClient). */
export interface Publisher {
  readonly gun: string;
  publish(files: ReadonlyMap<string, Buffer>): Promise<void>;
  /** The server's current file for a role (undefined: none); read after a VERSION conflict, to tell our own applied publish from another's. */
  current?(role: string, maxBytes: number): Promise<Buffer | undefined>;
}

/** A planned change: the signed files to publish, by role (none: nothing to change). */
export interface EditPlan {
  readonly files: ReadonlyMap<string, Buffer>;
}

export interface RepoEdit<P extends EditPlan, R> {
  readonly publisher: Publisher;
  /** Reads the repository and plans the change: attempt 1 first, then one more after each VERSION conflict. */
  plan(attempt: number): Promise<P>;
  /** Once the plan that got through is published (or had nothing to publish): reads the repository back, checks it, and says what was done. */
  readBack(plan: P): Promise<R>;
}

interface EditOptions {
  /** Publishes tried per repository; each VERSION conflict costs one. */
  publishAttempts: number;
  /** Repositories planned, or published, at once. */
  concurrency: number;
  log: Pick<Logger, 'info'>;
}

/**
 * Every edit planned, then (only when every plan succeeded) each published
 * and read back. Fails with one MultiError naming every repository that
 * failed, planning or publishing; results keep the edits' order.
 */
export async function editRepositories<P extends EditPlan, R>(edits: readonly RepoEdit<P, R>[], options: EditOptions): Promise<R[]> {
  // Plans sign: the ECDSA signer (loaded on demand, once) must be there, whoever calls.
  await loadSigner();
  const gun = (i: number) => edits[i]!.publisher.gun;
  const plans = valuesOrThrow(await settleLimit(edits, options.concurrency, (edit) => edit.plan(1)), gun);
  const planned = edits.map((edit, i) => ({ edit, plan: plans[i]! }));
  const done = await settleLimit(planned, options.concurrency, ({ edit, plan }) => publishAndReadBack(edit, plan, options));
  return valuesOrThrow(done, gun);
}

/** One repository through the same steps; its failure is thrown as it is. */
export async function editRepository<P extends EditPlan, R>(edit: RepoEdit<P, R>, options: Omit<EditOptions, 'concurrency'>): Promise<R> {
  await loadSigner();
  return publishAndReadBack(edit, await edit.plan(1), options);
}

async function publishAndReadBack<P extends EditPlan, R>(edit: RepoEdit<P, R>, first: P, options: Omit<EditOptions, 'concurrency'>): Promise<R> {
  return edit.readBack(await publishWithRetry(edit, first, options));
}

/**
 * Publishes a plan (one with no files publishes nothing). On a VERSION
 * conflict someone published first: wait a little, re-read and re-plan,
 * retry, at most publishAttempts publishes in all. Returns the plan published.
 */
async function publishWithRetry<P extends EditPlan, R>(edit: RepoEdit<P, R>, first: P, options: Omit<EditOptions, 'concurrency'>): Promise<P> {
  const { publisher } = edit;
  let plan = first;
  for (let attempt = 1; plan.files.size > 0; attempt++) {
    try {
      await publisher.publish(plan.files);
      break;
    } catch (e) {
      if (!(e instanceof VersionConflictError)) throw e;
      // A publish the server applied but whose answer was lost (a 503 or a
      // reset after applying) is retried by the HTTP client and refused as
      // an old version: the server already holds exactly what was sent, so
      // it is published, and must not be re-planned and published again.
      if (await holdsExactly(publisher, plan.files)) {
        options.log.info(`${publisher.gun}: ${e.message}, but the server already holds exactly the files sent (a publish applied whose answer was lost): not publishing again`);
        break;
      }
      if (attempt >= options.publishAttempts) throw e;
      options.log.info(`${publisher.gun}: ${e.message}; re-reading and retrying (${attempt}/${options.publishAttempts - 1})`);
      // A random pause, so that publishers racing for the same repository do not collide again in step.
      await new Promise((r) => setTimeout(r, 100 * attempt * Math.random()));
      plan = await edit.plan(attempt + 1);
    }
  }
  return plan;
}

/** Whether the server's current file for every role in `files` is byte for byte the one given (a failed read: no). */
async function holdsExactly(publisher: Publisher, files: ReadonlyMap<string, Buffer>): Promise<boolean> {
  if (!publisher.current) return false;
  try {
    for (const [role, body] of files) {
      const current = await publisher.current(role, body.length);
      if (!current?.equals(body)) return false;
    }
    return true;
  } catch {
    return false;
  }
}
