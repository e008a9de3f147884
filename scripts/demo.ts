// `npm run demo`: a local notary-server and registry on loopback, a sample
// image pushed with skopeo, a signer added with the docker CLI, then the
// action — run as the GitHub runner runs it, `node dist/index.js` with
// INPUT_* variables — signs the image and verifies it.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDeps, ensureDockerTrust } from './ensure-deps.mjs';
import { startStack, pushImage } from '../test/stack/index.ts';
import { runAction } from '../test/integration/helpers.ts';

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

  say("Making the CI signer's key and adding it to the repository (docker trust key generate / signer add)");
  const key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
  await stack.docker.signerAdd('ci', key.publicKeyPath, stack.gun('demo/hello'));
  console.log(`signer "ci", key ${key.keyId}`);

  const home = mkdtempSync(join(stack.dir, 'home-'));
  const action = async (mode: 'sign' | 'verify', inputs: { key?: string; signers?: string }) => {
    // One HOME for both steps, as in a job. No Actions cache service here: trust is remembered in HOME/.docker/trust only.
    const r = await runAction(stack, { mode, images: [image], ...inputs }, { HOME: home, INPUT_CACHE: 'false' });
    // The runner swallows ::add-mask:: and ::debug:: commands; so does the demo.
    const lines = r.stdout.split('\n');
    const masks = lines.filter((l) => l.startsWith('::add-mask::')).length;
    console.log(
      lines
        .filter((l) => !/^::(add-mask|debug)::/.test(l))
        .join('\n')
        .trimEnd(),
    );
    if (r.stderr.trim()) console.error(r.stderr.trimEnd());
    console.log(`(${masks} secret value(s) registered for masking)`);
    console.log(
      `-- outputs --\n${Object.entries(r.outputs)
        .map(([name, value]) => `${name}: ${value}`)
        .join('\n')}`,
    );
    if (r.code !== 0) throw new Error(`the action failed in mode ${mode}`);
  };
  say('Action, mode sign (delegation key and passphrase as from secrets)');
  await action('sign', { key: key.privateKeyPem });
  say('Action, mode verify, requiring signer "ci"');
  await action('verify', { signers: 'ci' });
  say('The same repository, as `docker trust inspect --pretty` sees it');
  console.log((await stack.docker.run(['trust', 'inspect', '--pretty', stack.gun('demo/hello')])).stdout);
  say('Demo done: signed and verified without a Docker daemon.');
} finally {
  await stack.stop();
}
