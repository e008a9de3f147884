import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { certificateFix } from '../../src/notary/expiry.ts';
import { advise, anyOf } from '../../src/advice.ts';
import { readFileSync } from 'node:fs';

/** The core's advice as it throws it today (copied from the throw sites, whose tests pin them). */
const CORE = {
  notDelegate: 'reg.example.com/org/app has no delegations: only the repository (targets) key can sign it. Add this signer first: `docker trust signer add --key <signer>.pub <signer> reg.example.com/org/app`',
  notInitialised: 'reg.example.com/org/app has no trust data on the Notary server: the repository owner must initialise it and add this signer first, e.g. `docker trust signer add --key ci.pub ci reg.example.com/org/app`',
  adminNotInitialised: 'reg.example.com/org/app has no trust data on the Notary server: initialise it first (mode: init, or `content-trust init reg.example.com/org/app`)',
  signedElsewhere: 'reg.example.com/org/app:v1 is signed only in targets/ci; a DCT pull accepts only targets/releases or targets. Add the signer with `docker trust signer add` (which also adds its key to targets/releases) and sign again',
  notSigned: 'reg.example.com/org/app:v1 has no trust data: no signature for this tag in targets/releases or targets. Sign it (mode: sign) before verifying',
  tls: 'TLS to notary.example.com:4443 failed (UNABLE_TO_VERIFY_LEAF_SIGNATURE): if the server uses a private CA, pass its certificate in the `ca-cert` input',
  refusedUser: 'reg.example.com token refused (user "ci"): check the `username`/`password` inputs or the docker login that wrote them',
  refusedAnonymous: 'reg.example.com token refused (anonymous access): log in first (docker/login-action) or set the `username`/`password` inputs (and `registry`)',
  realm:
    'https://reg.example.com sent a Bearer challenge naming a plain-http token realm, "http://x": nothing was sent there; the server\'s token auth must name an https:// realm (check its configuration, or that trust-server and the image names point at the right server)',
  firstUse:
    "reg.example.com/org/app: trusted on first use: no trust data is remembered for it and root-keys pins no root key, so this run trusts the root key the Notary server sent (abc) unchecked. Check it is the repository's Root Key, then pin it: root-keys: " +
    'a'.repeat(64),
};

const ACTION_WORDS = /\bmode[: ]|trust-server|\binputs?\b|`(ca-cert|username|password|registry)`|root-keys|docker\/login-action/;

describe("advise: the core's advice in each front end's words", () => {
  it('the CLI names its own commands and flags: never an action input or mode, never `docker trust`', () => {
    for (const [name, message] of Object.entries(CORE)) {
      const cli = advise(message, 'cli');
      assert.doesNotMatch(cli, ACTION_WORDS, name);
      assert.doesNotMatch(cli, /docker trust signer/, name);
    }
    assert.match(advise(CORE.notDelegate, 'cli'), /`content-trust signer add --key <signer>\.pub <signer> reg\.example\.com\/org\/app`$/);
    assert.match(advise(CORE.notInitialised, 'cli'), /e\.g\. `content-trust signer add --key ci\.pub ci reg\.example\.com\/org\/app`$/);
    assert.match(advise(CORE.adminNotInitialised, 'cli'), /\(`content-trust init reg\.example\.com\/org\/app`\)$/);
    assert.match(advise(CORE.tls, 'cli'), /--tlscacert/);
    assert.match(advise(CORE.refusedAnonymous, 'cli'), /`docker login REGISTRY`/);
  });

  it('the action names its modes and inputs, not `docker trust` (docker 29 has none)', () => {
    assert.match(advise(CORE.notDelegate, 'action'), /Add this signer first: mode add-signer \(the signer-name, signer-key and repository-key inputs\) on reg\.example\.com\/org\/app$/);
    assert.match(advise(CORE.notInitialised, 'action'), /e\.g\. with mode init and the signer-name and signer-key inputs/);
    assert.match(advise(CORE.signedElsewhere, 'action'), /Add the signer with mode add-signer/);
    assert.equal(advise(CORE.adminNotInitialised, 'action'), 'reg.example.com/org/app has no trust data on the Notary server: initialise it first (mode: init)');
    for (const message of Object.values(CORE)) assert.doesNotMatch(advise(message, 'action'), /`docker trust signer add/);
    assert.equal(advise(CORE.tls, 'action'), CORE.tls, "already the action's words");
  });

  it('outside text around the advice is left as it is, and text without advice is unchanged', () => {
    const odd = 'reg.example.com/org/app:v1 ::warning:: `docker trust signer add --key <signer>.pub <signer> evil`x';
    assert.equal(advise(odd, 'cli'), 'reg.example.com/org/app:v1 ::warning:: `content-trust signer add --key <signer>.pub <signer> evil`x');
    assert.equal(advise('nothing to say', 'cli'), 'nothing to say');
  });

  it('the core still says its advice in these words (when a throw site is reworded, this fails: update src/advice.ts with it)', () => {
    // Phrases as the source spells them (backticks in template literals are escaped there, so none are quoted here).
    const sites: [string, string][] = [
      ['src/notary/sign-plan.ts', 'docker trust signer add --key <signer>.pub <signer> ${repo.gun}'],
      ['src/notary/updater.ts', 'e.g. \\`docker trust signer add --key ci.pub ci ${u.gun}'],
      ['src/notary/repository.ts', 'and root-keys pins no root key'],
      ['src/notary/repository.ts', ', then pin it: root-keys: ${ids.join'],
      ['src/notary/resolve.ts', 'Add the signer with \\`docker trust signer add\\` (which also adds its key to targets/releases)'],
      ['src/notary/resolve.ts', 'Sign it (mode: sign) before verifying'],
      ['src/notary/admin/workflow.ts', '(mode: init, or \\`content-trust init ${client.gun}'],
      ['src/notary/admin/rotate.ts', 'add it with mode add-signer'],
      ['src/http/client.ts', "private CA, pass its certificate' : "],
      ['src/http/client.ts', '${which} in the \\`ca-cert\\` input'],
      ['src/http/auth.ts', "'check the `username`/`password` inputs or the docker login that wrote them'"],
      ['src/http/auth.ts', "'log in first (docker/login-action) or set the `username`/`password` inputs (and `registry`)'"],
      ['src/http/auth.ts', 'or that trust-server and the image names point at the right server'],
      ['src/notary/verify.ts', 'but the input pins'],
      ['src/notary/sign.ts', 'but the input pins'],
      ['src/notary/expiry.ts', '(mode: refresh, input ${input}; or \\`content-trust refresh ${gun}\\`)'],
      ['src/notary/expiry.ts', '(mode: rotate, rotate-role root; or \\`content-trust rotate ${gun} root\\`)'],
      ['src/notary/expiry.ts', '(mode: rotate, signer-name ${name}; or \\`content-trust rotate ${gun} signer ${name} --key NEW.pub\\`)'],
    ];
    for (const [file, phrase] of sites) assert.ok(readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8').includes(phrase), `${file} no longer says ${phrase}`);
  });
});

describe('advise: the refresh that renews an expired file', () => {
  const core = 'reg.example.com/org/app: targets.json expired at 2029-01-01T00:00:00.000Z; re-sign it with the repository key (mode: refresh, input repository-key; or `content-trust refresh reg.example.com/org/app`)';

  it('the action names the mode and the key input; the CLI its command, with the key in the trust directory', () => {
    assert.equal(advise(core, 'action'), 'reg.example.com/org/app: targets.json expired at 2029-01-01T00:00:00.000Z; re-sign it with the repository key (mode: refresh with the repository-key input)');
    assert.equal(advise(core, 'cli'), 'reg.example.com/org/app: targets.json expired at 2029-01-01T00:00:00.000Z; re-sign it with the repository key (`content-trust refresh reg.example.com/org/app`, with that key in the trust directory)');
  });
});

describe('advise: the rotation that replaces a certificate that ends', () => {
  it('root: the action names rotate-role and root-key; the CLI its rotate command', () => {
    const core = `x: the root certificate expired at T; ${certificateFix('reg.example.com/org/app', 'root')}`;
    assert.equal(advise(core, 'action'), 'x: the root certificate expired at T; give the root a new key and certificate before then (mode: rotate with rotate-role: root and the root-key input)');
    assert.equal(advise(core, 'cli'), 'x: the root certificate expired at T; give the root a new key and certificate before then (`content-trust rotate reg.example.com/org/app root`, with the root key in the trust directory)');
  });

  it('a signer: the action names signer-name and signer-key; the CLI rotate signer with --key', () => {
    const core = certificateFix('reg.example.com/org/app', 'targets/ci');
    assert.equal(advise(core, 'action'), 'rotate signer "ci" to a key with a new certificate (mode: rotate with signer-name: ci, its new certificate as signer-key, and the repository-key input)');
    assert.equal(advise(core, 'cli'), 'rotate signer "ci" to a key with a new certificate (`content-trust rotate reg.example.com/org/app signer ci --key NEW.pub`, NEW.pub holding its new certificate)');
  });
});

describe('anyOf: one scan for any advice, each pattern with its own flags', () => {
  it("keeps each pattern's i, m, s and u flags, and no g state between scans", () => {
    const any = anyOf([/add a signer/gi, /^sign it$/gm, /pass.its certificate/s, /key \u{1F511}/u]);
    assert.ok(any('Add A Signer'), 'i');
    assert.ok(any('first line\nsign it'), 'm');
    assert.ok(any('pass\nits certificate'), 's');
    assert.ok(any('key 🔑'), 'u');
    assert.ok(!any('ADD A KEY'));
    assert.ok(!any('SIGN IT\nNOW'), 'the i flag stays with its own pattern');
    assert.ok(any('add a signer') && any('add a signer'), 'no lastIndex carried from one scan to the next');
  });

  it('a sticky pattern is looked for anywhere (a pre-check may find more, never less)', () => {
    assert.ok(anyOf([/signer/y])('add a signer'));
  });
});
