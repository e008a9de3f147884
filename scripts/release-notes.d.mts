/** The notes under `## [<version without v>]` in `changelog`, or undefined when missing or empty. */
export function releaseNotes(changelog: string, version: string): string | undefined;
