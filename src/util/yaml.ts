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
 * The library is loaded on the first call, so runs that read no YAML never
 * load it (the bundle keeps it in a chunk of its own).
 */
import type { CST, Document, LineCounter, Node, YAMLError } from 'yaml';
import type { ContentTrustError } from '../errors.ts';

/** A parsed value: strings, null for an empty value, lists, and maps without prototypes. */
export type YamlValue = string | null | YamlValue[] | YamlMap;
export type YamlMap = { [key: string]: YamlValue };

export interface YamlLimits {
  /** Refuse larger input (bytes, or UTF-8 bytes of a string). Default: 1 MiB. */
  maxBytes?: number;
  /** Refuse deeper nesting of lists and maps. Default: 32. */
  maxDepth?: number;
  /** Refuse more documents (`---` starts one). Default: 1. */
  maxDocuments?: number;
}

export const DEFAULT_YAML_LIMITS: Required<YamlLimits> = { maxBytes: 1024 * 1024, maxDepth: 32, maxDocuments: 1 };

export interface YamlDocument {
  value: YamlValue;
  /**
   * The 1-based line of a map's key or a list's item (`at`), or of the map or
   * list itself, for messages; undefined for anything not from this document.
   */
  line(container: YamlMap | YamlValue[], at?: string | number): number | undefined;
}

// The failsafe schema makes every scalar a string; merge keys (`<<`) stay ordinary keys.
const OPTIONS = { schema: 'failsafe', version: '1.2', merge: false, uniqueKeys: true, stringKeys: true, strict: true, prettyErrors: false } as const;

/**
 * Parses `input` within `limits`; `fail(why)` makes the caller's error (its
 * code and subject). `why` starts with the line when one is known.
 */
export async function parseYaml(input: Buffer | string, fail: (why: string) => ContentTrustError, limits: YamlLimits = {}): Promise<YamlDocument[]> {
  const { maxBytes, maxDepth, maxDocuments } = { ...DEFAULT_YAML_LIMITS, ...limits };
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
    return toValues(doc, lines, yaml, fail);
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

/** Plain values from the document's nodes; aliases are refused (never expanded, so no "billion laughs"). */
function toValues(doc: Document.Parsed, lines: LineCounter, yaml: Yaml, fail: (why: string) => ContentTrustError): YamlDocument {
  const positions = new WeakMap<object, { line: number; items: Map<string | number, number> }>();
  const lineOf = (node: Node | null | undefined): number => lines.linePos(node?.range?.[0] ?? 0).line;
  const convert = (node: Node | null | undefined): YamlValue => {
    if (node === null || node === undefined) return null;
    if (yaml.isAlias(node)) throw fail(`${where(lines, node.range?.[0] ?? 0)}an alias (*${node.source}) is not allowed: write the value out`);
    if (yaml.isScalar(node)) {
      // An empty plain scalar is an empty value (`key:`); a quoted "" stays a string.
      const text = String(node.value);
      return text === '' && node.type === 'PLAIN' ? null : text;
    }
    const items = new Map<string | number, number>();
    if (yaml.isSeq(node)) {
      const list: YamlValue[] = [];
      positions.set(list, { line: lineOf(node), items });
      node.items.forEach((item, i) => {
        items.set(i, lineOf(item as Node));
        list.push(convert(item as Node));
      });
      return list;
    }
    if (yaml.isMap(node)) {
      const map = Object.create(null) as YamlMap;
      positions.set(map, { line: lineOf(node), items });
      for (const pair of node.items) {
        // stringKeys and uniqueKeys have made every key a distinct scalar.
        const key = String((pair.key as { value: unknown }).value);
        items.set(key, lineOf(pair.key as Node));
        map[key] = convert(pair.value as Node | null);
      }
      return map;
    }
    return null;
  };
  const value = convert(doc.contents);
  return {
    value,
    line: (container, at) => {
      const p = positions.get(container);
      return at === undefined ? p?.line : p?.items.get(at);
    },
  };
}
