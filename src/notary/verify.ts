/**
 * The verify workflow: one trusted update per repository, each tag resolved
 * as a DCT pull resolves it (or, with `signers`, as every named signer
 * signed it), a pinned digest honoured, and the registry's current manifest
 * compared with the signed digest.
 */
import { currentDigest } from '../registry/manifest.ts';
import { formatRef, type ImageRef } from '../registry/reference.ts';
import { firstUseNotice, repoClient, toResult, updateRepoFor } from './repository.ts';
import { pathsText, type TrustedRepo } from './model.ts';
import { resolveTag, targetIn, type TargetHit } from './resolve.ts';
import { ExpiredError, InputError, RegistryError, TrustError, valuesOrThrow } from '../errors.ts';
import { groupBy, startLimited, type Outcome } from '../util/pool.ts';
import { own } from '../util/maps.ts';
import type { ImageResult, TrustEnv } from './env.ts';

export interface VerifyOptions {
  /** Signer names that must each have signed every tag (role targets/<name>). */
  signers: readonly string[];
  /** Also compare with the registry's current digest for the tag. */
  checkRegistry: boolean;
}

export async function verifyImages(env: TrustEnv, refs: readonly ImageRef[], options: VerifyOptions): Promise<ImageResult[]> {
  const now = env.now?.() ?? new Date();
  const guns = [...groupBy(refs, (r) => r.gun)];
  const repos = new Map<string, Promise<TrustedRepo>>();
  for (const [gun, list] of guns) {
    const p = updateRepoFor(env, repoClient(env, list[0]!, false), now);
    p.then(
      (repo) => {
        for (const w of repo.warnings) env.log.warning(w);
        // A log line, not an annotation: see docs/security.md, trust on first use.
        const firstUse = firstUseNotice(repo, env.rootKeys);
        if (firstUse) env.log.info(firstUse);
      },
      () => {},
    );
    repos.set(gun, p);
  }
  // Registry look-ups start now, bounded, alongside the trust updates (not queued behind them).
  // A HEAD each (currentDigest): the signed digest is what is trusted, the registry's only compared with it.
  const lookups = options.checkRegistry ? startLimited(refs, env.config.concurrency, (ref) => currentDigest(env.client, ref, env.credentialsFor(ref.domain))) : undefined;
  // One loop in input order, not a promise per tag: every look-up is already
  // in flight, so awaiting them in turn costs no time, and the log lines come
  // out in input order.
  const outcomes: Outcome<ImageResult>[] = [];
  for (let i = 0; i < refs.length; i++) {
    const ref = refs[i]!;
    try {
      // Report a trust failure before a registry one.
      const repo = await repos.get(ref.gun)!;
      const hit = trustedTarget(repo, ref, options.signers);
      if (ref.pin && ref.pin !== hit.digest) {
        throw new InputError('PIN_MISMATCH', `image ${formatRef(ref)}: signed as ${hit.digest}, but the input pins ${ref.pin}`);
      }
      const current = lookups ? await lookups[i]! : undefined;
      if (current !== undefined && current !== hit.digest) {
        throw new RegistryError('DIGEST_MISMATCH', `image ${formatRef(ref)}: the registry now serves ${current}, but the signed digest is ${hit.digest}; the tag moved after signing. Re-sign the tag, or pull ${ref.gun}@${hit.digest}`);
      }
      const result = toResult(repo, ref, hit.digest, hit.size);
      env.log.info(`${formatRef(ref)}: trusted ${hit.digest} (${result.roles.join(', ')})`);
      outcomes.push({ ok: true, value: result });
    } catch (error) {
      outcomes.push({ ok: false, error });
    }
  }
  return valuesOrThrow(outcomes, (i) => refs[i]!.input);
}

/** The digest the tag is trusted as: DCT's answer, and every named signer must agree with it. */
export function trustedTarget(repo: TrustedRepo, ref: ImageRef, signers: readonly string[]): TargetHit {
  if (signers.length === 0) return resolveTag(repo, ref.tag);
  let agreed: TargetHit | undefined;
  for (const name of signers) {
    const role = `targets/${name}`;
    const hit = targetIn(repo, role, ref.tag);
    if (!hit) {
      const skipped = repo.skipped.get(role)?.error;
      if (skipped instanceof ExpiredError) throw new ExpiredError(`image ${formatRef(ref)}: signer "${name}"'s signatures are not trusted: ${skipped.message}`, { cause: skipped });
      const trusted = repo.roles.get(role);
      const why =
        repo.skipped.get(role)?.error.message ??
        (trusted && own(trusted.meta.signed.targets, ref.tag) ? `${role} lists it, but its delegation allows only ${pathsText(trusted.paths)}, so the entry is ignored, as notary and docker ignore it` : undefined) ??
        (trusted ? 'it has not signed this tag' : repo.roles.get('targets')!.meta.signed.delegations.roles.some((r) => r.name === role) ? 'it has signed nothing yet' : 'no such signer in this repository');
      throw new TrustError('SIGNER_MISSING', `image ${formatRef(ref)}: signer "${name}" did not sign it (${why})`);
    }
    if (agreed && agreed.digest !== hit.digest) {
      throw new TrustError('SIGNER_MISSING', `image ${formatRef(ref)}: signers disagree: ${agreed.role} signed ${agreed.digest}, ${role} signed ${hit.digest}`);
    }
    agreed = hit;
  }
  let dct: TargetHit | undefined;
  try {
    dct = resolveTag(repo, ref.tag);
  } catch {
    dct = undefined;
  }
  if (dct && dct.digest !== agreed!.digest) {
    throw new TrustError('SIGNER_MISSING', `image ${formatRef(ref)}: a DCT pull resolves it to ${dct.digest} (${dct.role}), but the named signers signed ${agreed!.digest}`);
  }
  return agreed!;
}
