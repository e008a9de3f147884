/**
 * The runner's reading of a step's stdout, as actions/runner does it (see
 * the notes in src/util/untrusted-text.ts), for tests: lines end at LF, CR
 * or CRLF (StreamReader.ReadLine); a line is a command when, after leading
 * white space, it starts `::name…::` (TryParseV2), or when it holds
 * `##[name…]` anywhere (TryParse). Names match case-insensitively. The
 * runner compares culture-sensitively, so ignorable characters (format
 * characters: soft hyphen, zero-width ones, bidi marks) are dropped before
 * matching, as ICU would skip them. Any name counts, registered or not:
 * stricter than the runner.
 */

export interface RunnerCommand {
  /** Lower-cased command name. */
  name: string;
  /** The whole line it came from. */
  line: string;
}

/** StreamReader.ReadLine's line ends. */
export function runnerLines(stdout: string): string[] {
  const lines = stdout.split(/\r\n|\r|\n/);
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

// .NET Char.IsWhiteSpace: JS white space (less U+FEFF) plus U+0085.
const LEADING_SPACE = /^[\s\u0085]+/u;
const IGNORABLE = /\p{Cf}/gu;

/** The command a single line would run, if any. */
export function commandOf(line: string): RunnerCommand | undefined {
  const seen = line.replace(IGNORABLE, '');
  const v2 = seen.replace(LEADING_SPACE, '');
  if (v2.startsWith('::')) {
    const end = v2.indexOf('::', 2);
    if (end > 2) return { name: v2.slice(2, end).split(' ')[0]!.toLowerCase(), line };
  }
  const at = seen.indexOf('##[');
  if (at >= 0) {
    const rb = seen.indexOf(']', at);
    if (rb > at + 3)
      return {
        name: seen
          .slice(at + 3, rb)
          .split(' ')[0]!
          .toLowerCase(),
        line,
      };
  }
  return undefined;
}

/** Every command the runner would run from this stdout. */
export function runnerCommands(stdout: string): RunnerCommand[] {
  return runnerLines(stdout)
    .map(commandOf)
    .filter((c) => c !== undefined);
}
