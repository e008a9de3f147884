#!/usr/bin/env node
// Checks that the programs the real-stack tests run are on PATH and installs
// the Debian packages that provide them when some are missing (as root), or
// prints the exact install command (otherwise). Plain ESM; Node 20 or newer.
//
//   node scripts/ensure-deps.mjs           check, install what is missing
//   node scripts/ensure-deps.mjs --check   check only; exit 1 if anything is missing
//
// PostgreSQL is needed by the production-shaped stack only (notary-server and
// notary-signer on PostgreSQL); the default stack uses memory storage.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';

/** Each program and the Debian package(s) that provide it, best first. */
export const REQUIREMENTS = [
  { command: 'notary', packages: ['notary'] },
  { command: 'notary-server', packages: ['notary'] },
  { command: 'notary-signer', packages: ['notary'] },
  { command: 'docker-registry', packages: ['docker-registry'] },
  { command: 'skopeo', packages: ['skopeo'] },
  { command: 'openssl', packages: ['openssl'] },
  // The production stack (test/stack/production.ts) runs a private PostgreSQL
  // cluster; Debian keeps initdb/postgres off PATH, pg_ctlcluster marks the install.
  { command: 'pg_ctlcluster', packages: ['postgresql'] },
  { command: 'psql', packages: ['postgresql-client'] },
  { command: 'runuser', packages: ['util-linux'] },
  // A real forward proxy for the proxy tests (test/stack/http-proxy.ts runs it
  // in the foreground with its own config; the package's service is not used).
  { command: 'tinyproxy', packages: ['tinyproxy'] },
  // Keys on a PKCS#11 token (test/integration/hsm.itg.test.ts): SoftHSM is the
  // token, OpenSC's pkcs11-tool the program the product drives it through.
  { command: 'softhsm2-util', packages: ['softhsm2'] },
  { command: 'pkcs11-tool', packages: ['opensc'] },
  // The CLI alone is enough (docker trust works without a daemon). Newer
  // releases ship it as docker-cli; bookworm only has it inside docker.io.
  { command: 'docker', packages: ['docker-cli', 'docker.io'] },
];

/** Absolute path of an executable `command` on PATH, or undefined. */
export function which(command, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Requirements whose command is not on PATH. */
export function findMissing(requirements = REQUIREMENTS) {
  return requirements.filter((r) => which(r.command) === undefined);
}

/** True when apt knows an installable version of `pkg`. */
function hasCandidate(pkg) {
  const result = spawnSync('apt-cache', ['policy', pkg], { encoding: 'utf8' });
  if (result.status !== 0) return false;
  const match = /^\s*Candidate:\s*(\S+)/m.exec(result.stdout);
  return match !== null && match[1] !== '(none)';
}

/** The Debian packages to install for `missing`, choosing the first available alternative. */
export function packagesFor(missing, available = hasCandidate) {
  const chosen = new Set();
  for (const requirement of missing) {
    const [first, ...rest] = requirement.packages;
    chosen.add([first, ...rest].find((pkg) => available(pkg)) ?? requirement.packages.at(-1));
  }
  return [...chosen].sort();
}

export function installCommand(packages) {
  return `DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${packages.join(' ')}`;
}

let aptUpdated = false;

function runInherit(command, args, env = process.env, cwd = undefined) {
  const result = spawnSync(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env, cwd });
  if (result.error) throw new Error(`${command}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/**
 * Makes sure every requirement is on PATH.
 * Returns { ok, missing (commands still missing), installed (packages), command (when not root) }.
 */
export function ensureDeps({ install = true, log = (line) => console.error(line) } = {}) {
  const missing = findMissing();
  if (missing.length === 0) return { ok: true, missing: [], installed: [] };
  log(`ensure-deps: missing ${missing.map((r) => r.command).join(', ')}`);
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!install || !isRoot) {
    const packages = packagesFor(missing);
    const command = `sudo apt-get update && sudo ${installCommand(packages)}`;
    log(`ensure-deps: install them with:\n  ${command}`);
    return { ok: false, missing: missing.map((r) => r.command), installed: [], command };
  }
  if (!aptUpdated) {
    runInherit('apt-get', ['update']);
    aptUpdated = true;
  }
  const packages = packagesFor(missing);
  log(`ensure-deps: ${installCommand(packages)}`);
  runInherit('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { ...process.env, DEBIAN_FRONTEND: 'noninteractive' });
  stopServicesStarted(packages, log);
  const still = findMissing();
  if (still.length > 0) log(`ensure-deps: still missing after install: ${still.map((r) => r.command).join(', ')}`);
  return { ok: still.length === 0, missing: still.map((r) => r.command), installed: packages };
}

/** Packages whose install starts a system service the tests never use (they run their own, on loopback). */
const SERVICES = { tinyproxy: 'tinyproxy' };

/** Stops the system services that installing `packages` started (best effort: no init system, nothing to stop). */
function stopServicesStarted(packages, log) {
  for (const pkg of packages) {
    const service = SERVICES[pkg];
    if (!service) continue;
    const stopped = spawnSync('sh', ['-c', `systemctl stop ${service} 2>/dev/null || service ${service} stop 2>/dev/null`], { stdio: 'ignore' });
    if (stopped.status === 0) log(`ensure-deps: stopped the ${service} service the package started (the tests start their own)`);
  }
}

/** Whether the `docker` first on PATH still has `docker trust` (docker 29 moved it out of the CLI). */
export function hasDockerTrust(path = process.env.PATH) {
  return spawnSync('docker', ['trust', 'key', '--help'], { stdio: 'ignore', env: { ...process.env, PATH: path } }).status === 0;
}

/**
 * The tests drive `docker trust` as the reference peer. When the machine's
 * docker CLI no longer has it, Debian's docker CLI package is unpacked (not
 * installed) into .tmp/docker-trust and put first on this process's PATH, so
 * every program the tests start finds a docker with `trust`.
 */
export function ensureDockerTrust({ log = (line) => console.error(line) } = {}) {
  if (which('docker') && hasDockerTrust()) return { ok: true };
  const root = join(fileURLToPath(new URL('..', import.meta.url)), '.tmp', 'docker-trust');
  const bin = join(root, 'usr', 'bin');
  const withBin = `${bin}${delimiter}${process.env.PATH ?? ''}`;
  if (!(existsSync(join(bin, 'docker')) && hasDockerTrust(withBin))) {
    log("ensure-deps: the docker CLI here has no `docker trust`; unpacking Debian's docker CLI into .tmp/docker-trust");
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    const candidate = () => ['docker-cli', 'docker.io'].find((p) => hasCandidate(p));
    let pkg = candidate();
    if (!pkg && isRoot && !aptUpdated) {
      runInherit('apt-get', ['update']);
      aptUpdated = true;
      pkg = candidate();
    }
    if (!pkg) {
      log('ensure-deps: apt has no docker-cli or docker.io package (run apt-get update?)');
      return { ok: false };
    }
    runInherit('apt-get', ['download', pkg], { ...process.env }, root);
    const deb = readdirSync(root).find((f) => f.endsWith('.deb'));
    if (!deb) return { ok: false };
    runInherit('dpkg-deb', ['-x', join(root, deb), root]);
    if (!hasDockerTrust(withBin)) {
      log(`ensure-deps: ${pkg}'s docker has no \`docker trust\` either`);
      return { ok: false };
    }
  }
  process.env.PATH = withBin;
  return { ok: true };
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  try {
    const result = ensureDeps({ install: !process.argv.includes('--check') });
    if (result.ok) console.error(`ensure-deps: ok (${REQUIREMENTS.map((r) => r.command).join(', ')})`);
    process.exitCode = result.ok ? 0 : 1;
  } catch (err) {
    console.error(`ensure-deps: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
