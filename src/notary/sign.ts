/**
 * The sign workflow: resolve every tag's digest in the registry (while each
 * repository's trust data is read and verified), then the edit pipeline
 * (edit.ts): plan, for each repository, the targets added to every role the
 * key may sign; publish one update per repository; read everything back and
 * check each tag resolves as a DCT pull would. Nothing is published unless
 * every image resolved and every repository planned.
 */
import { fetchManifest, type ManifestInfo } from '../registry/manifest.ts';
import { formatRef, type ImageRef } from '../registry/reference.ts';
import { firstUseNotice, repoClient, toResult, updateRepoFor } from './repository.ts';
import { planSign, type NewTarget, type SignPlan } from './sign-plan.ts';
import { editRepositories, type RepoEdit } from './edit.ts';
import { RELEASES, signerNames } from './model.ts';
import { resolveTag } from './resolve.ts';
import { trustedTarget } from './verify.ts';
import { InputError, PublishError, valuesOrThrow } from '../errors.ts';
import { groupBy, settleLimit, startLimited } from '../util/pool.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import type { ImageResult, TrustEnv } from './env.ts';

interface Resolved {
  ref: ImageRef;
  manifest: ManifestInfo;
}

export async function signImages(env: TrustEnv, refs: readonly ImageRef[], key: SigningKey): Promise<ImageResult[]> {
  const now = env.now?.() ?? new Date();
  // Trust updates need no digests: they run alongside the registry look-ups.
  const guns = [...groupBy(refs, (r) => r.gun)];
  const clients = new Map(guns.map(([gun, list]) => [gun, repoClient(env, list[0]!, true)]));
  const reads = startLimited(guns, env.config.concurrency, ([gun]) => updateRepoFor(env, clients.get(gun)!, now));
  const firstRead = new Map(guns.map(([gun], i) => [gun, reads[i]!]));
  const resolved = await resolveAll(env, refs);

  const edits = [...groupBy(resolved, (r) => r.ref.gun)].map(([gun, items]): RepoEdit<SignPlan & { targets: NewTarget[] }, ImageResult[]> => ({
    publisher: clients.get(gun)!,
    async plan(attempt) {
      // The first plan uses the update started above; a re-plan (after a VERSION conflict) reads afresh.
      const at = attempt === 1 ? now : (env.now?.() ?? new Date());
      const repo = await (attempt === 1 ? firstRead.get(gun)! : updateRepoFor(env, clients.get(gun)!, at));
      const targets = uniqueTargets(items);
      if (attempt === 1) {
        for (const w of repo.warnings) env.log.warning(w);
        const firstUse = firstUseNotice(repo, env.rootKeys);
        if (firstUse) env.log.warning(firstUse);
      }
      return { ...planSign(repo, key, targets, at, env.config.delegationExpiryDays), targets };
    },
    async readBack(plan) {
      env.log.info(`${gun}: published ${plan.targets.length} tag(s) in ${plan.roles.join(', ')}`);
      return verifyPublished(env, items, plan.roles);
    },
  }));
  const byImage = new Map<string, ImageResult>();
  for (const results of await editRepositories(edits, { publishAttempts: env.config.publishAttempts, concurrency: env.config.concurrency, log: env.log })) {
    for (const r of results) byImage.set(r.image, r);
  }
  return resolved.map((r) => byImage.get(r.ref.input)!);
}

/** Each tag's manifest, fetched and hashed: what is signed is what the GET served, never what a header says. */
async function resolveAll(env: TrustEnv, refs: readonly ImageRef[]): Promise<Resolved[]> {
  const outcomes = await settleLimit(refs, env.config.concurrency, async (ref) => {
    const manifest = await fetchManifest(env.client, ref, env.credentialsFor(ref.domain));
    if (ref.pin && ref.pin !== manifest.digest) {
      if (ref.pinnedBy) {
        // The build's record (digest, metadata): the tag was moved between the push and this step.
        throw new InputError(
          'PIN_MISMATCH',
          `image ${formatRef(ref)}: the tag now points at ${manifest.digest} in the registry, not at ${ref.pin}, the digest the build pushed (${ref.pinnedBy}): the tag was moved after the build, so nothing was signed. Build and push again, then sign; if nobody meant to move it, find out who can push to ${ref.gun} before signing anything`,
        );
      }
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
 * Reads the repository back and checks each tag resolves, as a DCT pull
 * would, to what was signed. A signer restricted to tag patterns signs only
 * its own role (no DCT role): there each role signed must list the digest,
 * as verify with `signers` naming it checks.
 */
async function verifyPublished(env: TrustEnv, items: readonly Resolved[], roles: readonly string[]): Promise<ImageResult[]> {
  const repo = await updateRepoFor(env, repoClient(env, items[0]!.ref, false));
  const dct = roles.includes(RELEASES) || roles.includes('targets');
  const signers = signerNames(roles);
  const reader = dct ? 'a DCT pull' : `verify with signers ${signers.join(', ')}`;
  return items.map(({ ref, manifest }) => {
    let hit;
    try {
      hit = dct ? resolveTag(repo, ref.tag) : trustedTarget(repo, ref, signers);
    } catch (e) {
      throw new PublishError('POST_VERIFY_FAILED', `image ${formatRef(ref)} was published, but ${reader} would not accept it: ${(e as Error).message}`, { cause: e });
    }
    if (hit.digest !== manifest.digest) {
      throw new PublishError('POST_VERIFY_FAILED', `image ${formatRef(ref)} was published, but ${reader} resolves the tag to ${hit.digest} (in ${hit.role}), not the signed ${manifest.digest}`);
    }
    return toResult(repo, ref, hit.digest, hit.size);
  });
}
