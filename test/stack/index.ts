import { mkdtemp, rm } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, type TestCa } from './ca.ts';
import { DockerCli } from './docker-cli.ts';
import { NotaryCli } from './notary-cli.ts';
import { startNotaryServer, type NotaryServer } from './notary-server.ts';
import { startRegistry, type Registry } from './registry.ts';
import { startProductionParts, writeDockerLogin, type ProductionOptions, type StackAuth } from './production.ts';
import type { RegistryAuth } from './image.ts';
import type { Postgres } from './postgres.ts';
import type { NotarySigner } from './notary-signer.ts';

export { makeCa, makeUntrustedCa, type TestCa } from './ca.ts';
export { pushImage, tagImage, getManifest, type PushedImage, type PushImageOptions } from './image.ts';
export type { GeneratedKey, TrustInspectEntry } from './docker-cli.ts';
export type { TargetRow } from './notary-cli.ts';
export type { ProductionOptions, StackAuth } from './production.ts';

export const ROOT_PASSPHRASE = 'stack-root-passphrase';
export const REPOSITORY_PASSPHRASE = 'stack-repository-passphrase';

export interface Stack {
  /** Fresh temporary directory holding everything; removed by stop(). */
  dir: string;
  ca: TestCa;
  notary: NotaryServer;
  registry: Registry;
  /** docker CLI with DOCKER_CONFIG=<dir>/docker. */
  docker: DockerCli;
  /** notary CLI sharing docker's trust directory (same keys and cache). */
  notaryCli: NotaryCli;
  /** `${registry.host}/${repo}`, the GUN docker uses for that repository. */
  gun(repo: string): string;
  stop(): Promise<void>;
  /** Production stack only: token auth (the docker config and notary CLI already hold the credentials). */
  auth?: StackAuth;
  /** Production stack only: what pushImage/getManifest use to get registry tokens. */
  registryAuth?: RegistryAuth;
  postgres?: Postgres;
  signer?: NotarySigner;
}

export interface StackOptions {
  /** Keep the temporary directory after stop() (for debugging); also STACK_KEEP=1. */
  keepDir?: boolean;
  /**
   * Production shape: notary-signer over mutual TLS and PostgreSQL for both,
   * token auth on the Notary server and the registry (see production.ts).
   */
  production?: boolean | ProductionOptions;
}

const liveDirs = new Set<string>();
let exitHookInstalled = false;

function removeDirOnExit(dir: string): void {
  liveDirs.add(dir);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const d of liveDirs) rmSync(d, { recursive: true, force: true });
  });
}

/**
 * Starts a throwaway CA, notary-server and registry on loopback ports, and
 * binds docker and notary CLI helpers to them. Service processes die with
 * this process even when stop() is never called.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const keepDir = options.keepDir ?? process.env.STACK_KEEP === '1';
  const dir = await mkdtemp(join(tmpdir(), 'content-trust-stack-'));
  if (!keepDir) removeDirOnExit(dir);
  const stoppers: (() => Promise<void>)[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const results = await Promise.allSettled(stoppers.map((s) => s()));
    if (!keepDir) {
      await rm(dir, { recursive: true, force: true });
      liveDirs.delete(dir);
    }
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  try {
    const ca = await makeCa(join(dir, 'ca'));
    // STACK_PRODUCTION=1 runs a whole test file against the production shape.
    const production = options.production ?? process.env.STACK_PRODUCTION === '1';
    let services: Pick<Stack, 'notary' | 'registry' | 'auth' | 'registryAuth' | 'postgres' | 'signer'>;
    if (production) {
      const parts = await startProductionParts(dir, ca, production === true ? {} : production);
      stoppers.push(parts.stop);
      services = parts;
    } else {
      const [notary, registry] = await Promise.allSettled([startNotaryServer({ dir, ca }), startRegistry({ dir, ca })]);
      for (const r of [notary, registry]) if (r.status === 'fulfilled') stoppers.push(r.value.stop);
      if (notary.status === 'rejected') throw notary.reason;
      if (registry.status === 'rejected') throw registry.reason;
      services = { notary: notary.value, registry: registry.value };
    }
    const { notary, registry, auth } = services;
    const passphrases = { rootPassphrase: ROOT_PASSPHRASE, repositoryPassphrase: REPOSITORY_PASSPHRASE };
    const docker = new DockerCli({ configDir: join(dir, 'docker'), notaryUrl: notary.url, ca, ...passphrases });
    await docker.init();
    if (auth) await writeDockerLogin(docker.configDir, registry.host, auth.username, auth.password);
    const notaryCli = new NotaryCli({
      url: notary.url,
      ca,
      trustDir: docker.trustDir,
      configPath: join(dir, 'notary-cli.json'),
      ...passphrases,
      ...(auth ? { auth: { username: auth.username, password: auth.password } } : {}),
    });
    await notaryCli.init();
    return { ...services, dir, ca, docker, notaryCli, gun: (repo) => `${registry.host}/${repo}`, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
