/**
 * The base images a Dockerfile's FROM lines name, for the `dockerfile`
 * input: line continuations (and the `# escape=` directive), global ARGs
 * (those before the first FROM) substituted with their defaults as the
 * builder does (`$A`, `${A}`, `${A:-x}`, `${A:+x}`), `--platform` and other
 * flags dropped, `AS name` stages and `scratch` left out, duplicates once.
 */
import { InputError } from '../errors.ts';
import { readUserFile } from '../util/file.ts';
import { digestOnlyName } from '../registry/reference.ts';

interface BaseImage {
  /** The reference as substituted, e.g. `node:24-slim` or `ghcr.io/org/base:1@sha256:…`. */
  image: string;
  /** 1-based line of the FROM instruction. */
  line: number;
}

interface DockerfileImages {
  images: BaseImage[];
  /** FROM lines pinned by digest only: immutable already, no tag for content trust to check. */
  digestOnly: BaseImage[];
}

/** A Dockerfile is small; this bound only stops a huge or endless file. */
const DOCKERFILE_MAX_BYTES = 1024 * 1024;

export function readDockerfile(path: string, baseDir: string): DockerfileImages {
  const label = { name: 'input dockerfile', fix: 'give Dockerfile paths relative to the repository root, and run actions/checkout before this step' };
  return parseDockerfile(readUserFile(path, label, { maxBytes: DOCKERFILE_MAX_BYTES, baseDir }), path);
}

export function parseDockerfile(text: string, source: string): DockerfileImages {
  const bad = (line: number, what: string) => new InputError('DOCKERFILE_INVALID', `dockerfile ${source} line ${line}: ${what}`);
  const escape = escapeChar(text);
  const args = new Map<string, string | undefined>();
  const stages = new Set<string>();
  const seen = new Set<string>();
  const out: DockerfileImages = { images: [], digestOnly: [] };
  let sawFrom = false;
  for (const { line, text: instr } of instructions(text, escape)) {
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(instr);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const rest = m[2]!.trim();
    if (keyword === 'ARG' && !sawFrom) {
      for (const decl of rest.split(/\s+/)) {
        const eq = decl.indexOf('=');
        const name = eq < 0 ? decl : decl.slice(0, eq);
        const value = eq < 0 ? undefined : unquote(substitute(decl.slice(eq + 1), args, () => bad(line, `ARG ${name} refers to an unset variable`)));
        args.set(name, value);
      }
      continue;
    }
    if (keyword !== 'FROM') continue;
    sawFrom = true;
    const words = rest.split(/\s+/).filter((w) => !w.startsWith('--'));
    if (words.length !== 1 && !(words.length === 3 && words[1]!.toUpperCase() === 'AS')) throw bad(line, `cannot read "FROM ${rest}" (expected FROM [--platform=…] image [AS name])`);
    const image = substitute(words[0]!, args, (name) => bad(line, `FROM uses $${name}, which no ARG before the first FROM gives a default: give it one (ARG ${name}=…) so the image can be checked`));
    if (!image) throw bad(line, 'FROM names no image');
    const earlierStage = stages.has(image.toLowerCase());
    if (words[2]) stages.add(words[2].toLowerCase());
    if (image.toLowerCase() === 'scratch' || earlierStage) continue;
    if (seen.has(image)) continue;
    seen.add(image);
    const entry = { image, line };
    if (digestOnlyName(image) !== undefined) out.digestOnly.push(entry);
    else out.images.push(entry);
  }
  if (!sawFrom) throw new InputError('DOCKERFILE_INVALID', `dockerfile ${source} has no FROM instruction`);
  return out;
}

/** The `# escape=` parser directive, if the file starts with one. */
function escapeChar(text: string): string {
  for (const raw of text.split(/\r?\n/)) {
    const m = /^#\s*([a-z]+)\s*=\s*(\S+)\s*$/i.exec(raw.trim());
    if (!m) break;
    if (m[1]!.toLowerCase() === 'escape' && (m[2] === '`' || m[2] === '\\')) return m[2];
  }
  return '\\';
}

/** Joins continuation lines; drops comments and blank lines. Heredoc bodies are not instructions but never start with FROM/ARG in practice. */
function* instructions(text: string, escape: string): Generator<{ line: number; text: string }> {
  const lines = text.split(/\r?\n/);
  let current = '';
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (!current && (!trimmed || trimmed.startsWith('#'))) continue;
    if (current && trimmed.startsWith('#')) continue; // comments inside a continued instruction
    if (!current) start = i + 1;
    if (trimmed.endsWith(escape)) {
      current += trimmed.slice(0, -1) + ' ';
      continue;
    }
    current += trimmed;
    yield { line: start, text: current };
    current = '';
  }
  if (current.trim()) yield { line: start, text: current };
}

/** Builder-style variable substitution; an unset variable without a default calls `unset`. */
function substitute(word: string, args: ReadonlyMap<string, string | undefined>, unset: (name: string) => Error): string {
  return word.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_all, braced: string | undefined, op: string | undefined, alt: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = args.get(name);
    const set = value !== undefined && value !== '';
    if (op === '-') return set ? value : alt!;
    if (op === '+') return set ? alt! : '';
    if (value === undefined) throw unset(name);
    return value;
  });
}

function unquote(s: string): string {
  return /^(".*"|'.*')$/.test(s) ? s.slice(1, -1) : s;
}
