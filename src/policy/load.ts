/** Reads the policy file named by the `policy` input, relative to the workspace. */
import { readUserFile } from '../util/file.ts';
import { MAX_POLICY_BYTES, parsePolicy, type Policy } from './policy.ts';

/** `name` is how messages name the file (the caller's input or flag). */
export async function loadPolicy(path: string, baseDir: string, name = 'the policy file'): Promise<Policy> {
  const label = { name, fix: 'give the path of a YAML or JSON policy file (a relative path starts at the repository root)' };
  return parsePolicy(readUserFile(path, label, { maxBytes: MAX_POLICY_BYTES, baseDir }), path);
}
