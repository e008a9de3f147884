/**
 * The deployment files a `manifests` input (or `--manifests` flag) names:
 * paths and globs, relative to the workspace and confined to it. A glob is
 * walked, never handed to a shell or a regular expression:
 *
 * - `*` and `?` match within one path segment, `**` as a whole segment any
 *   number of directories (none included); nothing else is special;
 * - a wildcard does not match a name that starts with a dot unless the
 *   pattern's segment does (`**` never walks into `.git`; write
 *   `.github/workflows/*.yml`);
 * - symbolic links to directories are not followed; a file reached through a
 *   link, or named directly, must resolve inside the workspace, as must the
 *   walk's start: `..` and links out of it are refused by name
 *   (FILE_OUTSIDE_WORKSPACE), never skipped;
 * - the walk is bounded (directory entries read, files matched), and a
 *   pattern that matches nothing is an error: a typo never verifies nothing.
 *
 * Each segment is matched by policy.ts's globMatches (bounded, no
 * backtracking); segments are stepped the same way, as a set of reachable
 * pattern positions.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { InputError } from '../errors.ts';
import { globMatches, type Glob } from '../policy/policy.ts';

/** How messages name the list (`input manifests`, `--manifests`). */
export interface PatternLabel {
  name: string;
  fix: string;
}

/** Far above a repository's deployment files, far below what would exhaust a runner. */
const MAX_DEPLOY_FILES = 1000;
/** Directory entries one run may read while walking globs. */
const MAX_WALK_ENTRIES = 100_000;

/** A file found: its path relative to the workspace (as shown and output) and its full path. */
export interface FoundFile {
  path: string;
  full: string;
}

const quote = (s: string) => JSON.stringify(s);
// Control characters in a file name could split a log line or an output list.
// eslint-disable-next-line no-control-regex -- these are the characters refused
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** The files `patterns` name, in the order given (a glob's matches sorted), once each. */
export function findDeployFiles(patterns: readonly string[], baseDir: string, label: PatternLabel): FoundFile[] {
  const base = realBase(baseDir, label);
  const out = new Map<string, FoundFile>();
  const budget = { entries: MAX_WALK_ENTRIES };
  for (const raw of patterns) {
    const pattern = raw.trim();
    const found = /[*?]/.test(pattern) ? walk(pattern, base, label, budget) : [single(pattern, base, label)];
    for (const f of found) {
      out.set(f.path, f);
      if (out.size > MAX_DEPLOY_FILES) throw new InputError('INPUT_INVALID', `${label.name} names more than ${MAX_DEPLOY_FILES} files: narrow its patterns`);
    }
  }
  return [...out.values()];
}

function realBase(baseDir: string, label: PatternLabel): string {
  try {
    return realpathSync(baseDir);
  } catch (e) {
    throw new InputError('FILE_NOT_FOUND', `${label.name}: the workspace ${quote(baseDir)} does not exist: ${label.fix}`, { cause: e });
  }
}

/** A path inside `base` (both real), as a relative path; undefined when outside. */
function within(base: string, real: string): string | undefined {
  const rel = relative(base, real);
  return rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
}

function outside(pattern: string, label: PatternLabel, why: string): InputError {
  return new InputError('FILE_OUTSIDE_WORKSPACE', `${label.name} ${quote(pattern)} ${why}: deployment files are read (and pinned) only inside the workspace; ${label.fix}`);
}

function checkName(path: string, label: PatternLabel): void {
  if (CONTROL.test(path)) throw new InputError('DEPLOY_FILE_INVALID', `${label.name}: the file name ${quote(path)} holds a control character: rename it`);
}

/** A plain path: it must exist and resolve inside the workspace (links included). */
function single(pattern: string, base: string, label: PatternLabel): FoundFile {
  if (!pattern) throw new InputError('FILE_NOT_FOUND', `${label.name} holds an empty path: ${label.fix}`);
  const full = resolve(base, pattern);
  if (within(base, full) === undefined) throw outside(pattern, label, 'is outside the workspace');
  let real: string;
  try {
    real = realpathSync(full);
  } catch (e) {
    throw new InputError('FILE_NOT_FOUND', `${label.name} ${quote(pattern)} does not exist (or is a link to nothing): ${label.fix}`, { cause: e });
  }
  if (within(base, real) === undefined) throw outside(pattern, label, `is a link to ${quote(real)}, outside the workspace`);
  const path = relative(base, full);
  checkName(path, label);
  return { path, full };
}

/** A pattern segment as globMatches takes it (no `/` inside, so `*` and `**` are alike there). */
const segmentGlob = (segment: string): Glob => segment.match(/\*\*|./gsu) ?? [];

/** The files a glob matches under the workspace. */
function walk(pattern: string, base: string, label: PatternLabel, budget: { entries: number }): FoundFile[] {
  const segments = pattern.split('/').filter((s, i) => s !== '' && !(s === '.' && i === 0));
  if (isAbsolute(pattern)) throw outside(pattern, label, 'is an absolute pattern');
  if (segments.some((s) => s === '..' || s === '.')) throw outside(pattern, label, 'has a . or .. segment');
  // The literal directories before the first wildcard: where the walk starts.
  const first = segments.findIndex((s) => /[*?]/.test(s));
  const startDir = join(base, ...segments.slice(0, first));
  let start: string;
  try {
    start = realpathSync(startDir);
  } catch (e) {
    throw new InputError('FILE_NOT_FOUND', `${label.name} ${quote(pattern)} matches no file (${quote(relative(base, startDir))} does not exist): ${label.fix}`, { cause: e });
  }
  if (within(base, start) === undefined && start !== base) throw outside(pattern, label, `starts in ${quote(start)}, outside the workspace`);
  const rest = segments.slice(first);
  const globs = rest.map((s) => (s === '**' ? undefined : segmentGlob(s)));
  const found: FoundFile[] = [];
  // Depth-first over [directory path relative to the start, reachable positions in `rest`].
  const stack: [string, number[]][] = [['', closure(rest, [0])]];
  while (stack.length > 0) {
    const [dir, states] = stack.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(join(start, dir), { withFileTypes: true });
    } catch {
      continue; // unreadable directory: nothing of it can be read either
    }
    budget.entries -= entries.length;
    if (budget.entries < 0) throw new InputError('INPUT_INVALID', `${label.name} ${quote(pattern)} walks more than ${MAX_WALK_ENTRIES} directory entries: narrow it (e.g. k8s/**/*.yaml rather than **/*.yaml)`);
    const sorted = entries.map((e) => e.name).sort();
    const kinds = new Map(entries.map((e) => [e.name, e]));
    const subdirs: [string, number[]][] = [];
    for (const name of sorted) {
      const entry = kinds.get(name)!;
      const next = step(rest, globs, states, name);
      if (next.length === 0) continue;
      const relPath = dir ? `${dir}/${name}` : name;
      if (entry.isDirectory()) subdirs.push([relPath, next]);
      else if (next.includes(rest.length)) {
        const full = join(start, relPath);
        if (entry.isSymbolicLink() && !isFileInside(full, base)) throw outside(pattern, label, `matches ${quote(relative(base, full))}, a link that leads outside the workspace (or to no file)`);
        if (!entry.isSymbolicLink() && !entry.isFile()) continue;
        const path = relative(base, full);
        checkName(path, label);
        found.push({ path, full });
        if (found.length > MAX_DEPLOY_FILES) throw new InputError('INPUT_INVALID', `${label.name} ${quote(pattern)} matches more than ${MAX_DEPLOY_FILES} files: narrow it`);
      }
    }
    // Reversed onto the stack, so directories are walked in name order.
    for (const d of subdirs.reverse()) stack.push(d);
  }
  if (found.length === 0) throw new InputError('FILE_NOT_FOUND', `${label.name} ${quote(pattern)} matches no file: ${label.fix}`);
  return found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function isFileInside(full: string, base: string): boolean {
  try {
    return within(base, realpathSync(full)) !== undefined && statSync(full).isFile();
  } catch {
    return false;
  }
}

/** Positions reachable without reading a name: a `**` may match no directory. */
function closure(rest: readonly string[], states: readonly number[]): number[] {
  const out = new Set(states);
  for (const s of [...out].sort((a, b) => a - b)) {
    for (let i = s; i < rest.length && rest[i] === '**'; i++) out.add(i + 1);
  }
  return [...out].sort((a, b) => a - b);
}

/** Positions reachable after reading one path segment `name`. */
function step(rest: readonly string[], globs: readonly (Glob | undefined)[], states: readonly number[], name: string): number[] {
  const next = new Set<number>();
  for (const i of states) {
    if (i >= rest.length) continue;
    const segment = rest[i]!;
    // Wildcards leave dot names alone unless the pattern's segment starts with a dot.
    if (name.startsWith('.') && !segment.startsWith('.')) continue;
    if (segment === '**') next.add(i);
    else if (globMatches(globs[i]!, name)) next.add(i + 1);
  }
  return closure(rest, [...next]);
}
