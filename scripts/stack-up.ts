// Starts the local stack for a workflow job that runs the action with
// `uses: ./` (see .github/workflows/ci.yml, job e2e): notary-server and
// docker-registry on loopback with a throwaway CA, an image pushed with
// skopeo (a single-platform tag and a two-platform index), and a signer "ci"
// added with `docker trust signer add` (or, where the docker CLI has no
// `trust` command any more, as from docker 29, with this package's own
// `content-trust key generate` / `signer add`). Writes step outputs (name<<delimiter
// blocks) to the file named by its argument once everything is ready, then
// keeps the stack up until it is stopped (SIGTERM/SIGINT) or the job ends.
//
//   node scripts/stack-up.ts "$RUNNER_TEMP/stack.out" &
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps, hasDockerTrust } from './ensure-deps.mjs';
import { pushImage, startStack, REPOSITORY_PASSPHRASE } from '../test/stack/index.ts';
import { readRealRepo } from '../test/stack/forger.ts';

const outFile = process.argv[2];
if (!outFile) {
  console.error('usage: node scripts/stack-up.ts OUTPUT_FILE');
  process.exit(2);
}
if (!ensureDeps({ install: true }).ok) process.exit(1);

const stack = await startStack();
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());

const single = await pushImage(stack, 'e2e/app:1.0', { seed: 'e2e-single' });
const multi = await pushImage(stack, 'e2e/app:multi', { seed: 'e2e-multi', platforms: ['linux/amd64', 'linux/arm64'] });
const unsigned = await pushImage(stack, 'e2e/app:unsigned', { seed: 'e2e-unsigned' });
const keys = join(stack.dir, 'keys');
const dockerTrust = hasDockerTrust();
let privateKeyPem: string;
if (dockerTrust) {
  const key = await stack.docker.keyGenerate('ci', keys);
  await stack.docker.signerAdd('ci', key.publicKeyPath, stack.gun('e2e/app'));
  privateKeyPem = key.privateKeyPem;
} else {
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'dist', 'cli.js'), ...args, '--tlscacert', stack.ca.caCertPath], { env: stack.docker.env(), encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`content-trust ${args.join(' ')}: ${r.stderr}`);
  };
  mkdirSync(keys, { recursive: true });
  cli('key', 'generate', 'ci', '--dir', keys);
  cli('signer', 'add', '--key', join(keys, 'ci.pub'), 'ci', stack.gun('e2e/app'));
  const privateDir = join(stack.docker.configDir, 'trust', 'private');
  const file = readdirSync(privateDir)
    .map((f) => readFileSync(join(privateDir, f), 'utf8'))
    .find((pem) => /^role: ci$/m.test(pem));
  if (!file) throw new Error('content-trust key generate left no key with role ci');
  privateKeyPem = file;
}
console.log(`signer "ci" added with ${dockerTrust ? 'docker trust' : 'content-trust (no docker trust here)'}`);

// The Root Key IDs, as `docker trust inspect` prints them: the sign step pins them (root-keys).
const root = (await readRealRepo(stack.notary.url, stack.ca, stack.gun('e2e/app'))).signed.get('root') as { roles: { root: { keyids: string[] } } };
const rootKeys = root.roles.root.keyids;

const outputs: Record<string, string> = {
  'trust-server': stack.notary.url,
  'ca-cert': stack.ca.caCertPath,
  images: [single.ref, multi.ref].join('\n'),
  digests: [single, multi].map((i) => `${stack.gun('e2e/app')}@${i.digest}`).join('\n'),
  unsigned: unsigned.ref,
  // A throwaway key made for this job alone.
  'delegation-key': privateKeyPem,
  'delegation-passphrase': REPOSITORY_PASSPHRASE,
  'root-keys': rootKeys.join('\n'),
  'docker-config': stack.docker.configDir,
  'docker-trust': String(dockerTrust),
};
const text = Object.entries(outputs)
  .map(([name, value]) => {
    const delimiter = `EOF_${randomUUID()}`;
    return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
  })
  .join('');
writeFileSync(`${outFile}.tmp`, text);
renameSync(`${outFile}.tmp`, outFile);
console.log(`stack up: notary-server ${stack.notary.url}, registry ${stack.registry.host}; outputs in ${outFile}`);
// A pending promise alone does not keep Node running: a timer does.
setInterval(() => {}, 1 << 30);
