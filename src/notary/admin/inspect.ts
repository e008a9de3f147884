/**
 * What `docker trust inspect` reports for a repository (docker/cli
 * cli/command/trust/inspect.go, common.go): tags released in `targets` or
 * `targets/releases` with every other role that signed the same digest,
 * the signers (delegations other than releases, with canonical key IDs),
 * and the administrative keys (root and repository).
 */
import { RELEASES, pathAllowed, printedRootKeyIds, signerName, type TrustedRepo } from '../model.ts';

interface InspectTag {
  SignedTag: string;
  /** Hex sha256, no prefix. */
  Digest: string;
  Signers: string[];
}
export interface InspectSigner {
  Name: string;
  Keys: { ID: string }[];
}
export interface InspectEntry {
  Name: string;
  SignedTags: InspectTag[];
  Signers: InspectSigner[];
  AdministrativeKeys: InspectSigner[];
}

/** Docker's name for a tag signed only by the repository key. */
export const REPO_ADMIN = 'Repo Admin';

const released = (role: string) => role === 'targets' || role === RELEASES;

export function inspectRepo(name: string, repo: TrustedRepo, tag?: string): InspectEntry {
  const rows = new Map<string, InspectTag>();
  const all: { role: string; tag: string; digest: string }[] = [];
  for (const [role, r] of repo.roles) {
    for (const [t, meta] of Object.entries(r.meta.signed.targets)) {
      if ((tag !== undefined && t !== tag) || !pathAllowed(r.paths, t) || !meta.hashes.sha256) continue;
      all.push({ role, tag: t, digest: Buffer.from(meta.hashes.sha256, 'base64').toString('hex') });
    }
  }
  for (const s of all) if (released(s.role)) rows.set(`${s.tag}\n${s.digest}`, { SignedTag: s.tag, Digest: s.digest, Signers: [] });
  for (const s of all) if (!released(s.role)) rows.get(`${s.tag}\n${s.digest}`)?.Signers.push(signerName(s.role));
  const SignedTags = [...rows.values()].sort((a, b) => naturalCompare(a.SignedTag, b.SignedTag));
  for (const row of SignedTags) if (row.Signers.length === 0) row.Signers.push(REPO_ADMIN);

  const signers = new Map<string, string[]>();
  for (const r of repo.roles.values()) {
    const d = r.meta.signed.delegations;
    if (!d || d.roles.length === 0) continue;
    for (const role of d.roles) {
      if (role.name === RELEASES) continue;
      signers.set(
        signerName(role.name),
        role.keyids.map((id) => r.delegationKeys.get(id)?.canonicalId ?? id),
      );
    }
  }
  const Signers = [...signers].map(([Name, ids]) => ({ Name, Keys: ids.map((ID) => ({ ID })) })).sort((a, b) => (a.Name < b.Name ? 1 : a.Name > b.Name ? -1 : 0));
  const AdministrativeKeys = [
    { Name: 'Root', Keys: printedRootKeyIds(repo.root.signed).map((ID) => ({ ID })) },
    { Name: 'Repository', Keys: repo.root.signed.roles.targets.keyids.map((ID) => ({ ID })) },
  ];
  return { Name: name, SignedTags, Signers, AdministrativeKeys };
}

/** sortorder.NaturalLess: digit runs compare as numbers. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = BigInt(x);
      const ny = BigInt(y);
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
