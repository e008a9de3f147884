/**
 * The administrative modes (init, add-signer, remove-signer, revoke,
 * refresh, rotate): their inputs, the core call, and outputs. Generated keys
 * are handed back once, encrypted and masked; nothing is written to disk.
 */
import * as core from '@actions/core';
import { keyInput, maskSecret, type AdminMode, type Inputs, type KeyName } from './inputs.ts';
import { keyFilePem } from '../tuf/key-file.ts';
import type { ImageRef } from '../registry/reference.ts';
import { initRepository, type InitResult } from '../notary/admin/init.ts';
import { parseSignerKeys, type SignerKey } from '../notary/admin/common.ts';
import { planAddSigner, planRemoveSigner } from '../notary/admin/signers.ts';
import { planRevoke } from '../notary/admin/revoke.ts';
import { planRefresh } from '../notary/admin/refresh.ts';
import { planRotateServerKey, planRotateSigner } from '../notary/admin/rotate.ts';
import { administer, adminClient, type AdminOutcome, type Planner } from '../notary/admin/workflow.ts';
import { InputError } from '../errors.ts';
import type { TrustEnv } from '../notary/env.ts';
import { fitToBudget, SUMMARY_BUDGET } from './outputs.ts';
import { forSummary } from '../util/untrusted-text.ts';

function signerInputs(mode: string): { name: string; keys: SignerKey[] | undefined } {
  const name = core.getInput('signer-name').trim();
  if (!name) throw new InputError('INPUT_INVALID', `mode ${mode} needs the signer-name input (the name docker shows for the signer, e.g. ci)`);
  const text = core.getInput('signer-key');
  return { name, keys: text ? parseSignerKeys(text, name, 'the signer-key input') : undefined };
}

function need<T>(value: T | undefined, mode: string, what: string): T {
  if (value === undefined) throw new InputError('INPUT_INVALID', `mode ${mode} needs ${what}`);
  return value;
}

/** A tag given explicitly in the input (revoke never assumes `latest`). */
function hasTag(ref: ImageRef): boolean {
  const name = ref.input.split('@')[0]!;
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

type Keys = Inputs['keys'];

export async function runAdmin(mode: AdminMode, keys: Keys, refs: readonly ImageRef[], env: TrustEnv): Promise<void> {
  const outcomes = mode === 'init' ? await runInit(keys, refs, env) : await administer(env, refs, planner(mode, keys, refs));
  core.setOutput('result', JSON.stringify(outcomes));
  if (process.env.GITHUB_STEP_SUMMARY) {
    // Summaries name repositories, signers and roles: outside text, made inert and kept under the budget.
    const { shown, hidden } = fitToBudget(outcomes.map((o) => forSummary(o.summary)), SUMMARY_BUDGET, 9);
    const s = core.summary.addHeading(`Content trust: ${mode}`, 3).addList(shown);
    if (hidden > 0) s.addRaw(`${hidden} more repositories are not listed here: the result output and the log list every one.`, true);
    await s.write();
  }
}

function planner(mode: Exclude<AdminMode, 'init'>, keys: Keys, refs: readonly ImageRef[]): Planner {
  const key = (name: KeyName) => keyInput(keys, name)?.signing;
  const repositoryKey = () => need(key('repository'), mode, 'the repository-key input: the repository (targets) private key, from a secret');
  switch (mode) {
    case 'add-signer': {
      const signer = signerInputs(mode);
      const targetsKey = repositoryKey();
      const pub = need(signer.keys, mode, 'the signer-key input: the signer\'s public key or certificate PEM (e.g. ci.pub from `docker trust key generate ci`)');
      return (repo, _c, now) => planAddSigner(repo, targetsKey, signer.name, pub, now);
    }
    case 'remove-signer': {
      const { name } = signerInputs(mode);
      const targetsKey = repositoryKey();
      return (repo, _c, now) => planRemoveSigner(repo, targetsKey, name, now);
    }
    case 'revoke': {
      const untagged = refs.filter((r) => !hasTag(r));
      if (untagged.length > 0) throw new InputError('INPUT_INVALID', `mode revoke needs a tag for each image (it never assumes latest): ${untagged.map((r) => r.input).join(', ')}`);
      const signing = [key('delegation'), key('repository')].filter((k) => k !== undefined);
      if (signing.length === 0) throw new InputError('INPUT_INVALID', 'mode revoke needs the delegation-key input (a signer\'s key) or the repository-key input');
      return (repo, _c, now) => planRevoke(repo, signing, refs.filter((r) => r.gun === repo.gun).map((r) => r.tag), now);
    }
    case 'refresh': {
      const days = Number(core.getInput('expires-within') || '182');
      if (!Number.isInteger(days) || days < 0) throw new InputError('INPUT_INVALID', `input expires-within is "${core.getInput('expires-within')}": a whole number of days`);
      const signing = [key('delegation'), key('repository')].filter((k) => k !== undefined);
      const root = key('root');
      if (signing.length === 0 && !root) throw new InputError('INPUT_INVALID', 'mode refresh needs a key to re-sign with: delegation-key, repository-key and/or root-key');
      return (repo, _c, now) => planRefresh(repo, { root, signing }, days, now);
    }
    case 'rotate': {
      const role = core.getInput('rotate-role').trim().toLowerCase();
      if (role === 'snapshot' || role === 'timestamp') {
        const root = need(key('root'), mode, `the root-key input to rotate the ${role} key (the new key must be named in a root signed by the root key)`);
        return (repo, client) => planRotateServerKey(client, repo, root, role);
      }
      if (role && role !== 'signer') throw new InputError('INPUT_INVALID', `input rotate-role is "${role}": use signer, snapshot or timestamp`);
      const signer = signerInputs(mode);
      const targetsKey = repositoryKey();
      const pub = need(signer.keys, mode, 'the signer-key input: the signer\'s new public key');
      const newPrivate = key('delegation');
      return (repo, _c, now) => planRotateSigner(repo, targetsKey, signer.name, pub, newPrivate, now);
    }
  }
}

async function runInit(keys: Keys, refs: readonly ImageRef[], env: TrustEnv): Promise<(AdminOutcome & { rootKeyId: string; repositoryKeyId: string })[]> {
  const root = keyInput(keys, 'root');
  const repository = keyInput(keys, 'repository');
  const rootPass = keys.root.passphrase;
  const repoPass = keys.repository.passphrase;
  if (!root && !rootPass) throw new InputError('PASSPHRASE_MISSING', 'mode init generates a root key when root-key is empty, and hands it back encrypted: set root-passphrase (or DOCKER_CONTENT_TRUST_ROOT_PASSPHRASE)');
  if (!repository && !repoPass) throw new InputError('PASSPHRASE_MISSING', 'mode init generates a repository key when repository-key is empty, and hands it back encrypted: set repository-passphrase (or DOCKER_CONTENT_TRUST_REPOSITORY_PASSPHRASE)');
  const guns = [...new Set(refs.map((r) => r.gun))];
  if (!repository && guns.length > 1) throw new InputError('INPUT_INVALID', `mode init generates one repository key per repository: give repository-key to initialise ${guns.length} repositories at once, or initialise them one per step`);
  const signerName = core.getInput('signer-name').trim();
  const signer = signerName ? { name: signerName, keys: need(signerInputs('init').keys, 'init', 'the signer-key input with signer-name') } : undefined;

  let rootKey = root?.keyObject;
  const results: (AdminOutcome & { rootKeyId: string; repositoryKeyId: string })[] = [];
  for (const gun of guns) {
    const ref = refs.find((r) => r.gun === gun)!;
    const r: InitResult = await initRepository(adminClient(env, ref), { rootKey, targetsKey: repository?.keyObject, signer, now: env.now?.() });
    if (r.generated.root) {
      rootKey = r.generated.root; // one root key for every repository, as docker does
      handBack('root-key', keyFilePem(r.generated.root, rootPass!, { role: 'root' }));
    }
    if (r.generated.targets) handBack('repository-key', keyFilePem(r.generated.targets, repoPass!, { role: 'targets', gun }));
    core.setOutput('root-key-id', r.rootKeyId);
    core.setOutput('repository-key-id', r.targetsKeyId);
    const summary = r.created
      ? `${gun}: initialised (root key ${r.rootKeyId}, repository key ${r.targetsKeyId}${signer ? `, signer "${signer.name}"` : ''}); snapshot and timestamp keys are held by the server`
      : `${gun}: already initialised (root key ${r.rootKeyId}, repository key ${r.targetsKeyId}); left as it is`;
    env.log.info(summary);
    results.push({ repository: gun, changed: r.created, roles: r.created ? ['root', 'targets'] : [], summary, rootKeyId: r.rootKeyId, repositoryKeyId: r.targetsKeyId });
  }
  return results;
}

/** A generated key goes out once: masked first, then set as an output. */
function handBack(output: string, pem: string): void {
  maskSecret(pem);
  core.setOutput(output, pem);
}
