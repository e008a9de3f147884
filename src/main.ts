/** The action: inputs → sign or verify → outputs, summary, failure. */
import { getInputs, isAdminMode, keyInput, type Mode } from './action/inputs.ts';
import { runAdmin } from './action/admin.ts';
import { createEnv } from './action/environment.ts';
import { inputCredentials, resolveCredentials } from './action/credentials.ts';
import { setOutputs, writeSummary } from './action/outputs.ts';
import { parseReferences } from './registry/reference.ts';
import { signImages } from './notary/sign.ts';
import { verifyImages } from './notary/verify.ts';
import { verifyWithPolicy } from './policy/apply.ts';
import { loadPolicy } from './policy/load.ts';
import { asContentTrustError } from './errors.ts';
import { reportFailure } from './action/report.ts';
import { restoreTrustCache, type TrustCache } from './action/cache.ts';

export async function run(): Promise<void> {
  let mode: Mode = 'verify';
  let trustCache: TrustCache | undefined;
  try {
    const inputs = getInputs();
    mode = inputs.mode;
    // Everything that can be checked without the network is checked first.
    const refs = parseReferences(inputs.images);
    const key = inputs.mode === 'sign' ? keyInput(inputs.keys, 'delegation')!.signing : undefined;
    const policy = inputs.mode === 'verify' && inputs.policy ? await loadPolicy(inputs.policy, process.env.GITHUB_WORKSPACE || process.cwd(), 'input policy') : undefined;
    if (inputs.cache) trustCache = await restoreTrustCache(inputs.trustDir, refs.map((r) => r.gun));
    const explicit = inputCredentials(inputs, refs);
    const env = createEnv(inputs, await resolveCredentials(refs.map((r) => r.domain), { explicit }));
    if (isAdminMode(inputs.mode)) {
      await runAdmin(inputs.mode, inputs.keys, refs, env);
      return;
    }
    const verifyOptions = { signers: inputs.signers, checkRegistry: true };
    const results = key
      ? await signImages(env, refs, key)
      : policy
        ? await verifyWithPolicy(env, refs, policy, verifyOptions)
        : await verifyImages(env, refs, verifyOptions);
    setOutputs(results);
    await writeSummary(mode, results, []);
  } catch (e) {
    const failures = reportFailure(asContentTrustError(e), mode);
    await writeSummary(mode, [], failures).catch(() => {});
  } finally {
    await trustCache?.save();
  }
}
