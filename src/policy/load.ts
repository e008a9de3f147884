/** Reads the policy file named by the `policy` input, relative to the workspace. */
import { readUserFile } from '../util/file.ts';
import { parsePolicy, type Policy } from './policy.ts';

/** A policy is a page or two; this bound only stops a huge or endless file. */
const POLICY_MAX_BYTES = 1024 * 1024;

/** `name` is how messages name the file (the caller's input or flag). */
export function loadPolicy(path: string, baseDir: string, name = 'the policy file'): Policy {
  const label = { name, fix: 'give the path of a YAML or JSON policy file (a relative path starts at the repository root)' };
  return parsePolicy(readUserFile(path, label, { maxBytes: POLICY_MAX_BYTES, baseDir }), path);
}
