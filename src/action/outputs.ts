/** Step outputs and the job summary. */
import * as core from '@actions/core';
import type { ImageResult } from '../notary/env.ts';
import type { Mode } from './inputs.ts';

export function setOutputs(results: readonly ImageResult[]): void {
  core.setOutput('digests', results.map((r) => `${r.repository}@${r.digest}`).join('\n'));
  core.setOutput('pinned-refs', results.map((r) => `${r.repository}:${r.tag}@${r.digest}`).join('\n'));
  core.setOutput('result', JSON.stringify(results.map(({ image, repository, tag, digest, size, signers, roles, expires, policy }) => ({ image, repository, tag, digest, size, signers, roles, expires, ...(policy ? { policy } : {}) }))));
}

export async function writeSummary(mode: Mode, results: readonly ImageResult[], failures: readonly { subject: string; message: string }[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const verb = mode === 'sign' ? 'Signed' : 'Verified';
  const s = core.summary.addHeading(`Content trust: ${mode}`, 3);
  const withPolicy = results.some((r) => r.policy);
  if (results.length > 0) {
    s.addTable([
      [
        { data: 'Image', header: true },
        { data: 'Digest', header: true },
        { data: 'Signers', header: true },
        { data: 'Roles', header: true },
        { data: 'Trust data expires', header: true },
        ...(withPolicy ? [{ data: 'Policy entry', header: true }] : []),
      ],
      ...results.map((r) => [
        escapeHtml(`${r.repository}:${r.tag}`),
        `<code>${r.digest}</code>`,
        escapeHtml(r.signers.join(', ')) || '—',
        escapeHtml(r.roles.join(', ')),
        `${r.expires.slice(0, 10)} (${daysLeft(r.expires)})`,
        ...(withPolicy ? [escapeHtml(r.policy ?? '—')] : []),
      ]),
    ]);
    s.addRaw(`${verb} ${results.length} image(s).`, true);
  }
  if (failures.length > 0) {
    s.addHeading('Failed', 4);
    s.addList(failures.map((f) => `<b>${escapeHtml(f.subject)}</b>: ${escapeHtml(f.message)}`));
  }
  await s.write();
}

function daysLeft(iso: string): string {
  const days = Math.floor((Date.parse(iso) - Date.now()) / 86_400_000);
  return days < 0 ? 'expired' : `${days} days left`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
