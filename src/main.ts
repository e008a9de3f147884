/** The action: inputs → the mode's operation → outputs, summary, failure. */
import { getInputs, type Mode } from './action/inputs.ts';
import { inputKeys } from './action/input-keys.ts';
import { createEnv } from './action/environment.ts';
import { inputCredentials, resolveCredentials } from './action/credentials.ts';
import { writeResults, writeSummary } from './action/outputs.ts';
import { parseReferences } from './registry/reference.ts';
import { pinBuilt } from './registry/build-metadata.ts';
import { loadPolicy } from './policy/load.ts';
import { perform } from './operations.ts';
import { asContentTrustError } from './errors.ts';
import { reportFailure } from './action/report.ts';
import { restoreTrustCache, type TrustCache } from './action/cache.ts';
import { finishManifests, locate, readManifests } from './action/manifests.ts';

export async function run(): Promise<void> {
  let mode: Mode = 'verify';
  let trustCache: TrustCache | undefined;
  try {
    const given = getInputs();
    mode = given.mode;
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const manifests = await readManifests(given, workspace);
    const inputs = manifests ? { ...given, images: manifests.images } : given;
    // Everything that can be checked without the network is checked first.
    const refs = inputs.built ? pinBuilt(parseReferences(inputs.images), inputs.built) : parseReferences(inputs.images);
    const keys = inputKeys(inputs, refs);
    const request = inputs.mode === 'verify' && inputs.policy ? { mode: inputs.mode, options: { ...inputs.options, policy: await loadPolicy(inputs.policy, workspace, 'input policy') } } : inputs;
    if (inputs.cache)
      trustCache = await restoreTrustCache(
        inputs.trustDir,
        refs.map((r) => r.gun),
      );
    const explicit = inputCredentials(inputs, refs);
    const env = createEnv(
      inputs,
      await resolveCredentials(
        refs.map((r) => r.domain),
        { explicit },
      ),
    );
    if (request.mode === 'verify') {
      // The manifests input is verify's: its files' images are told where they are named, on failure and in the results.
      const results = await perform('verify', env, refs, request.options, keys).catch((e: unknown) => {
        throw manifests ? locate(manifests, asContentTrustError(e)) : e;
      });
      await writeResults('verify', manifests ? finishManifests(manifests, results) : results);
    } else await writeResults(request.mode, await perform(request.mode, env, refs, request.options, keys));
  } catch (e) {
    const failures = reportFailure(asContentTrustError(e), mode);
    await writeSummary(mode, [], failures).catch(() => {});
  } finally {
    await trustCache?.save();
  }
}
