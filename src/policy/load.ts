/** Reads the policy file named by the `policy` input, relative to the workspace. */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { InputError, messageOf } from '../errors.ts';
import { parsePolicy, type Policy } from './policy.ts';

export function loadPolicy(path: string, baseDir: string): Policy {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (e) {
    throw new InputError('POLICY_INVALID', `policy ${path}: cannot read ${full} (${messageOf(e)}): check the path (relative to the repository root) and that actions/checkout ran before this step`, { cause: e });
  }
  return parsePolicy(text, path);
}
