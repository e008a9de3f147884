/**
 * The YAML subset a policy file needs, so the action carries no YAML
 * dependency: block mappings and sequences by indentation (spaces only),
 * `- key: value` items, flow sequences `[a, b]`, plain, 'single' and
 * "double" quoted scalars, `#` comments, `true`/`false`/`null` and integers.
 * Anchors, tags, multi-line scalars, flow mappings and multiple documents
 * are refused with the line number, never guessed at.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };

export class YamlError extends Error {
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
  }
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

export function parseYaml(source: string): YamlValue {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, i) => {
    const no = i + 1;
    if (/^\s*\t/.test(raw)) throw new YamlError(no, 'tabs are not allowed for indentation');
    const text = stripComment(raw, no).trimEnd();
    if (!text.trim()) return;
    if (/^(---|\.\.\.)\s*$/.test(text)) {
      if (lines.length > 0) throw new YamlError(no, 'only one YAML document is allowed');
      return;
    }
    lines.push({ no, indent: text.length - text.trimStart().length, text: text.trim() });
  });
  if (lines.length === 0) return null;
  const state = { i: 0 };
  const value = parseBlock(lines, state, lines[0]!.indent);
  if (state.i < lines.length) throw new YamlError(lines[state.i]!.no, `unexpected "${lines[state.i]!.text}" here (check the indentation)`);
  return value;
}

function parseBlock(lines: Line[], state: { i: number }, indent: number): YamlValue {
  const first = lines[state.i]!;
  return first.text.startsWith('- ') || first.text === '-' ? parseSequence(lines, state, indent) : parseMapping(lines, state, indent);
}

function parseSequence(lines: Line[], state: { i: number }, indent: number): YamlValue[] {
  const out: YamlValue[] = [];
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
    // A key at the sequence's indent ends a sequence written under a key at that same indent.
    if (!(line.text.startsWith('- ') || line.text === '-')) break;
    const rest = line.text.slice(1).trimStart();
    if (!rest) {
      state.i++;
      out.push(nested(lines, state, indent));
    } else if (matchEntry(rest)) {
      // "- key: value" opens a mapping whose keys sit where "key" sits.
      const inner = indent + (line.text.length - rest.length);
      lines[state.i] = { no: line.no, indent: inner, text: rest };
      out.push(parseMapping(lines, state, inner));
    } else {
      state.i++;
      out.push(scalarOrFlow(rest, line.no));
    }
  }
  return out;
}

function parseMapping(lines: Line[], state: { i: number }, indent: number): { [key: string]: YamlValue } {
  const out: { [key: string]: YamlValue } = {};
  while (state.i < lines.length) {
    const line = lines[state.i]!;
    if (line.indent < indent) break;
    if (line.indent > indent) throw new YamlError(line.no, 'unexpected indentation');
    const m = matchEntry(line.text);
    if (!m) throw new YamlError(line.no, `expected "key: value", got "${line.text}"`);
    const key = unquoteKey(m.key, line.no);
    if (Object.hasOwn(out, key)) throw new YamlError(line.no, `duplicate key "${key}"`);
    state.i++;
    out[key] = m.value ? scalarOrFlow(m.value, line.no) : nested(lines, state, indent, true);
  }
  return out;
}

/** The block under a key or an empty "-": deeper lines, or a sequence at the same indent under a key. */
function nested(lines: Line[], state: { i: number }, indent: number, underKey = false): YamlValue {
  const next = lines[state.i];
  if (!next) return null;
  if (next.indent > indent) return parseBlock(lines, state, next.indent);
  if (underKey && next.indent === indent && (next.text.startsWith('- ') || next.text === '-')) return parseSequence(lines, state, indent);
  return null;
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#\-?:,[\]{}&*!|>%@`][^:#]*?|-[^\s:#][^:#]*?)\s*:(?:\s+(.*))?$/;

function matchEntry(text: string): { key: string; value: string } | undefined {
  const m = KEY.exec(text);
  return m ? { key: m[1]!, value: (m[2] ?? '').trim() } : undefined;
}

function unquoteKey(key: string, no: number): string {
  const v = /^["']/.test(key) ? scalar(key, no) : key.trim();
  return String(v);
}

function scalarOrFlow(text: string, no: number): YamlValue {
  if (text.startsWith('[')) return flowSequence(text, no);
  if (text.startsWith('{')) throw new YamlError(no, 'flow mappings ({…}) are not supported: write the mapping as indented lines');
  if (/^[|>]/.test(text)) throw new YamlError(no, 'block scalars (| and >) are not supported');
  if (/^[&*!]/.test(text)) throw new YamlError(no, 'anchors, aliases and tags are not supported');
  return scalar(text, no);
}

function flowSequence(text: string, no: number): YamlValue[] {
  if (!text.endsWith(']')) throw new YamlError(no, 'a flow sequence must end on the same line with ]');
  const body = text.slice(1, -1).trim();
  if (!body) return [];
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of body) {
    if (quote) {
      current += c;
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
      current += c;
    } else if (c === ',') {
      items.push(current.trim());
      current = '';
    } else if (c === '[' || c === ']' || c === '{' || c === '}') {
      throw new YamlError(no, 'nested flow collections are not supported');
    } else {
      current += c;
    }
  }
  if (quote) throw new YamlError(no, 'unterminated quote in a flow sequence');
  items.push(current.trim());
  if (items.some((s) => !s)) throw new YamlError(no, 'empty item in a flow sequence');
  return items.map((s) => scalar(s, no));
}

function scalar(text: string, no: number): YamlValue {
  if (text.startsWith('"')) {
    if (!/^"(?:[^"\\]|\\.)*"$/.test(text)) throw new YamlError(no, `bad double-quoted string ${text}`);
    try {
      return JSON.parse(text) as string;
    } catch {
      throw new YamlError(no, `unsupported escape in ${text}`);
    }
  }
  if (text.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(text)) throw new YamlError(no, `bad single-quoted string ${text}`);
    return text.slice(1, -1).replace(/''/g, "'");
  }
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  return text;
}

/** Drops a `#` comment that starts the line or follows white space, outside quotes. */
function stripComment(line: string, no: number): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
    } else if ((c === '"' || c === "'") && (i === 0 || /[\s:[,-]/.test(line[i - 1]!))) {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  if (quote) throw new YamlError(no, 'unterminated quoted string (multi-line strings are not supported)');
  return line;
}
