/**
 * The org-wide verification policy (the `policy` input): a YAML or JSON file
 * mapping repository patterns to the root keys to pin, the signers required
 * and the minimum validity the trust data must have left. The first entry
 * whose pattern matches an image's repository applies; an image no entry
 * matches fails unless `default` says otherwise.
 *
 *   default: deny              # deny (the default) | verify | allow-unsigned
 *   repositories:
 *     - match: registry.example.com/team/*    # a glob, or a list of globs
 *       name: team images                     # shown in results; default: the first pattern
 *       root-keys: [<64 hex>]                 # the repository's root must be signed by these
 *       signers: [ci]                         # targets/<name> must each have signed the tag
 *       min-validity: 30d                     # s, m, h, d or w
 */
import { InputError } from '../errors.ts';
import { entry, parseYaml, type YamlDocument, type YamlMap, type YamlValue } from '../util/yaml.ts';
import { isMap } from '../util/maps.ts';

type PolicyDefault = 'deny' | 'verify' | 'allow-unsigned';

export interface PolicyEntry {
  name: string;
  patterns: string[];
  rootKeys: string[];
  signers: string[];
  /** Milliseconds of validity the earliest-expiring metadata must have left. */
  minValidityMs: number;
  /** The duration as written, for messages. */
  minValidity: string | undefined;
  /** Compiled patterns. */
  globs: Glob[];
}

export interface Policy {
  source: string;
  default: PolicyDefault;
  entries: PolicyEntry[];
}

/** A policy is a short list; a larger file is refused before it is parsed. */
export const MAX_POLICY_BYTES = 1024 * 1024;

const SIGNER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const KEY_ID = /^[0-9a-f]{64}$/;
const DURATION = /^([0-9]+)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ENTRY_KEYS = new Set(['match', 'name', 'root-keys', 'signers', 'min-validity']);
const TOP_KEYS = new Set(['version', 'default', 'repositories']);
const DEFAULTS = new Set<string>(['deny', 'verify', 'allow-unsigned']);

/** Makes the POLICY_INVALID error for `what`, naming the line where it is known. */
type Bad = (what: string, line?: number) => InputError;

/**
 * Parses and checks a policy (YAML, or JSON, which YAML contains); `source`
 * names the file in messages. Every value is read as the text written, and
 * only the keys named above are read: any other key, `__proto__` included,
 * is refused by name.
 */
export async function parsePolicy(input: Buffer | string, source: string): Promise<Policy> {
  const bad: Bad = (what, line) => new InputError('POLICY_INVALID', `policy ${source}: ${what}${line === undefined ? '' : ` (line ${line})`}`);
  const [doc] = await parseYaml(input, (why) => new InputError('POLICY_INVALID', `policy ${source}: ${why}: fix the file (YAML or JSON)`), { maxBytes: MAX_POLICY_BYTES });
  const top = doc?.value;
  if (!isMap(top)) throw bad('must be a mapping with a "repositories" list');
  checkKeys(doc!, top, TOP_KEYS, '', bad);
  const version = entry(top, 'version');
  if (version !== null && version !== '1') throw bad(`version ${shown(version)} is not supported (use 1)`, doc!.line(top, 'version'));
  const def = entry(top, 'default') ?? 'deny';
  if (typeof def !== 'string' || !DEFAULTS.has(def)) throw bad(`default is ${JSON.stringify(shown(def))}: use deny, verify or allow-unsigned`, doc!.line(top, 'default'));
  const list = entry(top, 'repositories') ?? [];
  if (!Array.isArray(list)) throw bad('"repositories" must be a list of entries', doc!.line(top, 'repositories'));
  const entries = list.map((raw, i) => parseEntry(doc!, raw, doc!.line(list, i), i, bad));
  if (entries.length === 0 && def === 'deny') throw bad('has no repositories entries and default deny: every image would fail');
  return { source, default: def as PolicyDefault, entries };
}

function parseEntry(doc: YamlDocument, raw: YamlValue, line: number | undefined, i: number, bad: Bad): PolicyEntry {
  const where = `repositories[${i}]`;
  if (!isMap(raw)) throw bad(`${where} must be a mapping with "match"`, line);
  checkKeys(doc, raw, ENTRY_KEYS, `${where}: `, bad);
  const lineOf = (key: string) => doc.line(raw, key) ?? line;
  const patterns = stringList(entry(raw, 'match'), `${where}.match`, lineOf('match'), bad);
  if (patterns.length === 0) throw bad(`${where} has no "match" pattern`, line);
  const rootKeys = stringList(entry(raw, 'root-keys'), `${where}.root-keys`, lineOf('root-keys'), bad).map((k) => k.toLowerCase());
  for (const k of rootKeys) if (!KEY_ID.test(k)) throw bad(`${where}.root-keys: "${k}" is not a key ID (64 hex digits, as \`docker trust inspect\` prints the Root key)`, lineOf('root-keys'));
  const signers = stringList(entry(raw, 'signers'), `${where}.signers`, lineOf('signers'), bad);
  for (const s of signers) if (!SIGNER_NAME.test(s) || s === 'releases') throw bad(`${where}.signers: "${s}" is not a valid signer name`, lineOf('signers'));
  let minValidityMs = 0;
  let minValidity: string | undefined;
  const validity = entry(raw, 'min-validity');
  if (validity !== null) {
    const m = typeof validity === 'string' ? DURATION.exec((minValidity = validity.trim())) : null;
    if (!m) throw bad(`${where}.min-validity "${shown(validity)}" is not a duration such as 30d, 12h or 2w`, lineOf('min-validity'));
    minValidityMs = Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  const name = entry(raw, 'name');
  if (name !== null && typeof name !== 'string') throw bad(`${where}.name must be a string`, lineOf('name'));
  const globs = patterns.map((p) => compileGlob(p, `${where}.match`, lineOf('match'), bad));
  return { name: name ?? patterns[0]!, patterns, rootKeys, signers, minValidityMs, minValidity, globs };
}

/** Refuses any key not in `allowed`, by name: a typo (`signer:`) or `__proto__` never passes unnoticed. */
function checkKeys(doc: YamlDocument, map: YamlMap, allowed: ReadonlySet<string>, where: string, bad: Bad): void {
  for (const key of Object.keys(map)) if (!allowed.has(key)) throw bad(`${where}unknown key "${key}": the keys are ${[...allowed].join(', ')}`, doc.line(map, key));
}

/** The first entry matching a repository (GUN), or undefined. */
export function matchEntry(policy: Policy, gun: string): PolicyEntry | undefined {
  return policy.entries.find((e) => e.globs.some((g) => globMatches(g, gun)));
}

/**
 * A compiled repository pattern: one part per character (code point) of the full name,
 * where `*`, `**` and `?` are wildcards (no repository name holds them).
 */
export type Glob = readonly string[];

/** No repository name is this long; a longer pattern is a mistake or an attack. */
const MAX_PATTERN_LENGTH = 1024;

/**
 * A repository glob, matched against the full name as docker normalises it
 * (docker.io/library/alpine, ghcr.io/org/app): `*` and `?` stay within one
 * path segment, `**` crosses them. A pattern without a registry host is a
 * Docker Hub one, as on docker's command line (`alpine`, `org/*`).
 */
export function compileGlob(pattern: string, where: string, line: number | undefined, bad: Bad): Glob {
  const p = pattern.trim();
  if (!p || /\s/.test(p) || p.length > MAX_PATTERN_LENGTH) throw bad(`${where}: "${p.length > 64 ? `${p.slice(0, 64)}…` : pattern}" is not a repository pattern`, line);
  let full = p;
  const first = p.split('/')[0]!;
  if (!p.startsWith('**') && !(first.includes('.') || first.includes(':') || first === 'localhost')) full = p.includes('/') ? `docker.io/${p}` : `docker.io/library/${p}`;
  return full.match(/\*\*|./gsu)!;
}

/**
 * Whether `name` matches, by stepping every reachable part of the glob over
 * the name at once: time is bounded by pattern length × name length. (A
 * backtracking regular expression takes exponential time on patterns such as
 * `*a*a*a*a*a*b`, which a policy file may hold.)
 */
export function globMatches(glob: Glob, name: string): boolean {
  // reached[i]: the first i parts match the characters read so far.
  let reached = new Uint8Array(glob.length + 1);
  reached[0] = 1;
  spread(glob, reached);
  for (const c of name) {
    const next = new Uint8Array(glob.length + 1);
    glob.forEach((part, i) => {
      if (!reached[i]) return;
      if (part === '**' || (part === '*' && c !== '/')) next[i] = 1;
      else if ((part === '?' && c !== '/') || part === c) next[i + 1] = 1;
    });
    spread(glob, next);
    reached = next;
  }
  return reached[glob.length] === 1;
}

/** A wildcard may match nothing: where one is reached, so is the part after it. */
function spread(glob: Glob, reached: Uint8Array): void {
  glob.forEach((part, i) => {
    if (reached[i] && (part === '*' || part === '**')) reached[i + 1] = 1;
  });
}

function stringList(v: YamlValue, where: string, line: number | undefined, bad: Bad): string[] {
  if (v === null) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => {
    if (typeof x !== 'string') throw bad(`${where} must be a string or a list of strings`, line);
    return x.trim();
  });
}

/** A value for a message: the text written, or what kind of thing it is. */
function shown(v: YamlValue): string {
  return typeof v === 'string' ? v : v === null ? 'empty' : Array.isArray(v) ? 'a list' : 'a mapping';
}
