/**
 * The `content-trust` package as people get it: `npm pack` of this
 * repository, installed with `npm install -g` into an empty prefix, offline
 * and with an empty npm cache (so it must need nothing beyond the tarball),
 * then the installed command run against the real stack. Needs `npm run
 * build` first, as every integration test.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pushImage } from '../stack/index.ts';
import { hex, useStack } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Debian's nodejs: older than engines.node on this machine (the test checks). */
const OLD_NODE = '/usr/bin/node';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function exec(file: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('the content-trust package: npm pack, npm install -g on a clean prefix, run', () => {
  const ctx = useStack();
  let dir: string;
  let bin: string;
  /** Node 24 (this test's) first on PATH: the command's `#!/usr/bin/env node` finds it. */
  let path: string;

  it('packs only dist/, README, LICENSE and package.json, and installs offline from the tarball alone', async () => {
    dir = await mkdtemp(join(ctx.stack.dir, 'package-'));
    path = `${dirname(process.execPath)}:/usr/bin:/bin`;
    // An empty cache and --offline: a dependency fetched from a registry would fail the install.
    const npmEnv = { PATH: path, HOME: dir, npm_config_cache: join(dir, 'npm-cache'), npm_config_update_notifier: 'false' };
    const packed = await exec('npm', ['pack', '--json', '--pack-destination', dir], npmEnv);
    assert.equal(packed.code, 0, packed.stderr);
    const [info] = JSON.parse(packed.stdout) as { name: string; filename: string; files: { path: string }[] }[];
    assert.equal(info!.name, 'content-trust');
    const files = info!.files.map((f) => f.path).sort();
    for (const f of files) assert.match(f, /^(dist\/.+\.js|dist\/licenses\.txt|README\.md|LICENSE|package\.json)$/, `the package ships ${f}`);
    // The bundle's third-party licences and the package's own travel with the code.
    for (const f of ['dist/cli.js', 'dist/index.js', 'dist/licenses.txt', 'LICENSE', 'package.json', 'README.md']) assert.ok(files.includes(f), `the package lacks ${f}`);

    const prefix = join(dir, 'prefix');
    const installed = await exec('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', join(dir, info!.filename)], npmEnv);
    assert.equal(installed.code, 0, `${installed.stderr}\n${installed.stdout}`);
    assert.deepEqual(await readdir(join(prefix, 'lib', 'node_modules')), ['content-trust'], 'nothing but the package itself was installed');
    bin = join(prefix, 'bin', 'content-trust');

    const help = await exec(bin, ['--help'], { PATH: path, HOME: dir });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: content-trust \[OPTIONS\] COMMAND\n/);
    assert.equal(help.stderr, '');
  });

  it('the installed command signs and verifies against the real stack (signer add, sign, verify; docker agrees)', async () => {
    const { stack, ci } = ctx;
    const gun = stack.gun('package/app');
    const image = await pushImage(stack, 'package/app:v1');
    // docker's configuration: its trust directory (with ci's key), CA and passphrase variables.
    const env = { ...stack.docker.env(), PATH: path };
    const run = async (args: string[]) => {
      const r = await exec(bin, args, env, dir);
      assert.equal(r.code, 0, `content-trust ${args.join(' ')}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
      return r;
    };
    assert.match((await run(['signer', 'add', '--key', ci.publicKeyPath, 'ci', gun])).stdout, new RegExp(`^Initialised ${gun}: .*, signer ci\\n$`));
    assert.match((await run(['sign', `${gun}:v1`])).stdout, new RegExp(`^Signed ${gun}:v1 ${image.digest} `));
    assert.match((await run(['verify', '--signer', 'ci', `${gun}:v1`])).stdout, new RegExp(`^${gun}:v1 ${image.digest} signed by ci `));
    const [inspected] = JSON.parse((await stack.docker.run(['trust', 'inspect', gun])).stdout);
    assert.deepEqual(inspected.SignedTags, [{ SignedTag: 'v1', Digest: hex(image.digest), Signers: ['ci'] }]);
  });

  it('an older Node.js than engines.node prints one line naming the version needed, and exits non-zero', async () => {
    const old = await exec(OLD_NODE, ['-p', 'process.versions.node'], {});
    const [major, minor] = old.stdout.trim().split('.').map(Number);
    assert.ok(major! < 22 || (major === 22 && minor! < 19), `${OLD_NODE} is ${old.stdout.trim()}: this test needs a Node.js older than 22.19.0 there`);
    // As a user whose PATH finds the old one: the command's `#!/usr/bin/env node` runs it.
    for (const r of [await exec(bin, ['--help'], { PATH: '/usr/bin:/bin', HOME: dir }), await exec(OLD_NODE, [bin, 'verify', 'x:1'], { PATH: '/usr/bin:/bin', HOME: dir })]) {
      assert.notEqual(r.code, 0);
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^content-trust needs Node\.js 22\.19\.0 or newer; this is Node\.js v\d+\.\d+\.\d+ \(\/usr\/bin\/node\)\. Install a current Node\.js LTS and run it again\.\n$/);
    }
  });
});
