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
import { parseYaml, YamlError, type YamlValue } from './yaml.ts';

export type PolicyDefault = 'deny' | 'verify' | 'allow-unsigned';

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
  regexps: RegExp[];
}

export interface Policy {
  source: string;
  default: PolicyDefault;
  entries: PolicyEntry[];
}

const SIGNER_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const KEY_ID = /^[0-9a-f]{64}$/;
const DURATION = /^([0-9]+)\s*(s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const ENTRY_KEYS = new Set(['match', 'name', 'root-keys', 'signers', 'min-validity']);
const TOP_KEYS = new Set(['version', 'default', 'repositories']);

/** Parses and checks a policy; `source` names the file in messages. */
export function parsePolicy(text: string, source: string): Policy {
  const bad = (what: string) => new InputError('POLICY_INVALID', `policy ${source}: ${what}`);
  let doc: YamlValue;
  try {
    doc = /^\s*\{/.test(text) ? (JSON.parse(text) as YamlValue) : parseYaml(text);
  } catch (e) {
    throw bad(`${e instanceof YamlError || e instanceof SyntaxError ? e.message : String(e)}: fix the file (YAML or JSON)`);
  }
  if (!isMap(doc)) throw bad('must be a mapping with a "repositories" list');
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw bad(`unknown key "${k}" (allowed: ${[...TOP_KEYS].join(', ')})`);
  if (doc.version !== undefined && doc.version !== 1) throw bad(`version ${JSON.stringify(doc.version)} is not supported (use 1)`);
  const def = doc.default ?? 'deny';
  if (def !== 'deny' && def !== 'verify' && def !== 'allow-unsigned') throw bad(`default is ${JSON.stringify(def)}: use deny, verify or allow-unsigned`);
  const list = doc.repositories ?? [];
  if (!Array.isArray(list)) throw bad('"repositories" must be a list of entries');
  const entries = list.map((raw, i) => parseEntry(raw, i, bad));
  if (entries.length === 0 && def === 'deny') throw bad('has no repositories entries and default deny: every image would fail');
  return { source, default: def, entries };
}

function parseEntry(raw: YamlValue, i: number, bad: (what: string) => InputError): PolicyEntry {
  const where = `repositories[${i}]`;
  if (!isMap(raw)) throw bad(`${where} must be a mapping with "match"`);
  for (const k of Object.keys(raw)) if (!ENTRY_KEYS.has(k)) throw bad(`${where}: unknown key "${k}" (allowed: ${[...ENTRY_KEYS].join(', ')})`);
  const patterns = stringList(raw.match, `${where}.match`, bad);
  if (patterns.length === 0) throw bad(`${where} has no "match" pattern`);
  const rootKeys = stringList(raw['root-keys'], `${where}.root-keys`, bad).map((k) => k.toLowerCase());
  for (const k of rootKeys) if (!KEY_ID.test(k)) throw bad(`${where}.root-keys: "${k}" is not a key ID (64 hex digits, as \`docker trust inspect\` prints the Root key)`);
  const signers = stringList(raw.signers, `${where}.signers`, bad);
  for (const s of signers) if (!SIGNER_NAME.test(s) || s === 'releases') throw bad(`${where}.signers: "${s}" is not a valid signer name`);
  let minValidityMs = 0;
  let minValidity: string | undefined;
  if (raw['min-validity'] !== undefined && raw['min-validity'] !== null) {
    minValidity = String(raw['min-validity']).trim();
    const m = DURATION.exec(minValidity);
    if (!m) throw bad(`${where}.min-validity "${minValidity}" is not a duration such as 30d, 12h or 2w`);
    minValidityMs = Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  const name = raw.name === undefined || raw.name === null ? patterns[0]! : String(raw.name);
  return { name, patterns, rootKeys, signers, minValidityMs, minValidity, regexps: patterns.map((p) => globToRegExp(p, `${where}.match`, bad)) };
}

/** The first entry matching a repository (GUN), or undefined. */
export function matchEntry(policy: Policy, gun: string): PolicyEntry | undefined {
  return policy.entries.find((e) => e.regexps.some((r) => r.test(gun)));
}

/**
 * A repository glob, matched against the full name as docker normalises it
 * (docker.io/library/alpine, ghcr.io/org/app): `*` and `?` stay within one
 * path segment, `**` crosses them. A pattern without a registry host is a
 * Docker Hub one, as on docker's command line (`alpine`, `org/*`).
 */
export function globToRegExp(pattern: string, where: string, bad: (what: string) => InputError): RegExp {
  const p = pattern.trim();
  if (!p || /\s/.test(p)) throw bad(`${where}: "${pattern}" is not a repository pattern`);
  let full = p;
  const first = p.split('/')[0]!;
  if (!p.startsWith('**') && !(first.includes('.') || first.includes(':') || first === 'localhost')) full = p.includes('/') ? `docker.io/${p}` : `docker.io/library/${p}`;
  let re = '';
  for (let i = 0; i < full.length; i++) {
    const c = full[i]!;
    if (c === '*' && full[i + 1] === '*') {
      re += '.*';
      i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function stringList(v: YamlValue | undefined, where: string, bad: (what: string) => InputError): string[] {
  if (v === undefined || v === null) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== 'string' && typeof x !== 'number') throw bad(`${where} must be a string or a list of strings`);
    return String(x).trim();
  });
}

function isMap(v: YamlValue | undefined): v is { [key: string]: YamlValue } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
