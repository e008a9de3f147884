/**
 * Verify under a policy: each image gets the first entry matching its
 * repository; images are verified in groups that share an entry (its signers
 * on top of the `signers` input, its root keys instead of the `root-keys`
 * input), then each result must keep the entry's minimum validity. Reports
 * which entry applied to each image.
 */
import { verifyImages, type VerifyOptions } from '../notary/verify.ts';
import { formatRef, type ImageRef } from '../registry/reference.ts';
import { MultiError, TrustError, asContentTrustError, type Failure } from '../errors.ts';
import type { ImageResult, TrustEnv } from '../notary/env.ts';
import { matchEntry, type Policy, type PolicyEntry } from './policy.ts';

const DEFAULT_ENTRY_NAME = '(policy default: verify)';

/** Images no entry matches are left out under default allow-unsigned (with a warning). */
export async function verifyWithPolicy(env: TrustEnv, refs: readonly ImageRef[], policy: Policy, options: VerifyOptions): Promise<ImageResult[]> {
  const now = env.now?.() ?? new Date();
  const failures: { index: number; failure: Failure }[] = [];
  const groups = new Map<PolicyEntry | undefined, { ref: ImageRef; index: number }[]>();
  refs.forEach((ref, index) => {
    const entry = matchEntry(policy, ref.gun);
    if (!entry && policy.default === 'deny') {
      const error = new TrustError('POLICY_NO_MATCH', `image ${formatRef(ref)}: no entry of policy ${policy.source} matches repository ${ref.gun}, and its default is deny: add an entry whose match covers it, or set default: verify`);
      failures.push({ index, failure: { subject: ref.input, error } });
      return;
    }
    if (!entry && policy.default === 'allow-unsigned') {
      env.log.warning(`image ${formatRef(ref)}: not verified: no entry of policy ${policy.source} matches it and its default is allow-unsigned`);
      return;
    }
    const list = groups.get(entry) ?? [];
    list.push({ ref, index });
    groups.set(entry, list);
  });

  const results: { index: number; result: ImageResult }[] = [];
  await Promise.all(
    [...groups].map(async ([entry, items]) => {
      const groupEnv: TrustEnv = entry?.rootKeys.length ? { ...env, rootKeys: entry.rootKeys } : env;
      const signers = [...new Set([...options.signers, ...(entry?.signers ?? [])])];
      const name = entry?.name ?? DEFAULT_ENTRY_NAME;
      for (const { ref } of items) env.log.info(`${formatRef(ref)}: policy entry "${name}"`);
      let verified: ImageResult[];
      try {
        verified = await verifyImages(
          groupEnv,
          items.map((i) => i.ref),
          { ...options, signers },
        );
      } catch (e) {
        const err = asContentTrustError(e);
        // Each failure says which entry was in force (front ends show it after the message; the error is left as thrown).
        const list: Failure[] = err instanceof MultiError ? err.failures : [{ subject: items[0]!.ref.input, error: err }];
        for (const f of list) {
          const at = items.find((i) => i.ref.input === f.subject)?.index ?? items[0]!.index;
          failures.push({ index: at, failure: { ...f, policyEntry: name } });
        }
        return;
      }
      verified.forEach((result, k) => {
        const { ref, index } = items[k]!;
        const left = Date.parse(result.expires) - now.getTime();
        if (entry && left < entry.minValidityMs) {
          const days = Math.floor(left / 86_400_000);
          const error = new TrustError(
            'POLICY_VALIDITY',
            `image ${formatRef(ref)}: policy entry "${name}" requires ${entry.minValidity} of validity left, but its trust data expires ${result.expires} (in ${days} days): re-sign the tag or refresh the expiring metadata`,
          );
          failures.push({ index, failure: { subject: ref.input, error } });
          return;
        }
        results.push({ index, result: { ...result, policy: name } });
      });
    }),
  );
  if (failures.length > 0) throw new MultiError(failures.sort((a, b) => a.index - b.index).map((f) => f.failure));
  return results.sort((a, b) => a.index - b.index).map((r) => r.result);
}
