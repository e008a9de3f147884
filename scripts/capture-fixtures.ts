#!/usr/bin/env node
// Captures Notary v1 trust data from the REAL programs for the unit tests:
//
//   node_modules/.bin/node scripts/capture-fixtures.ts
//
// It starts the test/stack harness (notary-server with its local signer,
// docker-registry, a throwaway CA), pushes two images, lets `docker trust
// signer add` initialise a repository with the signer "ci", signs tags with
// the notary CLI into targets/releases and targets/ci, and writes what the
// server serves to test/fixtures/notary/<scenario>/ byte for byte, with the
// (throwaway) delegation key, its passphrase and public key, scenario.json
// (GUN, tags, digests, key IDs, capture time) and a README.md.
//
// The notary CLI runs with TZ=America/New_York and docker with
// TZ=Asia/Kolkata, so delegation and root/targets expiries carry -05:00 and
// +05:30 offsets as Go writes them in a signer's local zone; the server keeps
// the machine's zone. Target names pin Go's HTML escaping of served bytes
// ("a&b<c>é", U+2028) and Go's UTF-8 byte order of map keys (U+E000 vs
// U+1F600). Re-running replaces the scenario directory with new keys.
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpsRequest } from '../test/stack/https.ts';
import { pushImage, REPOSITORY_PASSPHRASE, startStack, type Stack } from '../test/stack/index.ts';

const SCENARIO = 'docker-signer-add';
const ROLES = ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/ci'] as const;
const HTML_NAME = 'a&b<c>é';
const LINE_SEP_NAME = 'line\u2028sep';
const PRIVATE_USE_NAME = '\u{E000}';
const ASTRAL_NAME = '\u{1F600}';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'test', 'fixtures', 'notary', SCENARIO);

function versionOf(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      .trim()
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join('; ');
  } catch (e) {
    return `unknown (${(e as Error).message.split('\n')[0]})`;
  }
}

/** Runs fn with process.env.TZ set, so the CLI wrappers (which copy process.env per call) pass it on. */
async function withTz<T>(tz: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

async function fetchRole(stack: Stack, gun: string, role: string): Promise<Buffer> {
  const url = `${stack.notary.url}/v2/${gun}/_trust/tuf/${role}.json`;
  const res = await httpsRequest(url, { ca: stack.ca.caPem });
  if (res.status !== 200) throw new Error(`GET ${url}: HTTP ${res.status} ${res.body.toString('utf8').slice(0, 300)}`);
  return res.body;
}

/** role header → key file name (without .key) in docker's private key directory; the keys stay there. */
async function privateKeyIds(stack: Stack): Promise<Record<string, string>> {
  const dir = join(stack.docker.trustDir, 'private');
  const out: Record<string, string> = {};
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.key')).sort()) {
    const role = /^role: (.+)$/m.exec(await readFile(join(dir, file), 'utf8'))?.[1];
    if (role) out[role] = file.slice(0, -'.key'.length);
  }
  return out;
}

/** JSON string with everything outside printable ASCII as \u escapes (for the README). */
function asciiJson(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

async function main(): Promise<void> {
  const stack = await startStack();
  try {
    const gun = stack.gun('org/app');
    const one = await pushImage(stack, 'org/app:v1', { seed: 'fixture-one' });
    const two = await pushImage(stack, 'org/app:v2', { seed: 'fixture-two' });

    const key = await withTz('Asia/Kolkata', async () => {
      const k = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
      await stack.docker.signerAdd('ci', k.publicKeyPath, gun);
      return k;
    });

    const signed: Record<string, Record<string, string>> = { 'targets/releases': {}, 'targets/ci': {} };
    const add = async (role: 'targets/releases' | 'targets/ci', tag: string, image: typeof one) => {
      await stack.notaryCli.addhash(gun, tag, image.size, image.digest, { role });
      signed[role]![tag] = image.digest;
    };
    await withTz('America/New_York', async () => {
      // First publish: v1 in both roles, as `docker trust sign` would.
      await add('targets/releases', 'v1', one);
      await add('targets/ci', 'v1', one);
      await stack.notaryCli.publish(gun);
      // Second publish: latest differs between the roles (releases must win),
      // a tag only the ci role signed, and names that pin Go's escaping and ordering.
      await add('targets/releases', 'latest', two);
      await add('targets/ci', 'latest', one);
      await add('targets/ci', 'ci-only', two);
      await add('targets/releases', HTML_NAME, one);
      await add('targets/releases', LINE_SEP_NAME, two);
      await add('targets/ci', PRIVATE_USE_NAME, one);
      await add('targets/ci', ASTRAL_NAME, two);
      await stack.notaryCli.publish(gun);
    });
    const capturedAt = new Date();
    const keyFiles = await privateKeyIds(stack);

    await rm(outDir, { recursive: true, force: true });
    await mkdir(join(outDir, 'targets'), { recursive: true });
    const files: Record<string, { bytes: number }> = {};
    for (const role of ROLES) {
      const body = await fetchRole(stack, gun, role);
      await writeFile(join(outDir, `${role}.json`), body);
      files[`${role}.json`] = { bytes: body.length };
    }
    const keyFile = `${key.keyId}.key`;
    await writeFile(join(outDir, keyFile), key.privateKeyPem);
    await copyFile(key.publicKeyPath, join(outDir, 'ci.pub'));
    await writeFile(join(outDir, 'passphrase.txt'), REPOSITORY_PASSPHRASE);

    const versions = {
      'notary-server': versionOf('notary-server', ['-version']),
      notary: versionOf('notary', ['version']),
      'notary (Debian package)': versionOf('dpkg-query', ['-W', '-f=${Version}', 'notary']),
      docker: versionOf('docker', ['--version']),
      'docker-registry': versionOf('docker-registry', ['--version']),
      skopeo: versionOf('skopeo', ['--version']),
      node: process.version,
    };
    const scenario = {
      scenario: SCENARIO,
      capturedAt: capturedAt.toISOString(),
      gun,
      signer: 'ci',
      // Canonical IDs docker named its private key files by (the root and targets keys are not exported).
      privateKeyFileIds: keyFiles,
      delegationKey: { file: keyFile, canonicalId: key.keyId, passphraseFile: 'passphrase.txt', publicKeyFile: 'ci.pub' },
      images: {
        one: { digest: one.digest, size: one.size, mediaType: one.mediaType },
        two: { digest: two.digest, size: two.size, mediaType: two.mediaType },
      },
      signed,
      files,
      versions,
    };
    await writeFile(join(outDir, 'scenario.json'), `${JSON.stringify(scenario, null, 2)}\n`);
    await writeFile(join(outDir, 'README.md'), readme(scenario, await readFile(join(outDir, 'ci.pub'), 'utf8')));
    console.log(`wrote ${outDir}`);
  } finally {
    await stack.stop();
  }
}

function readme(s: { capturedAt: string; gun: string; delegationKey: { file: string; canonicalId: string }; signed: Record<string, Record<string, string>>; versions: Record<string, string> }, pub: string): string {
  const tagLines = Object.entries(s.signed).flatMap(([role, tags]) => Object.entries(tags).map(([t, d]) => `| ${role} | \`${asciiJson(t)}\` | \`${d.slice(0, 19)}…\` |`));
  return `# Fixture: ${SCENARIO}

Trust data served by a **real notary-server**, captured by \`scripts/capture-fixtures.ts\`
(\`node_modules/.bin/node scripts/capture-fixtures.ts\`) on ${s.capturedAt}.
Do not edit these files by hand: the unit tests check signatures and hashes over
their exact bytes. Re-running the script replaces them (new keys, new GUN port).

## How
1. \`test/stack\` started notary-server (memory storage, built-in *local* signer) and
   docker-registry on loopback with a throwaway CA; two OCI images were pushed with skopeo.
2. \`TZ=Asia/Kolkata docker trust key generate ci\`, then
   \`docker trust signer add --key ci.pub ci ${s.gun}\`: docker initialised the repository
   (root v1 with an \`ecdsa-x509\` root certificate, targets v2 with delegations
   \`targets/ci\` and \`targets/releases\`; server-held snapshot and timestamp keys).
3. \`TZ=America/New_York notary addhash … -r <role>\` with the same trust directory (so the
   docker-generated key signs), then \`notary publish\`, twice:
   first \`v1\` in both roles, then the rest below.
4. Every file was fetched with \`GET /v2/<gun>/_trust/tuf/<role>.json\` and written unchanged.

GUN: \`${s.gun}\` (the port was random).

| role | target name | digest |
|---|---|---|
${tagLines.join('\n')}

* \`"a&b<c>é"\` and \`"line\\u2028sep"\`: the server's bytes carry Go's HTML escaping
  (\`\\u0026\`, \`\\u003c\`, \`\\u003e\`, \`\\u2028\`) while the signature covers the raw characters.
* \`"\\ue000"\` and \`"\\ud83d\\ude00"\` (U+1F600): Go orders map keys by UTF-8 bytes (U+E000 first),
  JavaScript's default sort by UTF-16 units (U+1F600 first).
* \`latest\` is v2 in targets/releases but v1 in targets/ci; \`ci-only\` is only in targets/ci.

## Files
* \`root.json\`, \`timestamp.json\`, \`snapshot.json\`, \`targets.json\`, \`targets/releases.json\`, \`targets/ci.json\`: as served.
* \`${s.delegationKey.file}\`: the encrypted delegation key docker wrote to \`~/.docker/trust/private/\`;
  the file name is its canonical key ID. Passphrase in \`passphrase.txt\`. **Throwaway test key.**
* \`ci.pub\`: the public key \`docker trust key generate\` wrote:

\`\`\`
${pub.trimEnd()}
\`\`\`
* \`scenario.json\`: GUN, capture time, image digests and sizes, which tags each role signed,
  the names (canonical key IDs) of docker's root, targets and ci private key files, program versions.

## Program versions
${Object.entries(s.versions)
  .map(([k, v]) => `* ${k}: ${v}`)
  .join('\n')}

Timestamp expiry is 14 days after capture: tests use \`capturedAt\` as "now", never the clock.
`;
}

await main();
