// `npm run demo`: a local notary-server and registry on loopback, a sample
// image pushed with skopeo, a signer added with the docker CLI, then the
// action — run as the GitHub runner runs it, `node dist/index.js` with
// INPUT_* variables — signs the image and verifies it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDeps, ensureDockerTrust } from './ensure-deps.mjs';
import { startStack, pushImage, REPOSITORY_PASSPHRASE } from '../test/stack/index.ts';

const say = (s: string) => console.log(`\n\x1b[1m== ${s}\x1b[0m`);

if (!ensureDeps({ install: true }).ok || !ensureDockerTrust().ok) process.exit(1);
say('Starting notary-server and docker-registry on loopback (throwaway TLS CA)');
const stack = await startStack();
try {
  console.log(`notary-server ${stack.notary.url}\nregistry      https://${stack.registry.host}`);
  const image = `${stack.registry.host}/demo/hello:1.0`;
  say(`Pushing a sample image with skopeo: ${image}`);
  const pushed = await pushImage(stack, 'demo/hello:1.0', { seed: 'demo' });
  console.log(`registry serves ${pushed.digest} (${pushed.size} bytes)`);

  say('Making the CI signer\'s key and adding it to the repository (docker trust key generate / signer add)');
  const work = mkdtempSync(join(tmpdir(), 'cta-demo-'));
  const key = await stack.docker.keyGenerate('ci', work);
  await stack.docker.signerAdd('ci', key.publicKeyPath, stack.gun('demo/hello'));
  console.log(`signer "ci", key ${key.keyId}`);

  const action = (mode: string, extra: Record<string, string>) => {
    const out = join(work, `${mode}.out`);
    const summary = join(work, `${mode}.md`);
    writeFileSync(out, '');
    writeFileSync(summary, '');
    const r = spawnSync(process.execPath, ['dist/index.js'], {
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH, HOME: work, GITHUB_OUTPUT: out, GITHUB_STEP_SUMMARY: summary,
        // No Actions cache service here: trust is remembered in HOME/.docker/trust only.
        'INPUT_CACHE': 'false',
        'INPUT_MODE': mode, 'INPUT_IMAGES': image, 'INPUT_TRUST-SERVER': stack.notary.url, 'INPUT_CA-CERT': stack.ca.caCertPath,
        ...extra,
      },
    });
    // The runner swallows ::add-mask:: and ::debug:: commands; so does the demo.
    const lines = r.stdout.split('\n');
    const masks = lines.filter((l) => l.startsWith('::add-mask::')).length;
    console.log(lines.filter((l) => !/^::(add-mask|debug)::/.test(l)).join('\n').trimEnd());
    console.log(`(${masks} secret value(s) registered for masking)`);
    console.log(`-- outputs --\n${readFileSync(out, 'utf8').replace(/^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm, '$1: $3')}`);
    if (r.status !== 0) throw new Error(`the action failed in mode ${mode}`);
  };
  say('Action, mode sign (delegation key and passphrase as from secrets)');
  action('sign', { 'INPUT_DELEGATION-KEY': key.privateKeyPem, 'INPUT_DELEGATION-PASSPHRASE': REPOSITORY_PASSPHRASE });
  say('Action, mode verify, requiring signer "ci"');
  action('verify', { INPUT_SIGNERS: 'ci' });
  say('The same repository, as `docker trust inspect --pretty` sees it');
  console.log((await stack.docker.run(['trust', 'inspect', '--pretty', stack.gun('demo/hello')])).stdout);
  say('Demo done: signed and verified without a Docker daemon.');
} finally {
  await stack.stop();
}
