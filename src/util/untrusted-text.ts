/**
 * Text from outside (a server's error body, a Dockerfile, a policy entry
 * name, a trust-data role or target name, an input line) made harmless for
 * where it is shown: a log line (the runner's stdout, a terminal), a job
 * summary cell, a JSON document printed on a terminal. No GitHub here: the
 * action's sinks and the CLI both use it.
 *
 * How the runner reads a step's stdout (actions/runner):
 * - src/Runner.Sdk/ProcessInvoker.cs reads stdout with StreamReader.ReadLine,
 *   which ends a line at LF, CR or CRLF (not at U+0085, U+2028 or U+2029;
 *   the web log viewer and terminals may still break there).
 * - src/Runner.Worker/Handlers/OutputManager.cs hands every line containing
 *   `##[` or `::` to ActionCommandManager.TryProcessCommand; lines that are
 *   not commands go through the job's problem matchers (with `ESC[…m`
 *   colour codes stripped) and then to the log.
 * - src/Runner.Common/ActionCommand.cs: TryParseV2 takes `::name k=v,…::data`
 *   from a line after TrimStart (.NET whitespace, which includes U+0085,
 *   U+00A0, U+2028…); TryParse takes the legacy `##[name k=v;…]data` found
 *   ANYWHERE in the line. Both match command names case-insensitively, and
 *   both use culture-sensitive String.StartsWith/IndexOf, under which
 *   ignorable characters (soft hyphen, zero-width space…) are skipped: an
 *   invisible character between the marks does not break them.
 * - src/Runner.Worker/ActionCommandManager.cs: `::stop-commands::TOKEN`
 *   turns off every command until `::TOKEN::`. From outside text it would
 *   switch off the action's own later `::add-mask::` lines, so secrets it
 *   masks afterwards would be printed in clear.
 * @actions/core (actions/toolkit packages/core/src/command.ts) escapes only
 * %, CR and LF in command data (escapeData) and also `:` and `,` in
 * properties (escapeProperty); core.info() writes its text as it is, and
 * core.summary (summary.ts) wraps text in HTML tags without escaping it.
 *
 * So the log form makes every control, format and line/paragraph separator
 * character visible as a backslash escape (`\n`, `\r`, `\t`, `\x1b`,
 * `\u2028`, `\u200b`, `\u{e0041}`), which keeps outside text on one line and
 * unable to repaint a terminal, and breaks both command marks visibly by a
 * backslash: `::` is written `:\:` and `##[` is written `#\#[`. Backslashes
 * already in the text are left as they are: the form is for reading, not
 * for decoding back.
 */

/** Characters a piece of outside text keeps in a log line; the rest is cut with a note. */
export const LOG_TEXT_LIMIT = 4096;

/** Characters a piece of outside text keeps in a summary cell (before HTML escaping). */
const SUMMARY_TEXT_LIMIT = 1024;

// Cc: C0, DEL, C1 (U+0085 among them); Cf: soft hyphen, zero-width and
// bidirectional marks, BOM, tag characters; Zl/Zp: U+2028, U+2029.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** At most `limit` UTF-16 units of `text` (never half a surrogate pair), with a note saying how much was cut. */
export function bounded(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = limit;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}… [${text.length - end} more characters cut]`;
}

/** Control, format and separator characters as visible escapes: the text stays on one line. */
function visibleControls(text: string): string {
  return text.replace(INVISIBLE, visible);
}

/** Both workflow-command marks broken with a backslash, wherever they are: `::` → `:\:`, `##[` → `#\#[`. */
function brokenCommandMarks(text: string): string {
  // Lookaheads, so runs (`:::`, `###[`) leave no mark behind.
  return text.replace(/:(?=:)/g, ':\\').replace(/#(?=#\[)/g, '#\\');
}

/**
 * The log form: bounded, one line, no workflow command. For a log line, an
 * annotation's message or title, a CLI message on stderr.
 */
export function forLog(text: string, limit: number = LOG_TEXT_LIMIT): string {
  return brokenCommandMarks(visibleControls(bounded(text, limit)));
}

/**
 * Multi-line output of the action's own making (CLI results, tables) that
 * carries outside values: each line gets the log form without a bound
 * (results are what was asked for), and line feeds and tabs, which the
 * output's layout uses, are kept. Values that must not add lines or columns
 * are passed through forLog() where they are put in.
 */
export function linesForLog(text: string): string {
  return text
    .split('\n')
    .map((line) => brokenCommandMarks(line.replace(INVISIBLE, (c) => (c === '\t' ? c : visible(c)))))
    .join('\n');
}

// HTML's five plus every character Markdown (GitHub-flavoured, with math and
// mentions) gives a meaning: emphasis, code, links and images, tables,
// headings, strikethrough, escapes, math, mentions, URL schemes.
const SUMMARY_SPECIAL = /[&<>"'`*_[\]()!|#~\\@$:]/g;

/**
 * The summary form: the log form's visible controls (so no newline can end
 * the HTML block or a table row), then HTML- and Markdown-inert: every
 * character with a meaning in either is a numeric character reference. A
 * cell shows the text and cannot close its tag, start a block, or render a
 * link, image, mention or formula.
 */
export function forSummary(text: string, limit: number = SUMMARY_TEXT_LIMIT): string {
  return visibleControls(bounded(text, limit)).replace(SUMMARY_SPECIAL, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON for a terminal or a step log that stays the same JSON for a parser:
 * characters JSON.stringify leaves raw (DEL, C1, format characters, U+2028,
 * U+2029) and the command marks inside strings are written as \u escapes.
 * Outside strings JSON has neither mark, so the result holds none.
 */
export function jsonForLog(value: unknown, indent?: number): string {
  return (
    JSON.stringify(value, null, indent)
      // Raw line feeds are the indentation's: JSON.stringify escapes every C0 character inside strings.
      .replace(INVISIBLE, (c) => (c === '\n' ? c : c.length === 1 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : surrogates(c)))
      .replace(/:(?=:)/g, '\\u003a')
      .replace(/#(?=#\[)/g, '\\u0023')
  );
}

function surrogates(pair: string): string {
  return [...Array(pair.length).keys()].map((i) => `\\u${pair.charCodeAt(i).toString(16)}`).join('');
}
