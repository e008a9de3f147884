#!/usr/bin/env node
// Prints CHANGELOG.md's section for a version, for the GitHub release's notes
// (.github/workflows/release.yml):
//
//   node scripts/release-notes.mjs v1.4.0 > notes.md
//
// The section is the lines after "## [1.4.0]" (a date may follow) up to the
// next "## " heading. Exits 1, saying why, when there is no such section or
// it is empty. No dependencies, so it runs before `npm ci`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The notes under `## [<version without v>]` in `changelog`, or undefined when missing or empty. */
export function releaseNotes(changelog, version) {
  const bare = version.replace(/^v/, '');
  const lines = changelog.replace(/\r\n?/g, '\n').split('\n');
  const start = lines.findIndex((l) => l === `## [${bare}]` || l.startsWith(`## [${bare}] `));
  if (start < 0) return undefined;
  let end = lines.findIndex((l, i) => i > start && l.startsWith('## '));
  if (end < 0) end = lines.length;
  const notes = lines
    .slice(start + 1, end)
    .join('\n')
    .trim();
  return notes === '' ? undefined : `${notes}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = process.argv[2] ?? '';
  const changelog = readFileSync(new URL('../CHANGELOG.md', import.meta.url), 'utf8');
  const notes = releaseNotes(changelog, version);
  if (notes === undefined) {
    console.error(`CHANGELOG.md has no "## [${version.replace(/^v/, '')}] - YYYY-MM-DD" section with notes`);
    process.exit(1);
  }
  process.stdout.write(notes);
}
