/**
 * The sign workflow: resolve every tag in the registry, verify each
 * repository's trust data, add the targets to every role the key may sign,
 * publish one update per repository, then read everything back and check
 * each tag resolves as a DCT pull would. Nothing is published unless every
 * image and repository got through the first two steps.
 */
import { fetchManifest, type ManifestInfo } from '../registry/manifest.ts';
import { formatRef, type ImageRef } from '../registry/reference.ts';
import type { NotaryRepoClient } from './server.ts';
import { firstUseNotice, repoClient, toResult, updateRepoFor } from './repository.ts';
import { planSign, type NewTarget } from './sign-plan.ts';
import { resolveTag } from './resolve.ts';
import { InputError, PublishError, TrustError, valuesOrThrow } from '../errors.ts';
import { groupBy, settleLimit } from '../util/pool.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import type { ImageResult, TrustEnv } from './env.ts';

// Kept here for callers that import them with signImages.
export { repoClient, updateRepoFor } from './repository.ts';

interface Resolved {
  ref: ImageRef;
  manifest: ManifestInfo;
}

export async function signImages(env: TrustEnv, refs: readonly ImageRef[], key: SigningKey): Promise<ImageResult[]> {
  const now = env.now?.() ?? new Date();
  // Trust updates need no digests: they run alongside the registry look-ups.
  const guns = [...groupBy(refs, (r) => r.gun)];
  const updating = settleLimit(guns, env.config.concurrency, async ([, list]) => {
    const client = repoClient(env, list[0]!, true);
    return { client, repo: await updateRepoFor(env, client, now) };
  });
  const resolved = await resolveAll(env, refs);
  const byGun = groupBy(resolved, (r) => r.ref.gun);
  const updated = new Map((await updating).map((u, i) => [guns[i]![0], u]));

  // Plan every repository before publishing any.
  const planned = await settleLimit([...byGun], env.config.concurrency, async ([gun, items]) => {
    const u = updated.get(gun)!;
    if (!u.ok) throw u.error;
    const { client, repo } = u.value;
    const targets = uniqueTargets(items);
    for (const w of repo.warnings) env.log.warning(w);
    const firstUse = firstUseNotice(repo, env.rootKeys);
    if (firstUse) env.log.warning(firstUse);
    return { gun, client, targets, plan: planSign(repo, key, targets, now, env.config.delegationExpiryDays) };
  });
  const gunNames = [...byGun.keys()];
  const plans = valuesOrThrow(planned, (i) => gunNames[i]!);

  const published = await settleLimit(plans, env.config.concurrency, async (p) => {
    const { roles } = await publishWithRetry(env, p.client, p.plan, async () => {
      const now = env.now?.() ?? new Date();
      return planSign(await updateRepoFor(env, p.client, now), key, p.targets, now, env.config.delegationExpiryDays);
    });
    env.log.info(`${p.gun}: published ${p.targets.length} tag(s) in ${roles.join(', ')}`);
    return verifyPublished(env, byGun.get(p.gun)!);
  });
  const byImage = new Map<string, ImageResult>();
  for (const results of valuesOrThrow(published, (i) => plans[i]!.gun)) for (const r of results) byImage.set(r.image, r);
  return resolved.map((r) => byImage.get(r.ref.input)!);
}

/** Each tag's manifest, fetched and hashed: what is signed is what the GET served, never what a header says. */
async function resolveAll(env: TrustEnv, refs: readonly ImageRef[]): Promise<Resolved[]> {
  const outcomes = await settleLimit(refs, env.config.concurrency, async (ref) => {
    const manifest = await fetchManifest(env.client, ref, env.credentialsFor(ref.domain));
    if (ref.pin && ref.pin !== manifest.digest) {
      throw new InputError('PIN_MISMATCH', `image ${formatRef(ref)}: the registry serves ${manifest.digest}, but the input pins ${ref.pin}; the tag moved since it was built, sign the digest you mean`);
    }
    env.log.debug(`${formatRef(ref)} → ${manifest.digest} (${manifest.size} bytes, ${manifest.mediaType})`);
    return { ref, manifest };
  });
  return valuesOrThrow(outcomes, (i) => refs[i]!.input);
}

function uniqueTargets(items: readonly Resolved[]): NewTarget[] {
  const byTag = new Map<string, NewTarget>();
  for (const { ref, manifest } of items) {
    const prev = byTag.get(ref.tag);
    if (prev && prev.digest !== manifest.digest) {
      throw new InputError('INPUT_INVALID', `${ref.gun}:${ref.tag} is given twice with different digests (${prev.digest}, ${manifest.digest})`);
    }
    byTag.set(ref.tag, { tag: ref.tag, digest: manifest.digest, size: manifest.size });
  }
  return [...byTag.values()];
}

/**
 * Publishes a plan (one with no files publishes nothing). On a VERSION
 * conflict someone published first: wait a little, `replan` from a fresh
 * read, retry, at most publishAttempts times. Returns the plan published.
 */
export async function publishWithRetry<P extends { files: ReadonlyMap<string, Buffer> }>(env: TrustEnv, client: NotaryRepoClient, first: P, replan: () => Promise<P>): Promise<P> {
  let plan = first;
  for (let attempt = 1; plan.files.size > 0; attempt++) {
    try {
      await client.publish(plan.files);
      break;
    } catch (e) {
      if (!(e instanceof PublishError && e.code === 'VERSION_CONFLICT') || attempt >= env.config.publishAttempts) throw e;
      env.log.info(`${client.gun}: ${e.message}; re-reading and retrying (${attempt}/${env.config.publishAttempts - 1})`);
      await new Promise((r) => setTimeout(r, 100 * attempt * Math.random()));
      plan = await replan();
    }
  }
  return plan;
}

/** Reads the repository back and checks each tag resolves, as a DCT pull would, to what was signed. */
async function verifyPublished(env: TrustEnv, items: readonly Resolved[]): Promise<ImageResult[]> {
  const repo = await updateRepoFor(env, repoClient(env, items[0]!.ref, false));
  return items.map(({ ref, manifest }) => {
    let hit;
    try {
      hit = resolveTag(repo, ref.tag);
    } catch (e) {
      throw new TrustError('POST_VERIFY_FAILED', `image ${formatRef(ref)} was published, but a DCT pull would not accept it: ${(e as Error).message}`, { cause: e });
    }
    if (hit.digest !== manifest.digest) {
      throw new TrustError('POST_VERIFY_FAILED', `image ${formatRef(ref)} was published, but a DCT pull resolves the tag to ${hit.digest} (in ${hit.role}), not the signed ${manifest.digest}`);
    }
    return toResult(repo, ref, hit.digest, hit.size);
  });
}
