/** Step outputs and the job summary. */
import * as core from '@actions/core';
import type { ImageResult } from '../notary/env.ts';
import type { AdminOutcome } from '../notary/admin/workflow.ts';
import type { Mode, ResultOf } from '../operations.ts';
import { InternalError } from '../errors.ts';
import { forSummary } from '../util/untrusted-text.ts';
import { expiryFailure, statusJson, type RepositoryStatus } from '../notary/admin/status.ts';
import { advise } from '../advice.ts';

/**
 * Bytes this step writes to its summary. GitHub refuses a step summary over
 * 1 MiB ("supports content up to a size of 1024k") and then shows none of
 * it; half that leaves room for the notes and for multi-byte characters.
 */
export const SUMMARY_BUDGET = 512 * 1024;

// A line of the digests and pinned-refs outputs: a parsed reference (no white
// space, nothing a consumer could split on) and a sha256 digest.
const OUTPUT_LINE = /^[A-Za-z0-9._\-/:[\]]+@sha256:[0-9a-f]{64}$/;

/** Repositories whose root key IDs the status summary lists (the status output lists every one). */
const ROOT_KEY_LINES = 50;

/** Whether this run's summary already has its heading (a failure after results adds only its list). */
let headed = false;

/** A mode's results as outputs and the job summary. */
export async function writeResults(mode: Mode, results: ResultOf[Mode]): Promise<void> {
  if (mode === 'status') {
    const statuses = results as RepositoryStatus[];
    // Every repository, read or not; fixes and errors in the action's words.
    core.setOutput('status', JSON.stringify(statusJson(statuses, (t) => advise(t, 'action'))));
    await writeStatusSummary(statuses);
    // The report is out (output and summary) before the watch fails the step.
    const due = expiryFailure(statuses);
    if (due) throw due;
    return;
  }
  if (mode === 'sign' || mode === 'verify') {
    setOutputs(results as ImageResult[]);
    await writeSummary(mode, results as ImageResult[], []);
    return;
  }
  await writeAdminResults(mode, results as AdminOutcome[]);
}

/**
 * The administrative modes: every outcome in the result output, their
 * summaries in the job summary; the key IDs init gives and root or
 * repository rotation makes (as docker trust inspect prints them) in the
 * root-key-id and repository-key-id outputs.
 */
async function writeAdminResults(mode: Mode, outcomes: readonly AdminOutcome[]): Promise<void> {
  for (const o of outcomes) {
    if (o.rootKeyId) core.setOutput('root-key-id', o.rootKeyId);
    if (o.repositoryKeyId) core.setOutput('repository-key-id', o.repositoryKeyId);
  }
  core.setOutput('result', JSON.stringify(outcomes));
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  // Summaries name repositories, signers and roles: outside text, made inert and kept under the budget.
  const { shown, hidden } = fitToBudget(
    outcomes.map((o) => forSummary(o.summary)),
    SUMMARY_BUDGET,
    9,
  );
  const s = core.summary.addHeading(`Content trust: ${mode}`, 3).addList(shown);
  if (hidden > 0) s.addRaw(`${hidden} more repositories are not listed here: the result output and the log list every one.`, true);
  await s.write();
}

export function setOutputs(results: readonly ImageResult[]): void {
  // Both checked before either is written: no output half-way.
  const digests = outputLines(results.map((r) => `${r.repository}@${r.digest}`));
  const pinned = outputLines(results.map((r) => `${r.repository}:${r.tag}@${r.digest}`));
  core.setOutput('digests', digests);
  core.setOutput('pinned-refs', pinned);
  core.setOutput(
    'result',
    JSON.stringify(
      results.map(({ image, repository, tag, digest, size, signers, roles, expires, policy, sources }) => ({ image, repository, tag, digest, size, signers, roles, expires, ...(policy ? { policy } : {}), ...(sources ? { sources } : {}) })),
    ),
  );
}

/** Lines other steps split and use as references: only validated values reach them (a bad one is a bug). */
function outputLines(lines: readonly string[]): string {
  const bad = lines.find((l) => !OUTPUT_LINE.test(l));
  if (bad !== undefined) throw new InternalError('INTERNAL', `an output line is not a repository:tag@sha256 reference (${JSON.stringify(bad.slice(0, 200))}): please report this`);
  return lines.join('\n');
}

/**
 * The items that fit in `budget` bytes, in order, and how many did not.
 * Items are already HTML; each is counted with the markup around it.
 */
function fitToBudget(items: readonly string[], budget: number, overhead: number): { shown: string[]; hidden: number } {
  const shown: string[] = [];
  let used = 0;
  for (const item of items) {
    used += Buffer.byteLength(item) + overhead;
    if (used > budget) break;
    shown.push(item);
  }
  return { shown, hidden: items.length - shown.length };
}

export async function writeSummary(mode: Mode, results: readonly ImageResult[], failures: readonly { subject: string; code?: string; message: string }[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const verb = mode === 'sign' ? 'Signed' : 'Verified';
  const s = headed ? core.summary : core.summary.addHeading(`Content trust: ${mode}`, 3);
  const withPolicy = results.some((r) => r.policy);
  const withSources = results.some((r) => r.sources);
  if (results.length > 0) {
    const rows = results.map((r) => [
      forSummary(`${r.repository}:${r.tag}`),
      `<code>${forSummary(r.digest)}</code>`,
      forSummary(r.signers.join(', ')) || '—',
      forSummary(r.roles.join(', ')),
      forSummary(`${r.expires.slice(0, 10)} (${daysLeft(r.expires)})`),
      ...(withPolicy ? [forSummary(r.policy ?? '—')] : []),
      ...(withSources ? [forSummary(r.sources?.join(', ') ?? '—')] : []),
    ]);
    const { shown, hidden } = fitToBudget(
      rows.map((cells) => cells.join('')),
      SUMMARY_BUDGET,
      16 + 9 * rows[0]!.length,
    );
    s.addTable([
      [
        { data: 'Image', header: true },
        { data: 'Digest', header: true },
        { data: 'Signers', header: true },
        { data: 'Roles', header: true },
        { data: 'Trust data expires', header: true },
        ...(withPolicy ? [{ data: 'Policy entry', header: true }] : []),
        ...(withSources ? [{ data: 'Named in', header: true }] : []),
      ],
      ...rows.slice(0, shown.length),
    ]);
    s.addRaw(`${verb} ${results.length} image(s).${hidden > 0 ? ` ${hidden} of them are not in this table: the result output lists every one.` : ''}`, true);
  }
  if (failures.length > 0) {
    const items = failures.map((f) => `<b>${forSummary(f.subject)}</b>: ${f.code ? `${forSummary(f.code)}: ` : ''}${forSummary(f.message)}`);
    const { shown, hidden } = fitToBudget(items, SUMMARY_BUDGET, 9);
    s.addHeading('Failed', 4);
    s.addList(shown);
    if (hidden > 0) s.addRaw(`${hidden} more failure(s) are not listed here: the step's log lists every one.`, true);
  }
  await s.write();
}

/**
 * The expiry watch's table: one row per repository and role, its state
 * first, so a reader sees what to renew; a repository that could not be read
 * gets one row with its error. Repository, role and signer names and error
 * messages are outside text, made inert; key IDs are shortened to docker's
 * 12 characters (the status output has them whole).
 */
async function writeStatusSummary(statuses: readonly RepositoryStatus[]): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  const STATE = { ok: 'ok', expiring: '⚠️ expiring', expired: '❌ expired', uninitialised: '❌ no trust data', unreadable: '❌ unreadable' } as const;
  type Cell = string | { data: string; colspan: string };
  const rows: Cell[][] = statuses.flatMap((s): Cell[][] =>
    s.error
      ? [[forSummary(s.repository), '—', STATE[s.state], { data: `<code>${forSummary(s.error.code)}</code> ${forSummary(advise(s.error.message, 'action'))}`, colspan: '4' }]]
      : s.roles.map((r) => [
          forSummary(s.repository),
          forSummary(r.role),
          STATE[r.state],
          String(r.version),
          forSummary(`${r.expires.slice(0, 10)} (${r.daysLeft < 0 ? `${-r.daysLeft} days ago` : `${r.daysLeft} days left`}${r.expiresBy === 'certificate' ? ', its key certificate' : ''})`),
          forSummary(r.signers.join(', ')) || '—',
          r.keyIds.map((id) => `<code>${forSummary(id.slice(0, 12))}</code>`).join(' ') || '—',
        ]),
  );
  const { shown, hidden } = fitToBudget(
    rows.map((cells) => cells.map((c) => (typeof c === 'string' ? c : c.data)).join('')),
    SUMMARY_BUDGET,
    16 + 9 * 7,
  );
  const window = statuses[0]?.withinDays;
  const s = core.summary.addHeading('Content trust: status', 3);
  s.addTable([['Repository', 'Role', 'State', 'Version', 'Expires', 'Signed by', 'Key IDs'].map((data) => ({ data, header: true })), ...rows.slice(0, shown.length)]);
  const due = statuses.filter((x) => x.state === 'expiring' || x.state === 'expired').length;
  const unread = statuses.filter((x) => x.error).length;
  const verdict = [...(due > 0 ? [`${due} need${due === 1 ? 's' : ''} renewing`] : []), ...(unread > 0 ? [`${unread} could not be read`] : [])];
  s.addRaw(
    `${statuses.length} repositor${statuses.length === 1 ? 'y' : 'ies'} checked; ${verdict.length === 0 ? `nothing expires within ${window} days` : verdict.join(', ')}. A role expires with its file or with its keys' certificates, whichever ends first. Snapshot and timestamp are signed by the Notary server, which renews them itself.${hidden > 0 ? ` ${hidden} rows are not in this table: the status output lists every one.` : ''}`,
    true,
  );
  // Root key IDs whole, as docker trust inspect prints them (what root-keys pins), for a readable number of repositories.
  if (statuses.length <= ROOT_KEY_LINES) for (const x of statuses) if (!x.error) s.addRaw(`<p>${forSummary(x.repository)}: Root key ${x.rootKeyIds.map((id) => `<code>${forSummary(id)}</code>`).join(', ')}</p>`, true);
  await s.write();
  headed = true;
}

function daysLeft(iso: string): string {
  const days = Math.floor((Date.parse(iso) - Date.now()) / 86_400_000);
  return days < 0 ? 'expired' : `${days} days left`;
}
