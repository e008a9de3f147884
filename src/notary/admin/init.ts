/**
 * Creates trust data for a new repository as docker does on its first
 * `docker trust signer add` (notary client.go Initialize): a root
 * certificate for the root key, a repository (targets) key, and snapshot
 * and timestamp keys held by the server, published as root v1 and targets
 * v1 in one POST through the edit pipeline (edit.ts), then read back. An
 * initialised repository is left as it is.
 */
import type { KeyObject } from 'node:crypto';
import { parseKeyMap, parsePublicKey } from '../../tuf/keys.ts';
import { generateKey } from '../../tuf/key-file.ts';
import { toSigningKey, type SigningKey } from '../../tuf/private-key.ts';
import { PublishError } from '../../errors.ts';
import { parseMetadata, type RootSigned, type TargetsSigned } from '../../tuf/metadata.ts';
import { emptyTargets, expiresAfter } from '../sign-plan.ts';
import { envelope } from '../../tuf/go-encoding.ts';
import type { NotaryRepoClient } from '../server.ts';
import { editRepository } from '../edit.ts';
import { printedRootKeyIds } from '../model.ts';
import { updateRepo } from '../updater.ts';
import { defaultConfig, type Config } from '../../config.ts';
import type { Logger } from '../env.ts';
import { ROOT_DAYS, TARGETS_DAYS, signerRole, type SignerKey } from './common.ts';
import { repositoryKeyJson, requireP256, rootCertKey } from './owner-keys.ts';
import { withSigner } from './signers.ts';

interface InitOptions {
  /** The root key (a key file's, or one held on a token: it signs the root certificate too); generated when absent. */
  rootKey?: SigningKey | undefined;
  /** The repository (targets) key, wherever held; generated when absent. */
  targetsKey?: SigningKey | undefined;
  /** A first signer, added in the same publish (as `docker trust signer add` does); `paths` restricts it to tag prefixes. */
  signer?: { name: string; keys: SignerKey[]; paths?: string[] | undefined } | undefined;
  now?: Date;
  /** Publish attempts and size caps; defaultConfig when absent. */
  config?: Config | undefined;
  /** Where a retried publish is told; nowhere when absent. */
  log?: Pick<Logger, 'info'> | undefined;
}

export interface InitResult {
  gun: string;
  /** False when the repository already had trust data (nothing was changed). */
  created: boolean;
  /** The root key ID as `docker trust inspect` prints it (printedRootKeyIds: its certificate's TUF ID), the ID to pin in root-keys. */
  rootKeyId: string;
  /** Canonical ID: the private key file's name (for docker's plain ecdsa repository key, also its TUF ID). */
  targetsKeyId: string;
  /** Keys made here; the caller hands them back once (encrypted), nobody else has them. */
  generated: { root?: KeyObject; targets?: KeyObject };
}

interface InitPlan {
  files: Map<string, Buffer>;
  result: InitResult;
}

export async function initRepository(client: NotaryRepoClient, options: InitOptions): Promise<InitResult> {
  const now = options.now ?? new Date();
  const config = options.config ?? defaultConfig;
  requireP256(options.rootKey, 'the root key');
  requireP256(options.targetsKey, 'the repository key');
  // A VERSION conflict means another init won: the re-plan finds its root and leaves it.
  return editRepository({ publisher: client, plan: () => planInit(client, options, now), readBack: (plan) => readBackInit(client, plan, config, now) }, { publishAttempts: config.publishAttempts, log: options.log ?? { info: () => {} } });
}

/** The files of a new repository; none when the server already has a root for it. */
async function planInit(client: NotaryRepoClient, options: InitOptions, now: Date): Promise<InitPlan> {
  const gun = client.gun;
  const existing = await client.current('root', 100 * 1024 * 1024);
  if (existing) {
    const root = parseMetadata(existing, 'root', 'Root');
    const keys = parseKeyMap(root.signed.keys, `${gun} root.json`);
    const canonical = (role: 'root' | 'targets') => root.signed.roles[role].keyids.map((id) => keys.get(id)?.canonicalId ?? id).join(', ');
    return { files: new Map(), result: { gun, created: false, rootKeyId: printedRootKeyIds(root.signed).join(', '), targetsKeyId: canonical('targets'), generated: {} } };
  }
  if (options.signer) signerRole(options.signer.name);
  // A key is generated only when none is given: a key on a token is never made here.
  const generated: InitResult['generated'] = {};
  if (!options.rootKey) generated.root = generateKey();
  if (!options.targetsKey) generated.targets = generateKey();
  const rootKey = options.rootKey ?? toSigningKey(generated.root!, 'root', undefined);
  const targetsKey = options.targetsKey ?? toSigningKey(generated.targets!, 'targets', gun);
  // While the GUN has no root, every GET makes a new key: ask once each.
  const [snapshotKey, timestampKey] = await Promise.all([client.getKey('snapshot'), client.getKey('timestamp')]);
  const rootCert = rootCertKey(gun, rootKey, now);
  const repositoryPublic = repositoryKeyJson(targetsKey);
  const ids = { root: rootCert.id, targets: repositoryPublic.id, snapshot: parsePublicKey(snapshotKey).id, timestamp: parsePublicKey(timestampKey).id };
  const root: RootSigned = {
    _type: 'Root',
    consistent_snapshot: false,
    expires: expiresAfter(now, ROOT_DAYS),
    keys: { [ids.root]: rootCert.json, [ids.targets]: repositoryPublic.json, [ids.snapshot]: snapshotKey, [ids.timestamp]: timestampKey },
    roles: {
      root: { keyids: [ids.root], threshold: 1 },
      snapshot: { keyids: [ids.snapshot], threshold: 1 },
      targets: { keyids: [ids.targets], threshold: 1 },
      timestamp: { keyids: [ids.timestamp], threshold: 1 },
    },
    version: 1,
  };
  let targets: TargetsSigned = emptyTargets(expiresAfter(now, TARGETS_DAYS), 1);
  if (options.signer) targets = withSigner(targets, options.signer.name, options.signer.keys, options.signer.paths, gun);

  const files = new Map<string, Buffer>([
    ['root', envelope(root, rootKey, [ids.root])],
    ['targets', envelope(targets, targetsKey, [ids.targets])],
  ]);
  return { files, result: { gun, created: true, rootKeyId: printedRootKeyIds(root).join(', '), targetsKeyId: targetsKey.id, generated } };
}

/**
 * Reads the new repository as a first-time client would (the server makes
 * its snapshot and timestamp on the first read) and checks it holds the
 * root this init published.
 */
async function readBackInit(client: NotaryRepoClient, plan: InitPlan, config: Config, now: Date): Promise<InitResult> {
  const published = plan.files.get('root');
  if (!published) return plan.result;
  const repo = await updateRepo(client, { config, now });
  if (!repo.root.raw.equals(published)) {
    throw new PublishError(
      'POST_VERIFY_FAILED',
      `${client.gun} was initialised, but the Notary server now serves a root.json (version ${repo.root.signed.version}) other than the one just published: the repository changed during this init. Check its root key (\`content-trust inspect ${client.gun}\`) before adding signers`,
    );
  }
  return plan.result;
}
