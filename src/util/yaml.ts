/**
 * YAML (and JSON, which YAML 1.2 contains) from outside, parsed by the `yaml`
 * library with one set of safety settings, so every caller gets the same:
 *
 * - the size is checked on the bytes, before anything is decoded;
 * - the failsafe schema: every scalar is the text written, so `0x10`, `1e3`,
 *   `010`, `yes`, `true`, `~` and `null` stay strings and the caller decides
 *   what a number or a boolean is (an empty value is null);
 * - duplicate keys, aliases, unknown tags, keys that are not scalars and
 *   anything the library only warns about are refused with their line;
 * - nesting is bounded on the parser's tokens, before the library builds the
 *   document (it recurses as deep as the input nests);
 * - maps come back without a prototype, so `__proto__` and `constructor` are
 *   ordinary keys that only the document can set.
 *
 * A UTF-8 byte order mark and `---` / `...` markers are YAML and accepted.
 *
 * Deployment files (src/deploy) may use anchors: Compose files share service
 * settings with `&name` / `*name` and `<<` merge keys, and Kubernetes' own
 * YAML reader accepts both. With `maxAliasValues`, an alias is read as a copy
 * of the value its anchor names and a `<<` key merges the maps it is given
 * (keys written in the map win), every value such a copy makes counting
 * against the bound and the copy's nesting against `maxDepth`: a "billion
 * laughs" file or an alias inside its own anchor fails instead of growing.
 * A copied value keeps the positions of the text it was copied from, so a
 * rewrite of it edits the anchor's text.
 * The library is loaded on the first call, so runs that read no YAML never
 * load it (the bundle keeps it in a chunk of its own).
 */
import type { CST, Document, LineCounter, Node, YAMLError } from 'yaml';
import type { ContentTrustError } from '../errors.ts';
import { isMap, own } from './maps.ts';

/** A parsed value: strings, null for an empty value, lists, and maps without prototypes. */
export type YamlValue = string | null | YamlValue[] | YamlMap;
export type YamlMap = { [key: string]: YamlValue };

interface YamlLimits {
  /** Refuse larger input (bytes, or UTF-8 bytes of a string). Default: 1 MiB. */
  maxBytes?: number;
  /** Refuse deeper nesting of lists and maps. Default: 32. */
  maxDepth?: number;
  /** Refuse more documents (`---` starts one). Default: 1. */
  maxDocuments?: number;
  /** Read aliases and `<<` merge keys, making at most this many values by copying. Default: 0 (refused). */
  maxAliasValues?: number;
}

const DEFAULT_YAML_LIMITS: Required<YamlLimits> = { maxBytes: 1024 * 1024, maxDepth: 32, maxDocuments: 1, maxAliasValues: 0 };

/** Where a scalar value is written: offsets in the text parsed (a string's UTF-16 units), its line and quoting. */
export interface ScalarSource {
  /** Offset of its first character (the opening quote of a quoted one; after any anchor or tag). */
  start: number;
  /** Offset just past its last character (the closing quote), before any comment. */
  end: number;
  line: number;
  style: 'plain' | 'single' | 'double' | 'block';
}

export interface YamlDocument {
  value: YamlValue;
  /**
   * The 1-based line of a map's key or a list's item (`at`), or of the map or
   * list itself, for messages; undefined for anything not from this document.
   */
  line(container: YamlMap | YamlValue[], at?: string | number): number | undefined;
  /** Where the scalar value of a map's key or a list's item is written; undefined when it is not a scalar of this document. */
  scalar(container: YamlMap | YamlValue[], at: string | number): ScalarSource | undefined;
}

// The failsafe schema makes every scalar a string; merge keys (`<<`) stay ordinary keys.
const OPTIONS = { schema: 'failsafe', version: '1.2', merge: false, uniqueKeys: true, stringKeys: true, strict: true, prettyErrors: false } as const;

/**
 * Parses `input` within `limits`; `fail(why)` makes the caller's error (its
 * code and subject). `why` starts with the line when one is known.
 */
export async function parseYaml(input: Buffer | string, fail: (why: string) => ContentTrustError, limits: YamlLimits = {}): Promise<YamlDocument[]> {
  const { maxBytes, maxDepth, maxDocuments, maxAliasValues } = { ...DEFAULT_YAML_LIMITS, ...limits };
  const size = typeof input === 'string' ? Buffer.byteLength(input) : input.length;
  if (size > maxBytes) throw fail(`is larger than the ${maxBytes} bytes allowed`);
  const text = typeof input === 'string' ? input : input.toString('utf8');
  // The library is CommonJS: Node and the bundle both hand its exports over as the default export.
  const yaml = (await import('yaml')).default;
  const deep = `nests lists and maps more than ${maxDepth} deep`;
  const lexedLine = lineTooDeep(yaml, text, maxDepth);
  if (lexedLine !== undefined) throw fail(`line ${lexedLine}: ${deep}`);
  const lines = new yaml.LineCounter();
  const tokens = [...new yaml.Parser(lines.addNewLine).parse(text)];
  const tooDeep = tokens.find((t) => depthOf(t, maxDepth) > maxDepth);
  if (tooDeep) throw fail(`${where(lines, tooDeep.offset)}${deep}`);
  const docs = [...new yaml.Composer(OPTIONS).compose(tokens)];
  if (docs.length > maxDocuments) throw fail(`${where(lines, docs[maxDocuments]!.range[0])}holds ${docs.length} documents (\`---\` starts one); ${maxDocuments === 1 ? 'only one is' : `at most ${maxDocuments} are`} allowed`);
  return docs.map((doc) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) throw fail(`${where(lines, problem.pos[0])}${describe(problem, doc, yaml)}`);
    return toValues(doc, lines, yaml, fail, { maxDepth, maxAliasValues });
  });
}

type Yaml = typeof import('yaml');

/**
 * The first line on which nesting may pass `limit`, read from the lexer's
 * tokens in one linear pass: the library's parser slows down sharply on
 * deeply nested flow collections (`[[[[…`) and one-line block nesting
 * (`- - - …`), so those are refused before it runs. Open flow brackets count,
 * and so do block indicators (`-`, `?`, `:`) on one line outside flow; nesting
 * by indentation costs a line per level and is bounded exactly by depthOf.
 */
function lineTooDeep(yaml: Yaml, text: string, limit: number): number | undefined {
  let flow = 0;
  let onLine = 0;
  let line = 1;
  for (const source of new yaml.Lexer().lex(text)) {
    if (source === '[' || source === '{') flow++;
    else if (source === ']' || source === '}') flow = Math.max(0, flow - 1);
    else if (flow === 0 && (source === '-' || source === '?' || source === ':')) onLine++;
    if (flow + onLine > limit) return line;
    for (let i = source.indexOf('\n'); i !== -1; i = source.indexOf('\n', i + 1)) {
      line++;
      onLine = 0;
    }
  }
  return undefined;
}

/** The deepest nesting of collections under `token`, counted without recursion and stopping past `limit`. */
function depthOf(token: CST.Token, limit: number): number {
  let deepest = 0;
  const stack: [CST.Token | null | undefined, number][] = [[token, 0]];
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    if (!t) continue;
    if (t.type === 'document') stack.push([t.value, depth]);
    else if (t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection') {
      if (depth + 1 > deepest && (deepest = depth + 1) > limit) return deepest;
      for (const item of t.items) stack.push([item.key, depth + 1], [item.value, depth + 1]);
    }
  }
  return deepest;
}

function where(lines: LineCounter, offset: number): string {
  const { line, col } = lines.linePos(offset);
  return `line ${line}, column ${col}: `;
}

/** The library's message, made plainer where it can name what it found. */
function describe(problem: YAMLError, doc: Document.Parsed, yaml: Yaml): string {
  if (problem.code === 'DUPLICATE_KEY') {
    let key: string | undefined;
    yaml.visit(doc, {
      Pair(_, pair) {
        if (yaml.isScalar(pair.key) && pair.key.range?.[0] === problem.pos[0]) {
          key = String(pair.key.value);
          return yaml.visit.BREAK;
        }
        return undefined;
      },
    });
    return `duplicate key${key === undefined ? '' : ` "${key}"`}: each key may appear once`;
  }
  if (problem.code === 'TAG_RESOLVE_FAILED') return `${problem.message}: tags are not allowed, every value is read as the text written`;
  if (problem.code === 'NON_STRING_KEY') return 'a key must be a name, not a list or a map';
  return problem.message;
}

const STYLES: Partial<Record<string, ScalarSource['style']>> = { PLAIN: 'plain', QUOTE_SINGLE: 'single', QUOTE_DOUBLE: 'double', BLOCK_LITERAL: 'block', BLOCK_FOLDED: 'block' };

/** Tags that change nothing under the failsafe schema: `!`, `!!str`, `!!seq`, `!!map`. */
const PLAIN_TAGS = new Set(['!', 'tag:yaml.org,2002:str', 'tag:yaml.org,2002:seq', 'tag:yaml.org,2002:map']);

/**
 * Where a map's key or a list's item is written: its nodes, kept so its line
 * and scalar source are worked out only when a caller asks (most values are
 * never asked about). `value` is an alias's anchor already: what it stands
 * for is written there.
 */
interface ItemNodes {
  key: Node | null | undefined;
  value: Node | null | undefined;
}

/**
 * Plain values from the document's nodes. Aliases are refused (never
 * expanded, so no "billion laughs"), unless `maxAliasValues` allows copies.
 */
function toValues(doc: Document.Parsed, lines: LineCounter, yaml: Yaml, fail: (why: string) => ContentTrustError, bounds: { maxDepth: number; maxAliasValues: number }): YamlDocument {
  const positions = new WeakMap<object, { node: Node; items: Map<string | number, ItemNodes> }>();
  const lineOf = (node: Node | null | undefined): number => lines.linePos(node?.range?.[0] ?? 0).line;
  const anchors = new Map<string, Node>();
  // Each alias stands for the anchor of that name before it in the document, bound when the alias is first
  // met (outside any copy, in document order): a copy made later, after a name was anchored again, keeps it.
  const aliasTargets = new WeakMap<Node, Node>();
  const aliasTarget = (alias: Node & { source: string }): Node | undefined => aliasTargets.get(alias) ?? anchors.get(alias.source);
  let copied = 0;
  // The alias is resolved now: the anchor a name stands for depends on where in the document it is read.
  const position = (node: Node | null | undefined, valueNode: Node | null | undefined): ItemNodes => ({ key: node, value: yaml.isAlias(valueNode) ? aliasTarget(valueNode) : valueNode });
  const scalarOf = (target: Node | null | undefined): ScalarSource | undefined => {
    const style = yaml.isScalar(target) && target.range ? STYLES[target.type ?? ''] : undefined;
    return style && yaml.isScalar(target) && target.range ? { start: target.range[0], end: target.range[1], line: lineOf(target), style } : undefined;
  };
  // `copy`: -1 outside any alias; else how deep the copy being made nests.
  const convert = (node: Node | null | undefined, depth: number, copy: number): YamlValue => {
    if (node === null || node === undefined) return null;
    if (copy >= 0 && ++copied > bounds.maxAliasValues) throw fail(`${where(lines, node.range?.[0] ?? 0)}aliases expand to more than ${bounds.maxAliasValues} values: write the values out`);
    if (depth > bounds.maxDepth) throw fail(`${where(lines, node.range?.[0] ?? 0)}nests lists and maps more than ${bounds.maxDepth} deep (through aliases)`);
    if (yaml.isAlias(node)) {
      if (bounds.maxAliasValues === 0) throw fail(`${where(lines, node.range?.[0] ?? 0)}an alias (*${node.source}) is not allowed: write the value out`);
      const target = aliasTarget(node);
      if (target && copy < 0) aliasTargets.set(node, target);
      if (!target) throw fail(`${where(lines, node.range?.[0] ?? 0)}the alias *${node.source} names no anchor (&${node.source}) before it`);
      return convert(target, depth, Math.max(copy, 0));
    }
    // The library resolves YAML 1.1's binary, set, omap, pairs and timestamp tags under any schema, without a warning.
    if (node.tag !== undefined && !PLAIN_TAGS.has(node.tag)) throw fail(`${where(lines, node.range?.[0] ?? 0)}the tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed: tags are not allowed, every value is read as the text written`);
    // Anchors are recorded in document order, never from inside a copy (which would rebind a name to an earlier node).
    if (copy < 0 && node.anchor) anchors.set(node.anchor, node);
    if (yaml.isScalar(node)) {
      // An empty plain scalar is an empty value (`key:`); a quoted "" stays a string.
      const text = String(node.value);
      return text === '' && node.type === 'PLAIN' ? null : text;
    }
    const items = new Map<string | number, ItemNodes>();
    if (yaml.isSeq(node)) {
      const list: YamlValue[] = [];
      positions.set(list, { node, items });
      node.items.forEach((item, i) => {
        items.set(i, position(item as Node, item as Node));
        list.push(convert(item as Node, depth + 1, copy));
      });
      return list;
    }
    if (yaml.isMap(node)) {
      const map = Object.create(null) as YamlMap;
      positions.set(map, { node, items });
      const merged: YamlMap[] = [];
      for (const pair of node.items) {
        // stringKeys and uniqueKeys have made every key a distinct scalar.
        const key = String((pair.key as { value: unknown }).value);
        const value = convert(pair.value as Node | null, depth + 1, copy);
        if (key === '<<' && bounds.maxAliasValues > 0) {
          const sources = Array.isArray(value) ? value : [value];
          if (!sources.every((s) => isMap(s))) throw fail(`${where(lines, (pair.key as Node).range?.[0] ?? 0)}a merge key (<<) takes a map or a list of maps`);
          merged.push(...sources);
          continue;
        }
        items.set(key, position(pair.key as Node, pair.value as Node | null));
        map[key] = value;
      }
      // YAML's merge: keys written in the map win, then the first map given.
      for (const source of merged) {
        for (const key of Object.keys(source)) {
          if (Object.hasOwn(map, key)) continue;
          map[key] = source[key]!;
          const from = positions.get(source)?.items.get(key);
          if (from) items.set(key, from);
        }
      }
      return map;
    }
    return null;
  };
  const value = convert(doc.contents, 0, -1);
  return {
    value,
    line: (container, at) => {
      const p = positions.get(container);
      if (!p) return undefined;
      if (at === undefined) return lineOf(p.node);
      const item = p.items.get(at);
      return item && lineOf(item.key);
    },
    scalar: (container, at) => {
      const item = positions.get(container)?.items.get(at);
      return item && scalarOf(item.value);
    },
  };
}

/** A map's value for `key`, or null when the key is absent or its value empty; never one inherited. */
export function entry(map: YamlMap, key: string): YamlValue {
  return own(map, key) ?? null;
}
