/**
 * Release hygiene (issue 10): the licence and the bundled packages' licences,
 * the Marketplace's limits on action.yml, actions pinned by commit SHA,
 * Dependabot, which workflows live where, what the workflows do (these
 * assertions are change detectors: they name the steps that matter), the
 * release workflow's changelog notes, and that the docs link to files that
 * exist.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { bundledPackages, options } from '../../scripts/build.mjs';
import { releaseNotes } from '../../scripts/release-notes.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const text = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const yml = (path: string) => parse(text(path)) as Record<string, unknown>;
const workflowFiles = (dir: string) =>
  readdirSync(join(ROOT, dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

/** The examples' stand-in for this action as users reference it; its owner is theirs to fill in. */
const THIS_ACTION_PUBLISHED = 'org/content-trust-action@v1';

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; id?: string; name?: string };
type Job = { permissions?: Record<string, string>; steps: Step[]; needs?: string | string[] };
const jobs = (path: string) => yml(path).jobs as Record<string, Job>;
const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

describe('licence', () => {
  it('LICENSE is the MIT licence, as package.json says', () => {
    const licence = text('LICENSE');
    assert.match(licence, /^MIT License\n\nCopyright \(c\) 2026 content-trust-action contributors\n/);
    assert.match(licence, /Permission is hereby granted, free of charge/);
    assert.match(licence, /THE SOFTWARE IS PROVIDED "AS IS"/);
    assert.equal((JSON.parse(text('package.json')) as { license: string }).license, 'MIT');
  });

  it('dist/licenses.txt lists every package the bundle holds, with its version, licence and licence text', async () => {
    const result = await build({ ...options(join(ROOT, '.tmp/hygiene-dist')), write: false, metafile: true });
    const bundled = bundledPackages(result.metafile);
    assert.ok(
      bundled.some((p) => p.name === '@actions/core'),
      'the metafile was read: @actions/core is bundled',
    );
    const listed = text('dist/licenses.txt');
    const entries = [...listed.matchAll(/^Package: (.+)\nVersion: (.+)\nLicense: (.+)\n/gm)].map((m) => `${m[1]}@${m[2]}`);
    for (const p of bundled) {
      assert.ok(entries.includes(`${p.name}@${p.version}`), `dist/licenses.txt does not list ${p.name} ${p.version}: run npm run build`);
      assert.notEqual(p.license, 'UNKNOWN', `${p.name} declares no licence in its package.json`);
      assert.ok(p.files.length > 0 || listed.includes(`ships no licence file; its package.json declares ${p.license}`), `${p.name}: no licence text`);
    }
    assert.deepEqual(
      entries,
      bundled.map((p) => `${p.name}@${p.version}`),
      'dist/licenses.txt lists packages the bundle does not hold, or not sorted',
    );
    assert.match(listed, /see LICENSE\./);
  });
});

describe('action.yml', () => {
  it('fits the Marketplace: description at most 125 characters, a name, and branding', () => {
    const action = yml('action.yml') as { name: string; description: string; branding: { icon: string; color: string } };
    assert.ok(action.description.length <= 125, `description is ${action.description.length} characters`);
    assert.ok(action.description.length > 40, 'description says something');
    assert.ok(action.name.length > 0 && action.name.length <= 100);
    assert.ok(action.branding.icon && action.branding.color);
  });
});

describe('pinned actions', () => {
  /** Every `uses:` reference in a workflow's text, with its line and trailing comment. */
  function uses(source: string): { line: number; ref: string; comment: string }[] {
    const found: { line: number; ref: string; comment: string }[] = [];
    source.split('\n').forEach((line, i) => {
      const m = /^\s*(?:- )?uses:\s*(\S+)\s*(#.*)?$/.exec(line);
      if (m) found.push({ line: i + 1, ref: m[1]!, comment: (m[2] ?? '').trim() });
    });
    return found;
  }

  /** Why a reference is not acceptably pinned, or undefined when it is (or needs no pin). */
  function unpinned(ref: string, comment: string): string | undefined {
    if (ref.startsWith('./') || ref.startsWith('docker://') || ref === THIS_ACTION_PUBLISHED) return undefined;
    if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+(?:\/[\w./-]+)?@[0-9a-f]{40}$/.test(ref)) return 'not pinned by a full 40-hex commit SHA';
    if (!/^# v\d+\.\d+\.\d+$/.test(comment)) return 'no "# vX.Y.Z" comment naming the version';
    return undefined;
  }

  const paths = ['.github/workflows', 'examples/workflows'].flatMap((d) => workflowFiles(d).map((f) => `${d}/${f}`));

  it('every third-party action in the workflows and examples is pinned by commit SHA, with its version in a comment', () => {
    const bad: string[] = [];
    let pinned = 0;
    for (const path of paths) {
      for (const u of uses(text(path))) {
        const why = unpinned(u.ref, u.comment);
        if (why) bad.push(`${path}:${u.line}: ${u.ref} ${u.comment}: ${why}`);
        else if (/@[0-9a-f]{40}$/.test(u.ref)) pinned++;
      }
    }
    assert.deepEqual(bad, []);
    assert.ok(pinned >= 10, `found only ${pinned} pinned actions`);
  });

  it('an action is pinned to the same commit and version everywhere', () => {
    const seen = new Map<string, string>();
    for (const path of paths) {
      for (const u of uses(text(path))) {
        const m = /^([^@]+)@([0-9a-f]{40})$/.exec(u.ref);
        if (!m) continue;
        const pin = `${m[2]} ${u.comment}`;
        assert.equal(seen.get(m[1]!) ?? pin, pin, `${path}:${u.line}: ${m[1]} pinned differently elsewhere`);
        seen.set(m[1]!, pin);
      }
    }
  });

  it('the pin check refuses tags, branches, short SHAs and a missing version comment (the check can fail)', () => {
    assert.match(unpinned('actions/checkout@v4', '') ?? '', /40-hex/);
    assert.match(unpinned('actions/checkout@main', '') ?? '', /40-hex/);
    assert.match(unpinned('actions/checkout@3d3c42e', '# v7.0.1') ?? '', /40-hex/);
    assert.match(unpinned('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', '') ?? '', /comment/);
    assert.match(unpinned('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', '# v7') ?? '', /comment/);
    assert.equal(unpinned('actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1', '# v7.0.1'), undefined);
    assert.equal(unpinned('github/codeql-action/init@3d3c42e5aac5ba805825da76410c181273ba90b1', '# v4.1.0'), undefined);
    assert.equal(unpinned('./', ''), undefined);
    assert.equal(unpinned('docker://alpine:3.20', ''), undefined);
    assert.deepEqual(uses('    steps:\n      - uses: a/b@c # v1.2.3\n        with:\n          x: 1\n'), [{ line: 2, ref: 'a/b@c', comment: '# v1.2.3' }]);
  });
});

describe('dependabot', () => {
  it('updates npm packages and the actions of the workflows and examples, weekly', () => {
    const config = yml('.github/dependabot.yml') as { version: number; updates: { 'package-ecosystem': string; directory?: string; directories?: string[]; schedule: { interval: string } }[] };
    assert.equal(config.version, 2);
    const by = new Map(config.updates.map((u) => [u['package-ecosystem'], u]));
    assert.deepEqual([...by.keys()].sort(), ['github-actions', 'npm']);
    for (const u of config.updates) assert.equal(u.schedule.interval, 'weekly');
    assert.equal(by.get('npm')!.directory, '/');
    assert.deepEqual(by.get('github-actions')!.directories, ['/', '/examples/workflows']);
  });
});

describe('where the workflows live', () => {
  it(".github/workflows holds only this repository's own CI and release", () => {
    assert.deepEqual(workflowFiles('.github/workflows'), ['check-dist.yml', 'ci.yml', 'release.yml']);
    for (const f of workflowFiles('.github/workflows')) {
      assert.ok(!text(`.github/workflows/${f}`).includes(THIS_ACTION_PUBLISHED), `${f} runs the published action: an example belongs in examples/workflows`);
    }
  });

  it('examples/workflows holds the examples, which run the action as users do (never `uses: ./`)', () => {
    assert.deepEqual(workflowFiles('examples/workflows'), ['sign-release.yml', 'verify-pr.yml']);
    for (const f of workflowFiles('examples/workflows')) {
      const source = text(`examples/workflows/${f}`);
      assert.doesNotMatch(source, /uses: \.\//, `${f} runs the action from a checkout`);
      assert.ok(source.includes(`uses: ${THIS_ACTION_PUBLISHED}`), `${f} does not show uses: ${THIS_ACTION_PUBLISHED}`);
      assert.match(source, /^# Example/, `${f} does not say it is an example`);
    }
  });
});

describe('what the workflows do (change detectors)', () => {
  it('the release example signs what build-push-action pushed, from its metadata output, after login, metadata, QEMU and Buildx', () => {
    const steps = jobs('examples/workflows/sign-release.yml').sign!.steps;
    const at = (prefix: string) => steps.findIndex((s) => s.uses?.startsWith(prefix));
    const order = ['docker/login-action@', 'docker/metadata-action@', 'docker/setup-qemu-action@', 'docker/setup-buildx-action@', 'docker/build-push-action@', THIS_ACTION_PUBLISHED].map(at);
    assert.ok(
      order.every((p, i) => p >= 0 && (i === 0 || p > order[i - 1]!)),
      `order in sign-release.yml: ${order.join(',')}`,
    );
    const build = steps[order[4]!]! as { id?: string; with?: Record<string, unknown> };
    assert.match(String(build.with!.platforms), /,/, 'a multi-platform build');
    const sign = steps[order[5]!]!;
    assert.equal(sign.with!.mode, 'sign');
    assert.equal(sign.with!.metadata, `\${{ steps.${build.id}.outputs.metadata }}`);
    assert.equal(sign.with!.images, undefined, 'the metadata names the tags');
    assert.equal(sign.with!['root-keys'], '${{ vars.DCT_ROOT_KEYS }}');
  });

  it('the pull-request example runs on pull_request and verifies the Dockerfile and tags under the policy', () => {
    const workflow = yml('examples/workflows/verify-pr.yml') as { on: Record<string, unknown> };
    assert.ok('pull_request' in workflow.on);
    const mine = jobs('examples/workflows/verify-pr.yml').verify!.steps.filter((s) => s.uses === THIS_ACTION_PUBLISHED);
    assert.deepEqual(
      mine.map((s) => s.with!.mode),
      ['verify', 'verify'],
    );
    assert.equal(mine[0]!.with!.dockerfile, 'Dockerfile');
    for (const s of mine) assert.equal(s.with!.policy, '.github/content-trust-policy.yml');
    assert.ok(existsSync(join(ROOT, '.github/content-trust-policy.yml')) && existsSync(join(ROOT, 'examples/Dockerfile')));
  });

  it('ci runs npm test and the action through `uses: ./`; check-dist builds and fails on any change under dist/', () => {
    const ci = jobs('.github/workflows/ci.yml');
    assert.match(runs(ci.test!), /^npm test$/m);
    assert.ok(ci.e2e!.steps.filter((s) => s.uses === './').length >= 3);
    const dist = runs(jobs('.github/workflows/check-dist.yml')['check-dist']!);
    assert.match(dist, /^npm run package$/m);
    assert.match(dist, /git status --porcelain --untracked-files=all -- dist\//);
  });

  it('every workflow starts read-only; only the release job may write, and only contents', () => {
    for (const path of workflowFiles('.github/workflows')
      .map((f) => `.github/workflows/${f}`)
      .concat(workflowFiles('examples/workflows').map((f) => `examples/workflows/${f}`))) {
      assert.deepEqual(yml(path).permissions, { contents: 'read' }, `${path}: top-level permissions`);
      for (const [name, job] of Object.entries(jobs(path))) {
        const writes = Object.entries(job.permissions ?? {}).filter(([, v]) => v === 'write');
        if (path === '.github/workflows/release.yml' && name === 'release') assert.deepEqual(writes, [['contents', 'write']]);
        else assert.deepEqual(writes, [], `${path}: job ${name} writes`);
      }
    }
  });

  it('release: on a version input or a vX.Y.Z tag, checks (typecheck, unit tests, dist/), then tags, moves the major tag and publishes the notes', () => {
    const workflow = yml('.github/workflows/release.yml') as { on: { workflow_dispatch: { inputs: { version: { required: boolean } } }; push: { tags: string[] } } };
    assert.equal(workflow.on.workflow_dispatch.inputs.version.required, true);
    assert.deepEqual(workflow.on.push.tags, ['v[0-9]+.[0-9]+.[0-9]+']);
    const { check, release } = jobs('.github/workflows/release.yml');
    const checks = runs(check!);
    const order = ['npm ci', 'npm run typecheck', 'npm test -- unit', 'npm run build', 'git status --porcelain --untracked-files=all -- dist/'].map((s) => checks.indexOf(s));
    assert.ok(
      order.every((p, i) => p >= 0 && (i === 0 || p > order[i - 1]!)),
      `order of the checks: ${order.join(',')}`,
    );
    assert.match(checks, /node scripts\/release-notes\.mjs "\$VERSION"/);
    assert.match(checks, /merge-base --is-ancestor HEAD origin\/main/);
    assert.equal(release!.needs, 'check');
    const steps = runs(release!);
    assert.match(steps, /git tag -a "\$VERSION"/);
    assert.match(steps, /a released version is never moved/);
    assert.match(steps, /merge-base --is-ancestor "\$previous" "\$commit"/);
    // Both refusals come before anything is pushed.
    assert.ok(steps.indexOf('only moves forward') < steps.indexOf('git push'), 'a tag is pushed before the checks');
    assert.match(steps, /git tag -fa "\$MAJOR"/);
    assert.match(steps, /git push --force origin "refs\/tags\/\$MAJOR"/);
    assert.match(steps, /gh release create "\$VERSION" --verify-tag .*--notes-file/);
    // Inputs reach the scripts through env, never pasted into them.
    assert.doesNotMatch(checks + steps, /\$\{\{/);
  });
});

describe('scripts/release-notes.mjs', () => {
  const changelog = '# Changelog\n\n## [Unreleased]\n\n- next\n\n## [1.4.0] - 2026-05-01\n\n### Fixed\n- a fix\n\n## [1.3.0] - 2026-04-01\n\n- older\n\n## [1.2.0]\n';

  it("gives the version's section, up to the next heading, with or without the v", () => {
    assert.equal(releaseNotes(changelog, 'v1.4.0'), '### Fixed\n- a fix\n');
    assert.equal(releaseNotes(changelog, '1.3.0'), '- older\n');
    assert.equal(releaseNotes(changelog.replaceAll('\n', '\r\n'), 'v1.4.0'), '### Fixed\n- a fix\n');
  });

  it('gives nothing for a missing or empty section, or a version that only starts like one', () => {
    assert.equal(releaseNotes(changelog, 'v1.5.0'), undefined);
    assert.equal(releaseNotes(changelog, 'v1.2.0'), undefined);
    assert.equal(releaseNotes(changelog, 'v1.4'), undefined);
    assert.equal(releaseNotes('## [1.4.0.1] - 2026-01-01\n- x\n', 'v1.4.0'), undefined);
  });

  it("reads this repository's CHANGELOG.md", () => {
    assert.match(releaseNotes(text('CHANGELOG.md'), 'v0.1.0') ?? '', /Sign and verify with Docker Content Trust/);
  });
});

describe('docs', () => {
  it('every workflow or example path the docs name exists', () => {
    const docs = [
      'README.md',
      'DEVELOPING.md',
      'CHANGELOG.md',
      ...readdirSync(join(ROOT, 'docs'))
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const missing: string[] = [];
    for (const doc of docs) {
      for (const m of text(doc).matchAll(/(?:\.github\/workflows|examples)\/[\w./-]*\w/g)) {
        if (!existsSync(join(ROOT, m[0]))) missing.push(`${doc}: ${m[0]}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  it('README links the examples, the licence and docs/releasing.md', () => {
    const readme = text('README.md');
    for (const f of workflowFiles('examples/workflows')) assert.ok(readme.includes(`](examples/workflows/${f})`), `README does not link examples/workflows/${f}`);
    assert.ok(readme.includes('](LICENSE)') && readme.includes('](docs/releasing.md)'));
  });
});
