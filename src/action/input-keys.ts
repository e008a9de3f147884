/**
 * The key inputs (root-key, repository-key, delegation-key) as a KeySource.
 * The keys a mode needs are decoded when it is made, before any request, so
 * a missing or unreadable key fails the step at once, naming its input.
 * Keys that init generates are handed back once, encrypted and masked, as
 * outputs; nothing is written to disk.
 */
import * as core from '@actions/core';
import { externalKeyInput, keyInput, maskSecret, type Inputs, type KeyName } from './inputs.ts';
import { keyFilePem } from '../tuf/key-file.ts';
import { InputError } from '../errors.ts';
import type { ImageRef } from '../registry/reference.ts';
import type { SigningKey } from '../tuf/private-key.ts';
import type { KeySource, NewKeys } from '../operations.ts';

export function inputKeys(inputs: Inputs, refs: readonly ImageRef[]): KeySource {
  const { mode } = inputs;
  const decode = (name: KeyName) => keyInput(inputs.keys, name);
  // A key on a token or behind sign-command is opened here too, before any request.
  const signingKey = (name: KeyName): SigningKey | undefined => externalKeyInput(inputs, name) ?? decode(name)?.signing;
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new InputError('INPUT_INVALID', `mode ${mode} needs ${what}`);
    return value;
  };
  const REPOSITORY = 'the repository-key input: the repository (targets) private key, from a secret';
  let delegation: SigningKey | undefined;
  let repository: SigningKey | undefined;
  let root: SigningKey | undefined;
  let init: { root: ReturnType<typeof decode>; repository: ReturnType<typeof decode> } | undefined;
  switch (inputs.mode) {
    case 'sign':
      delegation = signingKey('delegation')!; // getInputs made sure it is given
      break;
    case 'verify':
      break;
    case 'init':
      init = { root: decode('root'), repository: decode('repository') };
      checkInit(inputs, init.root !== undefined, init.repository !== undefined, refs);
      break;
    case 'add-signer':
    case 'remove-signer':
      repository = need(signingKey('repository'), REPOSITORY);
      break;
    case 'revoke':
      delegation = signingKey('delegation');
      repository = signingKey('repository');
      if (!delegation && !repository) throw new InputError('INPUT_INVALID', "mode revoke needs the delegation-key input (a signer's key) or the repository-key input");
      break;
    case 'refresh':
      delegation = signingKey('delegation');
      repository = signingKey('repository');
      root = signingKey('root');
      if (!delegation && !repository && !root) throw new InputError('INPUT_INVALID', 'mode refresh needs a key to re-sign with: delegation-key, repository-key and/or root-key');
      break;
    case 'rotate':
      if (inputs.options.role === 'signer') {
        repository = need(signingKey('repository'), REPOSITORY);
        delegation = signingKey('delegation');
      } else {
        root = need(signingKey('root'), `the root-key input to rotate the ${inputs.options.role} key (the new key must be named in a root signed by the root key)`);
      }
      break;
  }
  // One root key for every repository init makes, as docker does: the given one, else the first generated.
  let initRoot = init?.root?.keyObject;
  return {
    signer: () => Promise.resolve(need(delegation, 'the delegation-key input')),
    root: (_repo, required) => (required ? need(root, 'the root-key input') : root),
    repository: () => need(repository, REPOSITORY),
    signing: () => [delegation, repository].filter((k) => k !== undefined),
    newSigner: () => delegation,
    initKeys: () => ({ root: initRoot, targets: init?.repository?.keyObject }),
    generated: (gun: string, keys: NewKeys) => {
      if (keys.root) {
        initRoot = keys.root;
        handBack('root-key', keyFilePem(keys.root, inputs.keys.root.passphrase!, { role: 'root' }));
      }
      if (keys.targets) handBack('repository-key', keyFilePem(keys.targets, inputs.keys.repository.passphrase!, { role: 'targets', gun }));
    },
  };
}

/** init hands generated keys back encrypted: it needs their passphrases, and one repository key per repository. */
function checkInit(inputs: Inputs, hasRoot: boolean, hasRepository: boolean, refs: readonly ImageRef[]): void {
  if (!hasRoot && !inputs.keys.root.passphrase) throw new InputError('PASSPHRASE_MISSING', 'mode init generates a root key when root-key is empty, and hands it back encrypted: set root-passphrase (or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE)');
  if (!hasRepository && !inputs.keys.repository.passphrase)
    throw new InputError('PASSPHRASE_MISSING', 'mode init generates a repository key when repository-key is empty, and hands it back encrypted: set repository-passphrase (or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE)');
  const guns = new Set(refs.map((r) => r.gun));
  if (!hasRepository && guns.size > 1) throw new InputError('INPUT_INVALID', `mode init generates one repository key per repository: give repository-key to initialise ${guns.size} repositories at once, or initialise them one per step`);
}

/** A generated key goes out once: masked first, then set as an output. */
function handBack(output: string, pem: string): void {
  maskSecret(pem);
  core.setOutput(output, pem);
}
