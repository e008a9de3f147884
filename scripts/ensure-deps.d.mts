/** A program the real stack needs, and the Debian packages that provide it, best first. */
export interface Requirement {
  command: string;
  packages: string[];
}
export const REQUIREMENTS: Requirement[];
export function which(command: string, path?: string): string | undefined;
export function findMissing(requirements?: Requirement[]): Requirement[];
export function packagesFor(missing: Requirement[], available?: (pkg: string) => boolean): string[];
export function installCommand(packages: string[]): string;
export function ensureDeps(options?: { install?: boolean; log?: (line: string) => void }): { ok: boolean; missing: string[]; installed: string[]; command?: string };
export function hasDockerTrust(path?: string): boolean;
export function ensureDockerTrust(options?: { log?: (line: string) => void }): { ok: boolean };
