/**
 * The `manifests` and `pin` inputs: the deployment files' images added to
 * verify's (once each), the places they are named kept for the report
 * (annotations at the file and line) and the result output (`sources`), and
 * after a verify in which everything passed, the files pinned and listed in
 * the `pinned-files` output. The work is src/deploy's; this is the action's
 * wording and its log lines.
 */
import * as core from '@actions/core';
import { InputError, type ContentTrustError, type Place } from '../errors.ts';
import type { ImageResult } from '../notary/env.ts';
import { collectImages, locateFailures, planPins, readDeployFiles, withSources, writePins, type PatternLabel, type ReadDeployFile } from '../deploy/manifests.ts';
import { kindLabel } from '../deploy/images.ts';
import type { Inputs } from './inputs.ts';
import * as report from './report.ts';

const LABEL: PatternLabel = {
  name: 'input manifests',
  fix: 'give paths or globs (k8s/**/*.yaml) of Kubernetes manifests, Compose files or workflow files, relative to the repository root, and run actions/checkout (and any helm template or kustomize build step) before this step',
};

export interface Manifests {
  /** Every image to verify: the images input's and dockerfile's, then the files' not among them. */
  images: string[];
  places: Map<string, Place[]>;
  files: ReadDeployFile[];
  pin: boolean;
}

/** Reads the files `manifests` names (undefined when it names none). */
export async function readManifests(inputs: Inputs, workspace: string): Promise<Manifests | undefined> {
  if (inputs.manifests.length === 0) return undefined;
  const files = await readDeployFiles(inputs.manifests, workspace, LABEL);
  // File contents are outside text: these lines go through the neutralising sink.
  for (const f of files) {
    report.info(`${f.path} (${kindLabel(f.kind)}): images ${f.images.map((i) => `${i.image} (line ${i.line})`).join(', ') || '(none to check)'}`);
    for (const d of f.digestOnly) report.info(`${f.path} line ${d.line}: ${d.image} is pinned by digest only; content trust has no tag to check there`);
    for (const s of f.skipped) report.info(`${f.path}${s.line === undefined ? '' : ` line ${s.line}`}: ${s.what} is not checked: ${s.why}`);
  }
  const { added, places } = collectImages(files, inputs.images);
  const images = [...inputs.images, ...added];
  if (images.length === 0) throw new InputError('INPUT_INVALID', 'input manifests: the files it names hold no image with a tag to verify, and images, images-file and dockerfile give none: check the patterns, or list images');
  return { images, places, files, pin: inputs.pin };
}

/** A verify failure told where each failed image is named. */
export function locate(manifests: Manifests, error: ContentTrustError): ContentTrustError {
  return locateFailures(error, manifests.places);
}

/** After a verify that passed: the results with their sources; with pin, the files rewritten and the pinned-files output. */
export function finishManifests(manifests: Manifests, results: readonly ImageResult[]): ImageResult[] {
  const sourced = withSources(results, manifests.places);
  if (!manifests.pin) return sourced;
  const { plans, unverified } = planPins(manifests.files, results);
  for (const u of unverified) report.warning(`${u.what} (${u.image}): not verified (no policy entry matches it and the policy's default is allow-unsigned), so pin leaves it as it is`);
  const written = writePins(plans, LABEL);
  for (const p of plans) report.info(`${p.file.path}: pinned ${p.pinned.map((x) => `line ${x.found.line}: ${x.value}`).join('; ')}`);
  if (plans.length === 0) report.info('pin: every verified image is pinned to its trusted digest already; no file changed');
  core.setOutput('pinned-files', written.join('\n'));
  return sourced;
}
