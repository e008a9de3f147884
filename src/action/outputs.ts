/** Step outputs and the job summary. */
import * as core from '@actions/core';
import type { ImageResult } from '../notary/env.ts';
import type { Mode } from './inputs.ts';

export function setOutputs(results: readonly ImageResult[]): void {
  core.setOutput('digests', results.map((r) => `${r.repository}@${r.digest}`).join('\n'));
  core.setOutput('result', JSON.stringify(results.map(({ image, repository, tag, digest, size, signers, roles, expires }) => ({ image, repository, tag, digest, size, signers, roles, expires }))));
}

export async function writeSummary(mode: Mode, results: readonly ImageResult[], failures: readonly { subject: string; message: string }[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const verb = mode === 'sign' ? 'Signed' : 'Verified';
  const s = core.summary.addHeading(`Content trust: ${mode}`, 3);
  if (results.length > 0) {
    s.addTable([
      [
        { data: 'Image', header: true },
        { data: 'Digest', header: true },
        { data: 'Signers', header: true },
        { data: 'Roles', header: true },
        { data: 'Trust data expires', header: true },
      ],
      ...results.map((r) => [`${r.repository}:${r.tag}`, `<code>${r.digest}</code>`, r.signers.join(', ') || '—', r.roles.join(', '), r.expires.slice(0, 10)]),
    ]);
    s.addRaw(`${verb} ${results.length} image(s).`, true);
  }
  if (failures.length > 0) {
    s.addHeading('Failed', 4);
    s.addList(failures.map((f) => `<b>${escapeHtml(f.subject)}</b>: ${escapeHtml(f.message)}`));
  }
  await s.write();
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
