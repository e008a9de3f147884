/**
 * The trust data captured from a real notary-server by
 * scripts/capture-fixtures.ts, and a TrustedRepo built from it by the real
 * update workflow (updateRepo) over an in-memory stand-in for the server.
 */
import { readFileSync } from 'node:fs';
import { defaultConfig } from '../../../src/config.ts';
import { updateRepo, type MetadataSource } from '../../../src/notary/updater.ts';
import { trustedRole, type TrustedRepo } from '../../../src/notary/model.ts';
import { parsePrivateKey, type SigningKey } from '../../../src/tuf/private-key.ts';
import { cloneSigned, parseMetadata, type Metadata, type TargetsSigned } from '../../../src/tuf/metadata.ts';
import { parseKeyMap } from '../../../src/tuf/keys.ts';
import { verifyThreshold } from '../../../src/tuf/verify.ts';

const SCENARIO_DIR = new URL('../../fixtures/notary/docker-signer-add/', import.meta.url);

export interface Scenario {
  capturedAt: string;
  gun: string;
  signer: string;
  privateKeyFileIds: Record<'root' | 'targets' | 'ci', string>;
  delegationKey: { file: string; canonicalId: string; passphraseFile: string; publicKeyFile: string };
  images: Record<'one' | 'two', { digest: string; size: number }>;
  signed: Record<'targets/releases' | 'targets/ci', Record<string, string>>;
}

export const scenario = JSON.parse(readFileSync(new URL('scenario.json', SCENARIO_DIR), 'utf8')) as Scenario;
export const GUN = scenario.gun;
/** "Now" for every expiry check: the capture time (the timestamp expires 14 days later). */
export const NOW = new Date(scenario.capturedAt);

export const ROLES = ['root', 'timestamp', 'snapshot', 'targets', 'targets/releases', 'targets/ci'] as const;
export type FixtureRole = (typeof ROLES)[number];

export function fixtureBytes(role: FixtureRole): Buffer {
  return readFileSync(new URL(`${role}.json`, SCENARIO_DIR));
}

function fixtureText(name: string): string {
  return readFileSync(new URL(name, SCENARIO_DIR), 'utf8');
}

export const KEY_PEM = fixtureText(scenario.delegationKey.file);
export const PASSPHRASE = fixtureText(scenario.delegationKey.passphraseFile);
export const PUBLIC_PEM = fixtureText(scenario.delegationKey.publicKeyFile);

export function delegationKey(): SigningKey {
  return parsePrivateKey(KEY_PEM, PASSPHRASE);
}

/**
 * Serves `files` (role → bytes) as a MetadataSource, the way
 * NotaryRepoClient does: current version by role, `N.root.json` from
 * `versions` (root by version number), or by sha256 checksum.
 */
export function fakeServer(files: ReadonlyMap<string, Buffer>, gun = GUN, requested: string[] = [], versions: ReadonlyMap<number, Buffer> = new Map()): MetadataSource {
  return {
    gun,
    async current(role: string): Promise<Buffer | undefined> {
      requested.push(role);
      return files.get(role);
    },
    /** Serves the role's file whatever the checksum (as a lying server would): the updater's check must catch it. */
    async byChecksum(role: string, sha256Hex: string, _length: number, check: (body: Buffer) => void): Promise<Buffer> {
      const body = files.get(role);
      if (!body) throw new Error(`fake server: no ${role}.${sha256Hex}.json`);
      requested.push(`${role}.${sha256Hex}`);
      check(body);
      return body;
    },
    async version(role: string, v: number): Promise<Buffer | undefined> {
      requested.push(`${v}.${role}`);
      return role === 'root' ? versions.get(v) : undefined;
    },
  };
}

export function fixtureFiles(): Map<string, Buffer> {
  return new Map(ROLES.map((r) => [r, fixtureBytes(r)]));
}

/** A copy of the repo whose `role` has a deep copy of its signed part, changed by `edit`. */
export function withSigned(repo: TrustedRepo, role: string, edit: (signed: TargetsSigned) => void, paths?: readonly string[]): TrustedRepo {
  const r = repo.roles.get(role)!;
  const signed = cloneSigned(r.meta.signed);
  edit(signed);
  const roles = new Map(repo.roles);
  roles.set(role, trustedRole(repo.gun, { ...r.meta, signed }, paths ?? r.paths));
  return { ...repo, roles };
}

/** A copy of the repo with `role`'s trusted paths replaced (as narrowed by its parents). */
export function withPaths(repo: TrustedRepo, role: string, paths: readonly string[]): TrustedRepo {
  return withSigned(repo, role, () => {}, paths);
}

/** The captured repository as the update workflow trusts it. */
export function loadRepo(files: ReadonlyMap<string, Buffer> = fixtureFiles(), now: Date = NOW): Promise<TrustedRepo> {
  return updateRepo(fakeServer(files), { config: defaultConfig, now });
}

/** Parses a planned file and checks its signature as a reader would: with the keys and threshold targets.json assigns the role. */
export function parsePlanned(r: TrustedRepo, files: ReadonlyMap<string, Buffer>, role: string): Metadata<TargetsSigned> {
  const meta = parseMetadata(files.get(role)!, role, 'Targets');
  const targets = r.roles.get('targets')!.meta.signed;
  verifyThreshold(
    meta,
    parseKeyMap(targets.delegations.keys, 'targets'),
    targets.delegations.roles.find((d) => d.name === role)!,
    r.gun,
  );
  return meta;
}
