import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpsRequest } from '../stack/https.ts';
import { makeUntrustedCa, pushImage, startStack, tagImage, type GeneratedKey, type PushedImage, type Stack } from '../stack/index.ts';

const hex = (digest: string) => digest.replace(/^sha256:/, '');

describe('real-stack harness', () => {
  let stack: Stack;
  let single: PushedImage;
  let multi: PushedImage;
  let key: GeneratedKey;

  before(async () => {
    stack = await startStack();
  });
  after(async () => {
    await stack?.stop();
  });

  it('pushes a single-platform image and reports what the registry serves', async () => {
    single = await pushImage(stack, 'org/app:v1', { seed: 'one' });
    assert.equal(single.ref, `${stack.registry.host}/org/app:v1`);
    assert.equal(single.gun, stack.gun('org/app'));
    assert.match(single.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(single.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.ok(single.size > 0);

    const again = await pushImage(stack, 'org/app:v1', { seed: 'one' });
    assert.equal(again.digest, single.digest, 'same seed, same digest');
  });

  it('pushes a two-platform index', async () => {
    multi = await pushImage(stack, 'org/app:multi', { seed: 'two', platforms: ['linux/amd64', 'linux/arm64/v8'] });
    assert.equal(multi.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      multi.manifests?.map((m) => m.platform?.architecture),
      ['amd64', 'arm64'],
    );
    assert.notEqual(multi.digest, single.digest);
  });

  it('pushes Docker schema 2 media types too', async () => {
    const list = await pushImage(stack, 'org/app:docker', { seed: 'three', format: 'docker', platforms: ['linux/amd64', 'linux/arm64'] });
    assert.equal(list.mediaType, 'application/vnd.docker.distribution.manifest.list.v2+json');
    assert.equal(list.manifests?.[0]?.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
  });

  it('docker trust key generate + signer add initialise the repository', async () => {
    key = await stack.docker.keyGenerate('ci', join(stack.dir, 'keys'));
    assert.ok(existsSync(key.publicKeyPath));
    assert.match(key.keyId, /^[0-9a-f]{64}$/);
    assert.match(key.privateKeyPem, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\nrole: ci\n/);

    await stack.docker.signerAdd('ci', key.publicKeyPath, stack.gun('org/app'));
    const [info] = await stack.docker.inspect(stack.gun('org/app'));
    assert.ok(info);
    assert.deepEqual(info.SignedTags, []);
    assert.deepEqual(info.Signers, [{ Name: 'ci', Keys: [{ ID: key.keyId }] }]);
    assert.deepEqual(
      info.AdministrativeKeys.map((k) => k.Name),
      ['Root', 'Repository'],
    );
  });

  it('notary addhash signs tags into targets/releases; notary list and docker trust inspect show them', async () => {
    const gun = stack.gun('org/app');
    await stack.notaryCli.addhash(gun, 'v1', single.size, single.digest, { role: 'targets/releases', publish: true });
    await stack.notaryCli.addhash(gun, 'multi', multi.size, hex(multi.digest), { role: 'targets/releases', publish: true });

    const rows = await stack.notaryCli.list(gun);
    assert.deepEqual(
      rows.sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: 'multi', digest: hex(multi.digest), size: multi.size, role: 'targets/releases' },
        { name: 'v1', digest: hex(single.digest), size: single.size, role: 'targets/releases' },
      ],
    );
    assert.deepEqual(await stack.notaryCli.list(gun, { role: 'targets/ci' }), []);

    const [info] = await stack.docker.inspect(gun);
    const tags = Object.fromEntries(info!.SignedTags.map((t) => [t.SignedTag, t.Digest]));
    assert.deepEqual(tags, { multi: hex(multi.digest), v1: hex(single.digest) });
  });

  it('can move a signed tag to other content (signature now stale)', async () => {
    const moved = await pushImage(stack, 'org/app:v1', { seed: 'moved' });
    assert.notEqual(moved.digest, single.digest);
    const copy = await tagImage(stack, 'org/app:multi', 'org/app:copy');
    assert.equal(copy.digest, multi.digest);
    const [row] = (await stack.notaryCli.list(stack.gun('org/app'))).filter((r) => r.name === 'v1');
    assert.equal(row?.digest, hex(single.digest));
  });

  // Product side: prototype-names.itg.test.ts signs and verifies these tags.
  it('sets tags named __proto__, constructor and toString over the registry API; docker-registry 2.8 serves each as pushed', async () => {
    // skopeo's oci: transport refuses `__proto__` as a reference name, so
    // each tag is pushed under a plain name and then set over the registry API.
    const tags = ['__proto__', 'constructor', 'toString'];
    const images = new Map<string, PushedImage>();
    for (const [i, tag] of tags.entries()) {
      const base = await pushImage(stack, `proto/app:base${i}`, { seed: `proto-${i}` });
      const tagged = await tagImage(stack, `proto/app:base${i}`, `proto/app:${tag}`);
      assert.equal(tagged.digest, base.digest, tag);
      images.set(tag, tagged);
    }
    assert.deepEqual([...images.keys()], tags);
    assert.equal(new Set([...images.values()].map((i) => i.digest)).size, tags.length);
  });

  it('the notary server rejects clients that trust another CA', async () => {
    const other = await makeUntrustedCa(join(stack.dir, 'untrusted-ca'));
    await assert.rejects(httpsRequest(`${stack.notary.url}/v2/`, { ca: other.caPem }), /certificate/i);
  });
});

describe('stack lifecycle', () => {
  it('stop() ends the services and removes the directory', async () => {
    const stack = await startStack();
    const ping = await httpsRequest(`${stack.notary.url}/v2/`, { ca: stack.ca.caPem });
    assert.equal(ping.body.toString(), '{}');
    await stack.stop();
    assert.equal(existsSync(stack.dir), false);
    await assert.rejects(httpsRequest(`${stack.notary.url}/v2/`, { ca: stack.ca.caPem }), /ECONNREFUSED/);
    await assert.rejects(httpsRequest(`${stack.registry.url}/v2/`, { ca: stack.ca.caPem }), /ECONNREFUSED/);
  });

  it('a service that ended by itself fails stop() with its name, how it ended and its log, and takes its watchdog with it', async () => {
    const stack = await startStack();
    const watchdogs = () => processes().filter((p) => p.args.includes(`kill -KILL -${stack.notary.pid}`));
    assert.equal(watchdogs().length, 1, 'the notary server has a watchdog while it runs');
    process.kill(stack.notary.pid, 'SIGKILL');
    // The watchdog would otherwise kill whatever process group gets this pid next when this process exits.
    for (let i = 0; i < 50 && watchdogs().length > 0; i++) await sleep(100);
    assert.deepEqual(watchdogs(), []);
    await assert.rejects(httpsRequest(`${stack.notary.url}/v2/`, { ca: stack.ca.caPem }), /ECONNREFUSED/);
    await assert.rejects(stack.stop(), /notary-server ended while its tests ran \(exit code null, signal SIGKILL\)\n--- .*notary-server\.log \(tail\) ---/);
    assert.equal(existsSync(stack.dir), false);
  });

  it('a Go service that crashed fails stop() with the start of its crash report, which its goroutine dump pushes out of the tail', async () => {
    const stack = await startStack();
    // SIGQUIT makes Go's runtime end the process as a fatal error does: a reason line, then every goroutine's stack, exit code 2.
    process.kill(stack.notary.pid, 'SIGQUIT');
    await waitFor(() => !existsSync(`/proc/${stack.notary.pid}`));
    const failure = await stack.stop().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    assert.ok(failure, 'stop() fails');
    assert.match(failure.message, /notary-server ended while its tests ran \(exit code 2, signal null\)\n--- .*notary-server\.log \(tail\) ---\nSIGQUIT: quit\n/);
    assert.match(failure.message, /\n\[…\]\n/, 'the report’s start and the log’s tail are marked apart');
  });
});

async function waitFor(ended: () => boolean): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if (ended()) return;
    await sleep(100);
  }
  assert.fail('the service did not end');
}

/** This machine's processes, from /proc: pid and command line. */
function processes(): { pid: number; args: string }[] {
  const found: { pid: number; args: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      found.push({ pid: Number(name), args: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ') });
    } catch {
      // ended meanwhile
    }
  }
  return found;
}
