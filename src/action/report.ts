/**
 * The action's log lines and annotations: the one way text reaches the
 * runner's stdout. Every message passes through forLog() whole (messages mix
 * the action's words with outside text, and a sink cannot tell them apart),
 * and annotations are capped at what GitHub shows.
 */
import * as core from '@actions/core';
import { MultiError, failureMessage, type ContentTrustError, type Failure } from '../errors.ts';
import { forLog } from '../util/untrusted-text.ts';
import { advise } from '../advice.ts';

/**
 * Annotations of one kind GitHub shows per step (10 error, 10 warning, 10
 * notice; 50 per job: actions/toolkit docs/problem-matchers.md). Past that
 * they are dropped silently, so the last one is spent on saying so.
 */
export const ANNOTATIONS_PER_KIND = 10;

/** Characters of the failure message (the step's last annotation). */
const FAILED_MESSAGE_LIMIT = 1000;

let warnings = 0;

export function info(message: string): void {
  core.info(forLog(advise(message, 'action')));
}

export function debug(message: string): void {
  core.debug(forLog(message));
}

/** A warning annotation; past the cap, a log line (the last annotation says so). */
export function warning(text: string): void {
  const message = advise(text, 'action');
  warnings++;
  if (warnings < ANNOTATIONS_PER_KIND) return core.warning(forLog(message));
  if (warnings === ANNOTATIONS_PER_KIND) core.warning('more warnings follow in the log only (GitHub shows 10 warning annotations per step)');
  core.info(`Warning: ${forLog(message)}`);
}

/** For tests: the warning count starts again. */
export function resetReportCounts(): void {
  warnings = 0;
}

interface ReportedFailure {
  subject: string;
  code: string;
  message: string;
}

/**
 * Reports a run's failure: one error annotation per failed image or
 * repository (per place a deployment file names it, at that file and line,
 * so a pull request shows it there), up to the cap less one; the others as
 * log lines; then the step's failure (itself an annotation), short, counting
 * them all. Returns the failures, for the job summary.
 */
export function reportFailure(error: ContentTrustError, subject: string): ReportedFailure[] {
  const failures = (error instanceof MultiError ? error.failures : [{ subject, error } satisfies Failure]).map((f) => ({ subject: f.subject, code: f.error.code, message: advise(failureMessage(f), 'action'), places: f.places ?? [] }));
  let left = ANNOTATIONS_PER_KIND - 1;
  let hidden = 0;
  for (const f of failures) {
    const title = forLog(`${f.code}: ${f.subject}`, 200);
    const at = f.places.length > 0 ? f.places : [undefined];
    const shown = at.slice(0, Math.max(left, 0));
    // The file is outside text too (a name in the workspace): the log form, and core escapes `:` and `,` in properties.
    for (const p of shown) core.error(forLog(f.message), { title, ...(p ? { file: forLog(p.file, 1000), ...(p.line === undefined ? {} : { startLine: p.line }) } : {}) });
    left -= shown.length;
    if (shown.length === 0) {
      hidden++;
      core.info(`Error: ${forLog(`${f.code}: ${f.subject}: ${f.message}`)}`);
    }
  }
  const annotated = failures.length - hidden;
  const what = failures.length === 1 ? advise(error.message, 'action') : `${failures.length} images or repositories failed${hidden > 0 ? ` (the first ${annotated} are annotated; the log lists every one)` : ' (see the errors above)'}`;
  core.setFailed(forLog(`${error.code}: ${what}`, FAILED_MESSAGE_LIMIT));
  return failures.map(({ subject: s, code, message }) => ({ subject: s, code, message }));
}
