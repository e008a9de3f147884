/**
 * The key inputs (root-key, repository-key, delegation-key) as a KeySource.
 * The keys a mode needs are decoded when it is made, before any request, so
 * a missing or unreadable key fails the step at once, naming its input.
 * Keys that init generates are handed back once, encrypted and masked, as
 * outputs; nothing is written to disk.
 */
import * as core from '@actions/core';
import { keyInput, maskSecret, passphraseSources, type Inputs, type KeyName } from './inputs.ts';
import { generateKey, keyFilePem } from '../tuf/key-file.ts';
import { InputError } from '../errors.ts';
import type { ImageRef } from '../registry/reference.ts';
import { toSigningKey, type SigningKey } from '../tuf/private-key.ts';
import type { KeySource, NewKeys } from '../operations.ts';

export function inputKeys(inputs: Inputs, refs: readonly ImageRef[]): KeySource {
  const { mode } = inputs;
  // Every key is opened here (a key on a token or behind sign-command too), before any request.
  const signingKey = (name: KeyName): SigningKey | undefined => keyInput(inputs, name);
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new InputError('INPUT_INVALID', `mode ${mode} needs ${what}`);
    return value;
  };
  const REPOSITORY = 'the repository-key input: the repository (targets) private key, from a secret';
  let delegation: SigningKey | undefined;
  let repository: SigningKey | undefined;
  let root: SigningKey | undefined;
  let init: { root: SigningKey | undefined; repository: SigningKey | undefined } | undefined;
  switch (inputs.mode) {
    case 'sign':
      delegation = signingKey('delegation')!; // getInputs made sure it is given
      break;
    case 'verify':
    case 'status':
      break;
    case 'init':
      // A key on a token is used as it is (its root certificate signed on the token); an empty input is generated.
      init = { root: signingKey('root'), repository: signingKey('repository') };
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
  const rotation = rotationKey(inputs, refs);
  // One root key for every repository init makes, as docker does: the given one, else the first generated.
  let initRoot = init?.root;
  return {
    signer: () => Promise.resolve(need(delegation, 'the delegation-key input')),
    root: (_repo, required) => (required ? need(root, 'the root-key input') : root),
    repository: () => need(repository, REPOSITORY),
    signing: () => [delegation, repository].filter((k) => k !== undefined),
    newSigner: () => delegation,
    initKeys: () => ({ root: initRoot, targets: init?.repository }),
    rotated: (gun, role) => rotation!(gun, role),
    generated: (gun: string, keys: NewKeys) => {
      if (keys.root) {
        initRoot = toSigningKey(keys.root, 'root', undefined);
        handBack('root-key', keyFilePem(keys.root, inputs.keys.root.passphrase!, { role: 'root' }));
      }
      if (keys.targets) handBack('repository-key', keyFilePem(keys.targets, inputs.keys.repository.passphrase!, { role: 'targets', gun }));
    },
  };
}

/** init hands generated keys back encrypted: it needs their passphrases, and one repository key per repository. */
function checkInit(inputs: Inputs, hasRoot: boolean, hasRepository: boolean, refs: readonly ImageRef[]): void {
  if (!hasRoot && !inputs.keys.root.passphrase) throw new InputError('PASSPHRASE_MISSING', `mode init generates a root key when root-key is empty, and hands it back encrypted: set ${passphraseSources('root')}`);
  if (!hasRepository && !inputs.keys.repository.passphrase) throw new InputError('PASSPHRASE_MISSING', `mode init generates a repository key when repository-key is empty, and hands it back encrypted: set ${passphraseSources('repository')}`);
  const guns = new Set(refs.map((r) => r.gun));
  if (!hasRepository && guns.size > 1) throw new InputError('INPUT_INVALID', `mode init generates one repository key per repository: give repository-key to initialise ${guns.size} repositories at once, or initialise them one per step`);
}

const NEW_KEY = {
  root: { input: 'new-root', output: 'root-key', role: 'root' },
  repository: { input: 'new-repository', output: 'repository-key', role: 'targets' },
} as const;

/**
 * rotate root/repository: the new key, decoded (or its passphrase checked)
 * before any request. A key made here goes to the root-key or
 * repository-key output at once, encrypted: one root key for every
 * repository of the step, as init; one repository key, for one repository.
 */
function rotationKey(inputs: Inputs, refs: readonly ImageRef[]): ((gun: string, role: 'root' | 'targets') => SigningKey) | undefined {
  const wanted = inputs.mode === 'rotate' && (inputs.options.role === 'root' || inputs.options.role === 'repository') ? inputs.options.role : undefined;
  for (const [what, { input }] of Object.entries(NEW_KEY)) {
    if (inputs.keys[input].pem && wanted !== what) throw new InputError('INPUT_INVALID', `input ${input}-key is for mode rotate with rotate-role ${what}: leave it empty here`);
  }
  if (!wanted) return undefined;
  const { input, output, role } = NEW_KEY[wanted];
  // A given key (a key on a token too) is opened now and used as it is, never generated.
  const given = keyInput(inputs, input);
  if (given) {
    if (given.role !== undefined && given.role !== role) {
      throw new InputError('KEY_WRONG_ROLE', `the ${input}-key input is a key for role "${given.role}" (its role: header), not ${role}: give the new ${wanted} key, or leave it empty to have one generated`);
    }
    return () => given;
  }
  const { passphrase } = inputs.keys[input];
  if (!passphrase) {
    throw new InputError('PASSPHRASE_MISSING', `mode rotate generates the new ${wanted} key when ${input}-key is empty, and hands it back encrypted in the ${output} output: set ${passphraseSources(input)}`);
  }
  const guns = new Set(refs.map((r) => r.gun));
  if (wanted === 'repository' && guns.size > 1) {
    throw new InputError('INPUT_INVALID', `mode rotate generates one repository key per repository: give new-repository-key to rotate ${guns.size} repositories at once, or rotate them one per step`);
  }
  let made: SigningKey | undefined;
  return (gun) => {
    if (!made) {
      const key = generateKey();
      handBack(output, keyFilePem(key, passphrase, role === 'root' ? { role } : { role, gun }));
      made = toSigningKey(key, role, role === 'root' ? undefined : gun);
    }
    return made;
  };
}

/** A generated key goes out once: masked first, then set as an output. */
function handBack(output: string, pem: string): void {
  maskSecret(pem);
  core.setOutput(output, pem);
}
