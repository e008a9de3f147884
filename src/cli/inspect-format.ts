/**
 * `docker trust inspect` output: JSON indented by four spaces, or `--pretty`
 * tables laid out as Go's tabwriter does for docker (minimum width 10,
 * padding 3; the last column unpadded).
 */
import type { InspectEntry } from '../notary/admin/inspect.ts';
import { REPO_ADMIN, naturalCompare } from '../notary/admin/inspect.ts';
import { forLog, jsonForLog } from '../util/untrusted-text.ts';

export function inspectJson(entries: readonly InspectEntry[]): string {
  // Go's encoder escapes <, > and & in strings (and U+2028, U+2029, which
  // jsonForLog escapes with command marks and control characters); JSON.stringify does not.
  return `${jsonForLog(entries, 4).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`)}\n`;
}

function table(rows: string[][]): string {
  // Cells hold names from trust data: one line, one column each.
  rows = rows.map((r) => r.map((cell) => forLog(cell)));
  const widths = rows[0]!.map((_, col) => Math.max(10, ...rows.map((r) => r[col]!.length + 3)));
  return rows.map((r) => r.map((cell, col) => (col === r.length - 1 ? cell : cell.padEnd(widths[col]!))).join('')).join('\n') + '\n';
}

export function inspectPretty(entry: InspectEntry): string {
  const name = forLog(entry.Name);
  let out = '';
  if (entry.SignedTags.length > 0) {
    out += `\nSignatures for ${name}\n\n`;
    out += table([['SIGNED TAG', 'DIGEST', 'SIGNERS'], ...entry.SignedTags.map((t) => [t.SignedTag, t.Digest, t.Signers[0] === REPO_ADMIN && t.Signers.length === 1 ? `(${REPO_ADMIN})` : [...t.Signers].sort().join(', ')])]);
  } else {
    out += `\nNo signatures for ${name}\n\n`;
  }
  if (entry.Signers.length > 0) {
    out += `\nList of signers and their keys for ${name}\n\n`;
    const signers = [...entry.Signers].sort((a, b) => naturalCompare(a.Name, b.Name));
    out += table([
      ['SIGNER', 'KEYS'],
      ...signers.map((s) => [
        s.Name,
        s.Keys.map((k) => k.ID)
          .sort()
          .map((id) => id.slice(0, 12))
          .join(', '),
      ]),
    ]);
  }
  out += `\nAdministrative keys for ${name}\n\n`;
  for (const admin of entry.AdministrativeKeys.filter((a) => a.Name === 'Repository').concat(entry.AdministrativeKeys.filter((a) => a.Name === 'Root'))) {
    out += `  ${admin.Name === 'Root' ? 'Root Key' : 'Repository Key'}:\t${forLog(
      admin.Keys.map((k) => k.ID)
        .sort()
        .join(', '),
    )}\n`;
  }
  return out;
}
